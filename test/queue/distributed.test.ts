/**
 * Distributed mode end to end: real Redis, real S3 API over HTTP (s3rver), and two
 * `batchscore worker` child processes. A backfill through the queue must publish exactly
 * what the in-process runner publishes (DuckDB reads both: same ids, same scores, bit for
 * bit), and submission must be idempotent per job and window unless `rerun` is asked for.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis, type QueueConfig } from '../../src/queue/connection.js';
import { fileJobId, submitRun } from '../../src/queue/submit-run.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { runJob } from '../../src/run/run-job.js';
import type { SuccessMarker } from '../../src/run/commit.js';
import type { JobSpec } from '../../src/spec/job-spec.js';
import { closeCachedStores } from '../../src/storage/resolve.js';
import type { S3Store } from '../../src/storage/s3-store.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import {
  downloadPrefix, obliterateQueue, publishedRows, queueConfig, randomQueueName, s3Env, spawnCli, startWorker, uploadDir,
  waitForManifest, workerEnv, type CliProcess,
} from '../support/queue-harness.js';
import { redisUrlForTests } from '../support/redis.js';
import { startS3rver, s3StoreFor, S3RVER_CREDENTIALS, type S3rverHandle } from '../support/s3rver.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const DATES = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'];
const ROWS = 2000;

function checkManifest(m: RunManifest, partitions: number): void {
  assert.deepEqual(m.errors, []);
  assert.equal(m.status, 'succeeded');
  assert.equal(m.partitions.length, partitions);
  assert.equal(m.totals.rows, partitions * ROWS);
  assert.equal(m.totals.files, partitions);
  for (const p of m.partitions) {
    assert.equal(p.status, 'succeeded');
    assert.equal(p.rows, ROWS);
    assert.ok(p.success?.endsWith(`${p.dir}/_SUCCESS.json`), `partition ${p.dir} has its _SUCCESS.json`);
    for (const f of p.files) {
      assert.equal(f.error, null);
      assert.equal(f.output?.rows, ROWS);
      assert.ok(f.output?.uri.endsWith(`${p.dir}/part-0.parquet`), `final output name, not a staging key: ${f.output?.uri}`);
    }
  }
}

describe('distributed mode on s3:// with 2 worker processes', () => {
  let s3: S3rverHandle;
  let dir: TmpDir;
  let redis: Redis;
  let redisUrl: string;
  let config: QueueConfig;
  let store: S3Store;
  let bucket: string;
  let spec: JobSpec;
  let env: NodeJS.ProcessEnv;
  const workers: CliProcess[] = [];
  const saved = { ...process.env };
  const logs = () => workers.map((w) => `--- worker ${w.pid}\n${w.output()}`).join('\n');

  before(async () => {
    s3 = await startS3rver();
    dir = await tmpDir('batchscore-distributed-');
    bucket = await s3.bucket();
    store = s3StoreFor(s3.endpoint, bucket);
    const local = join(dir.path, 'input');
    await writeDemoDataset(local, DATES, ROWS);
    await uploadDir(store, local, 'lake/features');
    await store.put('models/logistic.onnx', demoModels().logistic.bytes);
    spec = demoSpec(`s3://${bucket}/lake/features`, `s3://${bucket}/models/logistic.onnx`, `s3://${bucket}/lake/scores`);
    // The submitter (this process) plans and writes the plan through the same S3 API.
    Object.assign(process.env, s3Env(s3.endpoint, S3RVER_CREDENTIALS));
    redisUrl = await redisUrlForTests();
    redis = createRedis(redisUrl);
    config = queueConfig(redisUrl, randomQueueName('dist'));
    env = workerEnv(redisUrl, config.queueName, s3Env(s3.endpoint, S3RVER_CREDENTIALS));
    workers.push(...(await Promise.all([startWorker(env), startWorker(env)])));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await obliterateQueue(redis, config);
    await redis.quit();
    process.env = saved;
    closeCachedStores();
    store.close();
    await s3.stop();
    await dir.cleanup();
  });

  test('a backfill of several partitions through the queue publishes exactly what the in-process run publishes', async () => {
    const selection = { kind: 'range' as const, from: DATES[0]!, to: DATES[3]! };
    const submitted = await submitRun(spec, redis, config, { selection });
    assert.equal(submitted.created, true);
    assert.equal(submitted.files, DATES.length);
    const status = await waitForManifest(redis, config, submitted.runId, 60_000, logs);
    const queued = status.manifest!;
    checkManifest(queued, DATES.length);
    assert.equal(status.record.status, 'succeeded');
    assert.equal(status.record.filesDone, DATES.length);
    assert.equal(status.record.filesFailed, 0);
    assert.equal(status.record.rows, DATES.length * ROWS);
    assert.equal(status.pending, 0);
    assert.equal(status.record.manifestUri, `s3://${bucket}/lake/scores/_runs/${submitted.runId}.json`);
    // Every file job ran once, to completion, with no retry.
    const queue = new Queue(config.queueName, { connection: redis });
    try {
      for (let p = 0; p < DATES.length; p++) {
        const job = await Job.fromId(queue, fileJobId(submitted.runId, p, 0));
        assert.ok(job, `file job ${p} exists`);
        assert.equal(await job.getState(), 'completed');
      }
      const finalize = await Job.fromId(queue, `finalize-${submitted.runId}`);
      assert.equal(await finalize?.getState(), 'completed');
    } finally {
      await queue.close();
    }

    // The same job in-process, into another output folder.
    const local = await runJob({ ...spec, output: { ...spec.output, uri: `s3://${bucket}/lake/scores-local` } }, { threads: 2, selection });
    checkManifest(local.manifest, DATES.length);
    assert.equal(local.manifest.model?.sha256, queued.model?.sha256);

    const queuedKeys = await downloadPrefix(store, 'lake/scores/', join(dir.path, 'queued'));
    const localKeys = await downloadPrefix(store, 'lake/scores-local/', join(dir.path, 'local'));
    assert.deepEqual(queuedKeys.filter((k) => k.includes('_staging')), [], 'no staging left behind');
    const layout = (keys: string[]) => keys.filter((k) => !k.includes('/_runs/')).map((k) => k.replace(/^lake\/scores(-local)?\//, ''));
    assert.deepEqual(layout(queuedKeys), layout(localKeys));
    assert.deepEqual(layout(queuedKeys), DATES.flatMap((d) => [`dt=${d}/_SUCCESS.json`, `dt=${d}/part-0.parquet`]));

    const queuedRows = await publishedRows(join(dir.path, 'queued'));
    const localRows = await publishedRows(join(dir.path, 'local'));
    assert.equal(queuedRows.length, DATES.length * ROWS);
    assert.equal(new Set(queuedRows.map((r) => r.id)).size, queuedRows.length, 'no duplicated id');
    assert.deepEqual(queuedRows, localRows, 'same ids, same partitions, same probabilities');
    // And DuckDB itself, joining the two outputs: no row differs, none is missing on either side.
    const diff = await duckdbRows(`
      SELECT count(*) AS n FROM read_parquet(${sqlString(join(dir.path, 'queued', '*/*.parquet'))}) q
      FULL OUTER JOIN read_parquet(${sqlString(join(dir.path, 'local', '*/*.parquet'))}) l USING (id)
      WHERE q.probability IS DISTINCT FROM l.probability OR q.id IS NULL OR l.id IS NULL`);
    assert.equal(diff[0]!.n, 0n);
    // Same bytes, file by file (the sha256 in both manifests).
    const hashes = (m: RunManifest) => m.partitions.map((p) => p.files.map((f) => f.output?.sha256));
    assert.deepEqual(hashes(queued), hashes(local.manifest));

    // `batchscore status` shows the finished run, read from Redis and the manifest.
    const cli = spawnCli(['status', submitted.runId, '--json'], env);
    const exit = await cli.exited;
    assert.equal(exit.code, 0, cli.output());
    const shown = JSON.parse(cli.stdout()) as { record: { status: string; filesDone: number }; totals: { rows: number } };
    assert.equal(shown.record.status, 'succeeded');
    assert.equal(shown.record.filesDone, DATES.length);
    assert.equal(shown.totals.rows, DATES.length * ROWS);
  });

  test('submitting the same job and window while its run is active returns that run; rerun starts a new one', async () => {
    const selection = { kind: 'values' as const, values: [DATES[1]!, DATES[2]!] };
    const queue = new Queue(config.queueName, { connection: redis });
    await queue.pause(); // workers take nothing: the run stays active while we submit again
    let first, second, rerun, other;
    try {
      // Three submitters at once: exactly one run is created, the others get it back.
      const racing = await Promise.all([1, 2, 3].map(() => submitRun(spec, redis, config, { selection })));
      assert.equal(racing.filter((r) => r.created).length, 1);
      first = racing.find((r) => r.created)!;
      assert.deepEqual(new Set(racing.map((r) => r.runId)), new Set([first.runId]));
      second = await submitRun(spec, redis, config, { selection });
      assert.deepEqual(second, { runId: first.runId, created: false, files: 2 });
      // The CLI sees the same active run.
      const specPath = join(dir.path, 'job.json');
      await writeFile(specPath, JSON.stringify(spec));
      const cli = spawnCli(['backfill', specPath, '--partition', DATES[1]!, '--partition', DATES[2]!], env);
      assert.equal((await cli.exited).code, 0, cli.output());
      assert.match(cli.stdout(), new RegExp(`already active: run ${first.runId} \\(2 files\\)`));
      // A different window is a different run.
      other = await submitRun(spec, redis, config, { selection: { kind: 'values', values: [DATES[1]!] } });
      assert.equal(other.created, true);
      assert.notEqual(other.runId, first.runId);
      const forced = spawnCli(['backfill', specPath, '--partition', DATES[1]!, '--partition', DATES[2]!, '--rerun'], env);
      assert.equal((await forced.exited).code, 0, forced.output());
      const rerunId = /^submitted: run ([0-9a-f-]{36}) \(2 files\)$/m.exec(forced.stdout())?.[1];
      assert.ok(rerunId, forced.output());
      assert.notEqual(rerunId, first.runId);
      rerun = { runId: rerunId, created: true, files: 2 };
      // The rerun now holds the window.
      const again = await submitRun(spec, redis, config, { selection });
      assert.deepEqual(again, { runId: rerun.runId, created: false, files: 2 });
      assert.equal(await queue.getJobCountByTypes('waiting-children'), 3, 'three flows: first, other, rerun');
      assert.equal(await queue.getActiveCount(), 0, 'a paused queue hands out no job');
    } finally {
      await queue.resume();
      await queue.close();
    }
    const [a, b, c] = await Promise.all([first, rerun, other].map((r) => waitForManifest(redis, config, r.runId, 60_000, logs)));
    // All runs finish. The older ones never replace what the newer one published (they are
    // 'superseded' where it got there first).
    for (const [s, n] of [[a!, 2], [b!, 2], [c!, 1]] as const) {
      assert.equal(s.manifest!.status, 'succeeded', JSON.stringify(s.manifest!.errors));
      assert.equal(s.manifest!.partitions.length, n);
    }
    assert.ok(b!.manifest!.partitions.every((p) => p.status === 'succeeded'), 'the newest run is never superseded');
    for (const d of [DATES[1]!, DATES[2]!]) {
      const marker = JSON.parse(new TextDecoder().decode(await store.get(`lake/scores/dt=${d}/_SUCCESS.json`))) as SuccessMarker;
      assert.equal(marker.runId, rerun.runId, `dt=${d} is published by the newer run`);
      assert.equal(marker.rows, ROWS);
    }
    const keys = await downloadPrefix(store, 'lake/scores/', join(dir.path, 'after-rerun'));
    assert.deepEqual(keys.filter((k) => k.includes('_staging')), []);
    const rows = await publishedRows(join(dir.path, 'after-rerun'));
    assert.equal(rows.length, DATES.length * ROWS);
    assert.equal(new Set(rows.map((r) => r.id)).size, rows.length, 'no duplicated id after two runs over the same window');
    // Once the run has finished, the window is free: the next submission starts a new run.
    const next = await submitRun(spec, redis, config, { selection });
    assert.equal(next.created, true);
    assert.ok(![first.runId, rerun.runId].includes(next.runId));
    assert.equal((await waitForManifest(redis, config, next.runId, 60_000, logs)).manifest!.status, 'succeeded');
  });
});
