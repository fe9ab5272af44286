/**
 * Numeric columns encoded in JS (src/parquet/numeric-column.ts) against what the arrow-rs
 * writer makes of the same data: two independent readers (parquet-wasm, DuckDB) see the same
 * values, and DuckDB sees the same metadata (encodings, codec, statistics) and prunes the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { encodeNumericColumn } from '../../src/parquet/numeric-column.js';
import { encodeParquet } from '../../src/parquet/parquet-writer.js';
import type { OutputCompression } from '../../src/spec/job-spec.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { withTmpDir } from '../support/tmp.js';
import { streamed as streamedBy } from '../support/parquet-stream.js';

const SPECIAL = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-30, -3.5];

/** `n` rows from `from` on: every numeric kind, with nulls, NaN, ±0 and ±Infinity in the floats. */
function table(n: number, from = 0): arrow.Table {
  const at = (i: number) => from + i;
  const f = (i: number) => (at(i) % 13 === 0 ? SPECIAL[at(i) % SPECIAL.length]! : Math.sin(at(i)) * 1000);
  return new arrow.Table({
    id: arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(at(i) * 3 - 5))),
    p: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => (at(i) % 17 === 0 ? null : f(i))), new arrow.Float32()),
    d: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => f(i) / 3), new arrow.Float64()),
    k: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => (at(i) % 5 === 0 ? null : ((at(i) * 7919) % 2001) - 1000)), new arrow.Int32()),
    big: arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(((at(i) * 104729) % 1_000_003) - 500_000) * 1_000_000n)),
    // Ascending (delta-encoded): gaps from a few bits to ~30 bits wide, and small int32 gaps.
    ts: arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(at(i)) * BigInt(at(i)) * 1000n + BigInt((at(i) * 7919) % 1000))),
    m: arrow.makeVector(Int32Array.from({ length: n }, (_, i) => at(i) * 5 + (at(i) % 3))),
  });
}

function streamed(parts: arrow.Table[], compression: OutputCompression = 'snappy'): Promise<Uint8Array> {
  return streamedBy(parts, { compression, deltaColumns: 'monotone' });
}

/** Column values as parquet-wasm reads them (bigints as strings, floats as numbers, nulls). */
function values(bytes: Uint8Array, column: string): unknown[] {
  const t = arrow.tableFromIPC(pw.readParquet(bytes).intoIPCStream());
  const v = t.getChild(column)!;
  return Array.from({ length: t.numRows }, (_, i) => {
    const x = v.get(i) as unknown;
    return typeof x === 'bigint' ? String(x) : x;
  });
}

function expected(parts: arrow.Table[], column: string): unknown[] {
  return parts.flatMap((t) => {
    const v = t.getChild(column)!;
    return Array.from({ length: t.numRows }, (_, i) => {
      const x = v.get(i) as unknown;
      return typeof x === 'bigint' ? String(x) : x;
    });
  });
}

test('every numeric kind reads back as written (nulls, NaN, ±0, ±Infinity, 3 pages, several batches), by parquet-wasm and DuckDB', async () => {
  const parts = [table(100_000), table(1, 100_000), table(200_000, 100_001)];
  for (const compression of ['snappy', 'gzip', 'none', 'zstd', 'lz4'] as const) {
    const bytes = await streamed(parts, compression);
    for (const column of ['id', 'p', 'd', 'k', 'big', 'ts', 'm']) {
      const got = values(bytes, column);
      const want = expected(parts, column);
      assert.equal(got.length, want.length);
      // Object.is: -0 stays -0 and NaN stays NaN.
      const bad = got.findIndex((x, i) => !Object.is(x, want[i]));
      assert.equal(bad, -1, `${compression} ${column}: row ${bad}: ${String(got[bad])} vs ${String(want[bad])}`);
    }
    await withTmpDir(async (dir) => {
      const path = join(dir, 'x.parquet');
      await writeFile(path, bytes);
      const rows = await duckdbRows(`SELECT id::VARCHAR AS id, p, k FROM read_parquet(${sqlString(path)})`);
      const [ids, ps, ks] = [expected(parts, 'id'), expected(parts, 'p'), expected(parts, 'k')];
      assert.equal(rows.length, ids.length);
      const bad = rows.findIndex((r, i) => r.id !== ids[i] || !Object.is(r.p, ps[i]) || r.k !== ks[i]);
      assert.equal(bad, -1, `${compression} via DuckDB: row ${bad}`);
    });
  }
});

