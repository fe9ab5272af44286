/** Public API of `src/registry/`: versioned models and aliases in an object store. */
export {
  ModelRegistry,
  openRegistry,
  defaultActor,
  type RegisterOptions,
  type RegisteredVersion,
  type VersionSummary,
  type AliasSummary,
  type ModelListing,
  type ResolvedModelRef,
  type AliasChangeResult,
} from './model-registry.js';
export { RegistryError, type RegistryErrorCode } from './errors.js';
export { parseModelRef, formatModelRef, checkModelName, checkAliasName, checkVersion, LATEST, type ModelRef } from './names.js';
export { parseMetricArgs, checkMetrics, checkCard, cardTitle, MAX_CARD_BYTES, MAX_METRICS } from './model-card.js';
export { MODEL_METADATA_FORMAT, featureNamesOf, type ModelMetadata, type RecordedTensor } from './model-metadata.js';
export {
  ALIAS_DOCUMENT_FORMAT,
  ALIAS_HISTORY_LIMIT,
  previousTarget,
  targetStack,
  type AliasDocument,
  type AliasHistoryEntry,
  type AliasAction,
} from './alias-document.js';
export type { AliasWriteMode } from './alias-store.js';
