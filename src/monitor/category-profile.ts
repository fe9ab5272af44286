/**
 * Profile of a categorical column (string passthrough/segment columns, string labels):
 * exact counts per value up to a cap of distinct values, then an "other" bucket.
 *
 * Merging adds counts, so it is exact and associative as long as the union has at most
 * `cap` distinct values (the case segment columns are meant for). Past the cap the profile
 * keeps the `cap` most frequent values (ties: smaller value first) and folds the rest into
 * `other`, and is marked `truncated`: from then on counts are lower bounds and merge order
 * can matter, because a value folded into `other` in one partition is not recovered.
 * No bounded structure can give exact top-k counts under arbitrary merges.
 */
import type { ColumnChunk } from '../scoring/columns.js';

/** Default cap on distinct values kept with exact counts. */
export const DEFAULT_CATEGORY_CAP = 1000;

/** Profile of a categorical column. Plain JSON. */
export interface CategoryProfile {
  kind: 'category';
  /** Rows seen, nulls included. */
  count: number;
  nulls: number;
  /** Kept values and their counts, most frequent first, ties by value (code-unit order). */
  values: Array<[string, number]>;
  /** Non-null values not kept (only after truncation). */
  other: number;
  /** Whether values were ever folded into `other`. */
  truncated: boolean;
  /** Most distinct values kept. */
  cap: number;
}

/** Arrow Utf8/LargeUtf8 data: row i is `data[valueOffsets[i] .. valueOffsets[i+1])`. */
export interface Utf8Chunk {
  readonly kind: 'utf8';
  readonly data: Uint8Array;
  readonly valueOffsets: Int32Array | BigInt64Array;
  readonly nullBitmap?: Uint8Array | null | undefined;
  /** Bit offset of row 0 in `nullBitmap`. */
  readonly offset: number;
  readonly length: number;
  readonly nullCount: number;
}

/** Arrow dictionary-encoded data: integer indices into `dictionary`. */
export interface DictionaryChunk {
  readonly kind: 'dictionary';
  readonly indices: ColumnChunk;
  readonly dictionary: readonly (string | null)[];
}

/** Plain strings, e.g. a string prediction column; null/undefined are nulls. */
export interface StringsChunk {
  readonly kind: 'strings';
  readonly values: readonly (string | null | undefined)[];
}

/** Numbers treated as categories (integer segment codes); labels are `String(value)`. */
export interface CodesChunk {
  readonly kind: 'codes';
  readonly chunk: ColumnChunk;
}

/** One chunk of a categorical column. */
export type CategoryChunk = Utf8Chunk | DictionaryChunk | StringsChunk | CodesChunk;

/** A chunk dictionary-encoded: `codes[i]` indexes `labels`, −1 for null. */
export interface EncodedCategories {
  readonly codes: Int32Array;
  readonly labels: readonly string[];
}

