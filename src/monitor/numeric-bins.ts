/**
 * Exact bin counts from numeric profiles. Drift compares a reference and a current profile
 * on coarse bins (deciles of the reference for PSI/JS, display bins for the report). Each
 * bin edge is snapped to an edge of one of the fine grids that BOTH profiles count exactly
 * (the log grid is shared by construction; on the linear grid, the coarser of the two
 * levels), so every bin count is exact, not interpolated: drift figures computed from two
 * profiles equal those computed from the raw values with the same edges.
 */
import {
  countBelowKey,
  coarsen,
  linearKey,
  linearWidth,
  logKey,
  logLowerEdge,
  logUpperEdge,
  type DenseCounts,
} from './grid.js';
import { finiteCount, quantile, quantileBounds, type NumericProfile } from './numeric-profile.js';

/** A bin edge on one of the fine grids; `value` is its position (bins are [lower, upper)). */
export type BinEdge =
  | { grid: 'log'; key: number; value: number }
  | { grid: 'linear'; level: number; key: number; value: number };

/** The linear level both profiles count exactly: the coarser of the two. */
export function commonLevel(a: NumericProfile, b: NumericProfile): number {
  if (finiteCount(a) === 0) return b.linear.level;
  if (finiteCount(b) === 0) return a.linear.level;
  return Math.max(a.linear.level, b.linear.level);
}

/**
 * The grid edge just above `v`: the upper edge of whichever bucket holding `v` is narrower,
 * the log bucket or the linear bucket at `level`.
 */
export function edgeAbove(v: number, level: number): BinEdge {
  const lk = logKey(v);
  const logHi = logUpperEdge(lk);
  const w = linearWidth(level);
  const key = linearKey(v, level) + 1;
  if (logHi - logLowerEdge(lk) < w) return { grid: 'log', key: lk + 1, value: logHi };
  return { grid: 'linear', level, key, value: key * w };
}

/** Exact number of finite values of `p` below `edge.value`. */
export function countBelowEdge(p: NumericProfile, edge: BinEdge): number {
  if (finiteCount(p) === 0) return 0;
  if (edge.grid === 'log') return countBelowKey(p.log, edge.key);
  const shift = edge.level - p.linear.level;
  if (shift < 0) {
    throw new Error(`monitor: linear edge at level ${edge.level} is finer than the profile's level ${p.linear.level}`);
  }
  return countBelowKey(p.linear, edge.key * 2 ** shift);
}

/**
 * Interior edges of `bins` bins holding about equal shares of the reference (its quantiles
 * i/bins, snapped up to a grid edge both profiles count exactly). Edges above the reference
 * max are dropped (they would leave an empty reference bin), and so are duplicates, so a
 * column with few distinct values gets fewer bins.
 */
export function quantileEdges(reference: NumericProfile, current: NumericProfile, bins: number): BinEdge[] {
  const edges: BinEdge[] = [];
  if (finiteCount(reference) === 0 || reference.max === null) return edges;
  const level = commonLevel(reference, current);
  for (let i = 1; i < bins; i++) {
    const edge = edgeAbove(quantileBounds(reference, i / bins).value, level);
    if (edge.value > reference.max) continue;
    const last = edges[edges.length - 1];
    if (last && edge.value <= last.value) continue;
    edges.push(edge);
  }
  return edges;
}

/**
 * Counts of finite values in the bins (−∞, e0), [e0, e1), …, [e_last, +∞): one more count
 * than edges.
 */
export function binCounts(p: NumericProfile, edges: readonly BinEdge[]): number[] {
  const out: number[] = [];
  let below = 0;
  for (const edge of edges) {
    const c = countBelowEdge(p, edge);
    out.push(c - below);
    below = c;
  }
  out.push(finiteCount(p) - below);
  return out;
}

function maxCdfGap(a: DenseCounts, na: number, b: DenseCounts, nb: number): number {
  if (a.counts.length === 0 || b.counts.length === 0) return 0;
  const lo = Math.min(a.offset, b.offset);
  const hi = Math.max(a.offset + a.counts.length, b.offset + b.counts.length);
  let ca = 0, cb = 0, gap = 0;
  for (let k = lo; k < hi; k++) {
    ca += a.counts[k - a.offset] ?? 0;
    cb += b.counts[k - b.offset] ?? 0;
    gap = Math.max(gap, Math.abs(ca / na - cb / nb));
  }
  return gap;
}

