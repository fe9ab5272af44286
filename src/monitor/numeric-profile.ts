/**
 * Streaming profile of one numeric column: counts of nulls, NaN and ±Infinity, exact min and
 * max, mean and M2 (sum of squared deviations, for the variance) and the two fixed-grid
 * histograms of grid.ts, which double as a mergeable quantile sketch. A profile is plain
 * JSON: it crosses thread boundaries and is stored as the run profile or a reference.
 *
 * Merging is exact for every count and both histograms (integer sums on shared edges) and
 * for min/max; mean and M2 combine with Chan et al.'s parallel formula, equal to a single
 * pass up to floating-point rounding (~1e-15 relative).
 */
import type { ColumnChunk } from '../scoring/columns.js';
import {
  addCounts,
  coarsen,
  emptyCounts,
  ensureRange,
  keyOfRank,
  linearKey,
  linearLevel,
  linearWidth,
  logKey,
  logLowerEdge,
  logUpperEdge,
  LINEAR_MIN_LEVEL,
  type DenseCounts,
} from './grid.js';

/** Profile of a numeric column. Non-finite values are counted but kept out of the statistics. */
export interface NumericProfile {
  kind: 'numeric';
  /** Rows seen, nulls included. */
  count: number;
  nulls: number;
  nan: number;
  posInf: number;
  negInf: number;
  /** Smallest finite value; null until one is seen (JSON has no Infinity). */
  min: number | null;
  max: number | null;
  /** Mean of the finite values. */
  mean: number;
  /** Sum of squared deviations from the mean of the finite values (Welford's M2). */
  m2: number;
  /** Finite values on the log grid. */
  log: DenseCounts;
  /** Finite values on the dyadic linear grid at `linear.level`. */
  linear: DenseCounts & { level: number };
}

/** A profile of no rows. */
export function emptyNumeric(): NumericProfile {
  return {
    kind: 'numeric', count: 0, nulls: 0, nan: 0, posInf: 0, negInf: 0, min: null, max: null,
    mean: 0, m2: 0, log: emptyCounts(), linear: { ...emptyCounts(), level: LINEAR_MIN_LEVEL },
  };
}

/** Number of finite values (the population of mean, std, histograms and quantiles). */
export function finiteCount(p: NumericProfile): number {
  return p.count - p.nulls - p.nan - p.posInf - p.negInf;
}

/** Population variance of the finite values; NaN when there are none. */
export function variance(p: NumericProfile): number {
  const n = finiteCount(p);
  return n > 0 ? p.m2 / n : NaN;
}

/** Population standard deviation of the finite values; NaN when there are none. */
export function stddev(p: NumericProfile): number {
  return Math.sqrt(variance(p));
}

// Chan, Golub & LeVeque: combine (n, mean, M2) of two disjoint sets.
function combineMoments(na: number, ma: number, m2a: number, nb: number, mb: number, m2b: number): [number, number] {
  const n = na + nb;
  if (n === 0) return [0, 0];
  if (na === 0) return [mb, m2b];
  if (nb === 0) return [ma, m2a];
  const delta = mb - ma;
  return [ma + (delta * nb) / n, m2a + m2b + (delta * delta * na * nb) / n];
}

/**
 * Add the rows of one chunk to `profile`, in place. Reads the typed array and validity
 * bitmap directly. With `rows`, only those row indices of the chunk are added (the rows of
 * one slice); they must be in [0, chunk.length).
 */
