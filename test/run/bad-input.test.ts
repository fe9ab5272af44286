/**
 * Bad input: corrupt, truncated and empty Parquet files, schema and value problems, zero-row
 * partitions and bad models. Every case runs a real job over good partitions plus bad ones
 * and checks that each bad partition fails with an error naming its file and cause, publishes
 * nothing, is recorded in the manifest (returned and on disk), and that the good partitions
 * are still published, exactly once, as DuckDB reads them. `inspect` is run as a child
 * process over every file of parquet-testing/data and bad_data.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as arrow from 'apache-arrow';
import { demoPartition } from '../../src/demo/demo-data.js';
import { buildLogisticModel } from '../../src/model/build/logistic.js';
import { encodeParquet } from '../../src/parquet/parquet-writer.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { runJob, type RunResult } from '../../src/run/run-job.js';
import type { JobSpec } from '../../src/spec/job-spec.js';
import { demoModels, demoSpec } from '../support/dataset.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

// Tests run from dist/test/run/: the project root is three levels up, ../shared one more.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TESTDATA = fileURLToPath(new URL('../../../../shared/testdata/parquet-testing/', import.meta.url));
const BAD_DATA = join(TESTDATA, 'bad_data');
const DATA = join(TESTDATA, 'data');

const GOOD_DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];
const ROWS = 2000;
const FEATURES = Array.from({ length: 32 }, (_, i) => `f${i}`);

let dir: TmpDir;
/** Folder with the three good partitions, copied into every case's input. */
let goodRoot: string;
let modelPath: string;
let modelSha: string;
let caseNo = 0;
/** Errors of partitions that failed by a decoder crash, checked by 'a decoder crash names the file'. */
const crashFailures: { file: string; message: string }[] = [];

/** Columns `id` (int64) + f0..f31 (float32, finite, no nulls), deterministic. */
function featureColumns(rows: number, firstId: number): Record<string, arrow.Vector> {
  const ids = new BigInt64Array(rows);
  for (let i = 0; i < rows; i++) ids[i] = BigInt(firstId + i);
  const columns: Record<string, arrow.Vector> = { id: arrow.makeVector(ids) };
  for (const [j, name] of FEATURES.entries()) {
    const values = new Float32Array(rows);
    for (let i = 0; i < rows; i++) values[i] = Math.sin((firstId + i) * 0.37 + j);
    columns[name] = arrow.makeVector(values);
  }
  return columns;
}

/** A float32 column with nulls at `nullRows`. */
function withNulls(values: Float32Array, nullRows: readonly number[]): arrow.Vector {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8)).fill(0xff);
  for (const r of nullRows) bitmap[r >> 3]! &= ~(1 << (r & 7));
  return arrow.makeVector(arrow.makeData({ type: new arrow.Float32(), length: values.length, nullCount: nullRows.length, nullBitmap: bitmap, data: values }));
}

async function writeParquet(path: string, columns: Record<string, arrow.Vector>, rowGroupRows = 500): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, await encodeParquet(new arrow.Table(columns), { uri: path, maxRowGroupRows: rowGroupRows }));
}

/** A fresh case folder whose input holds the three good partitions. */
async function newCase(label: string): Promise<{ input: string; out: (suffix: string) => string; part: (date: string, name?: string) => string }> {
  const root = join(dir.path, `case-${++caseNo}-${label}`);
  const input = join(root, 'input');
  for (const date of GOOD_DATES) {
    await mkdir(join(input, `dt=${date}`), { recursive: true });
    await copyFile(join(goodRoot, `dt=${date}`, 'part-0.parquet'), join(input, `dt=${date}`, 'part-0.parquet'));
  }
  return {
    input,
    out: (suffix) => join(root, `out-${suffix}`),
    part: (date, name = 'part-0.parquet') => join(input, `dt=${date}`, name),
  };
}

/** What a bad partition's error must say. */
interface BadExpectation {
  /** Partition value (`dt=<date>`). */
  date: string;
  /** Path of the input file the error must name; null when the error is about the partition. */
  file: string | null;
  /** Every pattern must match the error message (column, cause, row). */
  patterns: RegExp[];
  /** Expected error class name. */
  name?: string;
}

