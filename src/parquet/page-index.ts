/**
 * A column chunk's page indexes (ColumnIndex and OffsetIndex), collected page by page by the
 * column encoders written here (dict-column.ts, numeric-column.ts), in the form arrow-rs
 * writes them. ColumnIndex: null_pages 1, min_values 2, max_values 3, boundary_order 4,
 * null_counts 5. OffsetIndex: page_locations 1 (offset 1, compressed_page_size 2,
 * first_row_index 3).
 */
import { binary, bool, CT, encodeStruct, i32, i64, list, struct, type TField, type TValue } from './thrift.js';

const EMPTY = new Uint8Array(0);

export class PageIndexBuilder {
  private readonly locations: TValue[] = [];
  private readonly nullPages: TValue[] = [];
  private readonly mins: TValue[] = [];
  private readonly maxs: TValue[] = [];
  private readonly nulls: TValue[] = [];

  /**
   * One data page: where it starts in the chunk, its size with header, its first row, its
   * min and max value bytes (null when no value counts: nulls only, or NaN only), its null
   * count and whether it holds nulls only.
   */
  add(page: { offset: number; size: number; firstRow: number; min: Uint8Array | null; max: Uint8Array | null; nulls: number; allNull: boolean }): void {
    this.locations.push(struct([{ id: 1, value: i64(page.offset) }, { id: 2, value: i32(page.size) }, { id: 3, value: i64(page.firstRow) }]));
    this.nullPages.push(bool(page.allNull));
    this.mins.push(binary(page.min ?? EMPTY));
    this.maxs.push(binary(page.max ?? EMPTY));
    this.nulls.push(i64(page.nulls));
  }

  get pages(): number {
    return this.locations.length;
  }

  /** The encoded ColumnIndex. `boundaryOrder`: 0 unordered, 1 ascending, 2 descending. */
  columnIndex(boundaryOrder: number): Uint8Array {
    return encodeStruct([
      { id: 1, value: list(CT.TRUE, this.nullPages) },
      { id: 2, value: list(CT.BINARY, this.mins) },
      { id: 3, value: list(CT.BINARY, this.maxs) },
      { id: 4, value: i32(boundaryOrder) },
      { id: 5, value: list(CT.I64, this.nulls) },
    ]);
  }

  /** The OffsetIndex struct's fields. */
  offsetIndex(): TField[] {
    return [{ id: 1, value: list(CT.STRUCT, this.locations) }];
  }
}
