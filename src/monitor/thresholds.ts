/**
 * The `monitoring` section of a job spec: drift and quality thresholds, slicing, reference
 * and webhook. `parseMonitoringSpec` validates untrusted JSON and fills defaults; its errors
 * name the field and quote the bad value, like the rest of the spec.
 *
 * Default drift thresholds follow the PSI convention (0.1 = moderate, 0.25 = major shift).
 * KS and JS defaults are set to fire at about the same shifts: for a normal feature whose
 * mean moves by d standard deviations, PSI ≈ d², KS ≈ 2Φ(d/2) − 1 and the base-2 JS
 * distance ≈ 0.42·d, so PSI 0.1/0.25 ≈ KS 0.13/0.20 ≈ JS 0.13/0.21.
 */

/** Outcome of a check, ordered ok < warn < alert. */
export type Severity = 'ok' | 'warn' | 'alert';

/** Values at or above `warn` warn; at or above `alert` alert. */
export interface Band {
  warn: number;
  alert: number;
}

/** Validated, defaulted `monitoring` spec section. */
export interface MonitoringSpec {
  /** Population stability index. */
  psi: Band;
  /** Kolmogorov–Smirnov statistic (numeric columns). */
  ks: Band;
  /** Jensen–Shannon distance, base 2, in [0, 1]. */
  js: Band;
  /** Absolute change of the missing-value rate (null + NaN share of rows). */
  nullRateChange: Band;
  /** Share of values outside the reference range (numeric) or unseen categories. */
  outOfRange: Band;
  /** Bins for PSI and JS: quantiles of the reference. Default 10. */
  bins: number;
  /** Fewest current rows (per column, per slice) for figures to be judged. Default 500. */
  minRows: number;
  /** Segment column to compute the same figures per value of. */
  sliceBy?: string;
  /**
   * Columns not to profile, e.g. id-like passthrough columns: exact top-k counting of a
   * column with a new value on every row costs ~1 µs per row and tells nothing. Default none.
   */
  ignore: string[];
  /** Most slices; further values share the `(other)` slice. Default 50. */
  maxSlices: number;
  /** URL notified when a run's status is warn or alert. */
  webhook?: string;
  /** Where the reference profile comes from (a profile file URI or a baseline run id). */
  reference?: string;
}

/** A run id (a lowercase UUID, as runs get): what `reference` names when it is not a URI. */
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `reference` names a baseline run (its `_runs/<id>.profile.json`) rather than a file. */
export function isBaselineRunId(reference: string): boolean {
  return RUN_ID.test(reference);
}

/** Defaults of every field that has one. */
export const DEFAULT_MONITORING: Readonly<MonitoringSpec> = Object.freeze({
  psi: { warn: 0.1, alert: 0.25 },
  ks: { warn: 0.1, alert: 0.2 },
  js: { warn: 0.1, alert: 0.2 },
  nullRateChange: { warn: 0.05, alert: 0.2 },
  outOfRange: { warn: 0.01, alert: 0.05 },
  bins: 10,
  minRows: 500,
  maxSlices: 50,
  ignore: [],
});

/** A `monitoring` field is unknown or has a bad value. */
export class MonitoringSpecError extends Error {
  constructor(readonly field: string, readonly detail: string) {
    super(`spec: ${field}: ${detail}`);
    // Same name as the job spec's SpecError, so name-based error handling treats both alike.
    this.name = 'SpecError';
  }
}

/** Builds the error thrown for a bad field; lets the job spec parser throw its own type. */
export type SpecErrorFactory = (field: string, message: string) => Error;

const BANDS = ['psi', 'ks', 'js', 'nullRateChange', 'outOfRange'] as const;
// Upper bounds: PSI is unbounded; the others are shares or distances in [0, 1].
const BAND_MAX: Record<(typeof BANDS)[number], number> = { psi: Infinity, ks: 1, js: 1, nullRateChange: 1, outOfRange: 1 };
const KNOWN = [...BANDS, 'bins', 'minRows', 'sliceBy', 'maxSlices', 'ignore', 'webhook', 'reference'];
const COLUMN_RE = /^[^\u0000/]{1,256}$/;

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validate and default a `monitoring` section (`undefined` gives all defaults).
 * @param path field prefix in error messages
 * @param makeError error type to throw (default MonitoringSpecError)
 * @throws the error of `makeError`, naming the field and quoting the value
 */
