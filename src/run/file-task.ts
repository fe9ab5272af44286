/**
 * A file task: everything needed to score one input file, as plain data (URIs, ids, pins),
 * so it crosses a thread, a process or a queue unchanged. Never data, never credentials.
 */
import type { NonFinitePolicy, NullPolicy, OutputCompression } from '../spec/job-spec.js';
import type { BadRowCount } from '../scoring/bad-rows.js';

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
  /** Profile the columns while scoring (monitoring on); null: no profile. */
  profile: { sliceBy?: string; maxSlices: number; ignore: string[] } | null;
  /** Spec `maxBadRowsFraction` (0: the first refused row fails the file). Absent in tasks enqueued before it existed. */
  maxBadRowsFraction?: number;
}

export interface FileResult {
  rows: number;
  /** Output size and hash; `null` when the input had no rows (nothing written). */
  output: { uri: string; bytes: number; sha256: string } | null;
  /** Where the file's column profile was staged (monitoring on), else null. */
  profileUri: string | null;
  /** Rows refused by the policy, written with null predictions (`maxBadRowsFraction`). */
  badRows: BadRowCount;
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
  'ShortReadError',
  'ThreadCrashError',
]);

/**
 * A thread that died took its error with it (a WASM panic in the Parquet decoder cannot be
 * caught inside the thread): name the file here, where the task is known.
 */
export function taskError(err: unknown, task: FileTask): unknown {
  if (err instanceof Error && err.name === 'ThreadCrashError') {
    const e = new Error(`parquet: ${task.input.uri}: decoder crashed (corrupt or unsupported file): ${err.message}`);
    e.name = 'ThreadCrashError';
    return Object.assign(e, { permanent: true });
  }
  return err;
}
