/**
 * Binary linear classifier as sklearn-onnx converts a LogisticRegression: one ai.onnx.ml
 * LinearClassifier node → `label` + `probabilities`, followed (by default) by ZipMap →
 * `output_probability`. It exists to exercise ZipMap stripping on a second operator family,
 * with an exact reference (it is the logistic model under another graph).
 *
 * Layout, as sklearn-onnx writes it: two coefficient rows `[-w, w]` and intercepts
 * `[-b, b]` with post_transform LOGISTIC, so ONNX Runtime computes
 * `[sigmoid(-z), sigmoid(z)]` with `z = w·x + b` and the label is the arg-max.
 */
import { DataType } from '../onnx-proto.js';
import type { onnx } from '../onnx-proto.js';
import {
  BATCH_DIM,
  ML_DOMAIN,
  attrFloats,
  attrInt,
  attrInts,
  attrString,
  encodeModel,
  node,
  tensorValue,
  zipMapValue,
} from './graph.js';
import type { LogisticParams } from './logistic.js';

/** Options of {@link buildLinearClassifierModel}. */
export interface LinearClassifierOptions extends LogisticParams {
  /** Name of the `[N, F]` input. Default `features`. */
  inputName?: string;
  /** Name of the int64 `[N]` label output. Default `label`. */
  labelName?: string;
  /** Name of the float `[N, 2]` probability tensor. Default `probabilities`. */
  probabilitiesName?: string;
  /** Append a ZipMap node (sklearn-onnx's default). Default true: that is the point. */
  zipMap?: boolean;
  /** Name of the ZipMap output. Default `output_probability`. */
  zipMapOutputName?: string;
}

/**
 * Build a binary LinearClassifier model with class labels 0 and 1. Outputs: `label` int64
 * `[N]` and `output_probability` `seq(map(int64, float))` (with ZipMap) or
 * `probabilities` float `[N, 2]` (without).
 */
export function buildLinearClassifierModel(opts: LinearClassifierOptions): Uint8Array {
  const nFeatures = opts.weights.length;
  if (nFeatures === 0) throw new Error('buildLinearClassifierModel: weights must not be empty');
  const inputName = opts.inputName ?? 'features';
  const labelName = opts.labelName ?? 'label';
  const probName = opts.probabilitiesName ?? 'probabilities';
  const w = Array.from(opts.weights);

  const nodes: onnx.INodeProto[] = [
    node(
      'LinearClassifier',
      [inputName],
      [labelName, probName],
      [
        // Row-major [classes, features]: class 0 scores -z, class 1 scores z.
        attrFloats('coefficients', [...w.map((x) => -x), ...w]),
        attrFloats('intercepts', [-opts.bias, opts.bias]),
        attrInts('classlabels_ints', [0, 1]),
        attrInt('multi_class', 0),
        attrString('post_transform', 'LOGISTIC'),
      ],
      ML_DOMAIN,
    ),
  ];
  const outputs = [tensorValue(labelName, DataType.INT64, [BATCH_DIM])];
  if (opts.zipMap ?? true) {
    const zipName = opts.zipMapOutputName ?? 'output_probability';
    nodes.push(node('ZipMap', [probName], [zipName], [attrInts('classlabels_int64s', [0, 1])], ML_DOMAIN));
    outputs.push(zipMapValue(zipName, DataType.INT64));
  } else {
    outputs.push(tensorValue(probName, DataType.FLOAT, [BATCH_DIM, 2]));
  }

  return encodeModel({
    name: 'linear_classifier',
    docString: `binary linear classifier over ${nFeatures} features`,
    nodes,
    inputs: [tensorValue(inputName, DataType.FLOAT, [BATCH_DIM, nFeatures])],
    outputs,
    // LinearClassifier and ZipMap only exist at ai.onnx.ml opset 1.
    opsets: { '': 13, [ML_DOMAIN]: 1 },
  });
}
