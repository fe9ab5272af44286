import type { ColumnChunk, FeatureColumn } from './columns.js';
import type { NonFinitePolicy, NullPolicy } from '../spec/job-spec.js';

/** What a bad feature value was. */
export type BadValueKind = 'null' | 'NaN' | 'Infinity' | '-Infinity';

/**
 * A feature value the job's policy refuses. `row` counts from the first row of the
 * columns handed to the filler (the caller adds file and row-group context).
 */
export class FeatureValueError extends Error {
  constructor(readonly column: string, readonly row: number, readonly kind: BadValueKind, readonly hint: string) {
    super(`column "${column}" is ${kind} at row ${row} (${hint})`);
    this.name = 'FeatureValueError';
  }
}

/** Resolved per-column behaviour: computed once per job, not per value. */
export interface FillPolicy {
  /** Value for nulls per feature (NaN allowed); `undefined` means a null is an error. */
  readonly nullValue: readonly (number | undefined)[];
  readonly nonFinite: NonFinitePolicy;
  /**
   * The spec's null policy, only for messages: a refused null names the policy that
   * refused it. Policies made by hand may leave it out (messages then say less).
   */
  readonly nulls?: NullPolicy;
}

/** Turn the spec's policies into a per-feature `FillPolicy`. */
export function fillPolicy(features: readonly string[], nulls: NullPolicy, nonFinite: NonFinitePolicy): FillPolicy {
  const nullValue = features.map((name) => {
    if (nulls === 'nan') return Number.NaN;
    if (nulls === 'error') return undefined;
    return nulls.impute[name];
  });
  return { nullValue, nonFinite, nulls };
}

/**
 * Copies `rows` rows of float32 columns (each starting at the first row to copy) into `out`,
 * row-major with `cols.length` values a row; tells whether a value was NaN or infinite, or
 * returns undefined when it does not take these arrays (the JavaScript copy then runs).
 */
export type RowCopier = (cols: readonly Float32Array[], rows: number, out: Float32Array) => boolean | undefined;

/**
 * Fill `out` (row-major, `stride` values per row) with rows `[rowStart, rowStart+rowCount)`
 * of `columns`, column j going to position `j` of each row. Validity bitmaps are read
 * directly: an Arrow null never becomes 0 by accident.
 *
 * Two paths give the same result. The fast one copies without checking as it goes, then
 * looks for what the policy acts on (nulls, non-finite values); it never throws. When it
 * meets anything it cannot settle (a refused value, several chunks, 64-bit integers) the
 * reference path redoes the range value by value, in the order this function always
 * checked values in, so an error names the same value as it always did.
 * @param copyRows a faster copy of float32 columns to use when it takes them (wasm-fill.ts)
 * @throws FeatureValueError when a null or non-finite value is refused by the policy
 */
export function fillMatrix(
  columns: readonly FeatureColumn[],
  rowStart: number,
  rowCount: number,
  out: Float32Array | Float64Array,
  policy: FillPolicy,
  stride: number = columns.length,
  copyRows?: RowCopier,
): void {
  if (out.length < rowCount * stride) {
    throw new RangeError(`fillMatrix: output holds ${out.length} values, needs ${rowCount * stride}`);
  }
  if (!fillFast(columns, rowStart, rowCount, out, policy, stride, copyRows)) fillExact(columns, rowStart, rowCount, out, policy, stride);
}

// ---------------------------------------------------------------------------------------
// Fast path

/** The one chunk of `column` holding rows `[row, row + count)`, with the local index of `row`. */
function coveringChunk(column: FeatureColumn, row: number, count: number): { chunk: ColumnChunk; local: number } | null {
  let start = 0;
  for (const chunk of column.chunks) {
    const end = start + chunk.length;
    if (row >= start && row + count <= end) return { chunk, local: row - start };
    if (row < end) return null; // the range crosses a chunk boundary
    start = end;
  }
  return null;
}

