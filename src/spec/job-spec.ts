import { parseModelRef } from '../registry/names.js';
import { parseMonitoringSpec, type MonitoringSpec } from '../monitor/thresholds.js';
import { cronProblem } from '../queue/schedule-math.js';

/**
 * The declarative scoring job: what to read, which model, how to map columns, where to
 * write. `parseJobSpec` turns untrusted JSON into a fully defaulted `JobSpec` or throws a
 * `SpecError` that names the field and quotes the bad value.
 */

/** How null feature values are handled. */
export type NullPolicy = 'error' | 'nan' | { impute: Record<string, number> };

/** How NaN/±Infinity feature values (present, not null) are handled. */
export type NonFinitePolicy = 'error' | 'keep' | 'as-null';

/** Parquet compression codec for outputs. */
export type OutputCompression = 'snappy' | 'zstd' | 'lz4' | 'gzip' | 'none';

export interface JobSpec {
  /** Job name: letters, digits, `.`, `_`, `-`. Used in run ids, lineage and logs. */
  name: string;
  /** Lineage namespace of the job. Default `batchscore`. */
  namespace: string;
  input: {
    /** Dataset root: local path, `file://` or `s3://bucket/prefix`. */
    uri: string;
    /** Hive partition column (`dt` for `dt=2026-11-01/`). Absent: the whole input is one partition. */
    partitionKey?: string;
  };
  /** Exactly one of `uri` and `ref`. */
  model: {
    /** Model file: local path, `file://` or `s3://`. */
    uri?: string;
    /** Registry reference: `churn@production` (alias), `churn@3` (version) or `churn` (latest). */
    ref?: string;
    /** Registry root for `ref`. Default: the `BATCHSCORE_REGISTRY` environment variable. */
    registry?: string;
    /** Optional pin: the run refuses a model whose bytes hash differently. */
    sha256?: string;
  };
  /** Input columns in model-input order. Absent: the model's own per-feature input names. */
  features?: string[];
  /** Input columns copied unchanged to the output, before the prediction columns. Default none. */
  passthrough: string[];
  /** Null feature values. Default `error`. */
  nulls: NullPolicy;
  /** NaN/±Inf feature values. Default `error`; `as-null` applies the null policy to them. */
  nonFinite: NonFinitePolicy;
  output: {
    /** Output root; partitions are written as `<uri>/<key>=<value>/part-<stem>.parquet`. */
    uri: string;
    /** Default `snappy`. */
    compression: OutputCompression;
  };
  /** Most rows per `session.run`. Default 8192. Tree ensembles and dense networks run at most 1024 (measured faster; see run/model-kind.ts). */
  batchSize: number;
  /** Partitions allowed to fail before the whole run counts as failed. Default 0. */
  maxFailedPartitions: number;
  /**
   * Share of a file's rows (0 ≤ x < 1) that may be refused by `nulls`/`nonFinite` without
   * failing the file: such rows are written with null predictions and counted in the
   * manifest. Absent (0): the first refused row fails the file.
   */
  maxBadRowsFraction?: number;
  /** Nightly schedule for `batchscore scheduler`. Requires `input.partitionKey`. */
  schedule?: ScheduleSpec;
  /** Data-quality and drift monitoring; absent: no profiles are computed. */
  monitoring?: MonitoringSpec;
}

export interface ScheduleSpec {
  /** Cron pattern (cron-parser syntax); 5 fields, or 6 with seconds first. Checked in `tz` by cron-parser, as the scheduler reads it. */
  cron: string;
  /** IANA time zone the pattern and the partition date are read in. Default `UTC`. */
  tz: string;
  /** Partition scored by a firing: its date plus this many days. Default -1 (yesterday). */
  offsetDays: number;
  /** Missed firings (scheduler down) to catch up on start, newest first. Default 3. */
  catchUp: number;
}

/** A job spec field is missing or has a bad value. */
export class SpecError extends Error {
  constructor(readonly field: string, message: string) {
    super(`spec: ${field}: ${message}`);
    this.name = 'SpecError';
  }
}

const COMPRESSIONS: readonly OutputCompression[] = ['snappy', 'zstd', 'lz4', 'gzip', 'none'];
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const COLUMN_RE = /^[^\u0000/]{1,256}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

