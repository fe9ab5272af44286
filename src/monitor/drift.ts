/**
 * Drift and data quality of a current profile against a reference profile, per column
 * (features and predictions alike) and per slice, judged against the spec's thresholds.
 *
 * Figures per column: PSI and JS distance on `bins` bins at the reference's quantiles
 * (categories: the reference's most frequent values plus "other"), the KS statistic on the
 * fine grids (numeric only), the change of the missing-value rate, and the share of values
 * outside the reference range (numeric) or never seen in the reference (categories).
 * Schema checks: a reference column missing (alert), a new column (warn), a changed kind
 * (numeric vs categorical: alert) or source type (warn); `monitoring.ignore` columns are
 * left out on both sides, and predictions are only checked against a reference that has
 * predictions (see schemaChanges).
 */
import { nonNullCount, type CategoryProfile } from './category-profile.js';
import { jensenShannonDistance, psi } from './divergence.js';
import { binCounts, ksStatistic, outOfRangeFraction, quantileEdges } from './numeric-bins.js';
import type { NumericProfile } from './numeric-profile.js';
import type { ColumnProfile, ColumnRole, DatasetProfile, ProfileSet } from './profile-set.js';
import { severityOf, severityRank, worst, type Band, type MonitoringSpec, type Severity } from './thresholds.js';

/** Most frequent reference values that get a bin of their own for categorical PSI/JS. */
export const CATEGORY_BINS = 20;

/** Drift and quality figures of one column. Figures that cannot be computed are null. */
export interface ColumnDrift {
  column: string;
  role: ColumnRole;
  kind: 'numeric' | 'category';
  /** Rows of the column (nulls included) in the reference and the current data. */
  rows: { reference: number; current: number };
  /** Bins PSI and JS were computed on. */
  bins: number;
  psi: number | null;
  /** KS statistic; null for categorical columns. */
  ks: number | null;
  js: number | null;
  /** Null + NaN share of rows, and current minus reference. */
  missingRate: { reference: number; current: number; change: number };
  outOfRange: number | null;
  /** False when either side has fewer than `minRows` rows: figures shown, severity ok. */
  judged: boolean;
  severity: Severity;
  /** Figures at or above their warn threshold, e.g. `psi 0.312 ≥ 0.25`. */
  findings: string[];
  /** Largest figure ÷ its alert threshold: orders columns of equal severity. */
  score: number;
}

/** A difference between the reference and current column sets. */
export interface SchemaChange {
  column: string;
  change: 'missing' | 'added' | 'kind-changed' | 'type-changed';
  reference: string | null;
  current: string | null;
  severity: Severity;
}

/** Figures of one slice (value of the `sliceBy` column). */
export interface SliceDrift {
  value: string;
  rows: number;
  /** Compared with the reference's same slice, or with the whole reference when it has none. */
  baseline: 'slice' | 'overall';
  status: Severity;
  columns: ColumnDrift[];
}

