/**
 * Row bookkeeping for slicing a batch: which rows belong to each slice, and which of those
 * fall in each chunk of a column (chunks of different columns need not line up).
 */

/** Row indices of each slice id, ascending (a counting sort of the ids). */
export function rowsBySlice(ids: Int32Array, slices: number): Int32Array[] {
  const counts = new Int32Array(slices);
  for (const id of ids) counts[id]!++;
  const lists = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(slices);
  ids.forEach((id, row) => {
    lists[id]![fill[id]!++] = row;
  });
  return lists;
}

/** The part of an ascending row list inside [base, base + length), relative to base. */
export function rowsIn(list: Int32Array, base: number, length: number): Int32Array {
  let lo = 0, hi = list.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (list[m]! < base) lo = m + 1; else hi = m; }
  let end = lo;
  while (end < list.length && list[end]! < base + length) end++;
  const part = list.subarray(lo, end);
  return base === 0 ? part : part.map((r) => r - base);
}
