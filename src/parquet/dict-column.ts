/**
 * Parquet column chunks for dictionary-encoded string columns, written in JS.
 *
 * Why: passthrough string columns (e.g. a `segment`) arrive as Arrow dictionaries of a few
 * values, and the arrow-rs writer (in WASM) re-hashes every row's string to dictionary-encode
 * it again: ~35–45 ms per 250,000 rows, more than the rest of the output together
 * (measured: id + segment + float score, 250,000 rows: 39 ms, of which the segment 31). The
 * Arrow dictionary already has the codes, so this remaps them (by first appearance, as
 * arrow-rs orders its dictionaries) and writes the pages directly: ~2 ms.
 *
 * The chunk is what arrow-rs writes for such a column (checked field by field against its
 * output): a PLAIN dictionary page, V1 data pages of RLE_DICTIONARY codes with RLE
 * definition levels, chunk statistics (null count, exact min/max), encoding stats, size
 * statistics, and a column index and offset index. Anything else (other codecs than
 * none/snappy/gzip, values over 64 bytes, large dictionaries, null dictionary entries) is
 * left to arrow-rs: `encodeDictionaryColumn` returns null.
 */
import type * as A from 'apache-arrow';
import { arrow } from './arrow.js';
import { binary, bool, CT, i32, i64, list, struct, type TField, type TValue } from './thrift.js';
import type { OutputCompression } from '../spec/job-spec.js';
import { Bytes } from './byte-buffer.js';
import { encodeHybrid, encodeOnes } from './rle-hybrid.js';
import { CODEC_IDS, compress } from './page-compression.js';
import { PageIndexBuilder } from './page-index.js';
import { BYTE_ARRAY, DATA_PAGE, DICTIONARY_PAGE, PLAIN, RLE, RLE_DICTIONARY } from './format.js';
import { dataPageHeader, pageHeader } from './page-header.js';

/** One encoded column chunk; every offset in it counts from `bytes[0]`. */
export interface ColumnPart {
  readonly bytes: Uint8Array;
  /** The ColumnChunk struct. */
  readonly chunk: TField[];
  /** Encoded ColumnIndex struct, if any. */
  readonly columnIndex: Uint8Array | null;
  /** OffsetIndex struct, if any. */
  readonly offsetIndex: TField[] | null;
}

/** Codes per data page (a page of 131,072 codes of up to 16 bits is at most 256 KB). */
const PAGE_ROWS = 131_072;
/** Longest value: arrow-rs truncates longer min/max statistics (to 64 bytes). */
const MAX_VALUE_BYTES = 64;
const MAX_DICTIONARY_ENTRIES = 65_536;
const MAX_DICTIONARY_BYTES = 1 << 20;

/** Whether this module can write a column of this type with this codec. */
export function canEncodeDictionary(type: A.DataType, compression: OutputCompression): boolean {
  // 64-bit keys (pyarrow can write them) go through arrow-rs: the codes here are Int32.
  return arrow.DataType.isDictionary(type) && arrow.DataType.isUtf8(type.dictionary) && arrow.DataType.isInt(type.indices) && type.indices.bitWidth <= 32 && CODEC_IDS[compression] !== undefined;
}

let codeScratch = new Int32Array(0);

/**
 * `rows` codes' worth of memory, reused from call to call (the encoder is synchronous and
 * keeps nothing): a 250,000-row column needs 1 MB of codes, and fresh memory costs page
 * faults and, sooner or later, a garbage collection.
 */
function codeBuffer(rows: number): Int32Array {
  if (codeScratch.length < rows) codeScratch = new Int32Array(rows);
  return codeScratch.subarray(0, rows);
}

/**
 * Keys of `keys` (null rows skipped) in order of first use; null if one is out of range.
 * Stops once every key of the dictionary was seen (usually within the first rows): `remap`
 * checks the range of the rest.
 */
function firstUse(keys: Int32Array, bitmap: Uint8Array | null | undefined, bit0: number, size: number): number[] | null {
  const seen = new Uint8Array(size);
  const order: number[] = [];
  for (let i = 0; i < keys.length && order.length < size; i++) {
    if (bitmap) {
      const b = bit0 + i;
      if ((bitmap[b >> 3]! & (1 << (b & 7))) === 0) continue;
    }
    const k = keys[i]!;
    if (k < 0 || k >= size) return null;
    if (seen[k] === 0) {
      seen[k] = 1;
      order.push(k);
    }
  }
  return order;
}

/**
 * codes[at + i] = map[keys[i]], or -1 for null rows; returns the number of nulls, or -1 when
 * a non-null row's key is outside the dictionary.
 */
