/**
 * Binary tree-ensemble classifier as an ONNX graph, laid out the way sklearn-onnx converts a
 * gradient-boosting classifier: TreeEnsembleClassifier → `label` + `probabilities`,
 * optionally followed by ZipMap → `output_probability` (sklearn-onnx's default, and the
 * reason zipmap.ts exists).
 *
 * The layout is not a free choice. ONNX is vague about binary classifiers and ONNX Runtime
 * has a special path for them: it only produces `[sigmoid(-s), sigmoid(s)]` when every
 * `class_ids` is 0, there is one `base_values` entry, post_transform is LOGISTIC and the
 * class weights are not all positive. Other layouts (two class ids, two base values,
 * all-positive weights) load fine and give wrong probabilities without any error.
 */
import { DataType } from '../onnx-proto.js';
import type { onnx } from '../onnx-proto.js';
import {
  BATCH_DIM,
  ML_DOMAIN,
  attrFloats,
  attrInts,
  attrString,
  encodeModel,
  node,
  tensorValue,
  zipMapValue,
} from './graph.js';
import { type TreeEnsembleParams, treeLeaves, treeNodeAttributes, validateTreeEnsemble } from './trees.js';

/** Options of {@link buildTreeEnsembleClassifierModel}. */
export interface TreeClassifierOptions {
  /** Name of the `[N, F]` input. Default `features`. */
  inputName?: string;
  /** Name of the int64 `[N]` label output. Default `label`. */
  labelName?: string;
  /** Name of the float `[N, 2]` probability tensor. Default `probabilities`. */
  probabilitiesName?: string;
  /** Append a ZipMap node, as sklearn-onnx does unless told `zipmap=False`. Default false. */
  zipMap?: boolean;
  /** Name of the ZipMap output (a sequence of maps). Default `output_probability`. */
  zipMapOutputName?: string;
  /** ai.onnx.ml opset to declare (1 or 3). Default 3. */
  mlOpset?: 1 | 3;
}

/**
 * Build a binary TreeEnsembleClassifier model with class labels 0 and 1. The ensemble's
 * sum plus `baseValue` is the logit of class 1. Outputs: `label` int64 `[N]` and either
 * `probabilities` float `[N, 2]` (`[P(0), P(1)]`) or, with `zipMap`, `output_probability`
 * of type `seq(map(int64, float))`.
 */
export function buildTreeEnsembleClassifierModel(
  params: TreeEnsembleParams,
  opts: TreeClassifierOptions = {},
): Uint8Array {
  validateTreeEnsemble(params);
  const leaves = treeLeaves(params);
  if (leaves.every((l) => l.value >= 0)) {
    // See the file comment: ORT would return [1 - s, s] with no sigmoid.
    throw new Error('buildTreeEnsembleClassifierModel: leaf values must not all be >= 0');
  }
  const inputName = opts.inputName ?? 'features';
  const labelName = opts.labelName ?? 'label';
  const probName = opts.probabilitiesName ?? 'probabilities';

  const nodes: onnx.INodeProto[] = [
    node(
      'TreeEnsembleClassifier',
      [inputName],
      [labelName, probName],
      [
        ...treeNodeAttributes(params),
        attrInts('class_treeids', leaves.map((l) => l.tree)),
        attrInts('class_nodeids', leaves.map((l) => l.node)),
        attrInts('class_ids', leaves.map(() => 0)),
        attrFloats('class_weights', leaves.map((l) => l.value)),
        attrInts('classlabels_int64s', [0, 1]),
        attrString('post_transform', 'LOGISTIC'),
        attrFloats('base_values', [params.baseValue]),
      ],
      ML_DOMAIN,
    ),
  ];
  const outputs = [tensorValue(labelName, DataType.INT64, [BATCH_DIM])];
  if (opts.zipMap) {
    const zipName = opts.zipMapOutputName ?? 'output_probability';
    nodes.push(node('ZipMap', [probName], [zipName], [attrInts('classlabels_int64s', [0, 1])], ML_DOMAIN));
    outputs.push(zipMapValue(zipName, DataType.INT64));
  } else {
    outputs.push(tensorValue(probName, DataType.FLOAT, [BATCH_DIM, 2]));
  }

  return encodeModel({
    name: 'tree_ensemble_classifier',
    docString: `${params.trees.length}-tree binary ensemble classifier over ${params.nFeatures} features`,
    nodes,
    inputs: [tensorValue(inputName, DataType.FLOAT, [BATCH_DIM, params.nFeatures])],
    outputs,
    opsets: { '': 13, [ML_DOMAIN]: opts.mlOpset ?? 3 },
  });
}
