import type * as A from 'apache-arrow';
import { arrow } from './arrow.js';
import type * as PW from 'parquet-wasm';
import { pw } from './wasm.js';
import type { ColumnChunk, FeatureColumn } from '../scoring/columns.js';
import { featureColumn } from './arrow-columns.js';
import { arrowData, checkSupported, FFIUnsupportedError, numericChunk, readNode, type FFINode } from './ffi.js';
import { chunkRanges, coalesceRanges, type ByteRange, type ChunkRanges } from './chunk-ranges.js';

/**
 * The byte-range interface every Parquet read goes through: what parquet-wasm's
 * `ParquetFile.fromFile` needs of a Blob. `storage/range-blob.ts` builds one over any store.
 */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
  /**
   * Optional: called around each decode call, which ends the returned lease once it has
   * settled (parquet-wasm has copied what it read by then): see `ReadBuffers`.
   */
  lease?(): () => void;
  /**
   * Optional: start reading these absolute byte ranges now, concurrently (see
   * `RangeBlob.prefetch`); the reader passes a row group's column chunks before decoding it.
   */
  prefetch?(ranges: readonly ByteRange[]): void;
  /** Optional: forget prefetched bytes nobody asked for; called after each row group. */
  dropPrefetched?(): void;
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

/**
 * One decoded row group, its column buffers still in parquet-wasm's memory (no copy). Every
 * accessor re-derives its views when that memory has grown since the last call, so a view
 * obtained from an accessor is valid until the next call into parquet-wasm (any reader or
 * writer in this thread) or `release()`; call the accessor again after one. Copies
 * (`copyVector`) are always safe to keep.
 */
export interface RowGroupView {
  readonly index: number;
  readonly numRows: number;
  /** A numeric column (one chunk) as the scoring core reads it. */
  featureColumn(name: string): FeatureColumn;
  /** Every column read, in the order asked for, as an Arrow table of views. */
  table(): A.Table;
  /** One column as an Arrow vector of views. */
  vector(name: string): A.Vector;
  /** One column copied out of WASM memory: safe to keep after `release()`. */
  copyVector(name: string): A.Vector;
  /** Free the WASM-side buffers. Views die with them. Idempotent. */
  release(): void;
}

/** Row groups, schema and a reader of one row group at a time, with column projection. */
export interface ParquetReader {
  readonly uri: string;
  /** Rows in the file, from the footer. */
  readonly numRows: number;
  /** Rows of each row group, from the footer. */
  readonly rowGroupRows: readonly number[];
  /** Arrow schema of the whole file. */
  readonly schema: A.Schema;
  /** Writer recorded in the footer (`created_by`), if any. */
  readonly createdBy: string | undefined;
  /**
   * Read one row group, only `columns` (in that order), as one Arrow table whose buffers
   * belong to it (copied out of WASM memory). Memory is bounded by the row group.
   */
  readRowGroup(index: number, columns: readonly string[]): Promise<A.Table>;
  /**
   * Read one row group, only `columns`, leaving the decoded buffers in WASM memory: the
   * scoring path reads them in place. Always `release()` the view.
   */
  readRowGroupView?(index: number, columns: readonly string[]): Promise<RowGroupView>;
  /** Free the WASM-side file handle. */
  close(): void;
}

/** Compressed bytes per decode call (see `columnGroups`). */
const DECODE_GROUP_BYTES = 6 << 20;

/**
 * Compressed bytes of one row group fetched ahead of decoding over a blob that can prefetch
 * (remote stores): all its decode groups' chunks in concurrent requests, up to this much; the
 * rest is read by each decode call as usual. Bounds the memory that reading ahead costs.
 */
const PREFETCH_BYTES = 32 << 20;

/**
 * Chunks closer than this are fetched in one request. At least the gap parquet-wasm
 * (arrow-rs) itself coalesces with, so each of its reads lies inside one prefetched range.
 */
const PREFETCH_GAP_BYTES = 1 << 20;

/** The WASM memory's current buffer (a new object after every growth). */
function memoryBuffer(): ArrayBuffer {
  return pw.wasmMemory().buffer as ArrayBuffer;
}

/** A view over one decoded row group whose columns came out through FFI. */
class FFIRowGroup implements RowGroupView {
  private streams: PW.FFIStream[] | null;
  private memory: ArrayBuffer | null = null;
  private nodes = new Map<string, FFINode>();
  private features = new Map<string, FeatureColumn>();
  private vectors = new Map<string, A.Vector>();

  constructor(
    readonly index: number,
    readonly numRows: number,
    private readonly columns: readonly string[],
    streams: PW.FFIStream[],
    private readonly uri: string,
  ) {
    this.streams = streams;
    this.refresh();
  }