async function filesUnder(path: string): Promise<string[]> {
  try {
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
}

/** Run a job and check the manifest written on disk equals the one returned. */
async function run(spec: JobSpec, maxFailedPartitions?: number): Promise<RunResult> {
  const result = await runJob(spec, { threads: 2, ...(maxFailedPartitions === undefined ? {} : { maxFailedPartitions }) });
  const onDisk = JSON.parse(await readFile(new URL(result.manifestUri), 'utf8')) as RunManifest;
  assert.deepEqual(onDisk, JSON.parse(JSON.stringify(result.manifest)), 'manifest on disk equals the manifest returned');
  return result;
}

/** Output rows DuckDB sees, per partition: count, distinct ids, id range. */
async function published(out: string): Promise<Map<string, { n: bigint; u: bigint; lo: bigint; hi: bigint }>> {
  const glob = join(out, '*/*.parquet');
  if ((await filesUnder(out)).every((f) => !f.endsWith('.parquet'))) return new Map();
  const rows = await duckdbRows(
    `SELECT CAST(dt AS VARCHAR) AS dt, count(*) AS n, count(DISTINCT id) AS u, min(id) AS lo, max(id) AS hi
     FROM read_parquet(${sqlString(glob)}, hive_partitioning = true) GROUP BY dt ORDER BY dt`,
  );
  return new Map(rows.map((r) => [r.dt as string, { n: r.n as bigint, u: r.u as bigint, lo: BigInt(r.lo as bigint), hi: BigInt(r.hi as bigint) }]));
}

/**
 * Check one run over the good partitions plus `bad` ones: statuses, errors, what is
 * published, nothing staged.
 * @param options.crashOk a decoder crash (ThreadCrashError) is an accepted failure; whether
 *   its message names the file is checked by 'a decoder crash names the file'
 */
async function checkRun(
  result: RunResult,
  out: string,
  bad: readonly BadExpectation[],
  expectedStatus: 'failed' | 'partial',
  options: { goodDates?: readonly string[]; crashOk?: boolean } = {},
): Promise<void> {
  const { manifest } = result;
  const goodDates = options.goodDates ?? GOOD_DATES;
  assert.equal(manifest.status, expectedStatus, `run status (errors: ${JSON.stringify(manifest.errors)})`);
  assert.equal(manifest.partitions.length, goodDates.length + bad.length);
  assert.equal(manifest.totals.failedPartitions, bad.length);
  assert.equal(manifest.totals.rows, goodDates.length * ROWS);

  for (const b of bad) {
    const dirName = `dt=${b.date}`;
    const p = manifest.partitions.find((x) => x.dir === dirName);
    assert.ok(p, `${dirName} is in the manifest`);
    assert.equal(p.status, 'failed', `${dirName} failed`);
    assert.equal(p.success, null);
    assert.ok(p.error, `${dirName} has an error`);
    const message = p.error.message;
    if (b.name) assert.equal(p.error.name, b.name, `${dirName}: ${message}`);
    assert.equal(p.error.permanent, true, `${dirName}: bad input is a permanent error`);
    if (b.file !== null) {
      const f = p.files.find((x) => x.input.uri.endsWith(b.file!));
      assert.ok(f?.error, `${dirName}: the file record of ${b.file} has the error`);
      assert.equal(f.output, null);
      if (options.crashOk && p.error.name === 'ThreadCrashError') crashFailures.push({ file: b.file, message });
      else assert.ok(message.includes(b.file), `${dirName}: error names ${b.file}: ${message}`);
    }
    for (const re of b.patterns) assert.match(message, re, `${dirName}`);
    // The run's error list names the partition too.
    assert.ok(manifest.errors.some((e) => e.message.startsWith(`${dirName}: `) && e.message.includes(message)), `${dirName} in manifest.errors`);
    // Nothing published for it.
    const left = await filesUnder(join(out, dirName));
    assert.deepEqual(left.filter((f) => f.endsWith('.parquet') || f.endsWith('_SUCCESS.json')), [], `${dirName} publishes nothing`);
  }

  for (const date of goodDates) {
    const p = manifest.partitions.find((x) => x.dir === `dt=${date}`);
    assert.equal(p?.status, 'succeeded', `dt=${date} succeeded`);
    assert.equal(p.rows, ROWS);
    const files = (await readdir(join(out, `dt=${date}`))).sort();
    assert.deepEqual(files, ['_SUCCESS.json', 'part-0.parquet']);
  }
  const seen = await published(out);
  assert.deepEqual([...seen.keys()], [...goodDates].sort(), 'DuckDB sees exactly the good partitions');
  for (const date of goodDates) {
    const i = GOOD_DATES.indexOf(date);
    assert.deepEqual(seen.get(date), { n: BigInt(ROWS), u: BigInt(ROWS), lo: BigInt(i * ROWS), hi: BigInt((i + 1) * ROWS - 1) }, `dt=${date} rows`);
  }
  assert.deepEqual(await filesUnder(join(out, '_staging')), [], 'nothing left under _staging');
}

/**
 * Run the same input twice: with the default maxFailedPartitions (0) the run fails; allowing
 * exactly the bad partitions makes it partial. Both publish the good partitions. With
 * `oneShort`, also allow one fewer than the bad partitions: still failed.
 */
async function runBoth(spec: (out: string) => JobSpec, c: { out: (s: string) => string }, bad: readonly BadExpectation[], options: { crashOk?: boolean; oneShort?: boolean } = {}): Promise<RunResult[]> {
  const strict = await run(spec(c.out('strict')));
  await checkRun(strict, c.out('strict'), bad, 'failed', options);
  assert.equal(strict.manifest.settings.maxFailedPartitions, 0);
  if (options.oneShort) {
    // One failed partition more than allowed still fails the run.
    const almost = await run(spec(c.out('almost')), bad.length - 1);
    await checkRun(almost, c.out('almost'), bad, 'failed', options);
  }
  const tolerant = await run(spec(c.out('tolerant')), bad.length);
  await checkRun(tolerant, c.out('tolerant'), bad, 'partial', options);
  return [strict, tolerant];
}

before(async () => {
  dir = await tmpDir('batchscore-bad-input-');
  goodRoot = join(dir.path, 'good');
  // Good partitions without nulls, so that they also pass with nulls: "error".
  for (const [i, date] of GOOD_DATES.entries()) {
    await mkdir(join(goodRoot, `dt=${date}`), { recursive: true });
    await writeFile(join(goodRoot, `dt=${date}`, 'part-0.parquet'), await demoPartition(date, { rows: ROWS, firstId: i * ROWS, rowGroupRows: 700, nullColumns: [] }));
  }
  modelPath = join(dir.path, 'logistic.onnx');
  const bytes = demoModels().logistic.bytes;
  await writeFile(modelPath, bytes);
  modelSha = createHash('sha256').update(bytes).digest('hex');
});
after(() => dir.cleanup());

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
    await runBoth((out) => demoSpec(c.input, modelPath, out), c, bad);
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
      const root = join(dir.path, `decode-${name}`);
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
  });

  test('truncated files (cut in the middle, last byte missing) and a 0-byte file', async () => {
    const c = await newCase('truncated');
    const source = join(goodRoot, 'dt=2026-11-01', 'part-0.parquet');
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
    await runBoth((out) => demoSpec(c.input, modelPath, out), c, bad);
  });

  test('a file whose data pages are cut out but whose footer is intact', async () => {
    const c = await newCase('middle-cut');
    const source = await readFile(join(goodRoot, 'dt=2026-11-01', 'part-0.parquet'));
    const footerLen = source.readUInt32LE(source.length - 8) + 8;
    const keep = Math.floor((source.length - footerLen) / 2);
    const path = c.part('2026-12-01');
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, Buffer.concat([source.subarray(0, keep), source.subarray(source.length - footerLen)]));
    await runBoth((out) => demoSpec(c.input, modelPath, out), c, [{ date: '2026-12-01', file: path, patterns: [/^parquet: /] }], { crashOk: true });
  });

  test('files with corrupted page headers (footer intact)', async () => {
    const c = await newCase('page-header');
    const source = await readFile(join(goodRoot, 'dt=2026-11-01', 'part-0.parquet'));
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
    await runBoth((out) => demoSpec(c.input, modelPath, out), c, bad, { crashOk: true });
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
    await runBoth((out) => demoSpec(c.input, modelPath, out), c, bad, { oneShort: true });
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
    await runBoth((out) => demoSpec(c.input, modelPath, out), c, bad);

    // nonFinite "as-null" with nulls "nan": every partition is scored; those rows score NaN.
    // The model pin matches here, so a correct pin is accepted.
    const out = c.out('as-null');
    const { manifest } = await run(demoSpec(c.input, modelPath, out, { nonFinite: 'as-null', nulls: 'nan', model: { uri: modelPath, sha256: modelSha } }));
    assert.equal(manifest.status, 'succeeded', JSON.stringify(manifest.errors));
    assert.equal(manifest.model?.sha256, modelSha);
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
    await runBoth((out) => demoSpec(c.input, modelPath, out, { nulls: 'error', nonFinite: 'as-null' }), c, bad);
  });

  test('a zero-row partition (a valid Parquet file with 0 rows)', async () => {
    const c = await newCase('zero-rows');
    await writeParquet(c.part('2026-12-01'), featureColumns(0, 0));
    const bad: BadExpectation[] = [{ date: '2026-12-01', file: null, name: 'EmptyPartitionError', patterns: [/dt=2026-12-01/, /no rows/] }];
    const [strict] = await runBoth((out) => demoSpec(c.input, modelPath, out), c, bad);
    const p = strict!.manifest.partitions.find((x) => x.dir === 'dt=2026-12-01')!;
    assert.equal(p.files.length, 1);
    assert.equal(p.files[0]!.input.rows, 0, 'the file itself was read: 0 rows');
    assert.equal(p.files[0]!.output, null);
  });
});