/** Result of comparing a run with its reference. Plain JSON. */
export interface DriftReport {
  /** Worst of every column, schema change and slice. */
  status: Severity;
  /** Columns of the whole data, most severe first. */
  columns: ColumnDrift[];
  schema: SchemaChange[];
  sliceBy: string | null;
  /** Slices, most severe first. */
  slices: SliceDrift[];
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

function missingRate(p: ColumnProfile['stats']): number {
  if (p.count === 0) return 0;
  return (p.nulls + (p.kind === 'numeric' ? p.nan : 0)) / p.count;
}

function numericFigures(ref: NumericProfile, cur: NumericProfile, bins: number) {
  const edges = quantileEdges(ref, cur, bins);
  const rc = binCounts(ref, edges), cc = binCounts(cur, edges);
  return {
    bins: rc.length,
    psi: finite(psi(rc, cc)),
    js: finite(jensenShannonDistance(rc, cc)),
    ks: finite(ksStatistic(ref, cur)),
    outOfRange: finite(outOfRangeFraction(ref, cur)),
  };
}

function categoryFigures(ref: CategoryProfile, cur: CategoryProfile) {
  const curCounts = new Map(cur.values);
  const top = ref.values.slice(0, CATEGORY_BINS);
  const rc = top.map(([, c]) => c), cc = top.map(([v]) => curCounts.get(v) ?? 0);
  const rOther = nonNullCount(ref) - rc.reduce((s, c) => s + c, 0);
  const cOther = nonNullCount(cur) - cc.reduce((s, c) => s + c, 0);
  if (rOther > 0 || cOther > 0) { rc.push(rOther); cc.push(cOther); }
  let outOfRange: number | null = null;
  // Unseen values are only known when the reference kept every value it saw.
  if (!ref.truncated && nonNullCount(cur) > 0) {
    const known = new Set(ref.values.map(([v]) => v));
    let unseen = 0;
    for (const [v, c] of cur.values) if (!known.has(v)) unseen += c;
    outOfRange = unseen / nonNullCount(cur);
  }
  return { bins: rc.length, psi: finite(psi(rc, cc)), js: finite(jensenShannonDistance(rc, cc)), ks: null, outOfRange };
}

/** Figures and severity of one column present on both sides with the same kind. */
export function compareColumn(reference: ColumnProfile, current: ColumnProfile, spec: MonitoringSpec): ColumnDrift {
  const r = reference.stats, c = current.stats;
  const figures = r.kind === 'numeric' && c.kind === 'numeric'
    ? numericFigures(r, c, spec.bins)
    : r.kind === 'category' && c.kind === 'category'
      ? categoryFigures(r, c)
      : null;
  if (!figures) throw new Error(`monitor: column ${JSON.stringify(current.name)} changed kind; compare schemas first`);
  const mr = { reference: missingRate(r), current: missingRate(c), change: missingRate(c) - missingRate(r) };
  const judged = r.count >= spec.minRows && c.count >= spec.minRows;
  const checks: Array<[string, number | null, Band]> = [
    ['psi', figures.psi, spec.psi],
    ['ks', figures.ks, spec.ks],
    ['js', figures.js, spec.js],
    ['missing-rate change', Math.abs(mr.change), spec.nullRateChange],
    ['out of range', figures.outOfRange, spec.outOfRange],
  ];
  const findings: string[] = [];
  let severity: Severity = 'ok';
  let score = 0;
  for (const [name, value, band] of checks) {
    if (value === null) continue;
    score = Math.max(score, band.alert > 0 ? value / band.alert : value > 0 ? Infinity : 0);
    const s = severityOf(value, band);
    if (s === 'ok') continue;
    findings.push(`${name} ${value.toPrecision(3)} ≥ ${s === 'alert' ? band.alert : band.warn}`);
    severity = worst(severity, s);
  }
  if (!judged) {
    findings.push(`not judged: ${Math.min(r.count, c.count)} rows < minRows ${spec.minRows}`);
    severity = 'ok';
  }
  return {
    column: current.name, role: current.role, kind: c.kind, rows: { reference: r.count, current: c.count },
    ...figures, missingRate: mr, judged, severity, findings, score,
  };
}

/** Most severe first, then by score, then by name. */
export function bySeverity(a: ColumnDrift, b: ColumnDrift): number {
  return severityRank(b.severity) - severityRank(a.severity) || b.score - a.score || (a.column < b.column ? -1 : a.column > b.column ? 1 : 0);
}

/** What the comparison leaves out: the spec's `monitoring.ignore`. */
export interface CompareOptions {
  /** Columns left out on both sides (a reference may hold columns a run does not profile). */
  ignore?: readonly string[];
}

/**
 * Column set differences between a reference and a current profile set. Ignored columns
 * are left out on both sides: a training-data reference profiles every column (`id`
 * included), the run none it ignores. A prediction column is compared only with a reference
 * that has prediction columns: one made from training data has none, so there is nothing
 * to compare the run's predictions with (no change). A reference that has predictions (a
 * baseline run) still reports one missing or added.
 */
export function schemaChanges(reference: ProfileSet, current: ProfileSet, options: CompareOptions = {}): SchemaChange[] {
  const ignore = new Set(options.ignore ?? []);
  const refCols = reference.columns.filter((c) => !ignore.has(c.name));
  const curCols = current.columns.filter((c) => !ignore.has(c.name));
  const cur = new Map(curCols.map((c) => [c.name, c]));
  const ref = new Map(refCols.map((c) => [c.name, c]));
  const refHasPredictions = refCols.some((c) => c.role === 'prediction');
  const out: SchemaChange[] = [];
  for (const r of refCols) {
    const c = cur.get(r.name);
    if (!c) out.push({ column: r.name, change: 'missing', reference: r.type, current: null, severity: 'alert' });
    else if (c.stats.kind !== r.stats.kind) out.push({ column: r.name, change: 'kind-changed', reference: r.type, current: c.type, severity: 'alert' });
    else if (c.type !== r.type) out.push({ column: r.name, change: 'type-changed', reference: r.type, current: c.type, severity: 'warn' });
  }
  for (const c of curCols) {
    if (ref.has(c.name)) continue;
    if (c.role === 'prediction' && !refHasPredictions) continue;
    out.push({ column: c.name, change: 'added', reference: null, current: c.type, severity: 'warn' });
  }
  return out;
}

/**
 * Figures of every column present on both sides with the same kind, most severe first.
 * Ignored columns are left out (`options.ignore`).
 */
export function compareSets(reference: ProfileSet, current: ProfileSet, spec: MonitoringSpec, options: CompareOptions = {}): ColumnDrift[] {
  const ignore = new Set(options.ignore ?? []);
  const ref = new Map(reference.columns.map((c) => [c.name, c]));
  const out: ColumnDrift[] = [];
  for (const c of current.columns) {
    if (ignore.has(c.name)) continue;
    const r = ref.get(c.name);
    if (r && r.stats.kind === c.stats.kind) out.push(compareColumn(r, c, spec));
  }
  return out.sort(bySeverity);
}

/**
 * Compare a run's profile with its reference: whole data, schema, and each slice of the
 * current profile (against the reference's slice of the same value when the reference is
 * sliced by the same column, else against the whole reference).
 */
export function compareProfiles(reference: DatasetProfile, current: DatasetProfile, spec: MonitoringSpec): DriftReport {
  // The spec's ignore list applies to both profiles: the current one was built without
  // those columns, but the reference (training data, an older baseline) may have them.
  const options: CompareOptions = { ignore: spec.ignore };
  const columns = compareSets(reference.overall, current.overall, spec, options);
  const schema = schemaChanges(reference.overall, current.overall, options);
  const slices: SliceDrift[] = current.slices.map((s) => {
    const refSlice = reference.sliceBy === current.sliceBy ? reference.slices.find((r) => r.value === s.value) : undefined;
    const cols = compareSets(refSlice?.profile ?? reference.overall, s.profile, spec, options);
    return {
      value: s.value,
      rows: s.profile.rows,
      baseline: refSlice ? 'slice' : 'overall',
      status: worst(...cols.map((c) => c.severity)),
      columns: cols,
    };
  });
  slices.sort((a, b) => severityRank(b.status) - severityRank(a.status) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const status = worst(...columns.map((c) => c.severity), ...schema.map((s) => s.severity), ...slices.map((s) => s.status));
  return { status, columns, schema, sliceBy: current.sliceBy, slices };
}
