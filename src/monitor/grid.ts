/**
 * The two fixed bucket grids a numeric profile counts values on, and the dense count store
 * both use. Both grids are chosen so that profiles of different partitions (and of a
 * reference made elsewhere) always share edges, which is what makes merging exact:
 *
 * - The log grid is data-independent: bucket edges at ±M0·γ^k with γ = (1+α)/(1−α), so a
 *   bucket's midpoint is within α (1%) of every value in it, like DDSketch. It resolves
 *   heavy-tailed data (amounts, counts, probabilities near 0) but not values with a large
 *   offset and a small spread (years, latitudes), which all land in one or two buckets.
 * - The linear grid is dyadic: width 2^level, edges at multiples of the width. The level is a
 *   pure function of the column's min and max (the finest one whose span fits the cap), and
 *   a coarser dyadic grid's edges are a subset of a finer one's, so any two linear grids
 *   merge exactly by coarsening the finer one. It resolves offset data to ~1/1024 of the
 *   range, but an outlier coarsens it for everyone.
 *
 * Every count is exact on its own grid, so the CDF at any edge of either grid is exact.
 */

/** Relative accuracy of the log grid: a log bucket's midpoint is within α of its values. */
export const LOG_ALPHA = 0.01;
/** Ratio between consecutive log bucket edges. */
export const LOG_GAMMA = (1 + LOG_ALPHA) / (1 - LOG_ALPHA);
const LN_GAMMA = Math.log(LOG_GAMMA);
/** Magnitudes below this (2^-30 ≈ 9.3e-10) share the zero bucket [-M0, M0). */
export const LOG_MIN_MAGNITUDE = 2 ** -30;
/**
 * Log buckets per sign: magnitudes up to 2^40 ≈ 1.1e12 get their own bucket; larger ones
 * share the last bucket (quantiles stay correct through the exact min and max).
 */
export const LOG_BUCKETS_PER_SIGN = Math.ceil((70 * Math.LN2) / LN_GAMMA);
/** Most linear buckets a profile keeps; the level coarsens until [min, max] fits. */
export const LINEAR_MAX_SPAN = 1024;
/** Finest linear level (bucket width 2^-64). */
export const LINEAR_MIN_LEVEL = -64;
// Keys stay below 2^50 in magnitude, so they are exact integers in a double.
const LINEAR_KEY_BITS = 50;

const M0 = LOG_MIN_MAGNITUDE;
const L = LOG_BUCKETS_PER_SIGN;

/**
 * Counts of consecutive integer bucket keys: `counts[i]` counts key `offset + i`. Plain
 * JSON. A profile's store covers exactly the keys of its min and max, so two profiles of
 * the same values have identical stores.
 */
export interface DenseCounts {
  offset: number;
  counts: number[];
}

/**
 * Key of the log bucket holding finite `x`: 0 is [-M0, M0); k > 0 is [M0·γ^(k-1), M0·γ^k);
 * k < 0 mirrors it as [-M0·γ^(-k), -M0·γ^(-k-1)). Keys grow with x; ±L are open-ended.
 */
export function logKey(x: number): number {
  if (x >= M0) {
    const j = Math.floor(Math.log(x / M0) / LN_GAMMA);
    return 1 + (j < 0 ? 0 : j > L - 1 ? L - 1 : j);
  }
  if (x >= -M0) return 0;
  // ceil(...) - 1 makes negative buckets closed below, open above, like the positive ones.
  const j = Math.ceil(Math.log(-x / M0) / LN_GAMMA) - 1;
  return -(1 + (j < 0 ? 0 : j > L - 1 ? L - 1 : j));
}

/** Lower edge of log bucket `key` (−Infinity for the open-ended lowest bucket). */
export function logLowerEdge(key: number): number {
  if (key > 0) return M0 * LOG_GAMMA ** (key - 1);
  if (key === 0) return -M0;
  if (key <= -L) return -Infinity;
  return -M0 * LOG_GAMMA ** -key;
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
