/**
 * Parquet column chunks for numeric columns (float32/64, int32/64), written in JS.
 *
 * Why: the rest of the output (ids, scores) went through arrow-rs in WASM, and a fresh
 * process pays V8 for compiling arrow-rs's writer (TurboFan, on the same cores that score)
 * on top of running it; these columns are simple enough to write here: PLAIN values (or
 * DELTA_BINARY_PACKED for ascending integers, as the stream writer chooses), RLE definition
 * levels, V1 data pages, and the metadata arrow-rs writes for them: chunk statistics with
 * exact min/max (NaN left out, ±0 as the format says), encoding stats, the definition-level
 * histogram of an optional column, a column index and an offset index. Anything else
 * (another codec, int64 values past 2^53, or past 2^51 in a delta column) is left to
 * arrow-rs: null.
 */
import type * as A from 'apache-arrow';
import { arrow } from './arrow.js';
import { Bytes } from './byte-buffer.js';
import type { ColumnPart } from './dict-column.js';
import { CODEC_IDS, compress } from './page-compression.js';
import { encodeHybrid, encodeOnes } from './rle-hybrid.js';
import { encodeDeltaBinaryPacked, int64At } from './delta-binary-packed.js';
import { dataPageHeader } from './page-header.js';
import { PageIndexBuilder } from './page-index.js';
import { DATA_PAGE, DELTA_BINARY_PACKED, DOUBLE, FLOAT, INT32, INT64, PLAIN, RLE } from './format.js';
import { binary, bool, CT, i32, i64, list, struct, type TField } from './thrift.js';
import type { OutputCompression } from '../spec/job-spec.js';

/** Rows per data page (at most 1 MB of 8-byte values). */
const PAGE_ROWS = 131_072;

type Kind = { physical: number; width: 4 | 8; float: boolean };

function kindOf(type: A.DataType): Kind | null {
  if (arrow.DataType.isFloat(type)) {
    if (type.precision === arrow.Precision.SINGLE) return { physical: FLOAT, width: 4, float: true };
    if (type.precision === arrow.Precision.DOUBLE) return { physical: DOUBLE, width: 8, float: true };
    return null;
  }
  if (type.typeId === arrow.Type.Int && (type as A.Int).isSigned) {
    if ((type as A.Int).bitWidth === 32) return { physical: INT32, width: 4, float: false };
    if ((type as A.Int).bitWidth === 64) return { physical: INT64, width: 8, float: false };
  }
  return null;
}

/** Whether this module writes columns of this type with this codec. */
export function canEncodeNumeric(type: A.DataType, compression: OutputCompression): boolean {
  return kindOf(type) !== null && CODEC_IDS[compression] !== undefined;
}

let gatherScratch = new Uint8Array(0);
/** Columns bigger than this are gathered into memory of their own, not kept as scratch. */
const MAX_GATHER_SCRATCH = 8 << 20;

/**
 * One column's values as bytes (contiguous, LE) and its validity, whatever its chunks. The
 * bytes are the column's own or scratch memory: read them before the next call, keep nothing.
 */
