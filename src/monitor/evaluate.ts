/**
 * Quality of binary-classifier scores once the ground truth arrives (days after scoring):
 * ROC AUC, log loss, Brier score and a reliability (calibration) table, overall and per
 * slice. Inputs are whole columns of the joined scores and labels; rows whose score is NaN
 * or whose label is still unknown (null, undefined, NaN) are skipped and counted.
 */
import { NULL_SLICE } from './profile-set.js';

/** Probability clipping of log loss: one row's loss is at most −ln(1e-15) ≈ 34.5. */
export const LOG_LOSS_EPSILON = 1e-15;

/** One reliability bin: scores in [lo, hi) (the last bin includes 1). */
export interface CalibrationBin {
  lo: number;
  hi: number;
  count: number;
  /** Mean score of the bin; null when empty. */
  meanScore: number | null;
  /** Share of positives in the bin; null when empty. */
  observedRate: number | null;
}

/** Metrics of one set of rows. Null where undefined (no rows, or one class only for AUC). */
export interface Evaluation {
  /** Rows evaluated. */
  rows: number;
  positives: number;
  /** Rows skipped for a NaN score or an unknown label. */
  skipped: number;
  auc: number | null;
  logLoss: number | null;
  brier: number | null;
  /** Expected calibration error: Σ bin share × |mean score − observed rate|. */
  ece: number | null;
  calibration: CalibrationBin[];
}

/** Overall metrics and one set per slice value (sorted by value). */
export interface EvaluationResult {
  overall: Evaluation;
  slices: Array<{ value: string; evaluation: Evaluation }>;
}

/** Input columns, row-aligned. */
export interface EvaluationInput {
  /** Predicted probability of the positive class. */
  scores: ArrayLike<number>;
  /** 1/true positive, 0/false negative; null, undefined or NaN = not known yet. */
  labels: ArrayLike<number | boolean | null | undefined>;
  /** Segment value per row, for per-slice metrics; null rows go to the `(null)` slice. */
  slices?: ArrayLike<string | null | undefined>;
}

/**
 * ROC AUC by the rank statistic (Mann–Whitney U / (n⁺·n⁻)), tied scores given their average
 * rank (a tie between a positive and a negative counts ½). NaN without both classes.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0, rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const avgRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] === 1) { pos++; rankSum += avgRank; }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * Mean negative log-likelihood. The probability given to the true class is clipped to at
 * least ε (clipping it rather than the score keeps 1 − p exact near 1). NaN for no rows.
 */
export function logLoss(scores: ArrayLike<number>, labels: ArrayLike<number>, epsilon = LOG_LOSS_EPSILON): number {
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = labels[i] === 1 ? scores[i]! : 1 - scores[i]!;
    sum -= Math.log(Math.max(epsilon, p));
  }
  return sum / scores.length;
}

/** Mean squared difference between score and label. NaN for no rows. */
export function brierScore(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < scores.length; i++) sum += (scores[i]! - labels[i]!) ** 2;
  return sum / scores.length;
}

/** Reliability table on `bins` equal-width score bins over [0, 1], and its ECE. */
export function calibrationTable(scores: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): { bins: CalibrationBin[]; ece: number } {
  const count = new Float64Array(bins), scoreSum = new Float64Array(bins), posSum = new Float64Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const b = Math.min(bins - 1, Math.floor(scores[i]! * bins));
    count[b]!++;
    scoreSum[b]! += scores[i]!;
    posSum[b]! += labels[i]!;
  }
  let ece = 0;
  const table = Array.from(count, (n, b): CalibrationBin => {
    const meanScore = n > 0 ? scoreSum[b]! / n : null;
    const observedRate = n > 0 ? posSum[b]! / n : null;
    if (n > 0) ece += (n / scores.length) * Math.abs(meanScore! - observedRate!);
    return { lo: b / bins, hi: (b + 1) / bins, count: n, meanScore, observedRate };
  });
  return { bins: table, ece: scores.length > 0 ? ece : NaN };
}

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

function evaluateRows(scores: Float64Array, labels: Uint8Array, skipped: number, bins: number): Evaluation {
  const cal = calibrationTable(scores, labels, bins);
  return {
    rows: scores.length,
    positives: labels.reduce((s, y) => s + y, 0),
    skipped,
    auc: orNull(auc(scores, labels)),
    logLoss: orNull(logLoss(scores, labels)),
    brier: orNull(brierScore(scores, labels)),
    ece: orNull(cal.ece),
    calibration: cal.bins,
  };
}

/**
 * Metrics overall and per slice.
 * @throws Error when a label is not 0/1/true/false/unknown or a score is outside [0, 1]
 */
export function evaluate(input: EvaluationInput, options: { bins?: number } = {}): EvaluationResult {
  const { scores, labels, slices } = input;
  const bins = options.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`evaluate: bins must be a positive integer, got ${JSON.stringify(bins)}`);
  if (labels.length !== scores.length || (slices && slices.length !== scores.length)) {
    throw new Error(`evaluate: columns differ in length: scores ${scores.length}, labels ${labels.length}${slices ? `, slices ${slices.length}` : ''}`);
  }
  const keep: number[] = [];
  const y = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!, l = labels[i];
    if (Number.isNaN(s) || l === null || l === undefined || Number.isNaN(l)) continue;
    if (l !== 0 && l !== 1 && l !== true && l !== false) throw new Error(`evaluate: label at row ${i} is ${JSON.stringify(l)}, expected 0 or 1`);
    if (!(s >= 0 && s <= 1)) throw new Error(`evaluate: score at row ${i} is ${String(s)}, expected a probability in [0, 1]`);
    y[i] = l === 1 || l === true ? 1 : 0;
    keep.push(i);
  }
  const pick = (rows: readonly number[]) => [Float64Array.from(rows, (i) => scores[i]!), Uint8Array.from(rows, (i) => y[i]!)] as const;
  const [s, l] = pick(keep);
  const overall = evaluateRows(s, l, scores.length - keep.length, bins);
  if (!slices) return { overall, slices: [] };
  const groups = new Map<string, number[]>();
  const skippedBy = new Map<string, number>();
  const kept = new Uint8Array(scores.length);
  for (const i of keep) kept[i] = 1;
  for (let i = 0; i < scores.length; i++) {
    const value = slices[i] ?? NULL_SLICE;
    if (!groups.has(value)) groups.set(value, []);
    if (kept[i]) groups.get(value)!.push(i);
    else skippedBy.set(value, (skippedBy.get(value) ?? 0) + 1);
  }
  const out = [...groups].map(([value, rows]) => {
    const [gs, gl] = pick(rows);
    return { value, evaluation: evaluateRows(gs, gl, skippedBy.get(value) ?? 0, bins) };
  });
  out.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return { overall, slices: out };
}
