import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import type { OutputCompression } from '../spec/job-spec.js';
import { ParquetError } from './parquet-reader.js';

/** Options of `encodeParquet`. */
export interface EncodeOptions {
  /** Codec for every column. Default `snappy`. */
  compression?: OutputCompression;
  /** Maximum rows per row group. Default 1,048,576 (readers parallelise by row group). */
  maxRowGroupRows?: number;
  /** URI the bytes are destined for, for error messages. */
  uri: string;
}

const CODECS: Record<OutputCompression, pw.Compression> = {
  snappy: pw.Compression.SNAPPY,
  zstd: pw.Compression.ZSTD,
  lz4: pw.Compression.LZ4_RAW,
  gzip: pw.Compression.GZIP,
  none: pw.Compression.UNCOMPRESSED,
};

function isStringLike(type: arrow.DataType): boolean {
  return arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type) || arrow.DataType.isDictionary(type);
}

/**
 * Writer properties for one file. Built fresh for every write: `writeParquet` consumes the
 * object, and a reused one silently falls back to arrow-rs defaults (dictionary on every
 * column: random floats got 51% larger and 3x slower to write).
 */
function writerProperties(schema: arrow.Schema, options: EncodeOptions): pw.WriterProperties {
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(CODECS[options.compression ?? 'snappy'])
    .setDictionaryEnabled(false)
    .setMaxRowGroupSize(options.maxRowGroupRows ?? 1_048_576);
  for (const field of schema.fields) {
    if (isStringLike(field.type)) builder = builder.setColumnDictionaryEnabled(field.name, true);
  }
  return builder.build();
}

/**
 * Encode an Arrow table as one Parquet file and check, by decoding the footer of the bytes
 * just written, that it holds exactly the table's rows.
 * @throws ParquetError when encoding fails or the footer disagrees
 */
export async function encodeParquet(table: arrow.Table, options: EncodeOptions): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    const wasmTable = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
    bytes = pw.writeParquet(wasmTable, writerProperties(table.schema, options));
  } catch (err) {
    throw new ParquetError(options.uri, `cannot encode output: ${err instanceof Error ? err.message : String(err)}`);
  }
  const written = await footerRowCount(bytes, options.uri);
  if (written !== table.numRows) {
    throw new ParquetError(options.uri, `wrote ${written} rows, expected ${table.numRows}`);
  }
  return bytes;
}

/** Row count recorded in the footer of in-memory Parquet bytes. */
export async function footerRowCount(bytes: Uint8Array, uri: string): Promise<number> {
  try {
    const file = await pw.ParquetFile.fromFile(new Blob([bytes]));
    try {
      return file.metadata().fileMetadata().numRows();
    } finally {
      file.free();
    }
  } catch (err) {
    throw new ParquetError(uri, `written file does not decode: ${err instanceof Error ? err.message : String(err)}`);
  }
}
