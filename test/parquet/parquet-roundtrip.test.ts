import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { encodeParquet, footerRowCount } from '../../src/parquet/parquet-writer.js';
import { openParquet, ParquetError, type BlobLike } from '../../src/parquet/parquet-reader.js';
import type { OutputCompression } from '../../src/spec/job-spec.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { withTmpDir } from '../support/tmp.js';

const N = 25;
const BASE_MS = Date.UTC(2026, 10, 1, 6, 30);

/** The source data as plain JS arrays: the independent truth every read is compared to. */
const source = {
  id: Array.from({ length: N }, (_, i): bigint | null => (i % 7 === 3 ? null : BigInt(i) * 1_000_000_007n - 2n ** 60n)),
  name: Array.from({ length: N }, (_, i): string | null => (i % 5 === 4 ? null : ['alpha', 'beta', 'gamma', 'ünïcode ✓'][i % 4]!)),
  segment: Array.from({ length: N }, (_, i): string => (i % 2 === 0 ? 'retail' : 'business')),
  // Few distinct values: a writer with dictionary encoding on would dictionary-encode these.
  score: Array.from({ length: N }, (_, i): number | null => (i % 6 === 5 ? null : [0.25, -1.5, 3.125][i % 3]!)),
  f32: Array.from({ length: N }, (_, i): number => Math.fround(i / 3)),
  ts: Array.from({ length: N }, (_, i): number | null => (i % 4 === 2 ? null : BASE_MS + i * 3_600_000 + i)),
};
type Col = keyof typeof source;
const COLUMNS = Object.keys(source) as Col[];

function sourceTable(): arrow.Table {
  return new arrow.Table({
    id: arrow.vectorFromArray(source.id, new arrow.Int64()),
    name: arrow.vectorFromArray(source.name, new arrow.Utf8()),
    segment: arrow.vectorFromArray(source.segment, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    score: arrow.vectorFromArray(source.score, new arrow.Float64()),
    f32: arrow.vectorFromArray(source.f32, new arrow.Float32()),
    ts: arrow.vectorFromArray(source.ts.map((v) => (v === null ? null : new Date(v))), new arrow.TimestampMillisecond()),
  });
}

/** Row-group sizes a writer that fills each group up to `max` produces for `n` rows. */
function split(n: number, max: number): number[] {
  const out: number[] = [];
  for (let left = n; left > 0; left -= max) out.push(Math.min(max, left));
  return out;
}

let encoded: Promise<Uint8Array> | undefined;
/** The source table encoded with row groups of at most 10 rows (encoded once). */
function bytes10(): Promise<Uint8Array> {
  encoded ??= encodeParquet(sourceTable(), { uri: 'mem://src.parquet', maxRowGroupRows: 10 });
  return encoded;
}

async function parquetError(p: Promise<unknown>, uri: string): Promise<ParquetError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ParquetError, `expected ParquetError, got ${String(err)}`);
    assert.equal(err.uri, uri);
    assert.ok(err.message.includes(uri), err.message);
    return err;
  }
  assert.fail('expected a ParquetError');
}

