/**
 * The types of lineage: the RunEvent batchscore emits (OpenLineage 2-0-2) and the run data
 * the builders read. The inputs are structural, so the pipeline's `RunPlan` (for START) and
 * `RunManifest` (for the end) fit without conversion.
 */
import type { DatasetId } from './dataset-naming.js';
import type { JobFacets, RunFacets, SchemaDatasetFacet, SchemaField, StatisticsFacet } from './facets.js';
import type { SelectionLike } from './nominal-time.js';

/** Event types batchscore emits. */
export type LineageEventType = 'START' | 'COMPLETE' | 'FAIL' | 'ABORT';

/** An input dataset of an event. */
export interface InputDataset extends DatasetId {
  facets?: { schema?: SchemaDatasetFacet };
  inputFacets?: { inputStatistics?: StatisticsFacet };
}

/** An output dataset of an event. */
export interface OutputDataset extends DatasetId {
  facets?: { schema?: SchemaDatasetFacet };
  outputFacets?: { outputStatistics?: StatisticsFacet };
}

/** An OpenLineage RunEvent as batchscore emits it. */
export interface RunEvent {
  eventType: LineageEventType;
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets: RunFacets };
  job: { namespace: string; name: string; facets: JobFacets };
  inputs: InputDataset[];
  outputs: OutputDataset[];
}

/** A model input or output (`ModelRecord`'s tensors). */
export interface LineageTensor {
  name: string;
  elemType: string;
  shape: readonly (number | string | null)[];
}

/** The model of a run (`ModelRecord`, plus registry coordinates when it came from a ref). */
export interface LineageModel {
  uri: string;
  sha256: string;
  size?: number;
  inputs: readonly LineageTensor[];
  outputs: readonly LineageTensor[];
  registry?: { name: string; version: number; alias?: string; ref?: string };
}

/** The parts of a job spec lineage reads (`JobSpec` satisfies it). */
export interface LineageSpec {
  name: string;
  namespace: string;
  input: { uri: string; partitionKey?: string };
  output: { uri: string };
  features?: readonly string[];
  passthrough: readonly string[];
  schedule?: { tz: string };
}

/** What the START event needs; a `RunPlan` satisfies it. */
export interface LineageRunStart {
  runId: string;
  spec: LineageSpec;
  selection: SelectionLike;
  model: LineageModel | null;
  /** Planned partitions (absent or empty when planning failed). */
  partitions?: readonly { value: string | null; dir: string }[];
}

/** One file of a finished partition (`FileRecord`). */
export interface LineageFileRecord {
  input: { size: number; rows: number | null };
  output: { rows: number; bytes: number } | null;
}

/** A finished partition (`PartitionRecord`). */
export interface LineagePartitionRecord {
  value: string | null;
  dir: string;
  status: 'succeeded' | 'failed' | 'superseded';
  rows: number;
  files: readonly LineageFileRecord[];
  error: { name: string; message: string } | null;
}

/** What the final events need; a `RunManifest` satisfies it. */
export interface LineageRunFinish extends LineageRunStart {
  status: 'succeeded' | 'partial' | 'failed';
  startedAt: string;
  finishedAt: string;
  partitions: readonly LineagePartitionRecord[];
  errors: readonly { name: string; message: string }[];
  settings?: { maxFailedPartitions: number };
}

/** Options of every builder. */
export interface LineageOptions {
  /** `producer` / `_producer` URI (see `defaultProducer` in emit.ts). */
  producer: string;
  /** batchscore version, for the processing_engine facet. */
  engineVersion: string;
  /** Time zone partition dates are read in. Default: the spec's schedule tz, else UTC. */
  timeZone?: string;
  /** Exact dataset schemas when the caller knows them; else derived from spec and model. */
  schemas?: { input?: SchemaField[]; output?: SchemaField[] };
  /** Base for relative local paths in the spec (default `process.cwd()`). */
  cwd?: string;
}