export function updateNumeric(profile: NumericProfile, chunk: ColumnChunk, rows?: Int32Array): void {
  const values: ArrayLike<number> =
    chunk.values instanceof BigInt64Array || chunk.values instanceof BigUint64Array
      ? Float64Array.from(chunk.values, Number) // int64 rarely holds values a double cannot
      : chunk.values;
  const bitmap = chunk.nullCount !== 0 && chunk.nullBitmap && chunk.nullBitmap.length > 0 ? chunk.nullBitmap : null;
  const off = chunk.offset;
  const total = rows ? rows.length : chunk.length;
  // Pass 1: classify, copy the finite values into a dense scratch array (so pass 2 is one
  // monomorphic loop), and find their min/max/sum, so both grids can be sized once.
  const finite = scratchOf(total);
  let nulls = 0, nan = 0, posInf = 0, negInf = 0, n = 0, sum = 0;
  let mn = Infinity, mx = -Infinity;
  for (let r = 0; r < total; r++) {
    const i = rows ? rows[r]! : r;
    if (bitmap !== null && ((bitmap[(off + i) >> 3]! >> ((off + i) & 7)) & 1) === 0) { nulls++; continue; }
    const x = values[i]!;
    if (x - x === 0) {
      finite[n++] = x;
      sum += x;
      if (x < mn) mn = x;
      if (x > mx) mx = x;
    } else if (x !== x) nan++;
    else if (x > 0) posInf++;
    else negInf++;
  }
  profile.count += total;
  profile.nulls += nulls;
  profile.nan += nan;
  profile.posInf += posInf;
  profile.negInf += negInf;
  if (n === 0) return;

  const min = profile.min === null ? mn : Math.min(profile.min, mn);
  const max = profile.max === null ? mx : Math.max(profile.max, mx);
  ensureRange(profile.log, logKey(min), logKey(max));
  const level = linearLevel(min, max);
  if (level !== profile.linear.level) {
    profile.linear = { ...coarsen(profile.linear, level - profile.linear.level), level };
  }
  ensureRange(profile.linear, linearKey(min, level), linearKey(max, level));
  profile.min = min;
  profile.max = max;

  // Pass 2: corrected two-pass moments of the chunk, and the histogram counts.
  const logCounts = profile.log.counts, logOff = profile.log.offset;
  const linCounts = profile.linear.counts, linOff = profile.linear.offset;
  const scale = 2 ** -level;
  // Any pivot near the mean works for the corrected two-pass formula; the midrange one
  // only matters when the sum overflowed.
  const pivot = Number.isFinite(sum) ? sum / n : mn / 2 + mx / 2;
  let dev = 0, dev2 = 0;
  for (let i = 0; i < n; i++) {
    const x = finite[i]!;
    const d = x - pivot;
    dev += d;
    dev2 += d * d;
    logCounts[logKey(x) - logOff]!++;
    linCounts[Math.floor(x * scale) - linOff]!++;
  }
  const [mean, m2] = combineMoments(
    finiteCount(profile) - n, profile.mean, profile.m2,
    n, pivot + dev / n, dev2 - (dev * dev) / n,
  );
  profile.mean = mean;
  profile.m2 = m2;
}

// Reused across calls: a thread profiles one chunk at a time.
let scratch = new Float64Array(0);
function scratchOf(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  return scratch;
}

/** Merge two profiles of disjoint rows into a new one (neither argument is changed). */
export function mergeNumeric(a: NumericProfile, b: NumericProfile): NumericProfile {
  const na = finiteCount(a), nb = finiteCount(b);
  const [mean, m2] = combineMoments(na, a.mean, a.m2, nb, b.mean, b.m2);
  const min = a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min);
  const max = a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max);
  let linear = { ...emptyCounts(), level: LINEAR_MIN_LEVEL };
  if (min !== null && max !== null) {
    const level = linearLevel(min, max);
    const la = na > 0 ? coarsen(a.linear, level - a.linear.level) : emptyCounts();
    const lb = nb > 0 ? coarsen(b.linear, level - b.linear.level) : emptyCounts();
    linear = { ...addCounts(la, lb), level };
  }
  return {
    kind: 'numeric',
    count: a.count + b.count,
    nulls: a.nulls + b.nulls,
    nan: a.nan + b.nan,
    posInf: a.posInf + b.posInf,
    negInf: a.negInf + b.negInf,
    min,
    max,
    mean,
    m2,
    log: addCounts(a.log, b.log),
    linear,
  };
}

/** A quantile estimate and an interval [lo, hi] that certainly holds the true quantile. */
export interface QuantileEstimate {
  value: number;
  lo: number;
  hi: number;
}

function checkQ(q: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`monitor: quantile must be in [0, 1], got ${JSON.stringify(q)}`);
}

/**
 * The q-quantile of the finite values, defined as the value of rank ceil(q·n) (1-based, at
 * least 1): the lower empirical quantile. Both grids locate that rank exactly; the true
 * value lies in the intersection of the two buckets (and [min, max]), and the estimate is
 * its midpoint. Error: at most half that interval, so ≤ |x|/64 ≈ 1.6% of the value
 * (log grid; plus 2^-30 near 0) and ≤ half a linear bucket, under (max − min)/500. q = 0 and q = 1
 * give the exact min and max. NaN bounds when there are no finite values.
 */
export function quantileBounds(profile: NumericProfile, q: number): QuantileEstimate {
  checkQ(q);
  const n = finiteCount(profile);
  if (n === 0 || profile.min === null || profile.max === null) return { value: NaN, lo: NaN, hi: NaN };
  const k = Math.max(1, Math.ceil(q * n));
  if (k === 1) return { value: profile.min, lo: profile.min, hi: profile.min };
  if (k === n) return { value: profile.max, lo: profile.max, hi: profile.max };
  const logK = keyOfRank(profile.log, k)!;
  const linK = keyOfRank(profile.linear, k)!;
  const w = linearWidth(profile.linear.level);
  const lo = Math.max(profile.min, logLowerEdge(logK), linK * w);
  const hi = Math.min(profile.max, logUpperEdge(logK), (linK + 1) * w);
  return { value: lo + (hi - lo) / 2, lo, hi };
}

/** The q-quantile estimate of `quantileBounds`; NaN when there are no finite values. */
export function quantile(profile: NumericProfile, q: number): number {
  return quantileBounds(profile, q).value;
}
