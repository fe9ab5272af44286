/**
 * The shared set-up of the bad-input tests (bad-input.test.ts, bad-models.test.ts): three
 * good partitions copied into every case's input, the demo logistic model, and the helpers
 * that run a job over good and bad partitions and check what was published and recorded.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as arrow from 'apache-arrow';
import { demoPartition } from '../../src/demo/demo-data.js';
import { encodeParquet } from '../../src/parquet/parquet-writer.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { runJob, type RunResult } from '../../src/run/run-job.js';
import type { JobSpec } from '../../src/spec/job-spec.js';
import { demoModels } from './dataset.js';
import { duckdbRows, sqlString } from './duckdb.js';
import { tmpDir, type TmpDir } from './tmp.js';

// Tests run from dist/test/<folder>/: the project root is three levels up, ../shared one more.
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TESTDATA = fileURLToPath(new URL('../../../../shared/testdata/parquet-testing/', import.meta.url));
export const BAD_DATA = join(TESTDATA, 'bad_data');
export const DATA = join(TESTDATA, 'data');

export const GOOD_DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];
export const ROWS = 2000;
export const FEATURES = Array.from({ length: 32 }, (_, i) => `f${i}`);

/** The suite's state, set by the hooks `useBadInputSuite` registers. */
export const state = {} as {
  dir: TmpDir;
  /** Folder with the three good partitions, copied into every case's input. */
  goodRoot: string;
  modelPath: string;
  modelSha: string;
};
let caseNo = 0;
/** Errors of partitions that failed by a decoder crash, checked by 'a decoder crash names the file'. */
export const crashFailures: { file: string; message: string }[] = [];

/** Columns `id` (int64) + f0..f31 (float32, finite, no nulls), deterministic. */
export function featureColumns(rows: number, firstId: number): Record<string, arrow.Vector> {
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
export function withNulls(values: Float32Array, nullRows: readonly number[]): arrow.Vector {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8)).fill(0xff);
  for (const r of nullRows) bitmap[r >> 3]! &= ~(1 << (r & 7));
  return arrow.makeVector(arrow.makeData({ type: new arrow.Float32(), length: values.length, nullCount: nullRows.length, nullBitmap: bitmap, data: values }));
}

export async function writeParquet(path: string, columns: Record<string, arrow.Vector>, rowGroupRows = 500): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, await encodeParquet(new arrow.Table(columns), { uri: path, maxRowGroupRows: rowGroupRows }));
}

/** A fresh case folder whose input holds the three good partitions. */
export async function newCase(label: string): Promise<{ input: string; out: (suffix: string) => string; part: (date: string, name?: string) => string }> {
  const root = join(state.dir.path, `case-${++caseNo}-${label}`);
  const input = join(root, 'input');
  for (const date of GOOD_DATES) {
    await mkdir(join(input, `dt=${date}`), { recursive: true });
    await copyFile(join(state.goodRoot, `dt=${date}`, 'part-0.parquet'), join(input, `dt=${date}`, 'part-0.parquet'));
  }
  return {
    input,
    out: (suffix) => join(root, `out-${suffix}`),
    part: (date, name = 'part-0.parquet') => join(input, `dt=${date}`, name),
  };
}

/** What a bad partition's error must say. */
export interface BadExpectation {
  /** Partition value (`dt=<date>`). */
  date: string;
  /** Path of the input file the error must name; null when the error is about the partition. */
  file: string | null;
  /** Every pattern must match the error message (column, cause, row). */
  patterns: RegExp[];
  /** Expected error class name. */
  name?: string;
}

export async function filesUnder(path: string): Promise<string[]> {
  try {
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
}

/** Run a job and check the manifest written on disk equals the one returned. */
export async function run(spec: JobSpec, maxFailedPartitions?: number): Promise<RunResult> {
  const result = await runJob(spec, { threads: 2, ...(maxFailedPartitions === undefined ? {} : { maxFailedPartitions }) });
  const onDisk = JSON.parse(await readFile(new URL(result.manifestUri), 'utf8')) as RunManifest;
  assert.deepEqual(onDisk, JSON.parse(JSON.stringify(result.manifest)), 'manifest on disk equals the manifest returned');
  return result;
}

/** Output rows DuckDB sees, per partition: count, distinct ids, id range. */
export async function published(out: string): Promise<Map<string, { n: bigint; u: bigint; lo: bigint; hi: bigint }>> {
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
export async function checkRun(
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
export async function runBoth(spec: (out: string) => JobSpec, c: { out: (s: string) => string }, bad: readonly BadExpectation[], options: { crashOk?: boolean; oneShort?: boolean } = {}): Promise<RunResult[]> {
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

/** Register the suite's set-up and clean-up hooks in the calling test file. */
export function useBadInputSuite(): void {
  before(async () => {
    state.dir = await tmpDir('batchscore-bad-input-');
    state.goodRoot = join(state.dir.path, 'good');
    // Good partitions without nulls, so that they also pass with nulls: "error".
    for (const [i, date] of GOOD_DATES.entries()) {
      await mkdir(join(state.goodRoot, `dt=${date}`), { recursive: true });
      await writeFile(join(state.goodRoot, `dt=${date}`, 'part-0.parquet'), await demoPartition(date, { rows: ROWS, firstId: i * ROWS, rowGroupRows: 700, nullColumns: [] }));
    }
    state.modelPath = join(state.dir.path, 'logistic.onnx');
    const bytes = demoModels().logistic.bytes;
    await writeFile(state.modelPath, bytes);
    state.modelSha = createHash('sha256').update(bytes).digest('hex');
  });
  after(() => state.dir.cleanup());
}
