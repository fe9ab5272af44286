/**
 * Distances between two distributions given as counts over the same bins. Pure arithmetic:
 * drift.ts decides the bins, tests feed raw-sample counts to check it.
 */

/**
 * Share floor used by PSI. PSI has ln(p/q), infinite when a bin is empty on one side, so
 * every share below EPSILON is raised to EPSILON and the shares renormalised to sum to 1. A
 * bin empty in the reference and holding a share s now contributes about s·ln(s/1e-4)
 * (0.69 for s = 0.1) instead of infinity: large enough to alert, finite enough to rank.
 */
export const PSI_EPSILON = 1e-4;

function total(counts: readonly number[]): number {
  let n = 0;
  for (const c of counts) n += c;
  return n;
}

function checkBins(reference: readonly number[], current: readonly number[]): void {
  if (reference.length !== current.length) {
    throw new Error(`monitor: bin counts differ in length: reference ${reference.length}, current ${current.length}`);
  }
}

/** Shares of `counts`, each at least `epsilon`, renormalised to sum to 1. */
export function smoothedShares(counts: readonly number[], epsilon = PSI_EPSILON): number[] {
  const n = total(counts);
  const raised = counts.map((c) => Math.max(c / n, epsilon));
  const sum = total(raised);
  return raised.map((s) => s / sum);
}

/**
 * Population stability index Σ (c − r)·ln(c / r) over the bins, on smoothed shares (see
 * PSI_EPSILON). 0 for identical distributions; NaN when either side is empty.
 */
export function psi(reference: readonly number[], current: readonly number[], epsilon = PSI_EPSILON): number {
  checkBins(reference, current);
  if (total(reference) === 0 || total(current) === 0) return NaN;
  const r = smoothedShares(reference, epsilon);
  const c = smoothedShares(current, epsilon);
  let out = 0;
  for (let i = 0; i < r.length; i++) out += (c[i]! - r[i]!) * Math.log(c[i]! / r[i]!);
  return out;
}

/**
 * Jensen–Shannon distance, base 2: sqrt of the JS divergence, in [0, 1] (1 = disjoint
 * support). No smoothing is needed: the mixture is positive wherever either share is, and
 * 0·log 0 counts as 0. NaN when either side is empty.
 */
export function jensenShannonDistance(reference: readonly number[], current: readonly number[]): number {
  checkBins(reference, current);
  const nr = total(reference), nc = total(current);
  if (nr === 0 || nc === 0) return NaN;
  let div = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = reference[i]! / nr, q = current[i]! / nc, m = (p + q) / 2;
    if (p > 0) div += 0.5 * p * Math.log2(p / m);
    if (q > 0) div += 0.5 * q * Math.log2(q / m);
  }
  // Rounding can leave a tiny negative divergence for identical inputs.
  return Math.sqrt(Math.min(1, Math.max(0, div)));
}

/**
 * Kolmogorov–Smirnov statistic of two binned samples over ordered bins: the largest gap
 * between the cumulative shares at the bin edges. NaN when either side is empty.
 */
export function ksFromCounts(reference: readonly number[], current: readonly number[]): number {
  checkBins(reference, current);
  const nr = total(reference), nc = total(current);
  if (nr === 0 || nc === 0) return NaN;
  let cr = 0, cc = 0, gap = 0;
  for (let i = 0; i < reference.length; i++) {
    cr += reference[i]!;
    cc += current[i]!;
    gap = Math.max(gap, Math.abs(cr / nr - cc / nc));
  }
  return gap;
}
