/**
 * The streaming Parquet writer: one parquet-wasm file per row group, concatenated into one
 * file with one footer (src/parquet/concat.ts). Checked with two independent readers
 * (parquet-wasm and DuckDB), including page indexes, dictionary pages, nulls and codecs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { ParquetConcatenator } from '../../src/parquet/concat.js';
import { encodeParquet, footerRows, ParquetStreamWriter } from '../../src/parquet/parquet-writer.js';
import { ParquetError } from '../../src/parquet/parquet-reader.js';
import { CT, decodeStruct, encodeStruct } from '../../src/parquet/thrift.js';
import type { OutputCompression } from '../../src/spec/job-spec.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { withTmpDir } from '../support/tmp.js';

const SEGMENTS = ['consumer', 'smb', 'enterprise', null, 'ünïcode ✓'];

/** Rows [from, from+n) of a deterministic table: int64 ids, dictionary strings with nulls, float32 with NaN, float64 with nulls. */
function part(from: number, n: number): arrow.Table {
  const id = new BigInt64Array(n);
  const p = new Float32Array(n);
  const x: (number | null)[] = [];
  const seg: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const r = from + i;
    id[i] = BigInt(r) * 3n + 1_000_000_000_000n;
    p[i] = r % 97 === 0 ? Number.NaN : Math.fround(Math.sin(r));
    x.push(r % 13 === 0 ? null : r / 7);
    seg.push(SEGMENTS[r % SEGMENTS.length]!);
  }
  return new arrow.Table({
    id: arrow.makeVector(id),
    segment: arrow.vectorFromArray(seg, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    p: arrow.makeVector(p),
    x: arrow.vectorFromArray(x, new arrow.Float64()),
  });
}