function fillFast(
  columns: readonly FeatureColumn[],
  rowStart: number,
  rowCount: number,
  out: Float32Array | Float64Array,
  policy: FillPolicy,
  stride: number,
  copyRows: RowCopier | undefined,
): boolean {
  if (rowCount === 0) return true;
  const parts: { chunk: ColumnChunk; local: number }[] = [];
  let allFloat32 = out instanceof Float32Array;
  for (const column of columns) {
    const part = coveringChunk(column, rowStart, rowCount);
    if (!part) return false;
    const v = part.chunk.values;
    if (v instanceof BigInt64Array || v instanceof BigUint64Array) return false;
    if (!(v instanceof Float32Array)) allFloat32 = false;
    parts.push(part);
  }
  // 1. Copy (noting non-finite values where that comes for free).
  let nonFinite: boolean | undefined;
  if (allFloat32 && stride === columns.length) {
    const cols = parts.map((p) => (p.chunk.values as Float32Array).subarray(p.local, p.local + rowCount));
    nonFinite = copyRows?.(cols, rowCount, out as Float32Array) ?? copyFloat32Rows(cols, rowCount, out as Float32Array);
  } else if (columns.length === 1 && stride === 1 && parts[0]!.chunk.values.constructor === out.constructor) {
    const p = parts[0]!;
    out.set(p.chunk.values.subarray(p.local, p.local + rowCount) as Float32Array & Float64Array);
  } else {
    for (let block = 0; block < rowCount; block += FAST_BLOCK_ROWS) {
      const n = Math.min(FAST_BLOCK_ROWS, rowCount - block);
      for (let j = 0; j < parts.length; j++) {
        const { chunk, local } = parts[j]!;
        copyColumn(chunk.values as Exclude<ColumnChunk['values'], BigInt64Array | BigUint64Array>, local + block, n, out, block * stride + j, stride);
      }
    }
  }
  // 2. Non-finite values, if the policy acts on them: let the reference path apply it.
  if (policy.nonFinite !== 'keep') {
    if (nonFinite === true) return false;
    for (const { chunk, local } of nonFinite === false ? [] : parts) {
      const v = chunk.values;
      if (v instanceof Float32Array ? hasNonFinite32(v, local, rowCount) : v instanceof Float64Array && hasNonFinite64(v, local, rowCount)) return false;
    }
  }
  // 3. Nulls: imputed here; refused ones go to the reference path for their error.
  for (let j = 0; j < parts.length; j++) {
    const { chunk, local } = parts[j]!;
    const bitmap = chunk.nullCount > 0 && chunk.nullBitmap && chunk.nullBitmap.length > 0 ? chunk.nullBitmap : null;
    if (bitmap !== null && !imputeNulls(bitmap, chunk.offset + local, rowCount, out, j, stride, policy.nullValue[j])) return false;
  }
  return true;
}

/**
 * Write `nullValue` at every null row; false (nothing decided) when there is a null and the
 * policy refuses nulls. Hot loops live in small functions: V8 optimises them as a whole
 * instead of on-stack-replacing a loop of a big one.
 */
function imputeNulls(bitmap: Uint8Array, bit0: number, rowCount: number, out: Float32Array | Float64Array, j: number, stride: number, nullValue: number | undefined): boolean {
  for (let i = 0; i < rowCount; ) {
    const b = bit0 + i;
    // Whole valid bytes are skipped eight rows at a time.
    if ((b & 7) === 0 && i + 8 <= rowCount && bitmap[b >> 3] === 0xff) {
      i += 8;
      continue;
    }
    if ((bitmap[b >> 3]! & (1 << (b & 7))) === 0) {
      if (nullValue === undefined) return false;
      out[i * stride + j] = nullValue;
    }
    i++;
  }
  return true;
}

// Row blocks keep the strided writes inside a cache-sized window.
const FAST_BLOCK_ROWS = 128;

/**
 * Row-major copy of float32 columns into float32 rows, eight columns at a time: each pass
 * writes 32 contiguous bytes per row (measured ~1.9 ns/value, against ~4 one column at a
 * time). Also tells whether a value was NaN or infinite: `x * 0` is 0 for every finite x
 * and NaN otherwise, so the sums below stay 0 exactly unless one was not finite (the
 * check costs ~0.1 ns/value; a separate scan cost ~1).
 */