test('openParquet over a Blob: row counts, row groups bounded by maxRowGroupRows, schema, writer', async () => {
  const bytes = await bytes10();
  assert.deepEqual([...bytes.subarray(0, 4)], [...Buffer.from('PAR1')]);
  assert.equal(await footerRowCount(bytes, 'mem://x'), N);
  const reader = await openParquet(new Blob([bytes]), 'mem://src.parquet');
  try {
    assert.equal(reader.uri, 'mem://src.parquet');
    assert.equal(reader.numRows, N);
    assert.deepEqual(reader.rowGroupRows, split(N, 10));
    assert.deepEqual(reader.schema.fields.map((f) => f.name), COLUMNS);
    const types = Object.fromEntries(reader.schema.fields.map((f) => [f.name, f.type]));
    assert.ok(arrow.DataType.isInt(types.id!) && types.id.bitWidth === 64 && types.id.isSigned);
    assert.ok(arrow.DataType.isFloat(types.score!) && types.score.precision === arrow.Precision.DOUBLE);
    assert.ok(arrow.DataType.isFloat(types.f32!) && types.f32.precision === arrow.Precision.SINGLE);
    assert.ok(arrow.DataType.isTimestamp(types.ts!) && types.ts.unit === arrow.TimeUnit.MILLISECOND);
    assert.equal(typeof reader.createdBy, 'string');
  } finally {
    reader.close();
  }
  // The default keeps a small file in one row group; other limits split as asked.
  const one = await openParquet(new Blob([await encodeParquet(sourceTable(), { uri: 'mem://one' })]), 'mem://one');
  assert.deepEqual(one.rowGroupRows, [N]);
  one.close();
  const seven = await openParquet(new Blob([await encodeParquet(sourceTable(), { uri: 'mem://7', maxRowGroupRows: 7 })]), 'mem://7');
  assert.deepEqual(seven.rowGroupRows, split(N, 7));
  assert.equal(seven.numRows, N);
  seven.close();
});

test('readRowGroup returns exactly the projected columns with the source values, nulls included', async () => {
  const reader = await openParquet(new Blob([await bytes10()]), 'mem://src.parquet');
  try {
    const projections: Col[][] = [COLUMNS, ['score'], ['id', 'ts'], ['name', 'segment', 'f32']];
    for (const columns of projections) {
      let first = 0;
      for (const [g, rows] of reader.rowGroupRows.entries()) {
        const table = await reader.readRowGroup(g, columns);
        assert.equal(table.numRows, rows);
        assert.deepEqual(new Set(table.schema.fields.map((f) => f.name)), new Set(columns), `row group ${g}`);
        assert.equal(table.numCols, columns.length);
        for (const name of columns) {
          const vector = table.getChild(name)!;
          const got = Array.from({ length: rows }, (_, i) => vector.get(i) as unknown);
          const want = source[name].slice(first, first + rows);
          assert.deepEqual(got, want, `${name}, row group ${g}`);
        }
        first += rows;
      }
      assert.equal(first, N);
    }
  } finally {
    reader.close();
  }
});

test('readRowGroup returns the projected columns in the order asked for', async () => {
  const reader = await openParquet(new Blob([await bytes10()]), 'mem://src.parquet');
  try {
    const table = await reader.readRowGroup(1, ['ts', 'id', 'score']);
    assert.deepEqual(table.schema.fields.map((f) => f.name), ['ts', 'id', 'score']);
  } finally {
    reader.close();
  }
});

test('DuckDB reads the same values, sees strings dictionary-encoded and floats not', async () => {
  await withTmpDir(async (dir) => {
    const path = join(dir, 'src.parquet');
    await writeFile(path, await bytes10());
    const rows = await duckdbRows(`SELECT id, name, segment, score, f32, epoch_ms(ts) AS ts FROM read_parquet(${sqlString(path)})`);
    assert.equal(rows.length, N);
    for (const col of COLUMNS) {
      const want = source[col].map((v) => (col === 'ts' && v !== null ? BigInt(v) : v));
      assert.deepEqual(rows.map((r) => r[col]), want, col);
    }

    const meta = await duckdbRows(
      `SELECT row_group_id, path_in_schema, encodings, dictionary_page_offset FROM parquet_metadata(${sqlString(path)})`,
    );
    assert.equal(meta.length, split(N, 10).length * COLUMNS.length);
    const dictionary = (m: Record<string, unknown>) => /DICTIONARY/.test(String(m.encodings));
    for (const m of meta) {
      const col = String(m.path_in_schema);
      if (col === 'name' || col === 'segment') {
        assert.ok(dictionary(m), `${col} rg ${String(m.row_group_id)}: ${String(m.encodings)}`);
        assert.notEqual(m.dictionary_page_offset, null);
      }
      if (col === 'score' || col === 'f32') {
        assert.ok(!dictionary(m), `${col} rg ${String(m.row_group_id)}: ${String(m.encodings)}`);
        assert.equal(m.dictionary_page_offset, null);
      }
    }
  });
});

