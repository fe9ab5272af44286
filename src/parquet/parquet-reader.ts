import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';

/**
 * The byte-range interface every Parquet read goes through: what parquet-wasm's
 * `ParquetFile.fromFile` needs of a Blob. `storage/range-blob.ts` builds one over any store.
 */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/** A Parquet file that cannot be read: corrupt, truncated or of an unsupported layout. */
export class ParquetError extends Error {
  constructor(readonly uri: string, message: string) {
    super(`parquet: ${uri}: ${message}`);
    this.name = 'ParquetError';
  }
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
}

/** Row groups, schema and a reader of one row group at a time, with column projection. */
export interface ParquetReader {
  readonly uri: string;
  /** Rows in the file, from the footer. */
  readonly numRows: number;
  /** Rows of each row group, from the footer. */
  readonly rowGroupRows: readonly number[];
  /** Arrow schema of the whole file. */
  readonly schema: arrow.Schema;
  /** Writer recorded in the footer (`created_by`), if any. */
  readonly createdBy: string | undefined;
  /**
   * Read one row group, only `columns` (in that order), as one Arrow table. Memory is bounded
   * by the row group, never by the file.
   */
  readRowGroup(index: number, columns: readonly string[]): Promise<arrow.Table>;
  /** Free the WASM-side file handle. */
  close(): void;
}

/**
 * Open a Parquet file through byte-range reads: the footer first, then only the column
 * chunks asked for.
 * @throws ParquetError naming the file when the footer or schema cannot be decoded
 */
export async function openParquet(blob: BlobLike, uri: string): Promise<ParquetReader> {
  if (blob.size < 12) throw new ParquetError(uri, `file is ${blob.size} bytes, too small to be Parquet (empty or truncated)`);
  const magic = new Uint8Array(await blob.slice(blob.size - 4, blob.size).arrayBuffer());
  if (String.fromCharCode(...magic) !== 'PAR1') {
    throw new ParquetError(uri, 'no PAR1 magic at the end of the file (truncated or not Parquet)');
  }
  let file: pw.ParquetFile;
  try {
    file = await pw.ParquetFile.fromFile(blob as unknown as Blob);
  } catch (err) {
    throw new ParquetError(uri, `cannot read the footer: ${messageOf(err)}`);
  }
  try {
    const meta = file.metadata();
    const rowGroupRows: number[] = [];
    for (let i = 0; i < meta.numRowGroups(); i++) rowGroupRows.push(meta.rowGroup(i).numRows());
    const fileMeta = meta.fileMetadata();
    const schema = arrow.tableFromIPC(file.schema().intoIPCStream()).schema;
    return {
      uri,
      numRows: fileMeta.numRows(),
      rowGroupRows,
      schema,
      createdBy: fileMeta.createdBy() ?? undefined,
      async readRowGroup(index, columns) {
        const rows = rowGroupRows[index];
        if (rows === undefined) throw new ParquetError(uri, `no row group ${index} (file has ${rowGroupRows.length})`);
        let table: arrow.Table;
        try {
          // One batch per row group: parquet-wasm decodes whole row groups anyway.
          const wasmTable = await file.read({ rowGroups: [index], columns: [...columns], batchSize: Math.max(rows, 1) });
          table = arrow.tableFromIPC(wasmTable.intoIPCStream());
        } catch (err) {
          throw new ParquetError(uri, `row group ${index}: ${messageOf(err)}`);
        }
        // parquet-wasm returns columns in file order; callers get the order they asked for.
        if (table.schema.fields.some((f, i) => f.name !== columns[i])) {
          table = new arrow.Table(Object.fromEntries(columns.map((c) => [c, table.getChild(c)!])));
        }
        if (table.numRows !== rows) {
          throw new ParquetError(uri, `row group ${index}: footer says ${rows} rows, decoded ${table.numRows}`);
        }
        return table;
      },
      close() {
        file.free();
      },
    };
  } catch (err) {
    file.free();
    if (err instanceof ParquetError) throw err;
    throw new ParquetError(uri, `cannot read the metadata: ${messageOf(err)}`);
  }
}