test('DuckDB sees the metadata arrow-rs writes (encodings, codec, statistics) and filters prune the same', async () => {
  const t = table(300_000);
  const ours = await streamed([t]);
  const theirs = await encodeParquet(t, { uri: 'mem://rs', deltaColumns: 'monotone' });
  await withTmpDir(async (dir) => {
    const a = join(dir, 'ours.parquet');
    const b = join(dir, 'theirs.parquet');
    await writeFile(a, ours);
    await writeFile(b, theirs);
    const meta = (path: string) =>
      duckdbRows(
        `SELECT path_in_schema, type, num_values, encodings, compression, stats_min_value, stats_max_value, stats_null_count
         FROM parquet_metadata(${sqlString(path)}) ORDER BY path_in_schema`,
      );
    assert.deepEqual(await meta(a), await meta(b));
    for (const where of ['p > 999', 'p = 0', 'k < -998', 'id BETWEEN 1000 AND 1010', 'big > 499000000000', 'k IS NULL', 'isnan(d)']) {
      const q = (path: string) => duckdbRows(`SELECT count(*)::BIGINT AS n, sum(k)::BIGINT AS s FROM read_parquet(${sqlString(path)}) WHERE ${where}`);
      assert.deepEqual(await q(a), await q(b), where);
    }
  });
});

test('columns with only nulls or NaN have no min/max, as with arrow-rs; int64 values past 2^53 are left to arrow-rs', async () => {
  const n = 1000;
  const t = new arrow.Table({
    nulls: arrow.vectorFromArray(Array.from({ length: n }, () => null), new arrow.Float32()),
    nan: arrow.vectorFromArray(Array.from({ length: n }, () => Number.NaN), new arrow.Float64()),
    huge: arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => 2n ** 60n + BigInt(i))),
    // Not ascending (PLAIN), past 2^53: its exact min/max must survive.
    hugeMixed: arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => (i % 2 ? 2n ** 60n + BigInt(i) : -(2n ** 59n) - BigInt(i)))),
  });
  const ours = await streamed([t]);
  const theirs = await encodeParquet(t, { uri: 'mem://rs', deltaColumns: 'monotone' });
  assert.deepEqual(values(ours, 'huge'), expected([t], 'huge'));
  assert.deepEqual(values(ours, 'hugeMixed'), expected([t], 'hugeMixed'));
  // int64 values past 2^53 are not exact in JS numbers (nor would their min/max be): declined,
  // delta or not; below that, PLAIN is written here.
  assert.equal(encodeNumericColumn(t.getChild('huge')!, 'huge', 'snappy', false, true), null);
  assert.equal(encodeNumericColumn(t.getChild('huge')!, 'huge', 'snappy', false, false), null);
  const below = arrow.makeVector(BigInt64Array.from([2n ** 53n - 1n, -(2n ** 53n) + 1n, 5n]));
  assert.notEqual(encodeNumericColumn(below, 'below', 'snappy', false, false), null);
  await withTmpDir(async (dir) => {
    const a = join(dir, 'ours.parquet');
    const b = join(dir, 'theirs.parquet');
    await writeFile(a, ours);
    await writeFile(b, theirs);
    const meta = (path: string) => duckdbRows(`SELECT path_in_schema, encodings, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata(${sqlString(path)}) ORDER BY path_in_schema`);
    assert.deepEqual(await meta(a), await meta(b));
  });
});

