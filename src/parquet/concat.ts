/**
 * Concatenating Parquet files of one schema into one Parquet file, row group by row group,
 * without decoding any data: each input's column chunks are copied as they are, and one new
 * footer lists every row group with its offsets moved to where its bytes now sit.
 *
 * Layout written: `PAR1`, the row groups in append order, every column index, every offset
 * index (page locations moved too), the footer, its length, `PAR1` (what arrow-rs writes).
 * Inputs with bloom filters, encryption or column chunks in other files are refused: this
 * project's writer never produces them.
 *
 * This is how outputs stream (one parquet-wasm `writeParquet` per row group, concatenated
 * here, so memory is bounded by a row group) and how the parts of one file scored on
 * several threads become one file.
 */
import type { ColumnPart } from './dict-column.js';
import { ParquetError } from './parquet-reader.js';
import {
  CT, decodeStruct, encodeStruct, field, i16, i32, i64, intField, removeField, setField, structField, structList, structListField,
  ThriftError, type TField,
} from './thrift.js';

/** Where concatenated bytes go, in order. */
export interface ByteSink {
  write(chunk: Uint8Array): void | Promise<void>;
}

/** Random access to one input Parquet file (in memory or on disk). */
export interface PieceSource {
  readonly size: number;
  read(start: number, end: number): Uint8Array | Promise<Uint8Array>;
}

/** An in-memory Parquet file as a `PieceSource`. */
export function bytesSource(bytes: Uint8Array): PieceSource {
  return { size: bytes.length, read: (start, end) => bytes.subarray(start, end) };
}

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // PAR1

// FileMetaData
const FM_SCHEMA = 2, FM_NUM_ROWS = 3, FM_ROW_GROUPS = 4, FM_ENCRYPTION = 8;
// RowGroup
const RG_COLUMNS = 1, RG_NUM_ROWS = 3, RG_FILE_OFFSET = 5, RG_ORDINAL = 7;
// ColumnChunk
const CC_FILE_PATH = 1, CC_FILE_OFFSET = 2, CC_META = 3, CC_OI_OFFSET = 4, CC_OI_LENGTH = 5, CC_CI_OFFSET = 6, CC_CI_LENGTH = 7, CC_CRYPTO = 8;
// ColumnMetaData
const CM_UNCOMPRESSED = 6, CM_COMPRESSED = 7, CM_DATA_PAGE = 9, CM_INDEX_PAGE = 10, CM_DICT_PAGE = 11, CM_BLOOM_OFFSET = 14;
// RowGroup (continued)
const RG_TOTAL_BYTES = 2, RG_TOTAL_COMPRESSED = 6;
// OffsetIndex / PageLocation
const OI_PAGES = 1, PL_OFFSET = 1;

/** An input Parquet file with its footer decoded: its row groups can be appended to a concatenation. */
export class ParquetPiece {
  private constructor(
    readonly source: PieceSource,
    readonly meta: TField[],
    readonly groups: TField[][],
    readonly numRows: number,
    readonly footerStart: number,
  ) {}

  /** Rows of each row group. */
  get rowGroupRows(): number[] {
    return this.groups.map((g) => intField(g, RG_NUM_ROWS) ?? 0);
  }

  /**
   * The column chunks of row group `g` as self-contained parts (bytes and metadata with
   * offsets counted from the part's first byte), to assemble into another row group.
   */
  async columnParts(g: number, uri: string): Promise<ColumnPart[]> {
    const chunks = structListField(this.groups[g] ?? [], RG_COLUMNS);
    if (!chunks) throw new ParquetError(uri, `piece has no row group ${g}`);
    const parts: ColumnPart[] = [];
    for (const original of chunks) {
      const chunk = cloneFields(original);
      const meta = structField(chunk, CC_META);
      if (!meta || field(chunk, CC_FILE_PATH) || field(chunk, CC_CRYPTO) || field(meta, CM_BLOOM_OFFSET)) throw new ParquetError(uri, 'column chunk this writer cannot copy');
      const size = intField(meta, CM_COMPRESSED);
      const start = Math.min(...[CM_DATA_PAGE, CM_INDEX_PAGE, CM_DICT_PAGE].map((id) => intField(meta, id) ?? Number.POSITIVE_INFINITY));
      if (size === undefined || !Number.isFinite(start) || start < 4 || start + size > this.footerStart) throw new ParquetError(uri, 'column chunk outside its piece');
      const delta = BigInt(-start);
      for (const id of [CM_DATA_PAGE, CM_INDEX_PAGE, CM_DICT_PAGE]) shiftField(meta, id, delta);
      shiftField(chunk, CC_FILE_OFFSET, delta, true);
      const { columnIndex, offsetIndex } = await takeIndexes(this.source, chunk, (page) => shiftField(page, PL_OFFSET, delta), (message) => {
        throw new ParquetError(uri, message);
      });
      parts.push({ bytes: (await this.source.read(start, start + size)).slice(), chunk, columnIndex, offsetIndex });
    }
    return parts;
  }