function remap(keys: Int32Array, bitmap: Uint8Array | null | undefined, bit0: number, map: Int32Array, codes: Int32Array, at: number): number {
  const size = map.length;
  let nulls = 0;
  if (!bitmap) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k >>> 0 >= size) return -1;
      codes[at + i] = map[k]!;
    }
    return 0;
  }
  for (let i = 0; i < keys.length; i++) {
    const b = bit0 + i;
    if ((bitmap[b >> 3]! & (1 << (b & 7))) === 0) {
      codes[at + i] = -1;
      nulls++;
    } else {
      const k = keys[i]!;
      if (k >>> 0 >= size) return -1;
      codes[at + i] = map[k]!;
    }
  }
  return nulls;
}

/** Marks the codes of `codes[0..n)` used; returns the sum of their values' byte lengths. */
function markUsed(codes: Int32Array, n: number, lengths: Int32Array, used: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    used[c] = 1;
    sum += lengths[c]!;
  }
  return sum;
}

/** Definition levels of rows `[first, first + n)` and the codes of the non-null ones; marks used codes. */
function splitPage(codes: Int32Array, first: number, n: number, levels: Int32Array, pageCodes: Int32Array, used: Uint8Array): number {
  let present = 0;
  for (let i = 0; i < n; i++) {
    const c = codes[first + i]!;
    if (c < 0) {
      levels[i] = 0;
    } else {
      levels[i] = 1;
      pageCodes[present++] = c;
      used[c] = 1;
    }
  }
  return present;
}

function sumLengths(codes: Int32Array, n: number, lengths: Int32Array): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += lengths[codes[i]!]!;
  return sum;
}

