/** Model builders: ONNX bytes made by code, with the parameters to check them against. */
export { seededRandom, uniform, randomInt, gaussian, randomMatrix, type Rng } from './random.js';
export { buildLogisticModel, type LogisticParams, type LogisticModelOptions } from './logistic.js';
export { buildMlpModel, mlpLayerSizes, type MlpActivation, type MlpLayer, type MlpParams, type MlpModelOptions } from './mlp.js';
export {
  generateTreeEnsemble,
  validateTreeEnsemble,
  type Tree,
  type TreeNode,
  type TreeBranch,
  type TreeLeaf,
  type TreeEnsembleParams,
  type TreeEnsembleShape,
} from './trees.js';
export { buildTreeEnsembleModel, type TreeRegressorOptions } from './tree-regressor.js';
export { buildTreeEnsembleClassifierModel, type TreeClassifierOptions } from './tree-classifier.js';
export { buildLinearClassifierModel, type LinearClassifierOptions } from './linear-classifier.js';
export { makeDemoModels, DEMO_FEATURES, type DemoModel, type DemoModels } from './demo.js';