function show(value: unknown): string {
  // JSON.stringify would print Infinity and NaN (JSON.parse gives Infinity for 1e999) as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rejectUnknown(obj: Record<string, unknown>, path: string, known: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw new SpecError(path ? `${path}.${key}` : key, `unknown field (known: ${known.join(', ')})`);
    }
  }
}

function str(obj: Record<string, unknown>, field: string, path: string, re?: RegExp): string {
  const value = obj[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new SpecError(path, `expected a non-empty string, got ${show(value)}`);
  }
  if (re && !re.test(value)) throw new SpecError(path, `invalid value ${show(value)}`);
  return value;
}

function optStr(obj: Record<string, unknown>, field: string, path: string, re?: RegExp): string | undefined {
  return obj[field] === undefined ? undefined : str(obj, field, path, re);
}

function section(obj: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = obj[field];
  if (!isObject(value)) throw new SpecError(field, `expected an object, got ${show(value)}`);
  return value;
}

function columnList(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) throw new SpecError(path, `expected an array of column names, got ${show(value)}`);
  const seen = new Set<string>();
  value.forEach((col, i) => {
    if (typeof col !== 'string' || !COLUMN_RE.test(col)) {
      throw new SpecError(`${path}[${i}]`, `expected a column name, got ${show(col)}`);
    }
    if (seen.has(col)) throw new SpecError(`${path}[${i}]`, `duplicate column ${show(col)}`);
    seen.add(col);
  });
  return value as string[];
}

