/**
 * Tree-ensemble regressor as an ONNX graph: one ai.onnx.ml TreeEnsembleRegressor node.
 *
 * It is the branchy, memory-bound kind of model (~0.27M rows/s for 100 depth-6 trees on one
 * thread), slower per row than the MLP and sensitive to batch size, so the pipeline's
 * batching is tested against something other than MatMul.
 */
import { DataType } from '../onnx-proto.js';
import { BATCH_DIM, ML_DOMAIN, attrFloats, attrInt, attrInts, attrString, encodeModel, node, tensorValue } from './graph.js';
import { type TreeEnsembleParams, treeLeaves, treeNodeAttributes, validateTreeEnsemble } from './trees.js';

/** Options of {@link buildTreeEnsembleModel}. */
export interface TreeRegressorOptions {
  /** Name of the `[N, F]` input. Default `features`. */
  inputName?: string;
  /** Name of the `[N, 1]` float output. Default `score`. */
  outputName?: string;
  /**
   * ai.onnx.ml opset to declare: 1 (what older sklearn-onnx writes) or 3 (current). The
   * node is the same; ONNX Runtime dispatches to the same kernel. Default 3.
   */
  mlOpset?: 1 | 3;
}

/**
 * Build a TreeEnsembleRegressor model: `score = baseValue + Σ leaf values`, aggregate SUM,
 * no post-transform. Input `[N, nFeatures]` float32, output `[N, 1]` float32.
 */
export function buildTreeEnsembleModel(params: TreeEnsembleParams, opts: TreeRegressorOptions = {}): Uint8Array {
  validateTreeEnsemble(params);
  const inputName = opts.inputName ?? 'features';
  const outputName = opts.outputName ?? 'score';
  const leaves = treeLeaves(params);

  const regressor = node(
    'TreeEnsembleRegressor',
    [inputName],
    [outputName],
    [
      ...treeNodeAttributes(params),
      attrInts('target_treeids', leaves.map((l) => l.tree)),
      attrInts('target_nodeids', leaves.map((l) => l.node)),
      attrInts('target_ids', leaves.map(() => 0)),
      attrFloats('target_weights', leaves.map((l) => l.value)),
      attrInt('n_targets', 1),
      attrString('aggregate_function', 'SUM'),
      attrString('post_transform', 'NONE'),
      attrFloats('base_values', [params.baseValue]),
    ],
    ML_DOMAIN,
  );

  return encodeModel({
    name: 'tree_ensemble_regressor',
    docString: `${params.trees.length}-tree ensemble regressor over ${params.nFeatures} features`,
    nodes: [regressor],
    inputs: [tensorValue(inputName, DataType.FLOAT, [BATCH_DIM, params.nFeatures])],
    outputs: [tensorValue(outputName, DataType.FLOAT, [BATCH_DIM, 1])],
    // A default-domain import is not needed by the node, but ONNX tools expect one.
    opsets: { '': 13, [ML_DOMAIN]: opts.mlOpset ?? 3 },
  });
}