  /** Re-derive the column tree when the memory buffer changed (or on first use). */
  private refresh(): ArrayBuffer {
    if (!this.streams) throw new Error(`parquet: ${this.uri}: row group ${this.index} used after release()`);
    // Growing WASM memory detaches its old buffer: while ours has bytes, it is current
    // (checked without a call into WASM: this runs for every column of every batch).
    if (this.memory !== null && this.memory.byteLength !== 0) return this.memory;
    const memory = memoryBuffer();
    if (memory === this.memory) return memory;
    this.memory = memory;
    this.features.clear();
    this.vectors.clear();
    if (this.nodes.size === 0) {
      for (const stream of this.streams) {
        const root = readNode(memory, stream.arrayAddr(0), stream.schemaAddr());
        if (root.format !== '+s') throw new ParquetError(this.uri, `row group ${this.index}: FFI root is "${root.format}", not a struct`);
        if (root.length !== this.numRows) throw new ParquetError(this.uri, `row group ${this.index}: footer says ${this.numRows} rows, decoded ${root.length}`);
        for (const child of root.children) {
          // A struct root with a parent offset would shift every child; arrow-rs never does that.
          if (root.offset !== 0) throw new FFIUnsupportedError('+s with offset', child.name);
          this.nodes.set(child.name, child);
        }
      }
      for (const name of this.columns) {
        const node = this.nodes.get(name);
        if (!node) throw new ParquetError(this.uri, `row group ${this.index}: column "${name}" missing from the decoded data`);
        checkSupported(node);
        if (node.length !== this.numRows) throw new ParquetError(this.uri, `row group ${this.index}: column "${name}" has ${node.length} rows, expected ${this.numRows}`);
      }
    }
    return memory;
  }

  private node(name: string): FFINode {
    const node = this.nodes.get(name);
    if (!node || !this.columns.includes(name)) throw new ParquetError(this.uri, `row group ${this.index}: column "${name}" was not read`);
    return node;
  }

  featureColumn(name: string): FeatureColumn {
    const memory = this.refresh();
    let col = this.features.get(name);
    if (!col) {
      const chunk: ColumnChunk = numericChunk(memory, this.node(name), false);
      col = { name, chunks: [chunk] };
      this.features.set(name, col);
    }
    return col;
  }

  vector(name: string): A.Vector {
    const memory = this.refresh();
    let v = this.vectors.get(name);
    if (!v) {
      v = arrow.makeVector(arrowData(memory, this.node(name), false, this.columns.indexOf(name)));
      this.vectors.set(name, v);
    }
    return v;
  }

  table(): A.Table {
    return new arrow.Table(Object.fromEntries(this.columns.map((c) => [c, this.vector(c)])));
  }

  copyVector(name: string): A.Vector {
    return arrow.makeVector(arrowData(this.refresh(), this.node(name), true, this.columns.indexOf(name)));
  }

  release(): void {
    for (const stream of this.streams ?? []) stream.free();
    this.streams = null;
    this.nodes.clear();
    this.features.clear();
    this.vectors.clear();
  }
}

/** A view over a row group decoded through IPC (types FFI does not cover). Owns its buffers. */
class TableRowGroup implements RowGroupView {
  constructor(readonly index: number, readonly numRows: number, private readonly t: A.Table, private readonly uri: string) {}

  featureColumn(name: string): FeatureColumn {
    return featureColumn(this.t, name, this.uri);
  }

  table(): A.Table {
    return this.t;
  }

  vector(name: string): A.Vector {
    const v = this.t.getChild(name);
    if (!v) throw new ParquetError(this.uri, `row group ${this.index}: column "${name}" was not read`);
    return v;
  }

  copyVector(name: string): A.Vector {
    return this.vector(name);
  }

  release(): void {}
}

/**
 * The chunk ranges of the file behind `blob`, from its footer (served from the blob's tail
 * read over a remote store); null when they cannot be had, and reading goes on without.
 */
