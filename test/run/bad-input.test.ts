/**
 * Bad input: corrupt, truncated and empty Parquet files, schema and value problems, zero-row
 * partitions (bad models and `inspect`: bad-models.test.ts). Every case runs a real job over good partitions plus bad ones
 * and checks that each bad partition fails with an error naming its file and cause, publishes
 * nothing, is recorded in the manifest (returned and on disk), and that the good partitions
 * are still published, exactly once, as DuckDB reads them. `inspect` is run as a child
 * process over every file of parquet-testing/data and bad_data.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { buildLogisticModel } from '../../src/model/build/logistic.js';
import { demoSpec } from '../support/dataset.js';
import { openFdsTo } from '../support/open-fds.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import {
  BAD_DATA, crashFailures, featureColumns, filesUnder, newCase, ROWS, run, runBoth, state, useBadInputSuite, withNulls, writeParquet, type BadExpectation,
} from '../support/bad-input-suite.js';

useBadInputSuite();

describe('corrupt Parquet files fail only their partition', () => {
  test('every file of parquet-testing/bad_data, one partition each', async () => {
    const c = await newCase('bad-data');
    const files = (await readdir(BAD_DATA)).filter((f) => f.endsWith('.parquet')).sort();
    assert.ok(files.length >= 8, `bad_data has ${files.length} files`);
    const bad: BadExpectation[] = [];
    for (const [i, name] of files.entries()) {
      const date = `2026-12-${String(i + 1).padStart(2, '0')}`;
      const path = c.part(date, name);
      await mkdir(join(path, '..'), { recursive: true });
      await copyFile(join(BAD_DATA, name), path);
      // With the demo features, each file fails on its footer or its schema (none has f0).
      bad.push({ date, file: path, patterns: [/^(parquet: .*(footer|metadata)|schema: .*column "f0" is missing)/] });
    }
    await runBoth((out) => demoSpec(c.input, state.modelPath, out), c, bad);
  });

  /**
   * The bad_data files with numeric columns, scored on those columns, so that their corrupt
   * pages really are decoded. Some make parquet-wasm panic (WASM `unreachable`), which kills
   * the scoring thread: the pool must replace it and the other partitions (a good one with
   * the same columns, and a second copy of the bad file) must still complete.
   */
  const DECODE_CASES: Record<string, string[]> = {
    'ARROW-GH-41321.parquet': ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'uint64', 'int64', 'float32', 'float64'],
    'ARROW-GH-43605.parquet': ['min_fl'],
    'ARROW-RS-GH-6229-DICTHEADER.parquet': ['nation_key', 'region_key'],
  };

  test('bad_data files scored on their own numeric columns: decoded or failed, never a crash or a hang', async () => {
    let failures = 0;
    for (const [name, features] of Object.entries(DECODE_CASES)) {
      const root = join(state.dir.path, `decode-${name}`);
      const input = join(root, 'input');
      const model = join(root, 'model.onnx');
      await mkdir(root, { recursive: true });
      await writeFile(model, buildLogisticModel({ weights: features.map((_, j) => 0.1 * (j + 1)), bias: -0.2 }));
      // A good partition with the same feature names (float64: every type may be a feature).
      const good: Record<string, arrow.Vector> = {};
      for (const f of features) good[f] = arrow.makeVector(Float64Array.from({ length: 100 }, (_, i) => i / 100));
      await writeParquet(join(input, 'dt=2026-10-01', 'part-0.parquet'), good);
      const badPaths = ['2026-12-01', '2026-12-02'].map((d) => join(input, `dt=${d}`, name));
      for (const p of badPaths) {
        await mkdir(join(p, '..'), { recursive: true });
        await copyFile(join(BAD_DATA, name), p);
      }
      const out = join(root, 'out');
      const spec = demoSpec(input, model, out, { features, passthrough: [], nonFinite: 'keep' });
      const { manifest } = await run(spec, 2);
      const goodPart = manifest.partitions.find((p) => p.dir === 'dt=2026-10-01');
      assert.equal(goodPart?.status, 'succeeded', `${name}: the good partition is published (${JSON.stringify(manifest.errors)})`);
      assert.equal(goodPart.rows, 100);
      const bads = manifest.partitions.filter((p) => p.dir !== 'dt=2026-10-01');
      assert.equal(bads.length, 2);
      // Both copies of a file behave the same (a replaced thread decodes like a fresh one).
      assert.equal(bads[0]!.status, bads[1]!.status, `${name}: both copies agree`);
      for (const [i, p] of bads.entries()) {
        const folder = await filesUnder(join(out, p.dir));
        if (p.status === 'succeeded') {
          assert.ok(p.rows > 0);
          assert.deepEqual(folder.map((f) => f.slice(join(out, p.dir).length + 1)).sort(), ['_SUCCESS.json', `part-${name}`]);
        } else {
          assert.ok(p.error, `${name}: failed partition has an error`);
          assert.equal(p.error.permanent, true);
          assert.deepEqual(folder.filter((f) => f.endsWith('.parquet') || f.endsWith('_SUCCESS.json')), [], `${name}: nothing published`);
          if (p.error.name === 'ThreadCrashError') crashFailures.push({ file: badPaths[i]!, message: p.error.message });
          else assert.ok(p.error.message.includes(badPaths[i]!), `${name}: error names the file: ${p.error.message}`);
          failures++;
        }
      }
      const rows = await duckdbRows(`SELECT CAST(dt AS VARCHAR) AS dt, count(*) AS n FROM read_parquet(${sqlString(join(out, '*/*.parquet'))}, hive_partitioning = true) GROUP BY dt ORDER BY dt`);
      const expected = manifest.partitions.filter((p) => p.status === 'succeeded').map((p) => ({ dt: p.value, n: BigInt(p.rows) }));
      assert.deepEqual(rows, expected, `${name}: DuckDB sees exactly the published partitions`);
      assert.deepEqual(await filesUnder(join(out, '_staging')), []);
    }
    // At least one of these files is known to crash the decoder: the crash path was exercised.
    assert.ok(failures > 0, 'some bad_data file failed to decode');
    // A thread the decoder killed left no descriptor open on its input (Node closes a dead
    // thread's descriptors).
    assert.ok(crashFailures.length > 0, 'a decoder crash happened');
    for (const c of crashFailures) assert.deepEqual(openFdsTo(c.file), [], `${c.file}: descriptor left open after the crash`);
  });

  test('truncated files (cut in the middle, last byte missing) and a 0-byte file', async () => {
    const c = await newCase('truncated');
    const source = join(state.goodRoot, 'dt=2026-11-01', 'part-0.parquet');
    const size = (await stat(source)).size;
    const bytes = await readFile(source);
    // Cut in the middle: no footer.
    const half = c.part('2026-12-01');
    await mkdir(join(half, '..'), { recursive: true });
    await copyFile(source, half);
    await truncate(half, Math.floor(size / 2));
    // Cut just before the end: the magic survives nowhere.
    const short = c.part('2026-12-02');
    await mkdir(join(short, '..'), { recursive: true });
    await writeFile(short, bytes.subarray(0, size - 1));
    // 0 bytes.
    const empty = c.part('2026-12-03');
    await mkdir(join(empty, '..'), { recursive: true });
    await writeFile(empty, new Uint8Array(0));
    const bad: BadExpectation[] = [
      { date: '2026-12-01', file: half, name: 'ParquetError', patterns: [/truncated/] },
      { date: '2026-12-02', file: short, name: 'ParquetError', patterns: [/truncated/] },
      { date: '2026-12-03', file: empty, name: 'ParquetError', patterns: [/0 bytes/, /empty/] },
    ];
    await runBoth((out) => demoSpec(c.input, state.modelPath, out), c, bad);
  });

  test('a file whose data pages are cut out but whose footer is intact', async () => {
    const c = await newCase('middle-cut');
    const source = await readFile(join(state.goodRoot, 'dt=2026-11-01', 'part-0.parquet'));
    const footerLen = source.readUInt32LE(source.length - 8) + 8;
    const keep = Math.floor((source.length - footerLen) / 2);
    const path = c.part('2026-12-01');
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, Buffer.concat([source.subarray(0, keep), source.subarray(source.length - footerLen)]));
    await runBoth((out) => demoSpec(c.input, state.modelPath, out), c, [{ date: '2026-12-01', file: path, patterns: [/^parquet: /] }], { crashOk: true });
  });

  test('files with corrupted page headers (footer intact)', async () => {
    const c = await newCase('page-header');
    const source = await readFile(join(state.goodRoot, 'dt=2026-11-01', 'part-0.parquet'));
    // The first page header of the first column chunk starts right after the 4-byte magic.
    const bad: BadExpectation[] = [];
    for (const [k, [offset, length]] of [[4, 8], [10, 4]].entries()) {
      const date = `2026-12-0${k + 1}`;
      const bytes = Buffer.from(source);
      for (let i = offset!; i < offset! + length!; i++) bytes[i]! ^= 0xff;
      await mkdir(join(c.part(date), '..'), { recursive: true });
      await writeFile(c.part(date), bytes);
      bad.push({ date, file: c.part(date), patterns: [/^(parquet: |thread crashed)/] });
    }
    await runBoth((out) => demoSpec(c.input, state.modelPath, out), c, bad, { crashOk: true });
  });

  // Last in this suite: it checks the crashes collected by the tests above.
  test('a decoder crash names the file', () => {
    assert.ok(crashFailures.length > 0, 'some decoder crashed');
    for (const f of crashFailures) assert.ok(f.message.includes(f.file), `error names ${f.file}: ${f.message}`);
  });
});