export function parseMonitoringSpec(
  raw: unknown,
  path = 'monitoring',
  makeError: SpecErrorFactory = (field, message) => new MonitoringSpecError(field, message),
): MonitoringSpec {
  if (raw === undefined) raw = {};
  if (!isObject(raw)) throw makeError(path, `expected an object, got ${show(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!KNOWN.includes(key)) throw makeError(`${path}.${key}`, `unknown field (known: ${KNOWN.join(', ')})`);
  }
  const band = (name: (typeof BANDS)[number]): Band => {
    const value = raw[name];
    const fallback = DEFAULT_MONITORING[name];
    if (value === undefined) return { ...fallback };
    if (!isObject(value)) throw makeError(`${path}.${name}`, `expected {"warn": number, "alert": number}, got ${show(value)}`);
    for (const key of Object.keys(value)) {
      if (key !== 'warn' && key !== 'alert') throw makeError(`${path}.${name}.${key}`, 'unknown field (known: warn, alert)');
    }
    const out = { ...fallback };
    for (const key of ['warn', 'alert'] as const) {
      const v = value[key];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > BAND_MAX[name]) {
        const range = BAND_MAX[name] === Infinity ? 'a number ≥ 0' : `a number from 0 to ${BAND_MAX[name]}`;
        throw makeError(`${path}.${name}.${key}`, `expected ${range}, got ${show(v)}`);
      }
      out[key] = v;
    }
    if (out.warn > out.alert) {
      throw makeError(`${path}.${name}`, `warn ${show(out.warn)} must not be above alert ${show(out.alert)}`);
    }
    return out;
  };
  const integer = (name: 'bins' | 'minRows' | 'maxSlices', min: number, max: number): number => {
    const v = raw[name];
    if (v === undefined) return DEFAULT_MONITORING[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw makeError(`${path}.${name}`, `expected an integer from ${min} to ${max}, got ${show(v)}`);
    }
    return v;
  };
  const spec: MonitoringSpec = {
    psi: band('psi'),
    ks: band('ks'),
    js: band('js'),
    nullRateChange: band('nullRateChange'),
    outOfRange: band('outOfRange'),
    bins: integer('bins', 2, 100),
    minRows: integer('minRows', 1, 1_000_000_000),
    maxSlices: integer('maxSlices', 1, 1000),
    ignore: [],
  };
  if (raw.ignore !== undefined) {
    if (!Array.isArray(raw.ignore)) throw makeError(`${path}.ignore`, `expected an array of column names, got ${show(raw.ignore)}`);
    raw.ignore.forEach((col, i) => {
      if (typeof col !== 'string' || !COLUMN_RE.test(col)) throw makeError(`${path}.ignore[${i}]`, `expected a column name, got ${show(col)}`);
    });
    spec.ignore = [...(raw.ignore as string[])];
  }
  if (raw.sliceBy !== undefined) {
    if (typeof raw.sliceBy !== 'string' || !COLUMN_RE.test(raw.sliceBy)) {
      throw makeError(`${path}.sliceBy`, `expected a column name, got ${show(raw.sliceBy)}`);
    }
    spec.sliceBy = raw.sliceBy;
    if (spec.ignore.includes(raw.sliceBy)) {
      throw makeError(`${path}.ignore`, `cannot ignore the sliceBy column ${show(raw.sliceBy)}`);
    }
  }
  if (raw.webhook !== undefined) {
    let url: URL | null = null;
    try {
      url = typeof raw.webhook === 'string' ? new URL(raw.webhook) : null;
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw makeError(`${path}.webhook`, `expected an http(s) URL, got ${show(raw.webhook)}`);
    }
    spec.webhook = raw.webhook as string;
  }
  if (raw.reference !== undefined) {
    if (typeof raw.reference !== 'string' || raw.reference.trim() === '') {
      throw makeError(`${path}.reference`, `expected a non-empty string, got ${show(raw.reference)}`);
    }
    spec.reference = raw.reference;
  }
  return spec;
}

const RANK: Record<Severity, number> = { ok: 0, warn: 1, alert: 2 };

/** Severity of a figure against a band; null or NaN (not computable) is ok. */
export function severityOf(value: number | null, band: Band): Severity {
  if (value === null || Number.isNaN(value)) return 'ok';
  return value >= band.alert ? 'alert' : value >= band.warn ? 'warn' : 'ok';
}

/** The worse of some severities (ok for none). */
export function worst(...severities: Severity[]): Severity {
  let out: Severity = 'ok';
  for (const s of severities) if (RANK[s] > RANK[out]) out = s;
  return out;
}

/** Numeric rank of a severity (ok 0, warn 1, alert 2), for sorting and gauges. */
export function severityRank(s: Severity): number {
  return RANK[s];
}