async function footerChunkRanges(blob: BlobLike): Promise<ChunkRanges | null> {
  try {
    const length = new DataView(await blob.slice(blob.size - 8, blob.size - 4).arrayBuffer()).getUint32(0, true);
    if (length + 12 > blob.size) return null;
    const footer = new Uint8Array(await blob.slice(blob.size - 8 - length, blob.size - 8).arrayBuffer());
    return footer.byteLength === length ? chunkRanges(footer, blob.size) : null;
  } catch {
    return null;
  }
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
  let file: PW.ParquetFile;
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
    const fileColumns = new Set(schema.fields.map((f) => f.name));
    // Where the chunks are, for blobs that can fetch a row group's chunks ahead of decoding.
    const ranges = blob.prefetch ? await footerChunkRanges(blob) : null;
    // Set once a column type is met that FFI does not cover: this file then reads through IPC.
    let ipcOnly = false;

    /** Decode row group `index` (only `columns`) in WASM; the caller consumes the table. */
    const decode = async (index: number, columns: readonly string[]): Promise<PW.Table> => {
      const rows = rowGroupRows[index];
      if (rows === undefined) throw new ParquetError(uri, `no row group ${index} (file has ${rowGroupRows.length})`);
      const missing = columns.filter((c) => !fileColumns.has(c));
      if (missing.length) throw new ParquetError(uri, `row group ${index}: no column ${missing.map((c) => `"${c}"`).join(', ')} in the file`);
      const endLease = blob.lease?.();
      try {
        // One batch per row group: parquet-wasm decodes whole row groups anyway.
        return await file.read({ rowGroups: [index], columns: [...columns], batchSize: Math.max(rows, 1) });
      } catch (err) {
        throw new ParquetError(uri, `row group ${index}: ${messageOf(err)}`);
      } finally {
        endLease?.();
      }
    };

    const viaIPC = (index: number, columns: readonly string[], wasmTable: PW.Table): A.Table => {
      const rows = rowGroupRows[index]!;
      let table: A.Table;
      try {
        table = arrow.tableFromIPC(wasmTable.intoIPCStream());
      } catch (err) {
        throw new ParquetError(uri, `row group ${index}: ${messageOf(err)}`);
      }
      // parquet-wasm returns columns in file order; callers get the order they asked for.
      if (table.schema.fields.some((f, i) => f.name !== columns[i])) {
        const t = table;
        table = new arrow.Table(Object.fromEntries(columns.map((c) => [c, t.getChild(c)!])));
      }
      if (table.numRows !== rows) {
        throw new ParquetError(uri, `row group ${index}: footer says ${rows} rows, decoded ${table.numRows}`);
      }
      return table;
    };

    /**
     * The columns to read, in groups of at most ~`DECODE_GROUP_BYTES` compressed: each
     * group is one decode call, so WASM memory holds one group's compressed bytes and page
     * buffers at a time (plus every decoded column), not the whole row group's (measured on
     * 34 of the demo's 35 columns: 64 MB of WASM memory in one call, ~36 MB in groups).
     */
    const columnGroups = (index: number, columns: readonly string[]): string[][] => {
      const sizes = new Map<string, number>();
      try {
        const group = meta.rowGroup(index);
        for (let c = 0; c < group.numColumns(); c++) {
          const chunk = group.column(c);
          const name = chunk.columnPath()[0] ?? '';
          sizes.set(name, (sizes.get(name) ?? 0) + chunk.compressedSize());
        }
      } catch {
        return [[...columns]];
      }
      const groups: string[][] = [];
      let current: string[] = [];
      let bytes = 0;
      for (const name of columns) {
        const size = sizes.get(name) ?? 0;
        if (current.length > 0 && bytes + size > DECODE_GROUP_BYTES) {
          groups.push(current);
          current = [];
          bytes = 0;
        }
        current.push(name);
        bytes += size;
      }
      if (current.length > 0) groups.push(current);
      return groups;
    };

    /** Start fetching the chunks of these decode groups of row group `index` (see `PREFETCH_BYTES`). */
    const prefetch = (index: number, groups: readonly (readonly string[])[]): void => {
      const inGroup = ranges?.[index];
      if (!inGroup || !blob.prefetch) return;
      const wanted: ByteRange[] = [];
      let bytes = 0;
      for (const group of groups) {
        const merged = coalesceRanges(group.flatMap((c) => inGroup.get(c) ?? []), PREFETCH_GAP_BYTES);
        const size = merged.reduce((n, [a, b]) => n + (b - a), 0);
        if (wanted.length > 0 && bytes + size > PREFETCH_BYTES) break;
        wanted.push(...merged);
        bytes += size;
      }
      blob.prefetch(wanted);
    };

    const readView = async (index: number, columns: readonly string[]): Promise<RowGroupView> => {
      try {
        return await decodeView(index, columns);
      } finally {
        blob.dropPrefetched?.();
      }
    };

    const decodeView = async (index: number, columns: readonly string[]): Promise<RowGroupView> => {
      const rows = rowGroupRows[index];
      if (rows === undefined) throw new ParquetError(uri, `no row group ${index} (file has ${rowGroupRows.length})`);
      if (ipcOnly || rows === 0) {
        prefetch(index, [columns]);
        return new TableRowGroup(index, rows, viaIPC(index, columns, await decode(index, columns)), uri);
      }
      const streams: PW.FFIStream[] = [];
      const groups = columnGroups(index, columns);
      prefetch(index, groups);
      try {
        for (const group of groups) {
          const wasmTable = await decode(index, group);
          if (wasmTable.numBatches !== 1) {
            wasmTable.free();
            throw new FFIUnsupportedError(`${wasmTable.numBatches} batches`, group[0] ?? '');
          }
          try {
            streams.push(wasmTable.intoFFI());
          } catch (err) {
            throw new ParquetError(uri, `row group ${index}: ${messageOf(err)}`);
          }
        }
        return new FFIRowGroup(index, rows, columns, streams, uri);
      } catch (err) {
        for (const stream of streams) stream.free();
        if (!(err instanceof FFIUnsupportedError)) throw err;
        ipcOnly = true;
        return new TableRowGroup(index, rows, viaIPC(index, columns, await decode(index, columns)), uri);
      }
    };

    return {
      uri,
      numRows: fileMeta.numRows(),
      rowGroupRows,
      schema,
      createdBy: fileMeta.createdBy() ?? undefined,
      async readRowGroup(index, columns) {
        const view = await readView(index, columns);
        try {
          if (view instanceof TableRowGroup) return view.table();
          return new arrow.Table(Object.fromEntries(columns.map((c) => [c, view.copyVector(c)])));
        } finally {
          view.release();
        }
      },
      readRowGroupView: readView,
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