  /**
   * Decode the footer of `piece`.
   * @throws ParquetError (naming `uri`) when it is not Parquet this code can copy
   */
  static async open(piece: Uint8Array | PieceSource, uri: string): Promise<ParquetPiece> {
    const fail = (message: string): never => {
      throw new ParquetError(uri, message);
    };
    const src = piece instanceof Uint8Array ? bytesSource(piece) : piece;
    if (src.size < 12) fail(`piece of ${src.size} bytes is not Parquet`);
    const tail = await src.read(src.size - 8, src.size);
    if (!MAGIC.every((b, i) => tail[4 + i] === b)) fail('piece has no PAR1 magic at its end');
    const footerLength = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
    const footerStart = src.size - 8 - footerLength;
    if (footerStart < 4) fail(`piece footer of ${footerLength} bytes does not fit in ${src.size} bytes`);
    let meta: TField[] = [];
    try {
      meta = decodeStruct(await src.read(footerStart, src.size - 8)).fields;
    } catch (err) {
      if (err instanceof ThriftError) fail(`piece footer does not decode: ${err.message}`);
      throw err;
    }
    if (field(meta, FM_ENCRYPTION)) fail('encrypted Parquet cannot be concatenated');
    const numRows = intField(meta, FM_NUM_ROWS);
    if (numRows === undefined) return fail('piece footer has no row count');
    const groups = structListField(meta, FM_ROW_GROUPS) ?? [];
    const groupRows = groups.reduce((n, g) => n + (intField(g, RG_NUM_ROWS) ?? Number.NaN), 0);
    if (groupRows !== numRows) fail(`piece footer says ${numRows} rows but its row groups hold ${groupRows}`);
    return new ParquetPiece(src, meta, groups, numRows, footerStart);
  }
}

interface PendingIndex {
  /** The column chunk whose index offsets are set at finish. */
  chunk: TField[];
  columnIndex: Uint8Array | null;
  offsetIndex: TField[] | null;
}

/**
 * A column chunk's page indexes, read from `src`: the column index as bytes (it holds no
 * offsets) and the offset index decoded, its page offsets moved by `shiftPage`. Their
 * locations are removed from the chunk: the file they go into sets new ones at the end.
 */
async function takeIndexes(
  src: PieceSource,
  chunk: TField[],
  shiftPage: (page: TField[]) => void,
  fail: (message: string) => never,
): Promise<{ columnIndex: Uint8Array | null; offsetIndex: TField[] | null }> {
  const ciOffset = intField(chunk, CC_CI_OFFSET);
  const ciLength = intField(chunk, CC_CI_LENGTH);
  const oiOffset = intField(chunk, CC_OI_OFFSET);
  const oiLength = intField(chunk, CC_OI_LENGTH);
  let columnIndex: Uint8Array | null = null;
  let offsetIndex: TField[] | null = null;
  if (ciOffset !== undefined && ciLength !== undefined) columnIndex = (await src.read(ciOffset, ciOffset + ciLength)).slice();
  if (oiOffset !== undefined && oiLength !== undefined) {
    try {
      offsetIndex = decodeStruct(await src.read(oiOffset, oiOffset + oiLength)).fields;
    } catch (err) {
      if (err instanceof ThriftError) fail(`offset index does not decode: ${err.message}`);
      throw err;
    }
    for (const page of structListField(offsetIndex, OI_PAGES) ?? []) shiftPage(page);
  }
  for (const id of [CC_OI_OFFSET, CC_OI_LENGTH, CC_CI_OFFSET, CC_CI_LENGTH]) removeField(chunk, id);
  return { columnIndex, offsetIndex };
}

/** A deep copy of a struct's fields (values are rebuilt where this code edits them). */
function cloneFields(fields: readonly TField[]): TField[] {
  return decodeStruct(encodeStruct(fields)).fields;
}