class MemorySink {
  chunks: Uint8Array[] = [];
  write(chunk: Uint8Array): void {
    this.chunks.push(chunk.slice());
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

async function streamed(
  sizes: number[],
  options: { compression?: OutputCompression; deltaColumns?: string[]; maxRowGroupRows?: number; maxBufferedBytes?: number } = {},
): Promise<{ bytes: Uint8Array; rowGroups: number }> {
  const sink = new MemorySink();
  const writer = new ParquetStreamWriter(sink, { uri: 'mem://out', ...options });
  let from = 0;
  for (const n of sizes) {
    await writer.write(part(from, n));
    from += n;
  }
  const done = await writer.finish();
  const bytes = sink.bytes();
  assert.equal(done.rows, from);
  assert.equal(done.bytes, bytes.length);
  return { bytes, rowGroups: done.rowGroups };
}

/** Row-group sizes a writer that fills each group up to `max` produces for `n` rows. */
function split(n: number, max: number): number[] {
  const out: number[] = [];
  for (let left = n; left > 0; left -= max) out.push(Math.min(max, left));
  return out;
}

function sameValues(a: arrow.Table, b: arrow.Table): void {
  assert.equal(a.numRows, b.numRows);
  for (const name of ['id', 'segment', 'p', 'x']) {
    const va = a.getChild(name)!;
    const vb = b.getChild(name)!;
    for (let i = 0; i < a.numRows; i++) {
      const x = va.get(i) as unknown;
      const y = vb.get(i) as unknown;
      if (typeof x === 'number' && Number.isNaN(x)) assert.ok(Number.isNaN(y as number), `${name}[${i}]`);
      else assert.equal(x, y, `${name}[${i}]`);
    }
  }
}

test('thrift codec: decode then encode gives the same bytes for a real footer', async () => {
  const bytes = await encodeParquet(part(0, 1000), { uri: 'mem://x', maxRowGroupRows: 300 });
  const len = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 4).getUint32(0, true);
  const footer = bytes.subarray(bytes.length - 8 - len, bytes.length - 8);
  const { fields, length } = decodeStruct(footer);
  assert.equal(length, footer.length);
  assert.deepEqual(encodeStruct(fields), footer);
  // Values of every width, long field-id jumps, lists of 15+ elements, bools in and out of lists.
  const tricky = [
    { id: 1, value: { t: CT.I64 as const, v: -(2n ** 62n) } },
    { id: 2, value: { t: CT.TRUE as const, v: true } },
    { id: 40, value: { t: CT.LIST as const, et: CT.TRUE, v: Array.from({ length: 20 }, (_, i) => ({ t: (i % 3 ? CT.TRUE : CT.FALSE) as CT.TRUE, v: i % 3 !== 0 })) } },
    { id: 41, value: { t: CT.I32 as const, v: -123456 } },
    { id: 42, value: { t: CT.DOUBLE as const, v: Math.PI } },
    { id: 300, value: { t: CT.BINARY as const, v: new Uint8Array([0, 255, 7]) } },
  ];
  const round = decodeStruct(encodeStruct(tricky)).fields;
  assert.deepEqual(round, tricky);
});

test('tables written one by one read back as one file of full row groups with every value, by parquet-wasm and DuckDB', async () => {
  const sizes = [1000, 1, 4096, 333];
  const { bytes, rowGroups } = await streamed(sizes, { deltaColumns: ['id'], maxRowGroupRows: 1500 });
  const all = part(0, sizes.reduce((a, b) => a + b, 0));
  // parquet-wasm: row groups of 1500 rows whatever the writes were, every value.
  const rows = await footerRows(new Blob([bytes]), 'mem://out');
  assert.deepEqual(rows, { numRows: all.numRows, rowGroupRows: split(all.numRows, 1500) });
  assert.equal(rowGroups, rows.rowGroupRows.length);
  sameValues(arrow.tableFromIPC(pw.readParquet(bytes).intoIPCStream()), all);
  // A projected read of one middle row group goes through the moved offsets.
  const file = await pw.ParquetFile.fromFile(new Blob([bytes]));
  const g2 = arrow.tableFromIPC((await file.read({ rowGroups: [2], columns: ['p', 'segment'] })).intoIPCStream());
  file.free();
  assert.equal(g2.numRows, 1500);
  assert.equal(g2.getChild('segment')!.get(0), SEGMENTS[3000 % SEGMENTS.length]);
  await withTmpDir(async (dir) => {
    const path = join(dir, 'out.parquet');
    await writeFile(path, bytes);
    const got = await duckdbRows(`SELECT id, segment, p, x FROM read_parquet(${sqlString(path)}) ORDER BY id`);
    assert.equal(got.length, all.numRows);
    for (let i = 0; i < all.numRows; i += 7) {
      assert.equal(got[i]!.id, all.getChild('id')!.get(i));
      assert.equal(got[i]!.segment, all.getChild('segment')!.get(i));
      const p = all.getChild('p')!.get(i) as number;
      if (Number.isNaN(p)) assert.ok(Number.isNaN(got[i]!.p as number));
      else assert.equal(got[i]!.p, p);
      assert.equal(got[i]!.x, all.getChild('x')!.get(i));
    }
    // Row groups, encodings and the page index as DuckDB sees them.
    const meta = await duckdbRows(
      `SELECT row_group_id, row_group_num_rows, path_in_schema, encodings, dictionary_page_offset, data_page_offset
       FROM parquet_metadata(${sqlString(path)}) ORDER BY row_group_id, path_in_schema`,
    );
    assert.deepEqual([...new Set(meta.map((m) => Number(m.row_group_num_rows)))], [...new Set(split(all.numRows, 1500))]);
    for (const m of meta) {
      if (m.path_in_schema === 'id') assert.match(String(m.encodings), /DELTA_BINARY_PACKED/);
      if (m.path_in_schema === 'p' || m.path_in_schema === 'x') assert.doesNotMatch(String(m.encodings), /DICTIONARY/);
      if (m.path_in_schema === 'segment') assert.notEqual(m.dictionary_page_offset, null);
    }
    // Filters that use statistics and page indexes still find the right rows.
    const [hit] = await duckdbRows(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(path)}) WHERE id = ${all.getChild('id')!.get(3000)}`);
    assert.equal(hit!.n, 1);
  });
});

test('by default a file under 1,048,576 rows is one row group, as a one-shot write makes it', async () => {
  const { bytes, rowGroups } = await streamed([500, 700, 300]);
  assert.equal(rowGroups, 1);
  assert.deepEqual(await footerRows(new Blob([bytes]), 'mem://out'), { numRows: 1500, rowGroupRows: [1500] });
});

test('past maxBufferedBytes, what is buffered is written as a smaller row group', async () => {
  // ~20 bytes a row: 700 rows pass 10 kB.
  const { bytes } = await streamed([400, 400, 400, 100], { maxBufferedBytes: 10_000 });
  const rows = await footerRows(new Blob([bytes]), 'mem://out');
  assert.deepEqual(rows.rowGroupRows, [800, 500]);
  sameValues(arrow.tableFromIPC(pw.readParquet(bytes).intoIPCStream()), part(0, 1300));
});

test('every codec streams into a valid file', async () => {
  for (const compression of ['snappy', 'zstd', 'lz4', 'gzip', 'none'] as const) {
    const { bytes } = await streamed([500, 700], { compression, maxRowGroupRows: 300 });
    sameValues(arrow.tableFromIPC(pw.readParquet(bytes).intoIPCStream()), part(0, 1200));
  }
});

test('concatenating whole files (with several row groups each) keeps their order and rows', async () => {
  const a = await encodeParquet(part(0, 250), { uri: 'mem://a', maxRowGroupRows: 100 });
  const b = await encodeParquet(part(250, 50), { uri: 'mem://b' });
  const sink = new MemorySink();
  const concat = new ParquetConcatenator(sink, 'mem://ab');
  await concat.append(a, 250);
  await concat.append(b);
  assert.deepEqual(await concat.finish(), { rows: 300, rowGroups: 4, bytes: sink.bytes().length });
  const out = sink.bytes();
  assert.deepEqual(await footerRows(new Blob([out]), 'mem://ab'), { numRows: 300, rowGroupRows: [100, 100, 50, 50] });
  sameValues(arrow.tableFromIPC(pw.readParquet(out).intoIPCStream()), part(0, 300));
});

test('a piece with another row count or another schema is refused', async () => {
  const a = await encodeParquet(part(0, 10), { uri: 'mem://a' });
  const concat = new ParquetConcatenator(new MemorySink(), 'mem://out');
  await assert.rejects(concat.append(a, 11), (err: unknown) => err instanceof ParquetError && /wrote 10 rows, expected 11/.test(err.message));
  await concat.append(a, 10);
  const other = await encodeParquet(new arrow.Table({ id: arrow.makeVector(new Float64Array(3)) }), { uri: 'mem://o' });
  await assert.rejects(concat.append(other), /different schemas/);
  await assert.rejects(concat.append(new Uint8Array(20)), /PAR1/);
  const empty = new ParquetConcatenator(new MemorySink(), 'mem://empty');
  await assert.rejects(empty.finish(), /nothing was written/);
});
