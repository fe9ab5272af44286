/**
 * The run manifest: the durable record of a run, written last to `<output>/_runs/<runId>.json`.
 * It holds what is needed to reproduce the run exactly (spec, model bytes hash, input files
 * with their etags, code and runtime versions) and what the run produced. Pure data.
 */
import type { BadRowCount } from '../scoring/bad-rows.js';
import type { JobSpec } from '../spec/job-spec.js';
import type { PartitionSelection } from './plan.js';
import type { MonitoringRecord } from './monitor-run.js';

export type RunStatus = 'succeeded' | 'partial' | 'failed';

export interface TensorSummary {
  name: string;
  elemType: string;
  shape: (number | string | null)[];
}

export interface ModelRecord {
  uri: string;
  sha256: string;
  size: number;
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  /** Graph changes made before loading (e.g. ZipMap removed). */
  notes: string[];
  /** Set when the spec named the model by registry ref: what the ref resolved to at planning. */
  registry?: { ref: string; name: string; version: number; alias?: string };
}

export interface FileRecord {
  input: { uri: string; size: number; etag: string; mtime: string; rows: number | null };
  output: { uri: string; rows: number; bytes: number; sha256: string } | null;
  timings: { decodeMs: number; inferMs: number; writeMs: number; totalMs: number } | null;
  error: ErrorRecord | null;
  /** Rows refused by `nulls`/`nonFinite` and written with null predictions (spec `maxBadRowsFraction`); absent when none. */
  badRows?: BadRowCount;
}

export interface ErrorRecord {
  /** Error class, e.g. `ParquetError`, `BadRowError`. */
  name: string;
  message: string;
  /** Whether retrying could help (network, throttling) or not (corrupt data, schema). */
  permanent: boolean;
}

export interface PartitionRecord {
  value: string | null;
  dir: string;
  /** `superseded`: a run planned later already published this partition; this one left it alone. */
  status: 'succeeded' | 'failed' | 'superseded';
  rows: number;
  files: FileRecord[];
  /** URI of `_SUCCESS.json` when published. */
  success: string | null;
  error: ErrorRecord | null;
}

export interface RuntimeRecord {
  package: { name: string; version: string };
  gitCommit: string | null;
  node: string;
  onnxruntime: string;
  libraries: Record<string, string>;
  host: { hostname: string; platform: string; arch: string; cpus: number };
}

export interface RunManifest {
  manifestVersion: 1;
  runId: string;
  job: { name: string; namespace: string };
  status: RunStatus;
  startedAt: string;
  finishedAt: string;
  selection: PartitionSelection;
  spec: JobSpec;
  /** Null when the run failed before the model was resolved. */
  model: ModelRecord | null;
  runtime: RuntimeRecord;
  settings: { threads: number; batchSize: number; maxFailedPartitions: number };
  partitions: PartitionRecord[];
  /** `badRows`: published rows with null predictions (refused features tolerated by `maxBadRowsFraction`). */
  totals: { partitions: number; failedPartitions: number; files: number; rows: number; badRows: number; outputBytes: number; durationMs: number; rowsPerSecond: number };
  errors: ErrorRecord[];
  /** Drift and data-quality figures; null when the job has no `monitoring`. */
  monitoring: MonitoringRecord | null;
}

/** `succeeded` with no failures, `partial` within `maxFailedPartitions`, else `failed`. */
export function runStatus(partitions: readonly PartitionRecord[], maxFailedPartitions: number): RunStatus {
  const failed = partitions.filter((p) => p.status === 'failed').length;
  if (failed === 0 && partitions.length > 0) return 'succeeded';
  if (partitions.length > 0 && failed <= maxFailedPartitions && failed < partitions.length) return 'partial';
  return 'failed';
}

/** Totals over the partition records. */
export function runTotals(partitions: readonly PartitionRecord[], durationMs: number): RunManifest['totals'] {
  let files = 0;
  let rows = 0;
  let badRows = 0;
  let outputBytes = 0;
  for (const p of partitions) {
    files += p.files.length;
    if (p.status !== 'succeeded') continue;
    rows += p.rows;
    for (const f of p.files) {
      outputBytes += f.output?.bytes ?? 0;
      badRows += f.badRows?.count ?? 0;
    }
  }
  return {
    partitions: partitions.length,
    failedPartitions: partitions.filter((p) => p.status === 'failed').length,
    files,
    rows,
    badRows,
    outputBytes,
    durationMs: Math.round(durationMs),
    rowsPerSecond: durationMs > 0 ? Math.round(rows / (durationMs / 1000)) : 0,
  };
}

/** Key of a run's manifest under the output root. */
export function manifestKey(outputRoot: string, runId: string): string {
  return `${outputRoot.replace(/\/+$/, '')}/_runs/${runId}.json`;
}
