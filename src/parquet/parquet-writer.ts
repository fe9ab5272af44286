import type * as A from 'apache-arrow';
import { arrow } from './arrow.js';
import type * as PW from 'parquet-wasm';
import { pw } from './wasm.js';
import type { OutputCompression } from '../spec/job-spec.js';
import { ParquetError } from './parquet-reader.js';
import { ParquetConcatenator, ParquetPiece, type ByteSink } from './concat.js';
import { canEncodeDictionary, encodeDictionaryColumn, type ColumnPart } from './dict-column.js';
import { canEncodeNumeric, encodeNumericColumn, isMonotoneInt } from './numeric-column.js';
import { intField, structListField, field as thriftField, CT, type TField } from './thrift.js';
import { batchBytes, PendingCopies } from './pending-rows.js';

/** A string field of a struct. */
function textField(fields: readonly TField[], id: number): string | undefined {
  const v = thriftField(fields, id);
  return v?.t === CT.BINARY ? new TextDecoder().decode(v.v) : undefined;
}

/** Options of `encodeParquet`. */
export interface EncodeOptions {
  /** Codec for every column. Default `snappy`. */
  compression?: OutputCompression;
  /** Maximum rows per row group. Default 1,048,576 (readers parallelise by row group). */
  maxRowGroupRows?: number;
  /**
   * Columns to write with DELTA_BINARY_PACKED (int32/int64 only), e.g. monotone ids: a
   * sorted id column shrinks to a few bits per row. `'monotone'`: every int32/int64 column
   * without nulls whose values never decrease in the table written. Default none (PLAIN).
   */
  deltaColumns?: readonly string[] | 'monotone';
  /** URI the bytes are destined for, for error messages. */
  uri: string;
}

const CODECS: Record<OutputCompression, PW.Compression> = {
  snappy: pw.Compression.SNAPPY,
  zstd: pw.Compression.ZSTD,
  lz4: pw.Compression.LZ4_RAW,
  gzip: pw.Compression.GZIP,
  none: pw.Compression.UNCOMPRESSED,
};

function isStringLike(type: A.DataType): boolean {
  return arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type) || arrow.DataType.isDictionary(type);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Writer properties for one write. Built fresh for every write: `writeParquet` consumes the
 * object, and a reused one silently falls back to arrow-rs defaults (dictionary on every
 * column: random floats got 51% larger and 3x slower to write).
 */
function writerProperties(schema: A.Schema, options: EncodeOptions, table?: A.Table): PW.WriterProperties {
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(CODECS[options.compression ?? 'snappy'])
    .setDictionaryEnabled(false)
    .setMaxRowGroupSize(options.maxRowGroupRows ?? 1_048_576);
  const delta = options.deltaColumns === 'monotone' ? new Set<string>() : new Set(options.deltaColumns ?? []);
  if (options.deltaColumns === 'monotone' && table) {
    for (const field of schema.fields) if (isMonotoneInt(table.getChild(field.name))) delta.add(field.name);
  }
  for (const field of schema.fields) {
    if (isStringLike(field.type)) builder = builder.setColumnDictionaryEnabled(field.name, true);
    else if (delta.has(field.name) && arrow.DataType.isInt(field.type) && field.type.bitWidth >= 32) {
      builder = builder.setColumnEncoding(field.name, pw.Encoding.DELTA_BINARY_PACKED);
    }
  }
  return builder.build();
}

/** Encode a table with parquet-wasm, unchecked. */
function writeTable(table: A.Table, options: EncodeOptions): Uint8Array {
  try {
    const wasmTable = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
    return pw.writeParquet(wasmTable, writerProperties(table.schema, options, table));
  } catch (err) {
    throw new ParquetError(options.uri, `cannot encode output: ${messageOf(err)}`);
  }
}

/**
 * Encode an Arrow table as one Parquet file and check, by decoding the footer of the bytes
 * just written, that it holds exactly the table's rows.
 * @throws ParquetError when encoding fails or the footer disagrees
 */