function gather(vector: A.Vector, width: number): { bytes: Uint8Array; valid: Uint8Array | null; nulls: number } {
  const rows = vector.length;
  const only = vector.data.length === 1 ? vector.data[0]! : null;
  // One chunk (a score column, a passthrough column of one row group): its values as they are.
  const v0 = only?.values as ArrayBufferView | undefined;
  let bytes: Uint8Array;
  if (only && v0 && v0.byteLength >= rows * width && v0.byteOffset % width === 0) {
    bytes = new Uint8Array(v0.buffer, v0.byteOffset, rows * width);
  } else {
    // Several chunks: gathered into scratch memory that only this encoding call reads.
    if (rows * width > MAX_GATHER_SCRATCH) bytes = new Uint8Array(rows * width);
    else {
      if (gatherScratch.length < rows * width) gatherScratch = new Uint8Array(rows * width);
      bytes = gatherScratch.subarray(0, rows * width);
    }
  }
  const copy = bytes.buffer !== v0?.buffer;
  let valid: Uint8Array | null = null;
  let nulls = 0;
  let row = 0;
  for (const d of vector.data) {
    // Arrow JS data: values start at the first row; the validity bitmap keeps `offset`.
    const v = d.values as ArrayBufferView;
    if (copy) bytes.set(new Uint8Array(v.buffer, v.byteOffset, d.length * width), row * width);
    if (d.nullCount > 0 && d.nullBitmap) {
      nulls += d.nullCount;
      valid ??= new Uint8Array(rows).fill(1);
      for (let i = 0; i < d.length; i++) {
        const b = d.offset + i;
        if ((d.nullBitmap[b >> 3]! & (1 << (b & 7))) === 0) valid[row + i] = 0;
      }
    }
    row += d.length;
  }
  return { bytes, valid, nulls };
}

/**
 * A column's values as a typed array over its bytes: the float or int32 values themselves,
 * or an int64 column's 32-bit halves (low, high), read as numbers without BigInts.
 */
type Numbers = Float32Array | Float64Array | Int32Array;

