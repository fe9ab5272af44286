/**
 * A file task: everything needed to score one input file, as plain data (URIs, ids, pins),
 * so it crosses a thread, a process or a queue unchanged. Never data, never credentials.
 */
import type { NonFinitePolicy, NullPolicy, OutputCompression } from '../spec/job-spec.js';

export interface FileTask {
  runId: string;
  input: { uri: string; size: number };
  /** Where this attempt writes its output (a staging key, published later by the commit). */
  output: { uri: string };
  /** The model and the sha256 its bytes must hash to; refused otherwise. */
  model: { uri: string; sha256: string };
  /** Spec features, or null for the model's own per-feature input names. */
  features: string[] | null;
  nulls: NullPolicy;
  nonFinite: NonFinitePolicy;
  passthrough: string[];
  batchSize: number;
  compression: OutputCompression;
}

export interface FileResult {
  rows: number;
  /** Output size and hash; `null` when the input had no rows (nothing written). */
  output: { uri: string; bytes: number; sha256: string } | null;
  decodeMs: number;
  inferMs: number;
  writeMs: number;
  totalMs: number;
}

/** Error classes that retrying cannot fix: bad data, bad schema, bad model, bad spec. */
export const PERMANENT_ERRORS: ReadonlySet<string> = new Set([
  'ParquetError',
  'ColumnError',
  'BadRowError',
  'ModelError',
  'BindingError',
  'OutputShapeError',
  'SpecError',
  'NotFoundError',
  'ThreadCrashError',
]);