/**
 * Two-sample Kolmogorov–Smirnov statistic of the finite values: the largest gap between the
 * two empirical CDFs over every edge of both fine grids (the exact KS statistic of the
 * values rounded to the grids; it can miss at most the mass of one fine bucket). NaN when
 * either side has no finite values.
 */
export function ksStatistic(a: NumericProfile, b: NumericProfile): number {
  const na = finiteCount(a), nb = finiteCount(b);
  if (na === 0 || nb === 0) return NaN;
  const level = commonLevel(a, b);
  const la = coarsen(a.linear, level - a.linear.level);
  const lb = coarsen(b.linear, level - b.linear.level);
  return Math.max(maxCdfGap(a.log, na, b.log, nb), maxCdfGap(la, na, lb, nb));
}

function surelyBelow(p: NumericProfile, x: number): number {
  if (p.min === null || p.max === null || p.min >= x) return 0;
  if (p.max < x) return finiteCount(p);
  return Math.max(countBelowKey(p.log, logKey(x)), countBelowKey(p.linear, linearKey(x, p.linear.level)));
}

function surelyAbove(p: NumericProfile, x: number): number {
  if (p.min === null || p.max === null || p.max <= x) return 0;
  if (p.min > x) return finiteCount(p);
  const n = finiteCount(p);
  return Math.max(n - countBelowKey(p.log, logKey(x) + 1), n - countBelowKey(p.linear, linearKey(x, p.linear.level) + 1));
}

/**
 * Fraction of the current non-null, non-NaN values outside the reference's [min, max]: the
 * finite values certainly below or above it (values in the same fine bucket as a bound are
 * given the benefit of the doubt, so this never over-reports) plus ±Infinity values where
 * the reference had none. NaN when the reference has no finite values or current has none.
 */
export function outOfRangeFraction(reference: NumericProfile, current: NumericProfile): number {
  const n = finiteCount(current) + current.posInf + current.negInf;
  if (reference.min === null || reference.max === null || n === 0) return NaN;
  let out = surelyBelow(current, reference.min) + surelyAbove(current, reference.max);
  if (reference.posInf === 0) out += current.posInf;
  if (reference.negInf === 0) out += current.negInf;
  return out / n;
}

/** Reference vs current shares in display bins, for a histogram chart. */
export interface DisplayHistogram {
  /** Bin boundaries, one more than bins; the first and last bins also hold the tails. */
  edges: number[];
  /** Share of the reference's finite values per bin. */
  reference: number[];
  /** Share of the current finite values per bin. */
  current: number[];
}

/**
 * About `bins` equal-width bins over the central 99.8% of both profiles together, edges
 * snapped to shared grid edges so the shares are exact. Null when either side has no
 * finite values.
 */
export function displayHistogram(reference: NumericProfile, current: NumericProfile, bins = 24): DisplayHistogram | null {
  const nr = finiteCount(reference), nc = finiteCount(current);
  if (nr === 0 || nc === 0) return null;
  const lo = Math.min(quantile(reference, 0.001), quantile(current, 0.001));
  const hi = Math.max(quantile(reference, 0.999), quantile(current, 0.999));
  const level = commonLevel(reference, current);
  const min = Math.min(reference.min!, current.min!), max = Math.max(reference.max!, current.max!);
  const edges: BinEdge[] = [];
  for (let i = 1; i < bins && hi > lo; i++) {
    const edge = edgeAbove(lo + ((hi - lo) * i) / bins, level);
    const last = edges[edges.length - 1];
    if (edge.value > min && edge.value <= max && (!last || edge.value > last.value)) edges.push(edge);
  }
  const share = (counts: number[], n: number) => counts.map((c) => c / n);
  return {
    edges: [min, ...edges.map((e) => e.value), max],
    reference: share(binCounts(reference, edges), nr),
    current: share(binCounts(current, edges), nc),
  };
}