describe('bad models fail the whole run before scoring', () => {
  async function checkNothingPublished(out: string, manifest: RunManifest): Promise<void> {
    assert.equal(manifest.status, 'failed');
    assert.deepEqual(manifest.partitions, []);
    assert.equal(manifest.totals.partitions, 0);
    const files = await filesUnder(out);
    assert.deepEqual(files.map((f) => f.slice(out.length + 1)), [`_runs/${manifest.runId}.json`, `_runs/${manifest.runId}.lineage.jsonl`].sort(), 'only the manifest and its lineage events are written');
  }

  test('a model whose sha256 does not match the pin', async () => {
    const c = await newCase('sha-mismatch');
    const out = c.out('strict');
    const pin = 'ab'.repeat(32);
    // Allowing failed partitions changes nothing: the run cannot start.
    const { manifest } = await run(demoSpec(c.input, modelPath, out, { model: { uri: modelPath, sha256: pin } }), 5);
    await checkNothingPublished(out, manifest);
    assert.equal(manifest.model, null);
    assert.equal(manifest.errors.length, 1);
    const e = manifest.errors[0]!;
    assert.equal(e.name, 'ModelError');
    assert.equal(e.permanent, true);
    assert.ok(e.message.includes(modelPath), e.message);
    assert.ok(e.message.includes(pin), e.message);
    assert.ok(e.message.includes(modelSha), e.message);
    assert.match(e.message, /sha256 mismatch/);
  });

  const widthErrors: string[] = [];
  test('a model whose input width does not fit the features (31 listed, model takes 32)', async () => {
    const c = await newCase('width');
    const out = c.out('strict');
    const { manifest } = await run(demoSpec(c.input, modelPath, out, { features: FEATURES.slice(0, 31) }), 5);
    await checkNothingPublished(out, manifest);
    assert.equal(manifest.errors.length, 1);
    const e = manifest.errors[0]!;
    assert.equal(e.name, 'BindingError');
    assert.equal(e.permanent, true);
    assert.match(e.message, /\[N,32\]/);
    assert.match(e.message, /31 features/);
    widthErrors.push(e.message);
  });

  test('a model width error names the model', () => {
    assert.equal(widthErrors.length, 1);
    assert.ok(widthErrors[0]!.includes(modelPath), widthErrors[0]);
  });
});