function numbers(bytes: Uint8Array, kind: Kind): Numbers {
  if (kind.physical === FLOAT) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  if (kind.physical === DOUBLE) return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
  return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

// Min/max loops, one per layout (each stays monomorphic): [min, max] of the present values
// of rows [from, to), NaN left out; null when none counts.
// Bounds are found in stretches of BOUNDS_STRETCH values by leaf functions called many
// times, not by one long loop per page: see rle-hybrid.ts on V8's on-stack optimization.
const BOUNDS_STRETCH = 1024;
/** [min, max] so far, shared by the stretch functions below. */
const range = new Float64Array(2);

function floatBounds(v: Float32Array | Float64Array, valid: Uint8Array | null, from: number, to: number): [number, number] | null {
  range[0] = Number.POSITIVE_INFINITY;
  range[1] = Number.NEGATIVE_INFINITY;
  for (let at = from; at < to; at += BOUNDS_STRETCH) floatRange(v, valid, at, Math.min(at + BOUNDS_STRETCH, to));
  let min = range[0];
  let max = range[1];
  // No value but NaN (or nulls): min stays +Infinity and max -Infinity.
  if (!(min <= max)) return null;
  // A zero bound is written as -0 (min) and +0 (max): either zero may be in the data.
  if (min === 0) min = -0;
  if (max === 0) max = 0;
  return [min, max];
}

function floatRange(v: Float32Array | Float64Array, valid: Uint8Array | null, from: number, to: number): void {
  let min = range[0]!;
  let max = range[1]!;
  for (let i = from; i < to; i++) {
    const x = v[i]!;
    if (x !== x || (valid !== null && valid[i] === 0)) continue;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  range[0] = min;
  range[1] = max;
}

function int32Bounds(v: Int32Array, valid: Uint8Array | null, from: number, to: number): [number, number] | null {
  range[0] = Number.POSITIVE_INFINITY;
  range[1] = Number.NEGATIVE_INFINITY;
  for (let at = from; at < to; at += BOUNDS_STRETCH) int32Range(v, valid, at, Math.min(at + BOUNDS_STRETCH, to));
  return range[0]! <= range[1]! ? [range[0]!, range[1]!] : null;
}

function int32Range(v: Int32Array, valid: Uint8Array | null, from: number, to: number): void {
  let min = range[0]!;
  let max = range[1]!;
  for (let i = from; i < to; i++) {
    if (valid !== null && valid[i] === 0) continue;
    const x = v[i]!;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  range[0] = min;
  range[1] = max;
}

function int64Bounds(words: Int32Array, valid: Uint8Array | null, from: number, to: number): [number, number] | null {
  range[0] = Number.POSITIVE_INFINITY;
  range[1] = Number.NEGATIVE_INFINITY;
  for (let at = from; at < to; at += BOUNDS_STRETCH) int64Range(words, valid, at, Math.min(at + BOUNDS_STRETCH, to));
  return range[0]! <= range[1]! ? [range[0]!, range[1]!] : null;
}

function int64Range(words: Int32Array, valid: Uint8Array | null, from: number, to: number): void {
  let min = range[0]!;
  let max = range[1]!;
  for (let i = from; i < to; i++) {
    if (valid !== null && valid[i] === 0) continue;
    const x = int64At(words, i);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  range[0] = min;
  range[1] = max;
}

function bounds(v: Numbers, kind: Kind, valid: Uint8Array | null, from: number, to: number): [number, number] | null {
  if (kind.float) return floatBounds(v as Float32Array | Float64Array, valid, from, to);
  return kind.physical === INT32 ? int32Bounds(v as Int32Array, valid, from, to) : int64Bounds(v as Int32Array, valid, from, to);
}

/** The value's bytes in the column's physical type. */
function valueBytes(x: number, kind: Kind): Uint8Array {
  const out = new Uint8Array(kind.width);
  const dv = new DataView(out.buffer);
  if (kind.physical === FLOAT) dv.setFloat32(0, x, true);
  else if (kind.physical === DOUBLE) dv.setFloat64(0, x, true);
  else if (kind.physical === INT32) dv.setInt32(0, x, true);
  else dv.setBigInt64(0, BigInt(x), true);
  return out;
}

/** Value `i` of an integer column (int64 through its halves). */
function lastValue(v: Numbers, kind: Kind, i: number): number {
  return kind.physical === INT64 ? int64At(v as Int32Array, i) : v[i]!;
}

// Scratch for one page and its levels, reused page after page (encoding is synchronous).
const pageScratch = new Bytes(PAGE_ROWS * 8 + 64);
const levelScratch = new Bytes();

/**
 * Encode a numeric column as one Parquet column chunk.
 * @param optional whether the Parquet field is OPTIONAL (definition levels are written)
 * @param delta DELTA_BINARY_PACKED instead of PLAIN (integer columns without nulls);
 *   `'ascending'`: DELTA_BINARY_PACKED if the column is an integer column without nulls
 *   whose values never decrease (the stream writer's `'monotone'` rule), else PLAIN, found
 *   out while encoding instead of in a pass of its own
 * @returns the chunk, or null when this column is left to arrow-rs
 */
export function encodeNumericColumn(vector: A.Vector, name: string, compression: OutputCompression, optional: boolean, delta: boolean | 'ascending'): ColumnPart | null {
  const codec = CODEC_IDS[compression];
  const kind = kindOf(vector.type);
  const rows = vector.length;
  if (codec === undefined || !kind || rows === 0) return null;
  const gathered = gather(vector, kind.width);
  const encode = (asDelta: boolean, ascending: boolean) => encodeChunk(gathered, kind, rows, name, compression, optional, asDelta, ascending);
  if (delta === 'ascending' && !kind.float && gathered.nulls === 0) {
    const part = encode(true, true);
    // Declined (values past 2^51, where a delta may not be exact, before the whole column was
    // seen): arrow-rs writes it if it ascends, as it always did; else it is PLAIN, here.
    if (part !== DESCENDS && (part !== null || isMonotoneInt(vector))) return part;
  }
  // Asked for PLAIN, or for delta without the ascending rule: never DESCENDS.
  const part = encode(delta === true, false);
  return part === DESCENDS ? null : part;
}

/** An int32/int64 column without nulls whose values never decrease (e.g. ids, event times). */
export function isMonotoneInt(vector: A.Vector | null): boolean {
  if (!vector || !arrow.DataType.isInt(vector.type) || vector.type.bitWidth < 32 || vector.nullCount > 0) return false;
  const signed = vector.type.isSigned;
  // 64-bit values compared as (high, low) 32-bit halves: reading a BigInt64Array element
  // allocates a BigInt, which made this check cost as much as encoding the column.
  let lastHi = Number.NEGATIVE_INFINITY;
  let lastLo = 0;
  for (const d of vector.data) {
    // Arrow JS data: values start at the first row (`offset` is for the validity bitmap).
    const v = d.values as Int32Array | Uint32Array | BigInt64Array | BigUint64Array;
    const end = d.length;
    if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
      const words = new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
      for (let i = 0; i < end; i++) {
        const lo = words[2 * i]!;
        const hi = signed ? words[2 * i + 1]! | 0 : words[2 * i + 1]!;
        if (hi < lastHi || (hi === lastHi && lo < lastLo)) return false;
        lastHi = hi;
        lastLo = lo;
      }
    } else {
      for (let i = 0; i < end; i++) {
        const x = v[i]!;
        if (x < lastHi) return false;
        lastHi = x;
      }
    }
  }
  return true;
}

/** `encodeChunk`'s answer when asked for an ascending column and a value decreased. */
const DESCENDS = Symbol('descends');

function encodeChunk(
  gathered: ReturnType<typeof gather>,
  kind: Kind,
  rows: number,
  name: string,
  compression: OutputCompression,
  optional: boolean,
  delta: boolean,
  ascending: boolean,
): ColumnPart | null | typeof DESCENDS {
  const codec = CODEC_IDS[compression]!;
  const { bytes: values, valid, nulls } = gathered;
  if (nulls > 0 && (!optional || delta)) return null;
  const nums = numbers(values, kind);
  const encoding = delta ? DELTA_BINARY_PACKED : PLAIN;

  // PLAIN pages are about the values' size (snappy adds a few bytes per 64 KiB): one
  // allocation for the chunk instead of a doubling series.
  const out = new Bytes(delta ? 4096 : rows * kind.width + Math.ceil(rows / PAGE_ROWS) * 256 + (rows * kind.width) / 8192);
  const index = new PageIndexBuilder();
  // Bounds of the pages with a value (all-null and all-NaN pages have none).
  const pageBounds: [number, number][] = [];
  let uncompressedTotal = 0;
  const levels = optional && valid ? new Int32Array(Math.min(PAGE_ROWS, rows)) : null;
  for (let first = 0; first < rows; first += PAGE_ROWS) {
    const n = Math.min(PAGE_ROWS, rows - first);
    const page = pageScratch.reset();
    let present = n;
    if (optional) {
      const lv = levelScratch.reset();
      if (levels && valid) {
        present = 0;
        for (let i = 0; i < n; i++) present += levels[i] = valid[first + i]!;
        encodeHybrid(levels, n, 1, lv);
      } else {
        encodeOnes(n, lv);
      }
      page.u32(lv.len);
      page.bytes(lv.view());
    }
    let b: [number, number] | null;
    if (delta) {
      // The bounds come out of the encoding pass (delta columns have no nulls).
      const before = first === 0 ? null : lastValue(nums, kind, first - 1);
      if (!encodeDeltaBinaryPacked(page, nums as Int32Array, kind.physical === INT64, first, first + n, ascending, before, range)) return DESCENDS;
      b = [range[0]!, range[1]!];
      // Beyond 2^51 a delta may not be exact in a JS number: left to arrow-rs.
      if (Math.abs(b[0]) > 2 ** 51 || Math.abs(b[1]) > 2 ** 51) return null;
    } else {
      b = bounds(nums, kind, valid, first, first + n);
      // int64 values past 2^53 are not exact in JS numbers, nor would their statistics be.
      if (kind.physical === INT64 && b && (Math.abs(b[0]) > Number.MAX_SAFE_INTEGER || Math.abs(b[1]) > Number.MAX_SAFE_INTEGER)) return null;
      if (!valid) {
        page.bytes(values.subarray(first * kind.width, (first + n) * kind.width));
      } else {
        page.room(present * kind.width);
        for (let i = first; i < first + n; i++) {
          if (valid[i] === 0) continue;
          page.buf.set(values.subarray(i * kind.width, (i + 1) * kind.width), page.len);
          page.len += kind.width;
        }
      }
    }
    // A view of the scratch page: `out.bytes(body)` below copies it before the next page.
    const raw = page.view();
    const body = compress(raw, compression);
    const header = dataPageHeader(raw.length, body.length, n, encoding);
    if (b) pageBounds.push(b);
    index.add({ offset: out.len, size: header.length + body.length, firstRow: first, min: b ? valueBytes(b[0], kind) : null, max: b ? valueBytes(b[1], kind) : null, nulls: n - present, allNull: present === 0 });
    out.bytes(header);
    out.bytes(body);
    uncompressedTotal += header.length + raw.length;
  }
  // The chunk's buffer stays with the output until the file is written: a view when the
  // bytes fill most of it (plain pages), a copy when they are much smaller (gzip, delta),
  // so a chunk never keeps alive more than twice its size.
  const bytes = out.len * 2 >= out.buf.length ? out.view() : out.result();
  const pages = index.pages;

  // Metadata, as arrow-rs writes it for such a column.
  // The chunk's bounds are the pages' (already without NaN, and with ±0 as written).
  const all = pageBounds.length === 0 ? null : { min: binary(valueBytes(Math.min(...pageBounds.map((b) => b[0])), kind)), max: binary(valueBytes(Math.max(...pageBounds.map((b) => b[1])), kind)) };
  const statistics: TField[] = [];
  if (all) statistics.push({ id: 1, value: all.max }, { id: 2, value: all.min });
  statistics.push({ id: 3, value: i64(nulls) });
  if (all) statistics.push({ id: 5, value: all.max }, { id: 6, value: all.min }, { id: 7, value: bool(true) }, { id: 8, value: bool(true) });
  const meta: TField[] = [
    { id: 1, value: i32(kind.physical) },
    { id: 2, value: list(CT.I32, delta ? [i32(RLE), i32(DELTA_BINARY_PACKED)] : [i32(PLAIN), i32(RLE)]) },
    { id: 3, value: list(CT.BINARY, [binary(new TextEncoder().encode(name))]) },
    { id: 4, value: i32(codec) },
    { id: 5, value: i64(rows) },
    { id: 6, value: i64(uncompressedTotal) },
    { id: 7, value: i64(bytes.length) },
    { id: 9, value: i64(0) },
    { id: 12, value: struct(statistics) },
    { id: 13, value: list(CT.STRUCT, [struct([{ id: 1, value: i32(DATA_PAGE) }, { id: 2, value: i32(encoding) }, { id: 3, value: i32(pages) }])]) },
  ];
  if (optional) meta.push({ id: 16, value: struct([{ id: 3, value: list(CT.I64, [i64(nulls), i64(rows - nulls)]) }]) });

  return {
    bytes,
    chunk: [{ id: 2, value: i64(0) }, { id: 3, value: struct(meta) }],
    columnIndex: index.columnIndex(boundaryOrder(pageBounds)),
    offsetIndex: index.offsetIndex(),
  };
}

/** BoundaryOrder of the pages' bounds (null pages skipped): 1 ascending, 2 descending, 0 neither. */
function boundaryOrder(b: readonly [number, number][]): number {
  let ascending = true;
  let descending = true;
  for (let i = 1; i < b.length; i++) {
    if (b[i]![0] < b[i - 1]![0] || b[i]![1] < b[i - 1]![1]) ascending = false;
    if (b[i]![0] > b[i - 1]![0] || b[i]![1] > b[i - 1]![1]) descending = false;
  }
  return ascending ? 1 : descending ? 2 : 0;
}