function validAt(bitmap: Uint8Array | null | undefined, nullCount: number, bit: number): boolean {
  if (nullCount === 0 || !bitmap || bitmap.length === 0) return true;
  return ((bitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

/** Number of rows of a category chunk. */
export function categoryChunkLength(chunk: CategoryChunk): number {
  switch (chunk.kind) {
    case 'utf8': return chunk.length;
    case 'dictionary': return chunk.indices.length;
    case 'strings': return chunk.values.length;
    case 'codes': return chunk.chunk.length;
  }
}

/**
 * Dictionary-encode a chunk, so counting and slicing work on integers and each distinct
 * string is decoded once per chunk (dictionary chunks only map their indices).
 */
export function encodeCategories(chunk: CategoryChunk): EncodedCategories {
  const length = categoryChunkLength(chunk);
  const codes = new Int32Array(length);
  const labels: string[] = [];
  const byLabel = new Map<string, number>();
  const code = (label: string): number => {
    let c = byLabel.get(label);
    if (c === undefined) {
      c = labels.length;
      labels.push(label);
      byLabel.set(label, c);
    }
    return c;
  };
  if (chunk.kind === 'dictionary') {
    const { indices, dictionary } = chunk;
    // Equal dictionary entries (allowed in Arrow) share a code.
    const remap = dictionary.map((s) => (s === null ? -1 : code(s)));
    for (let i = 0; i < length; i++) {
      codes[i] = validAt(indices.nullBitmap, indices.nullCount, indices.offset + i)
        ? remap[Number(indices.values[i])] ?? -1
        : -1;
    }
  } else if (chunk.kind === 'utf8') {
    const buf = Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength);
    const offs = chunk.valueOffsets;
    for (let i = 0; i < length; i++) {
      codes[i] = validAt(chunk.nullBitmap, chunk.nullCount, chunk.offset + i)
        ? code(buf.toString('utf8', Number(offs[i]), Number(offs[i + 1])))
        : -1;
    }
  } else if (chunk.kind === 'strings') {
    for (let i = 0; i < length; i++) {
      const s = chunk.values[i];
      codes[i] = s === null || s === undefined ? -1 : code(s);
    }
  } else {
    const c = chunk.chunk;
    const byValue = new Map<number | bigint, number>();
    for (let i = 0; i < length; i++) {
      if (!validAt(c.nullBitmap, c.nullCount, c.offset + i)) { codes[i] = -1; continue; }
      const v = c.values[i]!;
      let k = byValue.get(v);
      if (k === undefined) byValue.set(v, (k = code(String(v))));
      codes[i] = k;
    }
  }
  return { codes, labels };
}

/** A profile of no rows. */
export function emptyCategory(cap = DEFAULT_CATEGORY_CAP): CategoryProfile {
  if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`monitor: category cap must be a positive integer, got ${JSON.stringify(cap)}`);
  return { kind: 'category', count: 0, nulls: 0, values: [], other: 0, truncated: false, cap };
}

function byCountThenValue(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

// Reorder `a` so its first k entries are the k smallest under `cmp` (Hoare quickselect).
function selectSmallest<T>(a: T[], k: number, cmp: (x: T, y: T) => number): void {
  let lo = 0, hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo, j = hi;
    while (i <= j) {
      while (cmp(a[i]!, pivot) < 0) i++;
      while (cmp(a[j]!, pivot) > 0) j--;
      if (i <= j) { const t = a[i]!; a[i] = a[j]!; a[j] = t; i++; j--; }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else return;
  }
}

// Sort canonically and apply the cap; returns [kept, folded count]. A high-cardinality
// column (ids) brings many values per chunk: select the cap first, sort only those.
function canonical(counts: Map<string, number>, cap: number): [Array<[string, number]>, number] {
  const entries = [...counts];
  if (entries.length > cap) selectSmallest(entries, cap, byCountThenValue);
  let folded = 0;
  for (let i = cap; i < entries.length; i++) folded += entries[i]![1];
  const kept = entries.length > cap ? entries.slice(0, cap) : entries;
  return [kept.sort(byCountThenValue), folded];
}

// Reused tally, all zeros between calls: a slice touches few of a chunk's labels, so
// allocating and scanning one entry per label for every slice would dominate.
let tallyScratch = new Float64Array(0);

/** Add encoded rows to `profile` in place; with `rows`, only those row indices. */
export function updateCategoryCodes(profile: CategoryProfile, encoded: EncodedCategories, rows?: Int32Array): void {
  if (tallyScratch.length < encoded.labels.length) tallyScratch = new Float64Array(Math.max(encoded.labels.length, 2 * tallyScratch.length));
  const tally = tallyScratch;
  const touched: number[] = [];
  const total = rows ? rows.length : encoded.codes.length;
  let nulls = 0;
  for (let r = 0; r < total; r++) {
    const c = encoded.codes[rows ? rows[r]! : r]!;
    if (c < 0) nulls++;
    else if (tally[c]!++ === 0) touched.push(c);
  }
  profile.count += total;
  profile.nulls += nulls;
  if (touched.length === 0) return;
  const counts = new Map(profile.values);
  // Once the profile is full, a new value ranking below its last kept value cannot make the
  // cut whatever else happens in this chunk (kept counts only grow): fold it right away.
  // Same result as offering it to `canonical`, far less work for id-like columns.
  const last = profile.values.length >= profile.cap ? profile.values[profile.values.length - 1] : undefined;
  let early = 0;
  for (const c of touched) {
    const label = encoded.labels[c]!, t = tally[c]!;
    tally[c] = 0;
    const kept = counts.get(label);
    if (kept !== undefined) counts.set(label, kept + t);
    else if (!last || byCountThenValue([label, t], last) < 0) counts.set(label, t);
    else early += t;
  }
  const [values, folded] = canonical(counts, profile.cap);
  profile.values = values;
  profile.other += early + folded;
  if (early + folded > 0) profile.truncated = true;
}

/** Add the rows of one chunk to `profile` in place; with `rows`, only those row indices. */
export function updateCategory(profile: CategoryProfile, chunk: CategoryChunk, rows?: Int32Array): void {
  updateCategoryCodes(profile, encodeCategories(chunk), rows);
}

/** Merge two profiles of disjoint rows into a new one. The cap is the smaller of the two. */
export function mergeCategory(a: CategoryProfile, b: CategoryProfile): CategoryProfile {
  const counts = new Map(a.values);
  for (const [v, c] of b.values) counts.set(v, (counts.get(v) ?? 0) + c);
  const cap = Math.min(a.cap, b.cap);
  const [values, folded] = canonical(counts, cap);
  return {
    kind: 'category',
    count: a.count + b.count,
    nulls: a.nulls + b.nulls,
    values,
    other: a.other + b.other + folded,
    truncated: a.truncated || b.truncated || folded > 0,
    cap,
  };
}

/** The k most frequent values with their counts. */
export function topK(profile: CategoryProfile, k: number): Array<[string, number]> {
  return profile.values.slice(0, k);
}

/** Non-null rows. */
export function nonNullCount(profile: CategoryProfile): number {
  return profile.count - profile.nulls;
}