function copyFloat32Rows(cols: readonly Float32Array[], rows: number, out: Float32Array): boolean {
  const width = cols.length;
  // The loops over rows are small functions of their own, not loops nested in this one:
  // V8 optimizes a hot inner loop on the stack (OSR) before the outer loop's code has run
  // once, and that code then deoptimizes for want of type feedback, again and again (a
  // cold thread's first file spent ~80 ms here instead of ~15).
  let z = 0;
  for (let block = 0; block < rows; block += FAST_BLOCK_ROWS) {
    const end = Math.min(block + FAST_BLOCK_ROWS, rows);
    let j = 0;
    for (; j + 8 <= width; j += 8) z += copy8(cols, j, block, end, width, out);
    for (; j + 4 <= width; j += 4) z += copy4(cols, j, block, end, width, out);
    for (; j < width; j++) z += copy1(cols[j]!, block, end, block * width + j, width, out);
  }
  return z !== 0;
}

/** Columns j..j+7, rows [from, end): see `copyFloat32Rows`. Returns 0, or NaN if a value was not finite. */
function copy8(cols: readonly Float32Array[], j: number, from: number, end: number, width: number, out: Float32Array): number {
  const a = cols[j]!, b = cols[j + 1]!, c = cols[j + 2]!, d = cols[j + 3]!;
  const e = cols[j + 4]!, f = cols[j + 5]!, g = cols[j + 6]!, h = cols[j + 7]!;
  let z0 = 0;
  let z1 = 0;
  let z2 = 0;
  let z3 = 0;
  for (let i = from, pos = from * width + j; i < end; i++, pos += width) {
    const va = a[i]!, vb = b[i]!, vc = c[i]!, vd = d[i]!, ve = e[i]!, vf = f[i]!, vg = g[i]!, vh = h[i]!;
    out[pos] = va;
    out[pos + 1] = vb;
    out[pos + 2] = vc;
    out[pos + 3] = vd;
    out[pos + 4] = ve;
    out[pos + 5] = vf;
    out[pos + 6] = vg;
    out[pos + 7] = vh;
    z0 += va * 0 + vb * 0;
    z1 += vc * 0 + vd * 0;
    z2 += ve * 0 + vf * 0;
    z3 += vg * 0 + vh * 0;
  }
  return z0 + z1 + z2 + z3;
}

/** Columns j..j+3, rows [from, end). */
function copy4(cols: readonly Float32Array[], j: number, from: number, end: number, width: number, out: Float32Array): number {
  const a = cols[j]!, b = cols[j + 1]!, c = cols[j + 2]!, d = cols[j + 3]!;
  let z0 = 0;
  let z1 = 0;
  for (let i = from, pos = from * width + j; i < end; i++, pos += width) {
    const va = a[i]!, vb = b[i]!, vc = c[i]!, vd = d[i]!;
    out[pos] = va;
    out[pos + 1] = vb;
    out[pos + 2] = vc;
    out[pos + 3] = vd;
    z0 += va * 0 + vb * 0;
    z1 += vc * 0 + vd * 0;
  }
  return z0 + z1;
}

/** One column, rows [from, end), starting at `pos` of `out`. */
function copy1(a: Float32Array, from: number, end: number, pos: number, width: number, out: Float32Array): number {
  let z = 0;
  for (let i = from; i < end; i++, pos += width) {
    const v = a[i]!;
    out[pos] = v;
    z += v * 0;
  }
  return z;
}

function copyColumn(values: Exclude<ColumnChunk['values'], BigInt64Array | BigUint64Array>, local: number, n: number, out: Float32Array | Float64Array, pos: number, stride: number): void {
  for (let i = 0; i < n; i++, pos += stride) out[pos] = values[local + i]!;
}

/** Whether `values[from, from + n)` holds a NaN or an infinity (exponent bits all ones). */
function hasNonFinite32(values: Float32Array, from: number, n: number): boolean {
  const bits = new Int32Array(values.buffer, values.byteOffset + from * 4, n);
  for (let i = 0; i < n; i++) if ((bits[i]! & 0x7f800000) === 0x7f800000) return true;
  return false;
}

function hasNonFinite64(values: Float64Array, from: number, n: number): boolean {
  const words = new Int32Array(values.buffer, values.byteOffset + from * 8, n * 2);
  for (let i = 1; i < 2 * n; i += 2) if ((words[i]! & 0x7ff00000) === 0x7ff00000) return true;
  return false;
}

// ---------------------------------------------------------------------------------------
// Reference path: every value checked in row blocks of 512, column by column, row by row
// (the order errors are reported in).