describe('batchscore inspect (child process)', () => {
  interface InspectEntry {
    uri: string;
    rows?: number;
    columns?: { name: string; type: string }[];
    error?: string;
  }

  function inspect(files: readonly string[]): { status: number | null; signal: string | null; entries: InspectEntry[]; stderr: string } {
    const res = spawnSync(process.execPath, [join(ROOT, 'bin', 'batchscore.js'), 'inspect', '--json', ...files], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(res.error, undefined, `spawn failed: ${String(res.error)}`);
    let entries: InspectEntry[];
    try {
      entries = JSON.parse(res.stdout) as InspectEntry[];
    } catch {
      assert.fail(`stdout is not JSON (status ${res.status}, signal ${res.signal}):\n${res.stdout.slice(0, 2000)}\n${res.stderr.slice(0, 2000)}`);
    }
    return { status: res.status, signal: res.signal, entries, stderr: res.stderr };
  }

  function checkEntries(files: readonly string[], result: ReturnType<typeof inspect>): InspectEntry[] {
    assert.equal(result.signal, null, `inspect was killed by ${result.signal}: ${result.stderr}`);
    assert.ok(result.status === 0 || result.status === 1, `exit status ${result.status}: ${result.stderr}`);
    assert.deepEqual(result.entries.map((e) => e.uri), [...files], 'one entry per file, in order');
    const failed: InspectEntry[] = [];
    for (const e of result.entries) {
      if (e.error !== undefined) {
        assert.ok(e.error.includes(e.uri), `error names the file: ${e.error}`);
        failed.push(e);
      } else {
        assert.ok(Number.isInteger(e.rows) && e.rows! >= 0, `${e.uri}: rows`);
        assert.ok(Array.isArray(e.columns) && e.columns.length > 0, `${e.uri}: columns`);
      }
    }
    assert.equal(result.status, failed.length > 0 ? 1 : 0, 'exit 1 exactly when some file could not be read');
    return failed;
  }

  test('reads every file of parquet-testing/data without crashing', async () => {
    const files = (await readdir(DATA)).filter((f) => f.endsWith('.parquet')).sort().map((f) => join(DATA, f));
    assert.ok(files.length >= 60, `data has ${files.length} files`);
    const failed = checkEntries(files, inspect(files));
    // Nearly every file is readable; a few exotic ones may be refused with a clear message.
    assert.ok(failed.length <= 3, `unreadable: ${failed.map((f) => f.error).join('\n')}`);
    const one = [join(DATA, 'alltypes_plain.parquet')];
    const plain = inspect(one);
    assert.deepEqual(checkEntries(one, plain), [], plain.stderr);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.entries[0]!.rows, 8);
  });

  test('bad_data, truncated and empty files: clear errors, exit 1, no crash', async () => {
    const root = join(dir.path, 'inspect');
    await mkdir(root, { recursive: true });
    const good = join(goodRoot, 'dt=2026-11-01', 'part-0.parquet');
    const half = join(root, 'half.parquet');
    await copyFile(good, half);
    await truncate(half, Math.floor((await stat(good)).size / 2));
    const empty = join(root, 'empty.parquet');
    await writeFile(empty, new Uint8Array(0));
    const badFiles = (await readdir(BAD_DATA)).filter((f) => f.endsWith('.parquet')).sort().map((f) => join(BAD_DATA, f));
    const files = [good, ...badFiles, half, empty, join(root, 'missing.parquet')];
    const result = inspect(files);
    const failed = checkEntries(files, result);
    assert.equal(result.status, 1);
    const errorOf = (f: string) => failed.find((e) => e.uri === f)?.error ?? '';
    assert.match(errorOf(half), /truncated/);
    assert.match(errorOf(empty), /0 bytes/);
    assert.match(errorOf(join(root, 'missing.parquet')), /not found|no such|does not exist/i);
    assert.equal(result.entries[0]!.rows, ROWS);
  });
});