test('a chunk keeps alive at most about twice its bytes (the output holds chunks until the file is written)', () => {
  const cases: [string, arrow.Vector, OutputCompression, boolean][] = [
    ['gzip of a constant column', arrow.makeVector(new Float64Array(1 << 20).fill(1.5)), 'gzip', false],
    ['delta of an id column', arrow.makeVector(Int32Array.from({ length: 300_000 }, (_, i) => i)), 'snappy', true],
    ['plain floats', arrow.makeVector(Float32Array.from({ length: 300_000 }, (_, i) => Math.sin(i))), 'snappy', false],
  ];
  for (const [what, vector, codec, delta] of cases) {
    const part = encodeNumericColumn(vector, 'c', codec, false, delta);
    assert.ok(part, what);
    assert.ok(part.bytes.buffer.byteLength <= 2 * part.bytes.length + 4096, `${what}: ${part.bytes.length} bytes keep ${part.bytes.buffer.byteLength} alive`);
  }
});

test("'ascending' past 2^51: left to arrow-rs only if the whole column ascends, else PLAIN here, as before", () => {
  const n = 263_144;
  const up = arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => 2n ** 52n + BigInt(i)));
  const dip = arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => (i === 131_077 ? 2n ** 52n : 2n ** 52n + BigInt(i))));
  assert.equal(encodeNumericColumn(up, 'id', 'snappy', false, 'ascending'), null);
  const plain = encodeNumericColumn(dip, 'id', 'snappy', false, 'ascending');
  assert.ok(plain, 'a column that does not ascend is written here, PLAIN');
  assert.deepEqual(plain, encodeNumericColumn(dip, 'id', 'snappy', false, false));
});

test("'monotone' columns: delta only when no value decreases, across batches and pages, as arrow-rs decides", async () => {
  const n = 300_000; // three data pages
  const ascending = (i: number) => BigInt(Math.floor(i / 3)) * 1000n + 7n; // runs of equal values
  const cases: [string, (i: number) => bigint, string][] = [
    ['ascending with repeats', ascending, 'DELTA_BINARY_PACKED'],
    ['one decrease deep in page 3', (i) => (i === 280_000 ? 0n : ascending(i)), 'PLAIN'],
    ['page 2 starts below page 1 ends', (i) => (i === 131_072 ? ascending(i) - 2000n : ascending(i)), 'PLAIN'],
    ['decreasing', (i) => BigInt(n - i), 'PLAIN'],
    ['negative and ascending', (i) => BigInt(i) - 10_000_000_000n, 'DELTA_BINARY_PACKED'],
    // Past 2^51 a delta column is left to arrow-rs; one that does not ascend is PLAIN here.
    ['past 2^51, ascending', (i) => 2n ** 52n + BigInt(i), 'DELTA_BINARY_PACKED'],
    ['past 2^51, one decrease in page 2', (i) => (i === 131_077 ? 2n ** 52n : 2n ** 52n + BigInt(i)), 'PLAIN'],
  ];
  for (const [what, value, encoding] of cases) {
    const ids = BigInt64Array.from({ length: n }, (_, i) => value(i));
    const i32 = Int32Array.from({ length: n }, (_, i) => Number(value(i) % 1_000_000_000n));
    // Two batches: the writer concatenates them into one row group.
    const parts = [0, 100_000].map((from, k) => new arrow.Table({ id: arrow.makeVector(ids.subarray(from, k === 0 ? 100_000 : n)), small: arrow.makeVector(i32.subarray(from, k === 0 ? 100_000 : n)) }));
    const ours = await streamed(parts);
    const theirs = await encodeParquet(new arrow.Table(parts.flatMap((t) => t.batches)), { uri: 'mem://rs', deltaColumns: 'monotone' });
    assert.deepEqual(values(ours, 'id'), expected(parts, 'id'), what);
    assert.deepEqual(values(ours, 'small'), expected(parts, 'small'), what);
    await withTmpDir(async (dir) => {
      const a = join(dir, 'ours.parquet');
      const b = join(dir, 'theirs.parquet');
      await writeFile(a, ours);
      await writeFile(b, theirs);
      const meta = (path: string) => duckdbRows(`SELECT path_in_schema, encodings, stats_min_value, stats_max_value FROM parquet_metadata(${sqlString(path)}) ORDER BY path_in_schema`);
      const mine = await meta(a);
      assert.deepEqual(mine, await meta(b), what);
      assert.ok(String(mine.find((r) => r.path_in_schema === 'id')?.encodings).includes(encoding), `${what}: ${JSON.stringify(mine)}`);
    });
  }
});
