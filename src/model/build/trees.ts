/**
 * Tree ensembles as plain data: the parameter type shared by the ONNX builders
 * (tree-regressor.ts, tree-classifier.ts) and the JS reference, a seeded generator of
 * random full trees, and the conversion to the flat `nodes_*` attribute arrays that the
 * ai.onnx.ml TreeEnsemble operators take.
 */
import { type Rng, randomInt, seededRandom, uniform } from './random.js';
import { attrFloats, attrInts, attrStrings } from './graph.js';
import type { onnx } from '../onnx-proto.js';

/**
 * A split: rows with `x[feature] <= threshold` go to `left`, all others (including NaN)
 * to `right`. `left`/`right` are indices into the tree's `nodes`.
 */
export interface TreeBranch {
  kind: 'branch';
  feature: number;
  /** Compared as float32, as ONNX Runtime does. */
  threshold: number;
  left: number;
  right: number;
}

/** A leaf contributing `value` to the ensemble's sum. */
export interface TreeLeaf {
  kind: 'leaf';
  value: number;
}

/** One node of a tree. */
export type TreeNode = TreeBranch | TreeLeaf;

/** One tree; `nodes[0]` is the root. */
export interface Tree {
  nodes: readonly TreeNode[];
}

/**
 * A sum-of-trees model: `score = baseValue + Σ leafValue(tree, x)`. For the binary
 * classifier the score is a logit and `P(class 1) = sigmoid(score)`.
 */
export interface TreeEnsembleParams {
  nFeatures: number;
  trees: readonly Tree[];
  baseValue: number;
}

/** Options of {@link generateTreeEnsemble}. */
export interface TreeEnsembleShape {
  nFeatures: number;
  /** Default 100. */
  nTrees?: number;
  /** Levels of splits per tree; a tree has 2^depth leaves. Default 6. */
  depth?: number;
  /** Thresholds are uniform in this range, where the test inputs live. Default [-1, 1]. */
  thresholdRange?: readonly [number, number];
  /** Leaf values are uniform in [-leafScale, leafScale]. Default 0.1. */
  leafScale?: number;
  /** Default 0. */
  baseValue?: number;
}

/**
 * Generate full binary trees of the given depth with random features and thresholds.
 * Thresholds and leaf values are rounded to float32 so that the parameters hold exactly
 * what the ONNX model stores, and a reference computed from them needs no extra care.
 *
 * Leaves have both signs: ONNX Runtime's binary TreeEnsembleClassifier only applies the
 * logistic transform when class weights are not all positive (see tree-classifier.ts).
 */
export function generateTreeEnsemble(seedOrRng: number | Rng, shape: TreeEnsembleShape): TreeEnsembleParams {
  const rng = typeof seedOrRng === 'number' ? seededRandom(seedOrRng) : seedOrRng;
  const nTrees = shape.nTrees ?? 100;
  const depth = shape.depth ?? 6;
  const [lo, hi] = shape.thresholdRange ?? [-1, 1];
  const leafScale = shape.leafScale ?? 0.1;
  if (shape.nFeatures < 1 || depth < 1 || nTrees < 1) throw new Error('generateTreeEnsemble: empty shape');

  const trees: Tree[] = [];
  for (let t = 0; t < nTrees; t++) {
    const nodes: TreeNode[] = [];
    // Breadth-first layout of a full tree: children of i are 2i+1 and 2i+2, leaves are the
    // last 2^depth nodes. Simple to generate, and ONNX node ids can be the array indices.
    const nBranches = 2 ** depth - 1;
    const nNodes = 2 ** (depth + 1) - 1;
    for (let i = 0; i < nNodes; i++) {
      if (i < nBranches) {
        nodes.push({
          kind: 'branch',
          feature: randomInt(rng, shape.nFeatures),
          threshold: Math.fround(uniform(rng, lo, hi)),
          left: 2 * i + 1,
          right: 2 * i + 2,
        });
      } else {
        nodes.push({ kind: 'leaf', value: Math.fround(uniform(rng, -leafScale, leafScale)) });
      }
    }
    trees.push({ nodes });
  }
  return { nFeatures: shape.nFeatures, trees, baseValue: Math.fround(shape.baseValue ?? 0) };
}

/** Structural checks shared by the builders: child indices and features in range. */
export function validateTreeEnsemble(params: TreeEnsembleParams): void {
  if (params.trees.length === 0) throw new Error('tree ensemble: no trees');
  params.trees.forEach((tree, t) => {
    if (tree.nodes.length === 0) throw new Error(`tree ensemble: tree ${t} is empty`);
    tree.nodes.forEach((n, i) => {
      if (n.kind === 'leaf') return;
      for (const child of [n.left, n.right]) {
        if (!Number.isInteger(child) || child <= i || child >= tree.nodes.length) {
          // Requiring children after their parent rules out cycles, which ORT would not detect.
          throw new Error(`tree ensemble: tree ${t} node ${i} has bad child ${child}`);
        }
      }
      if (!Number.isInteger(n.feature) || n.feature < 0 || n.feature >= params.nFeatures) {
        throw new Error(`tree ensemble: tree ${t} node ${i} splits on feature ${n.feature}`);
      }
    });
  });
}

/** Leaves of an ensemble as (tree id, node id, value), in tree then node order. */
export function treeLeaves(params: TreeEnsembleParams): Array<{ tree: number; node: number; value: number }> {
  const leaves: Array<{ tree: number; node: number; value: number }> = [];
  params.trees.forEach((tree, t) =>
    tree.nodes.forEach((n, i) => {
      if (n.kind === 'leaf') leaves.push({ tree: t, node: i, value: n.value });
    }),
  );
  return leaves;
}

/**
 * The `nodes_*` attributes describing the tree structure (common to the regressor and the
 * classifier). Leaves appear as nodes too, with mode LEAF and dummy split fields.
 * `nodes_missing_value_tracks_true` is left out (default 0): NaN goes to the false
 * branch, which is what the reference does with `x <= t`.
 */
export function treeNodeAttributes(params: TreeEnsembleParams): onnx.IAttributeProto[] {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const values: number[] = [];
  const modes: string[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  params.trees.forEach((tree, t) =>
    tree.nodes.forEach((n, i) => {
      treeIds.push(t);
      nodeIds.push(i);
      if (n.kind === 'branch') {
        featureIds.push(n.feature);
        values.push(n.threshold);
        modes.push('BRANCH_LEQ');
        trueIds.push(n.left);
        falseIds.push(n.right);
      } else {
        featureIds.push(0);
        values.push(0);
        modes.push('LEAF');
        trueIds.push(0);
        falseIds.push(0);
      }
    }),
  );
  return [
    attrInts('nodes_treeids', treeIds),
    attrInts('nodes_nodeids', nodeIds),
    attrInts('nodes_featureids', featureIds),
    attrFloats('nodes_values', values),
    attrStrings('nodes_modes', modes),
    attrInts('nodes_truenodeids', trueIds),
    attrInts('nodes_falsenodeids', falseIds),
  ];
}
