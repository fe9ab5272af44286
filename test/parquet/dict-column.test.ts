/**
 * Dictionary-of-string columns encoded in JS (src/parquet/dict-column.ts) against what the
 * arrow-rs writer makes of the same data: two independent readers (parquet-wasm, DuckDB)
 * see the same values, and DuckDB's view of the metadata (encodings, codec, statistics,
 * page index use) is the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { encodeDictionaryColumn } from '../../src/parquet/dict-column.js';
import { encodeParquet, ParquetStreamWriter } from '../../src/parquet/parquet-writer.js';
import type { OutputCompression } from '../../src/spec/job-spec.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { withTmpDir } from '../support/tmp.js';
import { streamed as streamedBy } from '../support/parquet-stream.js';

const WORDS = ['consumer', 'smb', 'enterprise', 'partner', 'public', 'ünïcode ✓', ''];

function dictVector(values: (string | null)[]): arrow.Vector {
  return arrow.vectorFromArray(values, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()));
}

/** A table of `n` rows from `pick(i)`, with an id and a float column around the strings. */
function table(n: number, pick: (i: number) => string | null, from = 0): arrow.Table {
  return new arrow.Table({
    id: arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(from + i))),
    segment: dictVector(Array.from({ length: n }, (_, i) => pick(from + i))),
    p: arrow.makeVector(Float32Array.from({ length: n }, (_, i) => (from + i) / 7)),
  });
}

function streamed(parts: arrow.Table[], compression: OutputCompression = 'snappy', maxRowGroupRows?: number): Promise<Uint8Array> {
  return streamedBy(parts, { compression, ...(maxRowGroupRows && { maxRowGroupRows }) });
}

function values(bytes: Uint8Array, column: string): unknown[] {
  const t = arrow.tableFromIPC(pw.readParquet(bytes).intoIPCStream());
  const v = t.getChild(column)!;
  return Array.from({ length: t.numRows }, (_, i) => v.get(i) as unknown);
}

test('values, nulls, empty strings and per-batch dictionaries read back as written, by parquet-wasm and DuckDB', async () => {
  const pick = (i: number) => (i % 11 === 0 ? null : WORDS[(i * 31) % WORDS.length]!);
  const parts = [table(1000, pick, 0), table(3000, pick, 1000), table(1, pick, 4000), table(999, (i) => (i % 2 ? 'b' : 'a'), 4001)];
  const all = [...Array.from({ length: 4001 }, (_, i) => pick(i)), ...Array.from({ length: 999 }, (_, i) => ((4001 + i) % 2 ? 'b' : 'a'))];
  for (const compression of ['snappy', 'gzip', 'none', 'zstd', 'lz4'] as const) {
    const bytes = await streamed(parts, compression);
    assert.deepEqual(values(bytes, 'segment'), all, compression);
    assert.deepEqual(values(bytes, 'id').map(Number), all.map((_, i) => i), compression);
    await withTmpDir(async (dir) => {
      const path = join(dir, 'x.parquet');
      await writeFile(path, bytes);
      const rows = await duckdbRows(`SELECT segment FROM read_parquet(${sqlString(path)}) ORDER BY id`);
      assert.deepEqual(rows.map((r) => r.segment), all, `${compression} via DuckDB`);
    });
  }
});

test('DuckDB sees the same metadata as for arrow-rs output: encodings, codec, statistics; filters prune the same', async () => {
  // Sorted runs (RLE runs) over several data pages, one row group.
  const n = 300_000;
  const pick = (i: number) => (i % 1000 === 999 ? null : WORDS[Math.floor(i / 50_000)]!);
  const t = table(n, pick);
  const ours = await streamed([t], 'snappy');
  const theirs = await encodeParquet(t, { uri: 'mem://rs' });
  await withTmpDir(async (dir) => {
    const a = join(dir, 'ours.parquet');
    const b = join(dir, 'theirs.parquet');
    await writeFile(a, ours);
    await writeFile(b, theirs);
    const meta = async (path: string) =>
      duckdbRows(
        `SELECT path_in_schema, type, num_values, encodings, compression, stats_min_value, stats_max_value, stats_null_count,
                dictionary_page_offset IS NOT NULL AS has_dictionary
         FROM parquet_metadata(${sqlString(path)}) ORDER BY path_in_schema`,
      );
    assert.deepEqual(await meta(a), await meta(b));
    for (const where of [`segment = 'smb'`, `segment > 'p'`, `segment IS NULL`, `segment = 'absent'`]) {
      const q = (path: string) => duckdbRows(`SELECT count(*)::BIGINT AS n, count(DISTINCT segment)::BIGINT AS d FROM read_parquet(${sqlString(path)}) WHERE ${where}`);
      assert.deepEqual(await q(a), await q(b), where);
    }
    const [{ size }] = (await duckdbRows(`SELECT sum(total_compressed_size)::BIGINT AS size FROM parquet_metadata(${sqlString(a)}) WHERE path_in_schema = 'segment'`)) as [{ size: bigint }];
    assert.ok(size < 10_000n, `RLE runs keep sorted codes small: ${size} bytes`);
  });
});

