/**
 * One big input file: its row groups are shared by the pool's idle threads, and the output
 * is the same file, byte for byte, as one thread writes; memory stays bounded whatever the
 * file's size (peak RSS of a whole scoring process, measured in a child process).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { footerRows } from '../../src/parquet/parquet-writer.js';
import { fileTask, planRun } from '../../src/run/run-plan.js';
import { runJob } from '../../src/run/run-job.js';
import type { FileResult, FileTask } from '../../src/run/file-task.js';
import { ThreadPool } from '../../src/run/thread-pool.js';
import { UnitCounter, type PartResult, type PartTask } from '../../src/run/file-parts.js';
import { demoModels, demoSpec } from '../support/dataset.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';
import { writeBigFile } from './fixtures/big-file.js';

const ROW_GROUP = 131_072;
const ROWS = 17 * ROW_GROUP; // 2,228,224 rows: output row groups of 8, 8 and 1 input row groups

describe('a single big file', () => {
  let dir: TmpDir;
  let specPath: string;
  before(async () => {
    dir = await tmpDir();
    const input = join(dir.path, 'input', 'dt=2026-11-01');
    await mkdir(input, { recursive: true });
    await writeBigFile(join(input, 'part-0.parquet'), ROWS, { rowGroupRows: ROW_GROUP });
    const modelPath = join(dir.path, 'logistic.onnx');
    await writeFile(modelPath, demoModels().logistic.bytes);
    specPath = join(dir.path, 'spec.json');
    const spec = demoSpec(join(dir.path, 'input'), modelPath, join(dir.path, 'out'), { passthrough: ['id', 'segment'], batchSize: 8192 });
    await writeFile(specPath, JSON.stringify(spec));
  });
  after(() => dir.cleanup());

  test('scored by two threads, it is the same file byte for byte as scored by one', async () => {
    const spec = JSON.parse(await readFile(specPath, 'utf8'));
    const one = await runJob({ ...spec, output: { ...spec.output, uri: join(dir.path, 'out-1') } }, { threads: 1 });
    assert.equal(one.manifest.status, 'succeeded', JSON.stringify(one.manifest.errors));
    const outOne = one.manifest.partitions[0]!.files[0]!.output!;
    assert.equal(outOne.rows, ROWS);

    // The file task straight on a pool of two threads: the second one joins in.
    const plan = await planRun({ ...spec, output: { ...spec.output, uri: join(dir.path, 'out-2') } }, { kind: 'all' }, '00000000-0000-4000-8000-000000000002');
    const pool = new ThreadPool<FileTask, FileResult & { threads: number }>({ script: new URL('../../src/run/score-thread.js', import.meta.url), size: 2, keepWarmMs: 0 });
    let result: FileResult & { threads: number };
    try {
      result = await pool.run(fileTask(plan, plan.partitions[0]!, 0, 'a0'));
    } finally {
      await pool.close();
    }
    assert.equal(result.rows, ROWS);
    assert.equal(result.threads, 2, 'an idle thread took part');
    assert.equal(result.output!.sha256, outOne.sha256, 'same bytes as one thread wrote');
    assert.equal(result.output!.bytes, outOne.bytes);

    const two = await runJob({ ...spec, output: { ...spec.output, uri: join(dir.path, 'out-3') } }, { threads: 2 });
    assert.equal(two.manifest.partitions[0]!.files[0]!.output!.sha256, outOne.sha256);

    // Output row groups follow the input's: 8 + 8 + 1 input row groups.
    const path = join(dir.path, 'out-1', 'dt=2026-11-01', 'part-0.parquet');
    const bytes = await readFile(path);
    assert.deepEqual((await footerRows(new Blob([bytes]), path)).rowGroupRows, [8 * ROW_GROUP, 8 * ROW_GROUP, ROW_GROUP]);
    const [stats] = await duckdbRows(
      `SELECT count(*)::BIGINT AS n, count(DISTINCT id)::BIGINT AS ids, min(id) AS lo, max(id) AS hi, count(probability)::BIGINT AS scored,
              sum(CASE WHEN isnan(probability) THEN 1 ELSE 0 END)::BIGINT AS nan
       FROM read_parquet(${sqlString(path)})`,
    );
    assert.deepEqual({ ...stats }, { n: BigInt(ROWS), ids: BigInt(ROWS), lo: 0n, hi: BigInt(ROWS - 1), scored: BigInt(ROWS), nan: stats!.nan });
    // ~1% nulls in three features under nulls: "nan" make ~3% NaN scores.
    assert.ok(Number(stats!.nan) > ROWS * 0.02 && Number(stats!.nan) < ROWS * 0.04, `NaN scores: ${stats!.nan}`);
  });

  test('maxBadRowsFraction counts refused rows over every thread of a split file', async () => {
    // The fixture has ~1% nulls in each of f3, f7 and f11: ~3% of rows refused by nulls "error".
    const spec = JSON.parse(await readFile(specPath, 'utf8'));
    const inputPath = join(dir.path, 'input', 'dt=2026-11-01', 'part-0.parquet');
    const [truth] = await duckdbRows(`SELECT count(*)::BIGINT AS bad FROM read_parquet(${sqlString(inputPath)}) WHERE f3 IS NULL OR f7 IS NULL OR f11 IS NULL`);
    const bad = Number(truth!.bad);
    const scoreSplit = async (fraction: number, out: string) => {
      const plan = await planRun({ ...spec, nulls: 'error', maxBadRowsFraction: fraction, output: { ...spec.output, uri: join(dir.path, out) } }, { kind: 'all' }, '00000000-0000-4000-8000-000000000004');
      const pool = new ThreadPool<FileTask, FileResult & { threads: number }>({ script: new URL('../../src/run/score-thread.js', import.meta.url), size: 2, keepWarmMs: 0 });
      try {
        return await pool.run(fileTask(plan, plan.partitions[0]!, 0, 'a0'));
      } finally {
        await pool.close();
      }
    };
    const ok = await scoreSplit(0.05, 'out-bad-ok');
    assert.equal(ok.threads, 2, 'an idle thread took part');
    assert.equal(ok.rows, ROWS);
    assert.equal(ok.badRows.count, bad, 'every refused row counted once, whichever thread scored it');
    assert.deepEqual(ok.badRows.samples.map((x) => x.row), [...ok.badRows.samples.map((x) => x.row)].sort((a, b) => a - b), 'samples in row order');
    const [out] = await duckdbRows(`SELECT count(*)::BIGINT AS n, count(*) FILTER (WHERE probability IS NULL)::BIGINT AS nulls FROM read_parquet(${sqlString(ok.output!.uri.replace(/^file:\/\//, ''))})`);
    assert.deepEqual({ ...out }, { n: BigInt(ROWS), nulls: BigInt(bad) });

    // A limit each thread's share stays under but the whole file exceeds (~2/3 of the bad
    // rows): the owner's sum over the parts fails the file, or one thread's own count does.
    const fraction = (bad * 0.66) / ROWS;
    await assert.rejects(scoreSplit(fraction, 'out-bad-over'), (err: Error) => {
      assert.equal(err.name, 'BadRowError');
      assert.match(err.message, new RegExp(`more than ${Math.floor(fraction * ROWS)} of ${ROWS} rows refused`));
      return true;
    });
  });

  test('a helper that comes after every unit is claimed loads and reads nothing (its failures cannot fail the file)', async () => {
    const spec = JSON.parse(await readFile(specPath, 'utf8'));
    const plan = await planRun({ ...spec, output: { ...spec.output, uri: join(dir.path, 'out-late') } }, { kind: 'all' }, '00000000-0000-4000-8000-000000000005');
    const counter = new UnitCounter();
    while (counter.claim(3) !== undefined);
    // A model that does not exist: loading it would fail the helper, and with it the file.
    const late: PartTask = { ...fileTask(plan, plan.partitions[0]!, 0, 'a0'), model: { uri: `file://${join(dir.path, 'missing.onnx')}`, sha256: '0'.repeat(64) }, part: { counter: counter.buffer, units: 3 } };
    const pool = new ThreadPool<PartTask, PartResult>({ script: new URL('../../src/run/score-thread.js', import.meta.url), size: 1, keepWarmMs: 0 });
    try {
      const result = await pool.run(late);
      assert.deepEqual(result.units, []);
      assert.equal(result.path, null);
      assert.equal(result.failure, undefined);
    } finally {
      await pool.close();
    }
  });

  test('peak RSS of a whole scoring process stays bounded (benchmark figure; generous ceiling)', async () => {
    const script = fileURLToPath(new URL('./fixtures/score-big.js', import.meta.url));
    const spec = JSON.parse(await readFile(specPath, 'utf8'));
    const path = join(dir.path, 'spec-mem.json');
    await writeFile(path, JSON.stringify({ ...spec, output: { ...spec.output, uri: join(dir.path, 'out-mem') } }));
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [script, path, '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
    });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { status: string; rows: number; ms: number; maxRssKB: number };
    console.log(`bounded memory: ${ROWS.toLocaleString('en-US')} rows, one 35-column file, 2 threads: peak RSS ${Math.round(r.maxRssKB / 1024)} MB, ${r.ms} ms`);
    assert.equal(r.status, 'succeeded');
    assert.equal(r.rows, ROWS);
    assert.ok(r.maxRssKB < 640 * 1024, `peak RSS ${Math.round(r.maxRssKB / 1024)} MB`);
  });
});
