/**
 * Logistic regression as an ONNX graph: `sigmoid(X · W + b)`.
 *
 * Two input layouts are supported because both occur in the wild: one `[N, F]` matrix (what
 * a hand-written or PyTorch export looks like) and one `[N, 1]` input per feature joined by
 * Concat (what sklearn-onnx emits when it is given one initial type per column). The scoring
 * pipeline must handle both, so the tests need both.
 */
import { DataType } from '../onnx-proto.js';
import type { onnx } from '../onnx-proto.js';
import { BATCH_DIM, attrInt, encodeModel, floatInitializer, node, tensorValue } from './graph.js';

/** Parameters of a logistic model: `p = sigmoid(Σ weights[i]·x[i] + bias)`. */
export interface LogisticParams {
  /** One weight per feature (stored as float32 in the model). */
  weights: Float32Array | readonly number[];
  /** Intercept (stored as float32 in the model). */
  bias: number;
}

/** Options of {@link buildLogisticModel}. */
export interface LogisticModelOptions extends LogisticParams {
  /** Name of the `[N, F]` input (ignored when `perFeatureInputs` is given). Default `features`. */
  inputName?: string;
  /** Name of the `[N, 1]` float output. Default `probability`. */
  outputName?: string;
  /**
   * One `[N, 1]` float input per feature, in weight order, concatenated along axis 1 inside
   * the graph (the sklearn-onnx convention). Must have as many names as there are weights.
   */
  perFeatureInputs?: readonly string[];
}

/**
 * Build a logistic-regression ONNX model (opset 13: MatMul, Add, Sigmoid, Concat).
 * Output `[N, 1]` float32. Returns the encoded model bytes.
 */
export function buildLogisticModel(opts: LogisticModelOptions): Uint8Array {
  const nFeatures = opts.weights.length;
  if (nFeatures === 0) throw new Error('buildLogisticModel: weights must not be empty');
  const outputName = opts.outputName ?? 'probability';

  const nodes: onnx.INodeProto[] = [];
  let inputs: onnx.IValueInfoProto[];
  let matrixName: string;
  if (opts.perFeatureInputs !== undefined) {
    const names = opts.perFeatureInputs;
    if (names.length !== nFeatures) {
      throw new Error(`buildLogisticModel: ${names.length} perFeatureInputs for ${nFeatures} weights`);
    }
    if (new Set(names).size !== names.length) throw new Error('buildLogisticModel: duplicate perFeatureInputs');
    inputs = names.map((n) => tensorValue(n, DataType.FLOAT, [BATCH_DIM, 1]));
    // Internal names get a prefix that a feature column is unlikely to use, so a feature
    // called "W" or "logit" cannot collide with the graph's own tensors.
    matrixName = '_bs_concat';
    nodes.push(node('Concat', names, [matrixName], [attrInt('axis', 1)]));
  } else {
    matrixName = opts.inputName ?? 'features';
    inputs = [tensorValue(matrixName, DataType.FLOAT, [BATCH_DIM, nFeatures])];
  }
  nodes.push(
    node('MatMul', [matrixName, '_bs_W'], ['_bs_xw']),
    node('Add', ['_bs_xw', '_bs_b'], ['_bs_logit']),
    node('Sigmoid', ['_bs_logit'], [outputName]),
  );

  return encodeModel({
    name: 'logistic',
    docString: `logistic regression over ${nFeatures} features`,
    nodes,
    inputs,
    outputs: [tensorValue(outputName, DataType.FLOAT, [BATCH_DIM, 1])],
    initializers: [
      floatInitializer('_bs_W', [nFeatures, 1], opts.weights),
      // Shape [1] broadcasts over [N, 1].
      floatInitializer('_bs_b', [1], [opts.bias]),
    ],
    opsets: { '': 13 },
  });
}
