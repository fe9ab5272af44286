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
}

/** Turn the spec's policies into a per-feature `FillPolicy`. */
export function fillPolicy(features: readonly string[], nulls: NullPolicy, nonFinite: NonFinitePolicy): FillPolicy {
  const nullValue = features.map((name) => {
    if (nulls === 'nan') return Number.NaN;
    if (nulls === 'error') return undefined;
    return nulls.impute[name];
  });
  return { nullValue, nonFinite };
}

// Row blocks keep the strided writes of all columns inside a cache-sized window.
const BLOCK_ROWS = 512;

/**
 * Fill `out` (row-major, `stride` values per row) with rows `[rowStart, rowStart+rowCount)`
 * of `columns`, column j going to position `j` of each row. Validity bitmaps are read
 * directly: an Arrow null never becomes 0 by accident.
 * @throws FeatureValueError when a null or non-finite value is refused by the policy
 */
export function fillMatrix(
  columns: readonly FeatureColumn[],
  rowStart: number,
  rowCount: number,
  out: Float32Array | Float64Array,
  policy: FillPolicy,
  stride: number = columns.length,
): void {
  if (out.length < rowCount * stride) {
    throw new RangeError(`fillMatrix: output holds ${out.length} values, needs ${rowCount * stride}`);
  }
  for (let block = 0; block < rowCount; block += BLOCK_ROWS) {
    const n = Math.min(BLOCK_ROWS, rowCount - block);
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
      copyChunk(column.name, chunk, local, n, out, outPos + done * stride, stride, policy.nullValue[j], policy.nonFinite, at);
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
        if (nullValue === undefined) throw refused(name, firstRow + i, 'null', 'nulls: "error"; use "nan" or impute');
        out[pos] = nullValue;
        continue;
      }
    }
    const v = isBig ? Number(values[local + i]!) : (values[local + i] as number);
    // v - v is 0 for every finite number and NaN for NaN and ±Infinity: one cheap test.
    if (checkFinite && v - v !== 0) {
      if (nonFinite === 'error') throw refused(name, firstRow + i, kindOf(v), 'nonFinite: "error"; use "keep" or "as-null"');
      if (nullValue === undefined) throw refused(name, firstRow + i, kindOf(v), 'nonFinite: "as-null" and nulls: "error"');
      out[pos] = nullValue;
      continue;
    }
    out[pos] = v;
  }
}

function kindOf(v: number): BadValueKind {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

function refused(name: string, row: number, kind: BadValueKind, hint: string): FeatureValueError {
  return new FeatureValueError(name, row, kind, hint);
}
