/**
 * The column shapes the scoring core works on. They match Arrow's `Data` (values, validity
 * bitmap with a bit offset, length, null count), so Arrow chunks pass straight in, but the
 * core does not depend on apache-arrow: a column can come from Arrow IPC, from WASM memory
 * through the C data interface, or from a test.
 */
export type NumericValues =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** One contiguous piece of a column. `values[i]` is row i; its validity bit is `offset + i`. */
export interface ColumnChunk {
  readonly values: NumericValues;
  /** Arrow validity bitmap (LSB first, 1 = valid). Empty or absent when there are no nulls. */
  readonly nullBitmap?: Uint8Array | null | undefined;
  /** Bit offset of row 0 in `nullBitmap`. */
  readonly offset: number;
  readonly length: number;
  readonly nullCount: number;
}

/** A named feature column, possibly in several chunks. */
export interface FeatureColumn {
  readonly name: string;
  readonly chunks: readonly ColumnChunk[];
}

/** Total rows of a chunked column. */
export function columnLength(column: FeatureColumn): number {
  let n = 0;
  for (const chunk of column.chunks) n += chunk.length;
  return n;
}
