/**
 * Parquet format enum values (parquet.thrift) used by the column encoders written here
 * (dict-column.ts, numeric-column.ts).
 */

// Type
export const INT32 = 1;
export const INT64 = 2;
export const FLOAT = 4;
export const DOUBLE = 5;
export const BYTE_ARRAY = 6;

// Encoding
export const PLAIN = 0;
export const RLE = 3;
export const DELTA_BINARY_PACKED = 5;
export const RLE_DICTIONARY = 8;

// PageType
export const DATA_PAGE = 0;
export const DICTIONARY_PAGE = 2;
