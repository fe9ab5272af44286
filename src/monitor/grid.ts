/**
 * The two fixed bucket grids a numeric profile counts values on, and the dense count store
 * both use. Both grids are chosen so that profiles of different partitions (and of a
 * reference made elsewhere) always share edges, which is what makes merging exact:
 *
 * - The log grid is data-independent and log-linear (as in HDR histograms): each power of
 *   two [2^e, 2^(e+1)) is cut into 32 equal buckets, mirrored for negative values, with a
 *   zero bucket for magnitudes below 2^-30. A bucket is at most 1/32 of its values wide, so
 *   its midpoint is within 1/64 (1.6%) of every value in it. The key comes from the bits of
 *   the double (exponent and top 5 mantissa bits): no logarithm, and every edge is an exact
 *   double. It resolves heavy-tailed data (amounts, counts, probabilities near 0) but not
 *   values with a large offset and a small spread (years, latitudes, timestamps).
 * - The linear grid is dyadic: width 2^level, edges at multiples of the width. The level is a
 *   pure function of the column's min and max (the finest one whose span fits the cap), and
 *   a coarser dyadic grid's edges are a subset of a finer one's, so any two linear grids
 *   merge exactly by coarsening the finer one. It resolves offset data to 1/1024–1/512 of
 *   the range, but an outlier coarsens it for everyone.
 *
 * Every bucket is [lower, upper) and every count is exact on its own grid, so the number of
 * values below any edge of either grid is exact.
 */

/** Log buckets per power of two. */
export const LOG_SUB_BUCKETS = 32;
/** Largest error of a log bucket's midpoint, relative to any value in the bucket. */
export const LOG_RELATIVE_ERROR = 1 / (2 * LOG_SUB_BUCKETS);
const MIN_EXP = -30;
const MAX_EXP = 40;
/** Magnitudes below this (2^-30 ≈ 9.3e-10) share the zero bucket [-M0, M0). */
export const LOG_MIN_MAGNITUDE = 2 ** MIN_EXP;
/**
 * Log buckets per sign: magnitudes below 2^40 ≈ 1.1e12 get their own bucket; larger ones
 * share the last bucket (quantiles stay correct through the exact min and max).
 */
export const LOG_BUCKETS_PER_SIGN = (MAX_EXP - MIN_EXP) * LOG_SUB_BUCKETS;
/** Most linear buckets a profile keeps; the level coarsens until [min, max] fits. */
export const LINEAR_MAX_SPAN = 1024;
/** Finest linear level (bucket width 2^-64). */
export const LINEAR_MIN_LEVEL = -64;
// Keys stay below 2^50 in magnitude, so they are exact integers in a double.
const LINEAR_KEY_BITS = 50;

const M0 = LOG_MIN_MAGNITUDE;
const L = LOG_BUCKETS_PER_SIGN;
const SUB_SHIFT = 20 - Math.log2(LOG_SUB_BUCKETS); // top mantissa bits of the high word
const LOW_MASK = (1 << SUB_SHIFT) - 1;

/**
 * Counts of consecutive integer bucket keys: `counts[i]` counts key `offset + i`. Plain
 * JSON. A profile's store covers exactly the keys of its min and max, so two profiles of
 * the same values have identical stores.
 */
export interface DenseCounts {
  offset: number;
  counts: number[];
}

// The double's bits: the high 32-bit word holds sign, exponent and the top 20 mantissa bits.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

// Index (from 0 at 2^MIN_EXP) of the magnitude bucket [lb(i), lb(i+1)) holding m ≥ M0;
// with `below`, of the bucket (lb(i), lb(i+1)] instead (for the mirrored negative side).
function magnitudeIndex(m: number, below: boolean): number {
  f64[0] = m;
  const hi = u32[HI]!;
  let i = (((hi >>> 20) & 0x7ff) - 1023 - MIN_EXP) * LOG_SUB_BUCKETS + ((hi >>> SUB_SHIFT) & (LOG_SUB_BUCKETS - 1));
  if (below && (hi & LOW_MASK) === 0 && u32[1 - HI] === 0) i--; // m is exactly a bucket edge
  return i > L - 1 ? L - 1 : i;
}

// Lower edge of magnitude bucket i: 2^(MIN_EXP + ⌊i/32⌋)·(1 + (i mod 32)/32), exact.
function magnitudeEdge(i: number): number {
  return 2 ** (MIN_EXP + Math.floor(i / LOG_SUB_BUCKETS)) * (1 + (i % LOG_SUB_BUCKETS) / LOG_SUB_BUCKETS);
}

/**
 * Key of the log bucket holding finite `x`; keys grow with x. 0 is [-M0, M0); k > 0 is
 * magnitude bucket k−1; k < 0 is the mirror of magnitude bucket −k−1, taken as
 * [−upper, −lower) so that buckets are closed below on both sides. ±L are open-ended.
 */