export async function encodeParquet(table: A.Table, options: EncodeOptions): Promise<Uint8Array> {
  const bytes = writeTable(table, options);
  const written = await footerRowCount(bytes, options.uri);
  if (written !== table.numRows) {
    throw new ParquetError(options.uri, `wrote ${written} rows, expected ${table.numRows}`);
  }
  return bytes;
}

/** Row count recorded in the footer of in-memory Parquet bytes. */
export async function footerRowCount(bytes: Uint8Array, uri: string): Promise<number> {
  return (await footerRows(new Blob([bytes]), uri)).numRows;
}

/**
 * Row counts in the footer of a Parquet file, decoded by parquet-wasm (an independent check
 * of a footer this project assembled). Reads only the footer.
 */
export async function footerRows(blob: Blob | { size: number; slice(a?: number, b?: number): unknown }, uri: string): Promise<{ numRows: number; rowGroupRows: number[] }> {
  try {
    const file = await pw.ParquetFile.fromFile(blob as Blob);
    try {
      const meta = file.metadata();
      const rowGroupRows: number[] = [];
      for (let i = 0; i < meta.numRowGroups(); i++) rowGroupRows.push(meta.rowGroup(i).numRows());
      return { numRows: meta.fileMetadata().numRows(), rowGroupRows };
    } finally {
      file.free();
    }
  } catch (err) {
    throw new ParquetError(uri, `written file does not decode: ${messageOf(err)}`);
  }
}

/** Rows per output row group: the most a streamed output row group holds. */
export const OUTPUT_ROW_GROUP_ROWS = 1_048_576;

/**
 * How the row groups of an input file map onto output row groups: runs of consecutive
 * input row groups holding at most `maxRows` rows together (a single larger input row
 * group is a run of its own, written as several output row groups). Scoring ends an output
 * row group at the end of each run, so the output's layout depends only on the input's
 * footer, never on how many threads scored it. With the usual 131,072-row input row
 * groups, runs are 8 row groups: 1,048,576-row output row groups, as a one-shot write of
 * the whole file gives.
 */
export function rowGroupUnits(rowGroupRows: readonly number[], maxRows = OUTPUT_ROW_GROUP_ROWS): number[][] {
  const units: number[][] = [];
  let current: number[] = [];
  let rows = 0;
  for (const [g, n] of rowGroupRows.entries()) {
    if (current.length > 0 && rows + n > maxRows) {
      units.push(current);
      current = [];
      rows = 0;
    }
    current.push(g);
    rows += n;
  }
  if (current.length > 0) units.push(current);
  return units;
}

/** Options of `ParquetStreamWriter`. */
export interface StreamWriterOptions extends EncodeOptions {
  /**
   * Bytes of buffered rows past which a row group is written even if it has fewer than
   * `maxRowGroupRows` rows. Default 64 MiB.
   */
  maxBufferedBytes?: number;
}

/**
 * What `ParquetStreamWriter` needs to assemble row groups itself: the footer arrow-rs writes
 * for a schema (only its schema, key-value metadata, version, creator and column orders are
 * used: none depends on the rows), which columns it encodes as dictionaries, and which
 * fields are OPTIONAL.
 */
interface Template {
  meta: TField[];
  /** Columns written by dict-column.ts. */
  dictionary: Set<string>;
  /** Columns written by numeric-column.ts (unless it declines a row group's data). */
  numeric: Set<string>;
  optional: Map<string, boolean>;
}

/**
 * Templates by schema and codec, kept for the thread's next files: a template costs a
 * one-row arrow-rs write (~5 ms warm, several times that cold) per output file otherwise.
 */
const templates = new Map<string, Template | null>();
const MAX_TEMPLATES = 32;

/**
 * Everything about a schema that the footer depends on: names, nullability, metadata and
 * every property of every type (dictionary ids included: they are part of ARROW:schema).
 */
function templateKey(schema: A.Schema, codec: OutputCompression): string {
  return JSON.stringify([codec, schema.fields, schema.metadata], (_key, value: unknown) => {
    if (value instanceof Map) return [...value];
    if (typeof value === 'bigint') return String(value);
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'typeId' in value) {
      return { ...value, typeId: (value as A.DataType).typeId, text: String(value) };
    }
    return value;
  });
}

