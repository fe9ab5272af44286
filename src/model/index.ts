/** Public API of `src/model/`: load and verify ONNX models, read signatures, fix graphs. */
export { loadModel, sha256Hex, type LoadModelOptions, type LoadedModel } from './load-model.js';
export { ModelError, type ModelErrorCode } from './errors.js';
export {
  readSignature,
  decodeModel,
  elemTypeOf,
  type ModelSignature,
  type TensorSpec,
  type ElemType,
  type ValueKind,
  type OpsetSpec,
} from './signature.js';
export { stripZipMap, type ZipMapStripResult } from './zipmap.js';
export {
  sigmoid,
  logisticReference,
  linearClassifierReference,
  mlpReference,
  mlpForward,
  treeEnsembleReference,
  treeClassifierReference,
  type FeatureRow,
  type BinaryPrediction,
} from './reference.js';