export function logKey(x: number): number {
  if (x >= M0) return 1 + magnitudeIndex(x, false);
  if (x >= -M0) return 0;
  return -1 - magnitudeIndex(-x, true);
}

/** Lower edge of log bucket `key` (−Infinity for the open-ended lowest bucket). */
export function logLowerEdge(key: number): number {
  if (key > 0) return magnitudeEdge(key - 1);
  if (key === 0) return -M0;
  if (key <= -L) return -Infinity;
  return -magnitudeEdge(-key);
}

/** Upper edge of log bucket `key` (+Infinity for the open-ended highest bucket). */
export function logUpperEdge(key: number): number {
  return key >= L ? Infinity : logLowerEdge(key + 1);
}

/** Width of a linear bucket at `level`. */
export function linearWidth(level: number): number {
  return 2 ** level;
}

/** Key of the linear bucket [k·w, (k+1)·w) holding `x`. Multiplying by 2^-level is exact. */
export function linearKey(x: number, level: number): number {
  return Math.floor(x * 2 ** -level);
}

/**
 * The linear level of a column whose finite values span [min, max]: the finest level at
 * which the span fits LINEAR_MAX_SPAN keys and keys stay exact. A pure function of min and
 * max, so every merge order agrees on it.
 */
export function linearLevel(min: number, max: number): number {
  const maxAbs = Math.max(Math.abs(min), Math.abs(max));
  const range = max - min;
  // Both lower bounds are below the answer (span > range/w; keys need maxAbs < 2^(level+50)),
  // so scanning up from them finds the finest feasible level in a step or two.
  let level = LINEAR_MIN_LEVEL;
  if (range > 0) level = Math.max(level, Math.floor(Math.log2(range / LINEAR_MAX_SPAN)) - 1);
  if (maxAbs > 0) level = Math.max(level, Math.floor(Math.log2(maxAbs)) - LINEAR_KEY_BITS - 1);
  for (;;) {
    const span = linearKey(max, level) - linearKey(min, level) + 1;
    if (span <= LINEAR_MAX_SPAN && maxAbs < 2 ** (level + LINEAR_KEY_BITS)) return level;
    level++;
  }
}

/** An empty store. */
export function emptyCounts(): DenseCounts {
  return { offset: 0, counts: [] };
}

/** Total of a store. */
export function totalCount(store: DenseCounts): number {
  let n = 0;
  for (const c of store.counts) n += c;
  return n;
}

/** Grow `store` in place so it covers keys [lo, hi] (and whatever it covered before). */
export function ensureRange(store: DenseCounts, lo: number, hi: number): void {
  if (store.counts.length === 0) {
    store.offset = lo;
    store.counts = new Array<number>(hi - lo + 1).fill(0);
    return;
  }
  const curHi = store.offset + store.counts.length - 1;
  if (lo < store.offset) {
    store.counts = new Array<number>(store.offset - lo).fill(0).concat(store.counts);
    store.offset = lo;
  }
  if (hi > curHi) for (let k = curHi + 1; k <= hi; k++) store.counts.push(0);
}

/** A new store with every key k replaced by floor(k / 2^shift) (a coarser dyadic grid). */
export function coarsen(store: DenseCounts, shift: number): DenseCounts {
  if (shift === 0 || store.counts.length === 0) return { offset: store.offset, counts: store.counts.slice() };
  const div = 2 ** shift;
  const lo = Math.floor(store.offset / div);
  const hi = Math.floor((store.offset + store.counts.length - 1) / div);
  const counts = new Array<number>(hi - lo + 1).fill(0);
  store.counts.forEach((c, i) => {
    counts[Math.floor((store.offset + i) / div) - lo]! += c;
  });
  return { offset: lo, counts };
}

/** Key-wise sum of two stores on the same grid, as a new store. */
export function addCounts(a: DenseCounts, b: DenseCounts): DenseCounts {
  if (a.counts.length === 0) return { offset: b.offset, counts: b.counts.slice() };
  const out: DenseCounts = { offset: a.offset, counts: a.counts.slice() };
  if (b.counts.length === 0) return out;
  ensureRange(out, b.offset, b.offset + b.counts.length - 1);
  b.counts.forEach((c, i) => {
    out.counts[b.offset + i - out.offset]! += c;
  });
  return out;
}

/** Sum of the counts of keys below `key`. */
export function countBelowKey(store: DenseCounts, key: number): number {
  const end = Math.min(key - store.offset, store.counts.length);
  let n = 0;
  for (let i = 0; i < end; i++) n += store.counts[i]!;
  return n;
}

/**
 * The key holding the value of rank `k` (1-based, in ascending order), or null when the
 * store has fewer than k values.
 */
export function keyOfRank(store: DenseCounts, k: number): number | null {
  let seen = 0;
  for (let i = 0; i < store.counts.length; i++) {
    seen += store.counts[i]!;
    if (seen >= k) return store.offset + i;
  }
  return null;
}