describe('schema and value problems fail only their partition', () => {
  test('a missing feature column, a string feature column, a missing passthrough column', async () => {
    const c = await newCase('schema');
    const missing = featureColumns(ROWS, 100_000);
    delete missing.f5;
    await writeParquet(c.part('2026-12-01'), missing);
    const strings = featureColumns(ROWS, 200_000);
    strings.f5 = arrow.vectorFromArray(Array.from({ length: ROWS }, (_, i) => `v${i}`), new arrow.Utf8());
    await writeParquet(c.part('2026-12-02'), strings);
    const noId = featureColumns(ROWS, 300_000);
    delete noId.id;
    await writeParquet(c.part('2026-12-03'), noId);
    const bad: BadExpectation[] = [
      { date: '2026-12-01', file: c.part('2026-12-01'), name: 'ColumnError', patterns: [/column "f5" is missing/] },
      { date: '2026-12-02', file: c.part('2026-12-02'), name: 'ColumnError', patterns: [/column "f5" has type Utf8/, /float32, float64 or an integer/] },
      { date: '2026-12-03', file: c.part('2026-12-03'), name: 'ColumnError', patterns: [/column "id" \(passthrough\) is missing/] },
    ];
    await runBoth((out) => demoSpec(c.input, state.modelPath, out), c, bad, { oneShort: true });
  });

  test('NaN, +Infinity and -Infinity with nonFinite "error" (the default), across row groups', async () => {
    const c = await newCase('non-finite');
    const cases = [
      { date: '2026-12-01', column: 'f7', row: 1234, value: Number.NaN, kind: 'NaN' },
      { date: '2026-12-02', column: 'f9', row: 3, value: Number.POSITIVE_INFINITY, kind: 'Infinity' },
      { date: '2026-12-03', column: 'f31', row: 1999, value: Number.NEGATIVE_INFINITY, kind: '-Infinity' },
    ];
    for (const [k, x] of cases.entries()) {
      const cols = featureColumns(ROWS, 100_000 * (k + 1));
      const values = cols[x.column]!.toArray() as Float32Array;
      values[x.row] = x.value;
      cols[x.column] = arrow.makeVector(values);
      await writeParquet(c.part(x.date), cols, 500);
    }
    const bad = cases.map((x): BadExpectation => ({
      date: x.date,
      file: c.part(x.date),
      name: 'BadRowError',
      patterns: [new RegExp(`column "${x.column}" is ${x.kind.replace('+', '\\+')} at row ${x.row} `), /nonFinite: "error"/],
    }));
    await runBoth((out) => demoSpec(c.input, state.modelPath, out), c, bad);

    // nonFinite "as-null" with nulls "nan": every partition is scored; those rows score NaN.
    // The model pin matches here, so a correct pin is accepted.
    const out = c.out('as-null');
    const { manifest } = await run(demoSpec(c.input, state.modelPath, out, { nonFinite: 'as-null', nulls: 'nan', model: { uri: state.modelPath, sha256: state.modelSha } }));
    assert.equal(manifest.status, 'succeeded', JSON.stringify(manifest.errors));
    assert.equal(manifest.model?.sha256, state.modelSha);
    assert.equal(manifest.totals.rows, 6 * ROWS);
    const rows = await duckdbRows(
      `SELECT count(*) AS n, count(DISTINCT id) AS u, list(id ORDER BY id) FILTER (WHERE isnan(probability)) AS nan_ids
       FROM read_parquet(${sqlString(join(out, '*/*.parquet'))}, hive_partitioning = true)`,
    );
    assert.equal(rows[0]!.n, BigInt(6 * ROWS));
    assert.equal(rows[0]!.u, BigInt(6 * ROWS));
    assert.deepEqual(rows[0]!.nan_ids, cases.map((x, k) => BigInt(100_000 * (k + 1) + x.row)));
  });

  test('a null feature with nulls "error"; with nonFinite "as-null" a NaN is refused the same way', async () => {
    const c = await newCase('nulls');
    const withNull = featureColumns(ROWS, 100_000);
    withNull.f5 = withNulls(withNull.f5!.toArray() as Float32Array, [777]);
    await writeParquet(c.part('2026-12-01'), withNull, 500);
    const withNaN = featureColumns(ROWS, 200_000);
    const v = withNaN.f6!.toArray() as Float32Array;
    v[42] = Number.NaN;
    withNaN.f6 = arrow.makeVector(v);
    await writeParquet(c.part('2026-12-02'), withNaN, 500);
    const bad: BadExpectation[] = [
      { date: '2026-12-01', file: c.part('2026-12-01'), name: 'BadRowError', patterns: [/column "f5" is null at row 777 /, /nulls: "error"/] },
      { date: '2026-12-02', file: c.part('2026-12-02'), name: 'BadRowError', patterns: [/column "f6" is NaN at row 42 /, /as-null/] },
    ];
    await runBoth((out) => demoSpec(c.input, state.modelPath, out, { nulls: 'error', nonFinite: 'as-null' }), c, bad);
  });

  test('a zero-row partition (a valid Parquet file with 0 rows)', async () => {
    const c = await newCase('zero-rows');
    await writeParquet(c.part('2026-12-01'), featureColumns(0, 0));
    const bad: BadExpectation[] = [{ date: '2026-12-01', file: null, name: 'EmptyPartitionError', patterns: [/dt=2026-12-01/, /no rows/] }];
    const [strict] = await runBoth((out) => demoSpec(c.input, state.modelPath, out), c, bad);
    const p = strict!.manifest.partitions.find((x) => x.dir === 'dt=2026-12-01')!;
    assert.equal(p.files.length, 1);
    assert.equal(p.files[0]!.input.rows, 0, 'the file itself was read: 0 rows');
    assert.equal(p.files[0]!.output, null);
  });
});