test('every output compression is recorded in the file', async () => {
  const expected: Record<OutputCompression, string> = { snappy: 'SNAPPY', zstd: 'ZSTD', lz4: 'LZ4_RAW', gzip: 'GZIP', none: 'UNCOMPRESSED' };
  await withTmpDir(async (dir) => {
    for (const [compression, codec] of Object.entries(expected) as [OutputCompression, string][]) {
      const path = join(dir, `${compression}.parquet`);
      await writeFile(path, await encodeParquet(sourceTable(), { uri: path, compression }));
      const meta = await duckdbRows(`SELECT DISTINCT compression FROM parquet_metadata(${sqlString(path)})`);
      assert.deepEqual(meta.map((m) => m.compression), [codec], compression);
      const back = await duckdbRows(`SELECT count(*)::INTEGER AS n, sum(f32)::DOUBLE AS s FROM read_parquet(${sqlString(path)})`);
      assert.deepEqual(back, [{ n: N, s: source.f32.reduce((a, b) => a + b, 0) }]);
    }
  });
});

test('a bad row group index is a ParquetError naming the URI', async () => {
  const uri = 's3://bucket/in/dt=2026-11-01/part-0.parquet';
  const reader = await openParquet(new Blob([await bytes10()]), uri);
  try {
    for (const index of [3, -1, 1.5, 100]) {
      const err = await parquetError(reader.readRowGroup(index, ['id']), uri);
      assert.match(err.message, new RegExp(`row group ${String(index).replace('.', '\\.')}`));
    }
    // A column the file does not have is a ParquetError too, not a silently narrower table.
    const missing = await parquetError(reader.readRowGroup(0, ['id', 'nope']), uri);
    assert.match(missing.message, /nope/);
    // The reader still works afterwards.
    assert.equal((await reader.readRowGroup(2, ['id'])).numRows, 5);
  } finally {
    reader.close();
  }
});

test('a file without the PAR1 magic, a tiny file and a corrupt footer are ParquetErrors naming the URI', async () => {
  const good = await bytes10();
  const uri = 'file:///data/bad.parquet';

  const wrongMagic = good.slice();
  wrongMagic.set(Buffer.from('PAR2'), wrongMagic.length - 4);
  assert.match((await parquetError(openParquet(new Blob([wrongMagic]), uri), uri)).message, /PAR1 magic/);

  const truncated = good.subarray(0, good.length - 100);
  assert.match((await parquetError(openParquet(new Blob([truncated]), uri), uri)).message, /PAR1 magic/);

  assert.match((await parquetError(openParquet(new Blob([Buffer.from('PAR1')]), uri), uri)).message, /4 bytes/);
  assert.match((await parquetError(openParquet(new Blob([]), uri), uri)).message, /0 bytes/);

  // Right magic at both ends, garbage in between: the footer cannot be decoded.
  const garbage = Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 0xab), Buffer.from([40, 0, 0, 0]), Buffer.from('PAR1')]);
  assert.match((await parquetError(openParquet(new Blob([garbage]), uri), uri)).message, /footer/);
});

test('openParquet reads through the BlobLike interface only', async () => {
  const blob = new Blob([await bytes10()]);
  const slices: [number | undefined, number | undefined][] = [];
  const like: BlobLike = {
    size: blob.size,
    slice(start, end) {
      slices.push([start, end]);
      return blob.slice(start, end);
    },
  };
  const reader = await openParquet(like, 'mem://like');
  try {
    assert.equal(reader.numRows, N);
    assert.ok(slices.length > 0);
    const t = await reader.readRowGroup(0, ['segment']);
    assert.deepEqual(Array.from({ length: 10 }, (_, i) => t.getChild('segment')!.get(i) as unknown), source.segment.slice(0, 10));
  } finally {
    reader.close();
  }
});