/**
 * Writes one Parquet file as a stream of row groups, so memory is bounded by one row group,
 * never by the file. Rows are buffered (copied) until a row group is full
 * (`maxRowGroupRows`, default 1,048,576: the same row groups a one-shot write of the whole
 * file gives) or `maxBufferedBytes` is reached; each row group is then encoded by
 * parquet-wasm as a little Parquet file of its own, its footer checked to hold exactly its
 * rows, and its bytes appended to the sink; `finish()` writes the page indexes and one
 * footer covering every row group (see concat.ts). Writer properties are built fresh for
 * every write.
 */
export class ParquetStreamWriter {
  private readonly concat: ParquetConcatenator;
  private pending: A.RecordBatch[] = [];
  /** The memory of `pending`, given back to the thread's pool once those rows are written. */
  private readonly copies = new PendingCopies();
  private schema: A.Schema | null = null;
  /** See `makeTemplate`; undefined until the first row group. */
  private template: Template | null | undefined;
  private pendingRows = 0;
  private pendingBytes = 0;
  private readonly maxRows: number;
  private readonly maxBytes: number;

  constructor(sink: ByteSink, private readonly options: StreamWriterOptions) {
    this.concat = new ParquetConcatenator(sink, options.uri);
    this.maxRows = options.maxRowGroupRows ?? OUTPUT_ROW_GROUP_ROWS;
    this.maxBytes = options.maxBufferedBytes ?? 64 << 20;
  }

  /** Rows written to the sink so far (buffered rows not included). */
  get rows(): number {
    return this.concat.rows;
  }

  /** Row groups written to the sink so far. */
  get rowGroups(): number {
    return this.concat.rowGroupCount;
  }

  /** Write what is buffered as a row group now, however small (see `rowGroupUnits`). */
  async endRowGroup(): Promise<void> {
    await this.flush(this.pendingRows);
  }

  /**
   * Add the table's rows. Its buffers are copied before this returns (the caller may reuse
   * them as soon as the returned promise is created), into memory reused once the rows are
   * written (pending-rows.ts); full row groups are written.
   */
  async write(table: A.Table): Promise<void> {
    if (table.numRows === 0) return;
    for (const batch of table.batches) {
      if (batch.numRows === 0) continue;
      const copy = this.copies.copyBatch(batch, this.schema, this.options.uri);
      this.schema ??= copy.schema;
      this.pending.push(copy);
      this.pendingRows += copy.numRows;
      this.pendingBytes += batchBytes(copy);
    }
    while (this.pendingRows >= this.maxRows) await this.flush(this.maxRows);
    if (this.pendingBytes >= this.maxBytes) await this.flush(this.pendingRows);
  }

  /** Encode the first `rows` buffered rows as one row group and append it. */
  private async flush(rows: number): Promise<void> {
    if (rows === 0) return;
    const all = new arrow.Table(this.pending);
    const head = rows === all.numRows ? all : all.slice(0, rows);
    const rest = rows === all.numRows ? [] : all.slice(rows).batches.filter((b) => b.numRows > 0);
    this.pending = rest;
    this.pendingRows -= rows;
    this.pendingBytes = rest.reduce((n, b) => n + batchBytes(b), 0);
    if (!(await this.writeAssembled(head))) {
      const bytes = writeTable(head, { ...this.options, maxRowGroupRows: rows });
      await this.concat.append(bytes, rows);
    }
    // Every row is encoded (copied out) and none is left pending: their memory can serve the
    // next copies. (Rows left after a partial flush still live in the same buffers.)
    if (this.pending.length === 0) this.copies.release();
  }