test('columns this encoder leaves to arrow-rs still read back: long values, null dictionary entries, all nulls', async () => {
  const long = 'x'.repeat(100);
  const cases: [string, (i: number) => string | null][] = [
    ['long values', (i) => (i % 2 ? long : 'short')],
    ['all nulls', () => null],
  ];
  for (const [what, pick] of cases) {
    const bytes = await streamed([table(500, pick), table(500, pick, 500)]);
    assert.deepEqual(values(bytes, 'segment'), Array.from({ length: 1000 }, (_, i) => pick(i)), what);
  }
  // A dictionary holding a null entry (nulls through the dictionary, not the validity bitmap).
  const dictionary = arrow.vectorFromArray(['a', null, 'b'], new arrow.Utf8());
  const codes = Int32Array.from({ length: 9 }, (_, i) => i % 3);
  const seg = arrow.makeVector(arrow.makeData({ type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), length: 9, data: codes, dictionary }));
  const t = new arrow.Table({ id: arrow.makeVector(BigInt64Array.from({ length: 9 }, (_, i) => BigInt(i))), segment: seg });
  const bytes = await streamed([t]);
  assert.deepEqual(values(bytes, 'segment'), Array.from({ length: 9 }, (_, i) => ['a', null, 'b'][i % 3]));
});

test('columns without nulls (levels written as one run, codes packed 8 at a time) read back across pages and widths', async () => {
  // 1, 2, 5 and 17 distinct values: code widths 1, 1, 3 and 5; 140,000 rows: two data pages.
  for (const distinct of [1, 2, 5, 17]) {
    const words = Array.from({ length: distinct }, (_, i) => `v${i}`);
    const pick = (i: number) => words[(i * 31 + (i >> 4)) % distinct]!;
    const bytes = await streamed([table(70_001, pick), table(69_999, pick, 70_001)]);
    const got = values(bytes, 'segment');
    assert.equal(got.length, 140_000);
    assert.ok(got.every((v, i) => v === pick(i)), `${distinct} distinct values`);
  }
});

test('a key outside the dictionary, even after every key was seen, leaves the column to arrow-rs', () => {
  const dictionary = arrow.vectorFromArray(['a', 'b'], new arrow.Utf8());
  const data = arrow.makeData({ type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), length: 4, nullCount: 0, data: Int32Array.from([0, 1, 0, 7]), dictionary });
  assert.equal(encodeDictionaryColumn(arrow.makeVector(data), 'segment', 'snappy', true), null);
  const inRange = arrow.makeData({ type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), length: 4, nullCount: 0, data: Int32Array.from([0, 1, 0, 1]), dictionary });
  assert.notEqual(encodeDictionaryColumn(arrow.makeVector(inRange), 'segment', 'snappy', true), null);
});

test('a dictionary column with 64-bit keys is streamed (by arrow-rs, not the dictionary encoder) and reads back', async () => {
  const dictionary = arrow.vectorFromArray(['a', 'bb', 'ccc'], new arrow.Utf8());
  const keys = BigInt64Array.from([2n, 0n, 1n, 2n]);
  // Arrow JS's types only allow 32-bit keys; the data is what arrow-rs hands over for int64 keys.
  const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int64() as unknown as arrow.Int32);
  const segment = arrow.makeVector(arrow.makeData({ type, length: 4, data: keys as unknown as Int32Array, dictionary }));
  const table = new arrow.Table({ id: arrow.makeVector(BigInt64Array.from([1n, 2n, 3n, 4n])), segment });
  await withTmpDir(async (dir) => {
    const path = join(dir, 'int64-keys.parquet');
    const chunks: Uint8Array[] = [];
    const writer = new ParquetStreamWriter({ write: (chunk) => void chunks.push(chunk.slice()) }, { uri: path });
    await writer.write(table);
    await writer.finish();
    await writeFile(path, Buffer.concat(chunks));
    const rows = await duckdbRows(`SELECT id, segment FROM read_parquet(${sqlString(path)}) ORDER BY id`);
    assert.deepEqual(rows.map((r) => r.segment), ['ccc', 'a', 'bb', 'ccc']);
  });
});