const EXACT_BLOCK_ROWS = 512;

function fillExact(
  columns: readonly FeatureColumn[],
  rowStart: number,
  rowCount: number,
  out: Float32Array | Float64Array,
  policy: FillPolicy,
  stride: number,
): void {
  for (let block = 0; block < rowCount; block += EXACT_BLOCK_ROWS) {
    const n = Math.min(EXACT_BLOCK_ROWS, rowCount - block);
    for (let j = 0; j < columns.length; j++) {
      fillColumn(columns[j]!, j, rowStart + block, n, out, block * stride + j, stride, policy);
    }
  }
}

function fillColumn(
  column: FeatureColumn,
  j: number,
  row: number,
  count: number,
  out: Float32Array | Float64Array,
  outPos: number,
  stride: number,
  policy: FillPolicy,
): void {
  let chunkStart = 0;
  let done = 0;
  for (const chunk of column.chunks) {
    if (done === count) return;
    const chunkEnd = chunkStart + chunk.length;
    const at = row + done;
    if (at < chunkEnd) {
      const local = at - chunkStart;
      const n = Math.min(chunkEnd - at, count - done);
      copyChunk(column.name, chunk, local, n, out, outPos + done * stride, stride, policy.nullValue[j], policy.nonFinite, at, policy.nulls);
      done += n;
    }
    chunkStart = chunkEnd;
  }
  if (done < count) {
    throw new RangeError(`fillMatrix: column "${column.name}" has ${chunkStart} rows, asked for row ${row + count - 1}`);
  }
}

function copyChunk(
  name: string,
  chunk: ColumnChunk,
  local: number,
  n: number,
  out: Float32Array | Float64Array,
  pos: number,
  stride: number,
  nullValue: number | undefined,
  nonFinite: NonFinitePolicy,
  firstRow: number,
  nulls: NullPolicy | undefined,
): void {
  const values = chunk.values;
  const bitmap = chunk.nullCount > 0 && chunk.nullBitmap && chunk.nullBitmap.length > 0 ? chunk.nullBitmap : null;
  const bit0 = chunk.offset + local;
  const isBig = values instanceof BigInt64Array || values instanceof BigUint64Array;
  const checkFinite = nonFinite !== 'keep' && (values instanceof Float32Array || values instanceof Float64Array);
  for (let i = 0; i < n; i++, pos += stride) {
    if (bitmap !== null) {
      const b = bit0 + i;
      if ((bitmap[b >> 3]! & (1 << (b & 7))) === 0) {
        if (nullValue === undefined) throw refused(name, firstRow + i, 'null', nullHint(name, nulls, 'null'));
        out[pos] = nullValue;
        continue;
      }
    }
    const v = isBig ? Number(values[local + i]!) : (values[local + i] as number);
    // v - v is 0 for every finite number and NaN for NaN and ±Infinity: one cheap test.
    if (checkFinite && v - v !== 0) {
      if (nonFinite === 'error') throw refused(name, firstRow + i, kindOf(v), 'nonFinite: "error"; use "keep" or "as-null"');
      if (nullValue === undefined) throw refused(name, firstRow + i, kindOf(v), nullHint(name, nulls, 'nonFinite'));
      out[pos] = nullValue;
      continue;
    }
    out[pos] = v;
  }
}

/**
 * Why a null (or a non-finite value under `nonFinite: "as-null"`) had no value, in the
 * terms of the policy the user set: under `impute` the fix is an entry for this column,
 * not a change of policy.
 */
function nullHint(name: string, nulls: NullPolicy | undefined, what: 'null' | 'nonFinite'): string {
  const prefix = what === 'nonFinite' ? 'nonFinite: "as-null" and ' : '';
  if (nulls === 'error') return `${prefix}nulls: "error"; use "nan" or impute`;
  if (typeof nulls === 'object') return `${prefix}nulls: impute has no value for ${JSON.stringify(name)}; add it to nulls.impute or use "nan"`;
  return `${prefix}no value for nulls of ${JSON.stringify(name)}; use nulls "nan" or impute it`;
}

function kindOf(v: number): BadValueKind {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

function refused(name: string, row: number, kind: BadValueKind, hint: string): FeatureValueError {
  return new FeatureValueError(name, row, kind, hint);
}
