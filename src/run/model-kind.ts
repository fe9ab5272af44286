/**
 * Rows per `session.run`, chosen by what the model computes. The spec's `batchSize` is the
 * most rows one run may take; some models run faster on fewer:
 *
 * - tree ensembles (TreeEnsemble* ops): at most 1024 rows. Measured with the demo 100-tree
 *   ensemble (2-core EPYC, onnxruntime-node 1.30): inference-only, both cores busy, 1M rows
 *   took 2.7 s at 64–128 rows per run, 2.9 s at 512, 2.4–2.5 s at 2048–8192; end to end,
 *   128 and 1024 were equal on 2 threads and 1024 ~10% faster on one (each run costs ~35 µs
 *   of fixed overhead). The "2x faster at 64–128 rows" seen before did not reproduce, so the
 *   cap only bounds memory; a spec asking for fewer rows gets them;
 * - dense networks (MatMul/Gemm by constant weights and element-wise activations): at 8192
 *   rows a 256-wide hidden layer is 8 MB, past the 1 MB L2; at 1024 rows the activations
 *   stay in cache. Measured with the demo MLP, both cores busy: 1024 rows ~1.7x the rows/s
 *   of 8192 (820k vs 490k rows/s), one core ~1.3x;
 * - everything else: the spec's batch size.
 *
 * Only graphs whose every op computes each row from that row alone are batched
 * differently, so no output can depend on the choice; the demo models were also checked
 * bit for bit at run sizes from 1 to 40,000 (and by the output-identity test).
 */
import { scanModel, type ModelScan } from './model-scan.js';

export type ModelKind = 'tree-ensemble' | 'dense' | 'other';

/** Rows per run for tree ensembles, at most. */
export const TREE_BATCH_ROWS = 1024;

/** Rows per run for dense networks. */
export const DENSE_BATCH_ROWS = 1024;

/** Element-wise ops (with constants or other row tensors): row-wise whatever their inputs. */
const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Relu', 'LeakyRelu', 'Sigmoid', 'HardSigmoid', 'Tanh', 'Elu', 'Selu', 'Softplus', 'Clip', 'Identity', 'Cast', 'Exp', 'Abs', 'Neg', 'Sqrt', 'Erf', 'Gelu'].map((op) => `/${op}`));

/**
 * Ops that compute each row from that row alone, whatever the batch (elementwise maths with
 * constants, per-row transforms); `domain/op_type`.
 */
const ROW_WISE = new Set([
  ...['Cast', 'ZipMap', 'Scaler', 'Normalizer', 'Imputer', 'Binarizer', 'ArrayFeatureExtractor', 'FeatureVectorizer'].map((op) => `ai.onnx.ml/${op}`),
  ...['Identity', 'Cast', 'Squeeze', 'Unsqueeze', 'Add', 'Sub', 'Mul', 'Div', 'Sigmoid', 'Relu', 'Tanh', 'Exp', 'Abs', 'Neg', 'Clip'].map((op) => `/${op}`),
]);

/**
 * What kind of model a scanned model is: a tree ensemble when it has a TreeEnsemble* op
 * and otherwise only row-wise ops (so any batch size gives the same outputs).
 */
export function modelKindOf(scan: ModelScan): ModelKind {
  const trees = scan.ops.filter((op) => op.startsWith('ai.onnx.ml/TreeEnsemble'));
  if (trees.length > 0 && scan.ops.every((op) => ROW_WISE.has(op) || op.startsWith('ai.onnx.ml/TreeEnsemble'))) return 'tree-ensemble';
  return isDense(scan) ? 'dense' : 'other';
}

/** Hidden layers at least this wide make a network "dense" (a logistic regression is not). */
const DENSE_MIN_WIDTH = 64;

/**
 * A dense network: MatMul/Gemm whose weights are constants (row i of the output depends on
 * row i of the input only; Gemm must not transpose its input), one of them at least
 * `DENSE_MIN_WIDTH` outputs wide, and element-wise ops.
 */
function isDense(scan: ModelScan): boolean {
  let wide = false;
  for (const node of scan.nodes) {
    if (node.op === '/MatMul' || node.op === '/Gemm') {
      const weights = node.inputs[1] === undefined ? undefined : scan.initializers.get(node.inputs[1]);
      if (!weights || weights.length !== 2 || (node.ints.transA ?? 0) !== 0) return false;
      if (node.inputs[2] !== undefined && node.inputs[2] !== '' && !scan.initializers.has(node.inputs[2])) return false;
      const width = node.op === '/Gemm' && (node.ints.transB ?? 0) !== 0 ? weights[0]! : weights[1]!;
      if (width >= DENSE_MIN_WIDTH) wide = true;
    } else if (!ELEMENTWISE.has(node.op)) {
      return false;
    }
  }
  return wide;
}

/** What kind of model these ONNX bytes hold (for choosing batch sizes; never fails). */
export function modelKind(bytes: Uint8Array): ModelKind {
  try {
    return modelKindOf(scanModel(bytes));
  } catch {
    return 'other'; // loaders report bad models; the batch size does not matter for them
  }
}

/** Rows per `session.run` for a model kind and the spec's batch size. */
export function runBatchRows(kind: ModelKind, specBatchSize: number): number {
  if (kind === 'tree-ensemble') return Math.min(specBatchSize, TREE_BATCH_ROWS);
  if (kind === 'dense') return Math.min(specBatchSize, DENSE_BATCH_ROWS);
  return specBatchSize;
}
