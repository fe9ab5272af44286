/**
 * Parquet page headers (Thrift `PageHeader`) as the JS column encoders write them: one
 * dictionary page or V1 data pages, with RLE definition and repetition levels.
 */
import { DATA_PAGE, RLE } from './format.js';
import { encodeStruct, i32, struct, type TField } from './thrift.js';

/** A page header: type, sizes, and the struct for that type of page (field 5 or 7). */
export function pageHeader(type: number, uncompressed: number, compressed: number, header: TField): Uint8Array {
  return encodeStruct([{ id: 1, value: i32(type) }, { id: 2, value: i32(uncompressed) }, { id: 3, value: i32(compressed) }, header]);
}

/** The header of a V1 data page of `rows` values in `encoding`, levels RLE. */
export function dataPageHeader(uncompressed: number, compressed: number, rows: number, encoding: number): Uint8Array {
  return pageHeader(DATA_PAGE, uncompressed, compressed, {
    id: 5,
    value: struct([{ id: 1, value: i32(rows) }, { id: 2, value: i32(encoding) }, { id: 3, value: i32(RLE) }, { id: 4, value: i32(RLE) }]),
  });
}
