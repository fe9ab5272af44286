/**
 * batchscore's public API (the package's `main`): what the CLI does, as functions.
 *
 * - Run a job in this process: `parseJobSpec` → `runJob` → `verifyRun`.
 * - Run it on BullMQ workers: `submitRun`, `startScoreWorker`, `startScheduler`,
 *   `getRunStatus`, with a `QueueConfig` and an ioredis connection (`createRedis`).
 * - Stores: `FileStore`, `S3Store`, or any `ObjectStore`; `resolveUri` picks one by URI.
 * - Models: `loadModel` (sha256-pinned ONNX session), the registry (`openRegistry`).
 * - Monitoring and lineage: `profileDataset`, `compareProfiles`, `evaluateRun`,
 *   `emitRunStart`/`emitRunFinish`.
 *
 * Error classes are exported where a caller acts on them (a bad spec, a missing object, a
 * corrupt file, a model or registry error).
 */

// Jobs and the in-process runner.
export { parseJobSpec, SpecError, type JobSpec, type ScheduleSpec, type NullPolicy, type NonFinitePolicy, type OutputCompression } from './spec/job-spec.js';
export { runJob, defaultThreads, type RunJobOptions, type RunResult } from './run/run-job.js';
export { PlanError, type PartitionSelection } from './run/plan.js';
export { verifyRun, type VerifyOptions, type VerifyReport } from './run/verify-run.js';
export { manifestKey, type RunManifest, type RunStatus, type PartitionRecord, type FileRecord, type ModelRecord, type ErrorRecord, type RuntimeRecord } from './run/manifest.js';

// Distributed mode (BullMQ on Redis).
export { queueConfigFromEnv, createRedis, connectRedis, withRedis, closeRedis, redactUrl, type QueueConfig } from './queue/connection.js';
export { submitRun, type SubmitOptions, type SubmitResult } from './queue/submit-run.js';
export { startScoreWorker, type ScoreWorker, type ScoreWorkerOptions } from './queue/score-worker.js';
export { startScheduler, type Scheduler, type SchedulerOptions } from './queue/scheduler.js';
export { getRunStatus, type RunStatusReport } from './queue/run-status.js';
export { startMetricsServer, type MetricsServer } from './queue/metrics-server.js';

// Storage.
export { NotFoundError, PreconditionFailedError, type ObjectStore, type ObjectInfo, type PutOptions } from './storage/object-store.js';
export { FileStore } from './storage/file-store.js';
export { S3Store, type S3StoreOptions } from './storage/s3-store.js';
export { resolveUri, parseUri, s3SettingsFromEnv, closeCachedStores, type ResolveOptions, type Resolved, type ParsedUri, type S3Settings } from './storage/resolve.js';

// Parquet reading (what scoring reads through: byte ranges of any store).
export { openParquet, ParquetError, type ParquetReader, type BlobLike } from './parquet/parquet-reader.js';
export { openRangeBlob, rangeBlob, ShortReadError, type RangeBlob, type RangeBlobOptions } from './storage/range-blob.js';

// Models and the registry.
export { loadModel, sha256Hex, ModelError, type LoadModelOptions, type LoadedModel, type ModelErrorCode } from './model/index.js';
export {
  openRegistry,
  ModelRegistry,
  RegistryError,
  parseModelRef,
  formatModelRef,
  type ModelRef,
  type RegistryErrorCode,
  type RegisterOptions,
  type RegisteredVersion,
  type ResolvedModelRef,
} from './registry/index.js';

// Monitoring.
export { profileDataset, type ProfileDatasetOptions } from './monitor-io/profile-dataset.js';
export { evaluateRun, writeEvaluation, type EvaluateRunOptions, type EvaluationReport } from './monitor-io/evaluate-run.js';
export { compareProfiles, type DriftReport, type ColumnDrift } from './monitor/drift.js';
export type { DatasetProfile } from './monitor/profile-set.js';

// Lineage (OpenLineage).
export { emitRunStart, emitRunFinish, buildRunEvents, type RunEvent, type EmitOptions, type EmitReport } from './lineage/index.js';