/** Add `delta` to the i64 field `id` (only when positive, with `onlyPositive`). */
function shiftField(fields: TField[], id: number, delta: bigint, onlyPositive = false): void {
  const v = field(fields, id);
  if (v?.t === CT.I64 && (!onlyPositive || v.v > 0n)) setField(fields, id, i64(v.v + delta));
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function encodedField(fields: readonly TField[], id: number): Uint8Array | null {
  const v = field(fields, id);
  return v ? encodeStruct([{ id, value: v }]) : null;
}

/**
 * Appends the row groups of Parquet files of one schema to a sink and writes one footer.
 * Not reusable: one instance per output file.
 */
export class ParquetConcatenator {
  private position = 0;
  private total = 0;
  private head: TField[] | null = null;
  private headSchema: Uint8Array | null = null;
  private headKeyValue: Uint8Array | null = null;
  private readonly rowGroups: TField[][] = [];
  private readonly indexes: PendingIndex[] = [];
  private finished = false;

  constructor(private readonly sink: ByteSink, private readonly uri: string) {}

  /** Rows appended so far. */
  get rows(): number {
    return this.total;
  }

  /** Row groups appended so far. */
  get rowGroupCount(): number {
    return this.rowGroups.length;
  }

  private fail(message: string): never {
    throw new ParquetError(this.uri, message);
  }

  private async emit(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    await this.sink.write(chunk);
    this.position += chunk.length;
  }

  /**
   * Append every row group of one Parquet file.
   * @param piece the file (bytes, a source reading ranges of it, or an opened piece)
   * @param expectedRows when given, the file's footer must say exactly this many rows
   * @throws ParquetError when the piece is not Parquet this can copy, its schema differs
   *   from the first piece's, or its row count is not the expected one
   */
  async append(piece: Uint8Array | PieceSource | ParquetPiece, expectedRows?: number): Promise<void> {
    const p = piece instanceof ParquetPiece ? piece : await ParquetPiece.open(piece, this.uri);
    await this.appendGroups(p, 0, p.groups.length, expectedRows);
  }

  /**
   * Append row groups `[first, first + count)` of an opened piece (each row group may be
   * appended once).
   * @param expectedRows when given, those row groups must hold exactly this many rows
   */
  async appendGroups(piece: ParquetPiece, first: number, count: number, expectedRows?: number): Promise<void> {
    if (this.finished) this.fail('append after finish');
    if (first < 0 || count < 0 || first + count > piece.groups.length) this.fail(`no row groups [${first}, ${first + count}) in a piece of ${piece.groups.length}`);
    const groups = piece.groups.slice(first, first + count);
    const rows = groups.reduce((n, g) => n + (intField(g, RG_NUM_ROWS) ?? 0), 0);
    if (expectedRows !== undefined && rows !== expectedRows) this.fail(`wrote ${rows} rows, expected ${expectedRows}`);
    const meta = piece.meta;
    const schema = encodedField(meta, FM_SCHEMA);
    const keyValue = encodedField(meta, 5);
    if (this.head === null) {
      this.head = meta;
      this.headSchema = schema;
      this.headKeyValue = keyValue;
      await this.emit(new Uint8Array(MAGIC));
    } else if (!sameBytes(schema, this.headSchema) || !sameBytes(keyValue, this.headKeyValue)) {
      this.fail('row groups with different schemas cannot share one file (a column changed type or encoding between row groups)');
    }
    for (const group of groups) await this.appendGroup(piece.source, group, piece.footerStart);
    this.total += rows;
  }

  private async appendGroup(src: PieceSource, group: TField[], footerStart: number): Promise<void> {
    const chunks = structListField(group, RG_COLUMNS);
    if (!chunks || chunks.length === 0) this.fail('row group without columns');
    let start = Number.POSITIVE_INFINITY;
    let end = 0;
    for (const chunk of chunks) {
      if (field(chunk, CC_FILE_PATH) || field(chunk, CC_CRYPTO)) this.fail('column chunks in other files or encrypted are not supported');
      const meta = structField(chunk, CC_META);
      if (!meta) this.fail('column chunk without metadata');
      if (field(meta, CM_BLOOM_OFFSET)) this.fail('bloom filters are not supported');
      const size = intField(meta, CM_COMPRESSED);
      const first = Math.min(...[CM_DATA_PAGE, CM_INDEX_PAGE, CM_DICT_PAGE].map((id) => intField(meta, id) ?? Number.POSITIVE_INFINITY));
      if (size === undefined || !Number.isFinite(first)) this.fail('column chunk without offsets or size');
      start = Math.min(start, first);
      end = Math.max(end, first + size);
    }
    if (start < 4 || end > footerStart) this.fail(`row group bytes [${start}, ${end}) lie outside the piece`);
    const delta = BigInt(this.position - start);
    const shift = (fields: TField[], id: number, onlyPositive = false) => {
      const v = field(fields, id);
      if (v?.t === CT.I64 && (!onlyPositive || v.v > 0n)) setField(fields, id, i64(v.v + delta));
    };
    const pending: PendingIndex[] = [];
    for (const chunk of chunks) {
      const meta = structField(chunk, CC_META)!;
      for (const id of [CM_DATA_PAGE, CM_INDEX_PAGE, CM_DICT_PAGE]) shift(meta, id);
      // Deprecated (and 0 in some writers): moved only when set.
      shift(chunk, CC_FILE_OFFSET, true);
      const { columnIndex, offsetIndex } = await takeIndexes(src, chunk, (page) => shift(page, PL_OFFSET), (message) => this.fail(message));
      pending.push({ chunk, columnIndex, offsetIndex });
    }
    shift(group, RG_FILE_OFFSET);
    setField(group, RG_ORDINAL, i16(this.rowGroups.length));
    // Copy in slices of at most 16 MiB: a row group may be large when reading from disk.
    for (let at = start; at < end; at += 16 << 20) await this.emit(await src.read(at, Math.min(end, at + (16 << 20))));
    this.rowGroups.push(group);
    this.indexes.push(...pending);
  }

  /**
   * Append one row group assembled from column parts (in schema order), under the schema
   * and key-value metadata of `template` (a footer whose schema has exactly these columns).
   * @throws ParquetError when the template's schema differs from the file's
   */
  async appendColumns(template: readonly TField[], parts: readonly ColumnPart[], rows: number): Promise<void> {
    if (this.finished) this.fail('append after finish');
    const schema = encodedField(template, FM_SCHEMA);
    const keyValue = encodedField(template, 5);
    if (this.head === null) {
      this.head = cloneFields(template);
      this.headSchema = schema;
      this.headKeyValue = keyValue;
      await this.emit(new Uint8Array(MAGIC));
    } else if (!sameBytes(schema, this.headSchema) || !sameBytes(keyValue, this.headKeyValue)) {
      this.fail('row groups with different schemas cannot share one file (a column changed type or encoding between row groups)');
    }
    const start = this.position;
    const chunks: TField[][] = [];
    let uncompressed = 0;
    let compressed = 0;
    for (const part of parts) {
      const delta = BigInt(this.position);
      const chunk = cloneFields(part.chunk);
      const meta = structField(chunk, CC_META);
      if (!meta) this.fail('column part without metadata');
      for (const id of [CM_DATA_PAGE, CM_INDEX_PAGE, CM_DICT_PAGE]) shiftField(meta, id, delta);
      shiftField(chunk, CC_FILE_OFFSET, delta, true);
      uncompressed += intField(meta, CM_UNCOMPRESSED) ?? 0;
      compressed += intField(meta, CM_COMPRESSED) ?? 0;
      let offsetIndex: TField[] | null = null;
      if (part.offsetIndex) {
        offsetIndex = cloneFields(part.offsetIndex);
        for (const page of structListField(offsetIndex, OI_PAGES) ?? []) shiftField(page, PL_OFFSET, delta);
      }
      await this.emit(part.bytes);
      chunks.push(chunk);
      this.indexes.push({ chunk, columnIndex: part.columnIndex, offsetIndex });
    }
    const group: TField[] = [
      { id: RG_COLUMNS, value: structList(chunks) },
      { id: RG_TOTAL_BYTES, value: i64(uncompressed) },
      { id: RG_NUM_ROWS, value: i64(rows) },
      { id: RG_FILE_OFFSET, value: i64(start) },
      { id: RG_TOTAL_COMPRESSED, value: i64(compressed) },
      { id: RG_ORDINAL, value: i16(this.rowGroups.length) },
    ];
    this.rowGroups.push(group);
    this.total += rows;
  }

  /**
   * Write the page indexes and the footer.
   * @returns rows, row groups and the file's size in bytes
   */
  async finish(): Promise<{ rows: number; rowGroups: number; bytes: number }> {
    if (this.finished) this.fail('finish called twice');
    if (this.head === null) this.fail('nothing was written (no row groups)');
    this.finished = true;
    for (const p of this.indexes) {
      if (!p.columnIndex) continue;
      setField(p.chunk, CC_CI_OFFSET, i64(this.position));
      setField(p.chunk, CC_CI_LENGTH, i32(p.columnIndex.length));
      await this.emit(p.columnIndex);
    }
    for (const p of this.indexes) {
      if (!p.offsetIndex) continue;
      const bytes = encodeStruct(p.offsetIndex);
      setField(p.chunk, CC_OI_OFFSET, i64(this.position));
      setField(p.chunk, CC_OI_LENGTH, i32(bytes.length));
      await this.emit(bytes);
    }
    const footer = this.head.map((f) => ({ ...f }));
    setField(footer, FM_NUM_ROWS, i64(this.total));
    setField(footer, FM_ROW_GROUPS, structList(this.rowGroups));
    const encoded = encodeStruct(footer);
    await this.emit(encoded);
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, encoded.length, true);
    tail.set(MAGIC, 4);
    await this.emit(tail);
    return { rows: this.total, rowGroups: this.rowGroups.length, bytes: this.position };
  }
}