/** Indexes of the smallest and largest used values (byte order); -1 when none is used. */
function extremes(used: Uint8Array, values: readonly Uint8Array[]): [number, number] {
  let min = -1;
  let max = -1;
  for (let c = 0; c < used.length; c++) {
    if (!used[c]) continue;
    if (min < 0 || compareBytes(values[c]!, values[min]!) < 0) min = c;
    if (max < 0 || compareBytes(values[c]!, values[max]!) > 0) max = c;
  }
  return [min, max];
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Encode a dictionary-of-strings column as one Parquet column chunk.
 * @param vector the column (any number of chunks, each with its own dictionary)
 * @param optional whether the Parquet field is OPTIONAL (definition levels are written)
 * @returns the chunk, or null when this column is left to arrow-rs
 */
export function encodeDictionaryColumn(vector: A.Vector, name: string, compression: OutputCompression, optional: boolean): ColumnPart | null {
  const codec = CODEC_IDS[compression];
  if (codec === undefined || !arrow.DataType.isDictionary(vector.type)) return null;
  const rows = vector.length;
  if (rows === 0) return null;
  // 1. Codes in the merged dictionary, by first appearance; -1 for nulls.
  const codes = codeBuffer(rows);
  const byValue = new Map<string, number>();
  const values: Uint8Array[] = [];
  const decoder = new TextDecoder();
  let dictionaryBytes = 0;
  let nulls = 0;
  let row = 0;
  for (const d of vector.data) {
    const dictionary = d.dictionary;
    if (!dictionary || dictionary.data.length !== 1) return null;
    const dd = dictionary.data[0]!;
    if (dd.nullCount > 0 || !(dd.valueOffsets instanceof Int32Array)) return null;
    const offsets = dd.valueOffsets;
    const bytes = dd.values as Uint8Array;
    const raw = d.values as Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
    // Arrow JS data: values start at the first row; the validity bitmap keeps `offset`.
    const keys = raw instanceof Int32Array ? raw.subarray(0, d.length) : Int32Array.from(raw.subarray(0, d.length));
    const bitmap = d.nullCount > 0 ? d.nullBitmap : null;
    // Keys of this chunk in order of first use (null rows carry no key).
    const order = firstUse(keys, bitmap, d.offset, dd.length);
    if (order === null) return null; // a key outside the dictionary
    const map = new Int32Array(dd.length).fill(-1);
    for (const k of order) {
      const value = bytes.subarray(offsets[k]!, offsets[k + 1]!);
      if (value.length > MAX_VALUE_BYTES) return null;
      const key = decoder.decode(value);
      let m = byValue.get(key);
      if (m === undefined) {
        m = values.length;
        byValue.set(key, m);
        values.push(value);
        dictionaryBytes += value.length + 4;
        if (values.length > MAX_DICTIONARY_ENTRIES || dictionaryBytes > MAX_DICTIONARY_BYTES) return null;
      }
      map[k] = m;
    }
    const chunkNulls = remap(keys, bitmap, d.offset, map, codes, row);
    if (chunkNulls < 0) return null; // a key outside the dictionary
    nulls += chunkNulls;
    row += d.length;
  }
  if ((!optional && nulls > 0) || values.length === 0) return null;

  const out = new Bytes();
  const index = new PageIndexBuilder();
  let uncompressedTotal = 0;
  let unencodedBytes = 0;

  // 2. Dictionary page: PLAIN (4-byte length, bytes).
  {
    const plain = new Bytes();
    for (const v of values) {
      plain.u32(v.length);
      plain.bytes(v);
    }
    const raw = plain.result();
    const body = compress(raw, compression);
    const header = pageHeader(DICTIONARY_PAGE, raw.length, body.length, {
      id: 7,
      value: struct([{ id: 1, value: i32(values.length) }, { id: 2, value: i32(PLAIN) }, { id: 3, value: bool(false) }]),
    });
    out.bytes(header);
    out.bytes(body);
    uncompressedTotal += header.length + raw.length;
  }
  const dataPageOffset = out.len;

  // 3. Data pages of at most PAGE_ROWS rows.
  const width = Math.max(1, Math.ceil(Math.log2(Math.max(values.length, 2))));
  // Only pages with nulls split levels from codes.
  const levels = new Int32Array(nulls === 0 ? 0 : Math.min(PAGE_ROWS, rows));
  const pageCodes = new Int32Array(nulls === 0 ? 0 : Math.min(PAGE_ROWS, rows));
  const lengths = Int32Array.from(values, (v) => v.length);
  const used = new Uint8Array(values.length);
  const usedInFile = new Uint8Array(values.length);
  for (let first = 0; first < rows; first += PAGE_ROWS) {
    const n = Math.min(PAGE_ROWS, rows - first);
    used.fill(0);
    // Without nulls the page's codes are a slice of `codes` and every level is 1.
    const dense = nulls === 0;
    const present = dense ? n : splitPage(codes, first, n, levels, pageCodes, used);
    const presentCodes = dense ? codes.subarray(first, first + n) : pageCodes;
    unencodedBytes += dense ? markUsed(presentCodes, n, lengths, used) : sumLengths(presentCodes, present, lengths);
    for (let c = 0; c < used.length; c++) if (used[c]) usedInFile[c] = 1;
    const [pageMin, pageMax] = extremes(used, values);
    const page = new Bytes();
    if (optional) {
      const lv = new Bytes();
      if (dense) encodeOnes(n, lv);
      else encodeHybrid(levels, n, 1, lv);
      page.u32(lv.len);
      page.bytes(lv.view());
    }
    page.byte(width);
    encodeHybrid(presentCodes, present, width, page);
    const raw = page.result();
    const body = compress(raw, compression);
    const header = dataPageHeader(raw.length, body.length, n, RLE_DICTIONARY);
    index.add({ offset: out.len, size: header.length + body.length, firstRow: first, min: present === 0 ? null : values[pageMin]!, max: present === 0 ? null : values[pageMax]!, nulls: n - present, allNull: present === 0 });
    out.bytes(header);
    out.bytes(body);
    uncompressedTotal += header.length + raw.length;
  }
  const [minIndex, maxIndex] = extremes(usedInFile, values);
  const bytes = out.result();
  const pages = index.pages;

  // 4. Metadata, as arrow-rs writes it.
  const statistics: TField[] = [{ id: 3, value: i64(nulls) }];
  if (maxIndex >= 0) statistics.push({ id: 5, value: binary(values[maxIndex]!) });
  if (minIndex >= 0) statistics.push({ id: 6, value: binary(values[minIndex]!) });
  if (maxIndex >= 0) statistics.push({ id: 7, value: bool(true) }, { id: 8, value: bool(true) });
  const meta: TField[] = [
    { id: 1, value: i32(BYTE_ARRAY) },
    { id: 2, value: list(CT.I32, [i32(PLAIN), i32(RLE), i32(RLE_DICTIONARY)]) },
    { id: 3, value: list(CT.BINARY, [binary(new TextEncoder().encode(name))]) },
    { id: 4, value: i32(codec) },
    { id: 5, value: i64(rows) },
    { id: 6, value: i64(uncompressedTotal) },
    { id: 7, value: i64(bytes.length) },
    { id: 9, value: i64(dataPageOffset) },
  ];
  meta.push({ id: 11, value: i64(0) }); // the dictionary page comes first
  meta.push({ id: 12, value: struct(statistics) });
  const encodingStats: TValue[] = [
    struct([{ id: 1, value: i32(DATA_PAGE) }, { id: 2, value: i32(RLE_DICTIONARY) }, { id: 3, value: i32(pages) }]),
    struct([{ id: 1, value: i32(DICTIONARY_PAGE) }, { id: 2, value: i32(PLAIN) }, { id: 3, value: i32(1) }]),
  ];
  meta.push({ id: 13, value: list(CT.STRUCT, encodingStats) });
  const sizeStatistics: TField[] = [{ id: 1, value: i64(unencodedBytes) }];
  if (optional) sizeStatistics.push({ id: 3, value: list(CT.I64, [i64(nulls), i64(rows - nulls)]) });
  meta.push({ id: 16, value: struct(sizeStatistics) });

  return {
    bytes,
    chunk: [{ id: 2, value: i64(0) }, { id: 3, value: struct(meta) }],
    columnIndex: index.columnIndex(0), // boundary order: UNORDERED
    offsetIndex: index.offsetIndex(),
  };
}