function integer(value: unknown, path: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SpecError(path, `expected an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

function nullPolicy(value: unknown): NullPolicy {
  if (value === undefined) return 'error';
  if (value === 'error' || value === 'nan') return value;
  if (isObject(value) && isObject(value.impute) && Object.keys(value).length === 1) {
    const impute: Record<string, number> = {};
    for (const [col, v] of Object.entries(value.impute)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new SpecError(`nulls.impute.${col}`, `expected a finite number, got ${show(v)}`);
      }
      impute[col] = v;
    }
    return { impute };
  }
  throw new SpecError('nulls', `expected "error", "nan" or {"impute": {"column": value}}, got ${show(value)}`);
}

function scheduleSpec(raw: Record<string, unknown>): ScheduleSpec {
  rejectUnknown(raw, 'schedule', ['cron', 'tz', 'offsetDays', 'catchUp']);
  const cron = str(raw, 'cron', 'schedule.cron');
  // cron-parser also takes 7 fields (years) and @daily-style macros; the documented form is 5 or 6.
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) throw new SpecError('schedule.cron', `expected 5 or 6 cron fields, got ${show(cron)}`);
  const tz = optStr(raw, 'tz', 'schedule.tz') ?? 'UTC';
  // The zone first: cron-parser reports an unknown zone only as "CronDate: unhandled timestamp".
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new SpecError('schedule.tz', `expected an IANA time zone such as "Europe/Paris" or "UTC", got ${show(tz)}`);
  }
  // The scheduler's own check, so a pattern accepted here cannot crash it later
  // (ranges, characters, patterns that never fire).
  const problem = cronProblem(cron, tz);
  if (problem !== undefined) throw new SpecError('schedule.cron', `${problem}, got ${show(cron)}`);
  return {
    cron,
    tz,
    offsetDays: integer(raw.offsetDays, 'schedule.offsetDays', -366, 366, -1),
    catchUp: integer(raw.catchUp, 'schedule.catchUp', 0, 366, 3),
  };
}

/**
 * Validate and default a job spec.
 * @param raw parsed JSON (e.g. `JSON.parse` of a file in `jobs/`)
 * @throws SpecError naming the field and the bad value
 */
export function parseJobSpec(raw: unknown): JobSpec {
  if (!isObject(raw)) throw new SpecError('(root)', `expected a JSON object, got ${show(raw)}`);
  rejectUnknown(raw, '', [
    '$schema', 'name', 'namespace', 'description', 'input', 'model', 'features', 'passthrough',
    'nulls', 'nonFinite', 'output', 'batchSize', 'maxFailedPartitions', 'maxBadRowsFraction', 'schedule', 'monitoring',
  ]);
  const name = str(raw, 'name', 'name', NAME_RE);
  const namespace = optStr(raw, 'namespace', 'namespace') ?? 'batchscore';

  const input = section(raw, 'input');
  rejectUnknown(input, 'input', ['uri', 'partitionKey', 'format']);
  if (input.format !== undefined && input.format !== 'parquet') {
    throw new SpecError('input.format', `only "parquet" is supported, got ${show(input.format)}`);
  }
  const model = section(raw, 'model');
  rejectUnknown(model, 'model', ['uri', 'ref', 'registry', 'sha256']);
  if ((model.uri === undefined) === (model.ref === undefined)) {
    throw new SpecError('model', `expected exactly one of "uri" and "ref", got ${show(model)}`);
  }
  if (model.ref !== undefined) {
    try {
      parseModelRef(model.ref);
    } catch (err) {
      throw new SpecError('model.ref', (err as Error).message.replace(/^registry: /, ''));
    }
  }
  const output = section(raw, 'output');
  rejectUnknown(output, 'output', ['uri', 'compression']);
  const compression = output.compression ?? 'snappy';
  if (!COMPRESSIONS.includes(compression as OutputCompression)) {
    throw new SpecError('output.compression', `expected one of ${COMPRESSIONS.join(', ')}, got ${show(compression)}`);
  }

  const nonFinite = raw.nonFinite ?? 'error';
  if (nonFinite !== 'error' && nonFinite !== 'keep' && nonFinite !== 'as-null') {
    throw new SpecError('nonFinite', `expected "error", "keep" or "as-null", got ${show(nonFinite)}`);
  }
  const features = raw.features === undefined ? undefined : columnList(raw.features, 'features');
  if (features && features.length === 0) throw new SpecError('features', 'expected at least one column, got []');
  const passthrough = raw.passthrough === undefined ? [] : columnList(raw.passthrough, 'passthrough');
  const partitionKey = optStr(input, 'partitionKey', 'input.partitionKey', /^[A-Za-z_][A-Za-z0-9_]*$/);
  if (partitionKey && passthrough.includes(partitionKey)) {
    throw new SpecError('passthrough', `${show(partitionKey)} is the partition key; it is in the folder name, not the file`);
  }
  const nulls = nullPolicy(raw.nulls);
  if (typeof nulls === 'object' && features) {
    for (const col of Object.keys(nulls.impute)) {
      if (!features.includes(col)) throw new SpecError(`nulls.impute.${col}`, `not one of the features`);
    }
  }

  const spec: JobSpec = {
    name,
    namespace,
    input: { uri: str(input, 'uri', 'input.uri') },
    model: model.uri !== undefined ? { uri: str(model, 'uri', 'model.uri') } : { ref: str(model, 'ref', 'model.ref') },
    passthrough,
    nulls,
    nonFinite,
    output: { uri: str(output, 'uri', 'output.uri'), compression: compression as OutputCompression },
    batchSize: integer(raw.batchSize, 'batchSize', 1, 1_048_576, 8192),
    maxFailedPartitions: integer(raw.maxFailedPartitions, 'maxFailedPartitions', 0, 1_000_000, 0),
  };
  if (partitionKey) spec.input.partitionKey = partitionKey;
  const registry = optStr(model, 'registry', 'model.registry');
  if (registry) spec.model.registry = registry;
  const sha256 = optStr(model, 'sha256', 'model.sha256', SHA256_RE);
  if (sha256) spec.model.sha256 = sha256;
  if (features) spec.features = features;
  if (raw.maxBadRowsFraction !== undefined) {
    const f = raw.maxBadRowsFraction;
    if (typeof f !== 'number' || !(f >= 0 && f < 1)) throw new SpecError('maxBadRowsFraction', `expected a number from 0 (inclusive) to 1 (exclusive), got ${show(f)}`);
    if (f > 0) spec.maxBadRowsFraction = f;
  }
  if (raw.schedule !== undefined) {
    spec.schedule = scheduleSpec(section(raw, 'schedule'));
    // A firing selects the partition of one date; without a key there is nothing to select,
    // and every firing would fail planning while the scheduler kept running.
    if (!partitionKey) {
      throw new SpecError('schedule', `needs input.partitionKey (the partition each firing scores), got input ${show(input)}`);
    }
  }
  if (raw.monitoring !== undefined) spec.monitoring = parseMonitoringSpec(raw.monitoring, 'monitoring', (field, message) => new SpecError(field, message));
  if (spec.input.uri.replace(/\/+$/, '') === spec.output.uri.replace(/\/+$/, '')) {
    throw new SpecError('output.uri', `must differ from input.uri, got ${show(spec.output.uri)}`);
  }
  return spec;
}
