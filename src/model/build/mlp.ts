/**
 * Multi-layer perceptron as an ONNX graph: per layer `act(X · W + b)`.
 *
 * It stands for the "heavier" class of models (MatMul-bound, ~1M rows/s on one thread for
 * 32→256→256→1), so the pipeline's batching and threading can be exercised on something
 * where inference, not I/O, dominates.
 */
import { DataType } from '../onnx-proto.js';
import { BATCH_DIM, encodeModel, floatInitializer, node, tensorValue } from './graph.js';
import type { onnx } from '../onnx-proto.js';

/** Activation applied after a layer's affine map. */
export type MlpActivation = 'relu' | 'sigmoid' | 'none';

/** One dense layer. */
export interface MlpLayer {
  /** Row-major `in × out` matrix: `weights[i * out + j]` connects input i to output j. */
  weights: Float32Array;
  /** One bias per output unit; its length defines `out`. */
  bias: Float32Array;
  activation: MlpActivation;
}

/** Parameters of an MLP: its layers, first to last. */
export interface MlpParams {
  layers: readonly MlpLayer[];
}

/** Options of {@link buildMlpModel}. */
export interface MlpModelOptions extends MlpParams {
  /** Name of the `[N, F]` input. Default `features`. */
  inputName?: string;
  /** Name of the `[N, out]` output. Default `probability`. */
  outputName?: string;
}

/**
 * Layer sizes `[in, out]` of every layer, checking that the layers chain. Exported so the
 * reference implementation and the builder agree on what a malformed layer list is.
 */
export function mlpLayerSizes(layers: readonly MlpLayer[]): Array<[number, number]> {
  if (layers.length === 0) throw new Error('mlp: at least one layer is required');
  const sizes: Array<[number, number]> = [];
  let prevOut: number | undefined;
  layers.forEach((layer, k) => {
    const out = layer.bias.length;
    if (out === 0 || layer.weights.length % out !== 0) {
      throw new Error(`mlp: layer ${k} has ${layer.weights.length} weights for ${out} outputs`);
    }
    const inp = layer.weights.length / out;
    if (prevOut !== undefined && inp !== prevOut) {
      throw new Error(`mlp: layer ${k} takes ${inp} inputs but layer ${k - 1} gives ${prevOut}`);
    }
    sizes.push([inp, out]);
    prevOut = out;
  });
  return sizes;
}

/**
 * Build an MLP ONNX model (opset 13: MatMul, Add, Relu/Sigmoid). Input `[N, in]`, output
 * `[N, out]` float32 where `in`/`out` come from the first/last layer. Returns the bytes.
 */
export function buildMlpModel(opts: MlpModelOptions): Uint8Array {
  const sizes = mlpLayerSizes(opts.layers);
  const inputName = opts.inputName ?? 'features';
  const outputName = opts.outputName ?? 'probability';

  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  let current = inputName;
  opts.layers.forEach((layer, k) => {
    const [inp, out] = sizes[k]!;
    const last = k === opts.layers.length - 1;
    const w = `_bs_W${k}`;
    const b = `_bs_b${k}`;
    initializers.push(floatInitializer(w, [inp, out], layer.weights), floatInitializer(b, [out], layer.bias));
    // The last tensor of the last layer must carry the public output name, whichever op
    // produces it (Add when there is no activation).
    const affine = last && layer.activation === 'none' ? outputName : `_bs_a${k}`;
    nodes.push(node('MatMul', [current, w], [`_bs_m${k}`]), node('Add', [`_bs_m${k}`, b], [affine]));
    current = affine;
    if (layer.activation !== 'none') {
      const activated = last ? outputName : `_bs_h${k}`;
      nodes.push(node(layer.activation === 'relu' ? 'Relu' : 'Sigmoid', [current], [activated]));
      current = activated;
    }
  });

  const first = sizes[0]!;
  const lastSize = sizes[sizes.length - 1]!;
  return encodeModel({
    name: 'mlp',
    docString: `MLP ${[first[0], ...sizes.map((s) => s[1])].join('→')}`,
    nodes,
    inputs: [tensorValue(inputName, DataType.FLOAT, [BATCH_DIM, first[0]])],
    outputs: [tensorValue(outputName, DataType.FLOAT, [BATCH_DIM, lastSize[1]])],
    initializers,
    opsets: { '': 13 },
  });
}