  /**
   * Write `head` as one row group whose dictionary-of-string and numeric columns are encoded
   * here (dict-column.ts, numeric-column.ts) and the other columns by arrow-rs, under the
   * schema arrow-rs writes for the whole table. False (nothing written) when no column
   * qualifies or a dictionary column falls back.
   */
  private async writeAssembled(head: A.Table): Promise<boolean> {
    if (this.template === undefined) this.template = await this.makeTemplate(head);
    const template = this.template;
    if (template === null) return false;
    const codec = this.options.compression ?? 'snappy';
    const deltaNamed = this.options.deltaColumns === 'monotone' ? null : new Set(this.options.deltaColumns ?? []);
    const encoded = new Map<string, ColumnPart>();
    for (const f of head.schema.fields) {
      const vector = head.getChild(f.name)!;
      const optional = template.optional.get(f.name) ?? true;
      if (template.dictionary.has(f.name)) {
        const part = encodeDictionaryColumn(vector, f.name, codec, optional);
        if (!part) return false;
        encoded.set(f.name, part);
      } else if (template.numeric.has(f.name)) {
        // The encoding arrow-rs would have been told to use (writerProperties).
        // ('ascending': what isMonotoneInt says, found while encoding.)
        const delta = deltaNamed ? arrow.DataType.isInt(f.type) && deltaNamed.has(f.name) : 'ascending';
        // Declined (e.g. integers past 2^52 in a delta column): arrow-rs writes it below.
        const part = encodeNumericColumn(vector, f.name, codec, optional, delta);
        if (part) encoded.set(f.name, part);
      }
    }
    const others = head.schema.fields.map((f) => f.name).filter((n) => !encoded.has(n));
    let written: ColumnPart[] = [];
    if (others.length > 0) {
      const piece = await ParquetPiece.open(writeTable(head.select(others), { ...this.options, maxRowGroupRows: head.numRows }), this.options.uri);
      if (piece.numRows !== head.numRows || piece.groups.length !== 1) throw new ParquetError(this.options.uri, `wrote ${piece.numRows} rows, expected ${head.numRows}`);
      written = await piece.columnParts(0, this.options.uri);
    }
    const parts = head.schema.fields.map((f) => encoded.get(f.name) ?? written[others.indexOf(f.name)]!);
    await this.concat.appendColumns(template.meta, parts, head.numRows);
    return true;
  }

  /**
   * The footer arrow-rs writes for this table's schema (from a one-row file), if the schema
   * is flat and has dictionary-of-string or numeric columns this writer can encode; else null.
   */
  private async makeTemplate(head: A.Table): Promise<Template | null> {
    const codec = this.options.compression ?? 'snappy';
    const key = templateKey(head.schema, codec);
    const known = templates.get(key);
    if (known !== undefined) return known;
    const template = await this.buildTemplate(head, codec);
    if (templates.size >= MAX_TEMPLATES) templates.clear();
    templates.set(key, template);
    return template;
  }

  private async buildTemplate(head: A.Table, codec: OutputCompression): Promise<Template | null> {
    const dictionary = new Set(head.schema.fields.filter((f) => canEncodeDictionary(f.type, codec)).map((f) => f.name));
    const numeric = new Set(head.schema.fields.filter((f) => canEncodeNumeric(f.type, codec)).map((f) => f.name));
    if (dictionary.size + numeric.size === 0 || head.numRows === 0) return null;
    const piece = await ParquetPiece.open(writeTable(head.slice(0, 1), this.options), this.options.uri);
    const elements = structListField(piece.meta, 2) ?? [];
    const leaves = elements.slice(1);
    // Flat only: the root's children are the table's columns, in order, none nested.
    if (leaves.length !== head.numCols || leaves.some((e, i) => intField(e, 5) !== undefined || textField(e, 4) !== head.schema.fields[i]!.name)) return null;
    const optional = new Map(leaves.map((e) => [textField(e, 4)!, intField(e, 3) === 1]));
    return { meta: piece.meta, dictionary, numeric, optional };
  }

  /**
   * Write what is buffered, the page indexes and the footer. Every written row count,
   * checked per write, adds up to the footer's total.
   * @returns rows, row groups and bytes written
   */
  async finish(): Promise<{ rows: number; rowGroups: number; bytes: number }> {
    await this.flush(this.pendingRows);
    return this.concat.finish();
  }
}
