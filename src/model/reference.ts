/**
 * Plain-JS reference implementations of the models the builders produce. They compute in
 * float64 from exactly the float32 values the ONNX model stores (parameters and inputs are
 * rounded with Math.fround first), so a difference from ONNX Runtime is only ORT's float32
 * arithmetic: ~1e-7 for these models. Tests anywhere in the project use them to check
 * scores independently of the scoring pipeline.
 */
import type { LogisticParams } from './build/logistic.js';
import { type MlpParams, mlpLayerSizes } from './build/mlp.js';
import type { TreeEnsembleParams } from './build/trees.js';

/** One row of features, in model feature order (a Float32Array slice or plain numbers). */
export type FeatureRow = ArrayLike<number>;

/** Output of a binary classifier for one row. */
export interface BinaryPrediction {
  /** Predicted class, 0 or 1. */
  label: 0 | 1;
  /** `[P(class 0), P(class 1)]`. */
  probabilities: [number, number];
}

const f32 = Math.fround;

/** Logistic function; NaN in, NaN out. */
export function sigmoid(z: number): number {
  // Two branches so exp never overflows to Infinity/Infinity for large |z|.
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

function checkWidth(row: FeatureRow, n: number, what: string): void {
  if (row.length !== n) throw new Error(`${what}: row has ${row.length} features, model takes ${n}`);
}

/** Logit `w·x + b` of the logistic model, in float64 from float32 inputs. */
export function logisticLogit(params: LogisticParams, row: FeatureRow): number {
  checkWidth(row, params.weights.length, 'logisticReference');
  let z = f32(params.bias);
  for (let i = 0; i < row.length; i++) z += f32(params.weights[i]!) * f32(row[i]!);
  return z;
}

/**
 * Probability the logistic model gives one row: `sigmoid(w·x + b)`. A NaN feature gives
 * NaN, as ONNX Runtime's MatMul does.
 */
export function logisticReference(params: LogisticParams, row: FeatureRow): number {
  return sigmoid(logisticLogit(params, row));
}

/**
 * `[P(0), P(1)]` and label of the binary LinearClassifier built from the same parameters
 * (build/linear-classifier.ts): the logistic probability and its complement.
 */
export function linearClassifierReference(params: LogisticParams, row: FeatureRow): BinaryPrediction {
  const z = logisticLogit(params, row);
  return { label: z > 0 ? 1 : 0, probabilities: [sigmoid(-z), sigmoid(z)] };
}

/** Outputs of the MLP for one row (one value per unit of the last layer). */
export function mlpForward(params: MlpParams, row: FeatureRow): number[] {
  const sizes = mlpLayerSizes(params.layers);
  checkWidth(row, sizes[0]![0], 'mlpReference');
  let x: number[] = Array.from(row, f32);
  params.layers.forEach((layer, k) => {
    const [inp, out] = sizes[k]!;
    const y = new Array<number>(out);
    for (let j = 0; j < out; j++) {
      let s = layer.bias[j]!;
      for (let i = 0; i < inp; i++) s += x[i]! * layer.weights[i * out + j]!;
      if (layer.activation === 'relu') s = s > 0 ? s : 0;
      else if (layer.activation === 'sigmoid') s = sigmoid(s);
      y[j] = s;
    }
    x = y;
  });
  return x;
}

/** First output of the MLP for one row (the score, for the usual `[N, 1]` head). */
export function mlpReference(params: MlpParams, row: FeatureRow): number {
  return mlpForward(params, row)[0]!;
}

/**
 * Raw score of the tree ensemble for one row: `baseValue + Σ leaf values`. Splits compare
 * float32 values with `<=`; NaN fails every comparison and goes right, matching ONNX
 * Runtime with `missing_value_tracks_true = 0`.
 */
export function treeEnsembleReference(params: TreeEnsembleParams, row: FeatureRow): number {
  checkWidth(row, params.nFeatures, 'treeEnsembleReference');
  let s = f32(params.baseValue);
  for (const tree of params.trees) {
    let i = 0;
    // Bounded walk: a malformed tree with a cycle fails loudly instead of hanging a test.
    for (let steps = 0; ; steps++) {
      const n = tree.nodes[i];
      if (n === undefined || steps > tree.nodes.length) throw new Error(`treeEnsembleReference: bad tree at node ${i}`);
      if (n.kind === 'leaf') {
        s += f32(n.value);
        break;
      }
      i = f32(row[n.feature]!) <= f32(n.threshold) ? n.left : n.right;
    }
  }
  return s;
}

/**
 * Label and `[P(0), P(1)]` of the binary TreeEnsembleClassifier (build/tree-classifier.ts):
 * the ensemble score is the logit of class 1.
 */
export function treeClassifierReference(params: TreeEnsembleParams, row: FeatureRow): BinaryPrediction {
  const z = treeEnsembleReference(params, row);
  return { label: z > 0 ? 1 : 0, probabilities: [sigmoid(-z), sigmoid(z)] };
}
