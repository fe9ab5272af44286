/**
 * The data of a run report: summary, partitions, drift, evaluation and the histograms to
 * draw. Plain JSON, so the report can be stored next to the run and re-rendered;
 * report-html.ts turns it into HTML. `histogramPanels` picks the panels from the profiles.
 */
import { topK } from './category-profile.js';
import type { DriftReport } from './drift.js';
import type { EvaluationResult } from './evaluate.js';
import type { RunStatus } from './metrics.js';
import { displayHistogram } from './numeric-bins.js';
import type { ColumnRole, DatasetProfile } from './profile-set.js';
import type { Severity } from './thresholds.js';

/** One partition of the run. */
export interface PartitionRow {
  partition: string;
  /** e.g. `published`, `failed`, `skipped`. */
  outcome: string;
  files: number;
  rows: number;
  seconds: number;
  error?: string | null;
}

/** One bar pair of a histogram: shares of the reference and the current data. */
export interface HistogramBin {
  label: string;
  reference: number;
  current: number;
}

/** A reference-vs-current histogram of one column. */
export interface HistogramPanel {
  column: string;
  role: ColumnRole;
  kind: 'numeric' | 'category';
  severity: Severity;
  bins: HistogramBin[];
}

/** Everything the HTML report shows. */
export interface RunReport {
  title: string;
  job: string;
  runId: string;
  status: RunStatus;
  /** ISO 8601 times. */
  startedAt: string;
  finishedAt: string;
  model: { uri: string; sha256: string } | null;
  /** Where the reference profile came from; null when the run was not compared. */
  reference: string | null;
  rows: number;
  seconds: number;
  partitions: PartitionRow[];
  drift: DriftReport | null;
  histograms: HistogramPanel[];
  evaluation?: EvaluationResult | null;
}

/** Compact number for labels: 4 significant digits, exponent form when very large/small. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

function categoryBins(ref: DatasetProfile['overall']['columns'][number]['stats'], cur: typeof ref, k: number): HistogramBin[] {
  if (ref.kind !== 'category' || cur.kind !== 'category') return [];
  const nr = ref.count - ref.nulls, nc = cur.count - cur.nulls;
  const rc = new Map(ref.values), cc = new Map(cur.values);
  const labels = [...new Set([...topK(ref, k).map(([v]) => v), ...topK(cur, k).map(([v]) => v)])].slice(0, k);
  const bins = labels.map((label) => ({ label, reference: (rc.get(label) ?? 0) / (nr || 1), current: (cc.get(label) ?? 0) / (nc || 1) }));
  const restR = 1 - bins.reduce((s, b) => s + b.reference, 0), restC = 1 - bins.reduce((s, b) => s + b.current, 0);
  if (restR > 1e-12 || restC > 1e-12) bins.push({ label: '(other)', reference: Math.max(0, restR), current: Math.max(0, restC) });
  return bins;
}

/**
 * Histogram panels for the `topFeatures` most drifted non-prediction columns (in drift
 * order) and for every prediction column (at most `maxPredictions`).
 */
export function histogramPanels(
  reference: DatasetProfile,
  current: DatasetProfile,
  drift: DriftReport,
  options: { topFeatures?: number; maxPredictions?: number; bins?: number } = {},
): HistogramPanel[] {
  const { topFeatures = 6, maxPredictions = 4, bins = 24 } = options;
  const ref = new Map(reference.overall.columns.map((c) => [c.name, c]));
  const cur = new Map(current.overall.columns.map((c) => [c.name, c]));
  const chosen = [
    ...drift.columns.filter((c) => c.role !== 'prediction').slice(0, topFeatures),
    ...drift.columns.filter((c) => c.role === 'prediction').slice(0, maxPredictions),
  ];
  const panels: HistogramPanel[] = [];
  for (const d of chosen) {
    const r = ref.get(d.column)?.stats, c = cur.get(d.column)?.stats;
    if (!r || !c) continue;
    let out: HistogramBin[] = [];
    if (r.kind === 'numeric' && c.kind === 'numeric') {
      const h = displayHistogram(r, c, bins);
      if (h) {
        out = h.reference.map((share, i) => ({
          label: `${formatNumber(h.edges[i]!)} – ${formatNumber(h.edges[i + 1]!)}`,
          reference: share,
          current: h.current[i]!,
        }));
      }
    } else {
      out = categoryBins(r, c, 12);
    }
    if (out.length > 0) panels.push({ column: d.column, role: d.role, kind: d.kind, severity: d.severity, bins: out });
  }
  return panels;
}
