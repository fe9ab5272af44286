/**
 * Exactly-once visible output under at-least-once execution, with real failures: worker
 * processes SIGKILLed at failpoints, a zombie worker (SIGSTOP past its lock, SIGCONT after
 * the job was re-run elsewhere), Redis killed and restarted mid-run, an S3 endpoint that
 * answers 503 or resets connections, and a corrupt input (a permanent error). After every
 * run DuckDB reads the published output (globbing the folder, and following the
 * `_SUCCESS.json` markers): each input id exactly once, with the scores of a clean baseline
 * run, and a complete manifest.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis, type QueueConfig } from '../../src/queue/connection.js';
import { getRunStatus } from '../../src/queue/run-status.js';
import { fileJobId, submitRun, type SubmitOptions } from '../../src/queue/submit-run.js';
import { commitPartition, deleteStaged, stagingPrefix, type SuccessMarker } from '../../src/run/commit.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { runJob } from '../../src/run/run-job.js';
import type { JobSpec } from '../../src/spec/job-spec.js';
import { FileStore } from '../../src/storage/file-store.js';
import { closeCachedStores } from '../../src/storage/resolve.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { startHttpProxy, type HttpProxy } from '../support/http-proxy.js';
import {
  downloadPrefix, exitOf, listFiles, manifestRows, obliterateQueue, publishedRows, queueConfig, randomQueueName, s3Env,
  startWorker, uploadDir, waitForManifest, waitUntil, workerEnv, type CliProcess,
} from '../support/queue-harness.js';
import { redisUrlForTests } from '../support/redis.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startS3rver, s3StoreFor, S3RVER_CREDENTIALS, type S3rverHandle } from '../support/s3rver.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const DATES = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'];
const ROWS = 2000;
const TOTAL = DATES.length * ROWS;
const ALL = { kind: 'all' } as const;
/** Fast job retries: the tests wait for backoff, production keeps the 1 s default. */
const SUBMIT: Omit<SubmitOptions, 'selection'> = { backoffMs: 200 };

let dir: TmpDir;
let input: string;
let modelPath: string;
let redisUrl: string;
let redis: Redis;
/** id → probability of a clean in-process run: what every faulty run must publish. */
let baseline: Map<bigint, number>;

/** A queue of its own, its workers, and cleanup. */
class Scenario {
  readonly config: QueueConfig;
  readonly workers: CliProcess[] = [];
  readonly out: string;
  spec: JobSpec;
  constructor(readonly name: string, url = redisUrl, specOverrides: Record<string, unknown> = {}) {
    this.config = queueConfig(url, randomQueueName(name));
    this.out = join(dir.path, `out-${name}`);
    this.spec = demoSpec(input, modelPath, this.out, specOverrides);
  }
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return workerEnv(this.config.redisUrl, this.config.queueName, extra);
  }
  async worker(extra: NodeJS.ProcessEnv = {}): Promise<CliProcess> {
    const w = await startWorker(this.env(extra));
    this.workers.push(w);
    return w;
  }
  logs(): string {
    return this.workers.map((w) => `--- worker ${w.pid}\n${w.output()}`).join('\n');
  }
  async close(client: Redis = redis): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    await obliterateQueue(client, this.config);
  }
}

/**
 * What every run here must end with: a succeeded manifest naming every file, each input id
 * published exactly once with the baseline's score (globbing the folder, and reading just
 * the files the `_SUCCESS.json` markers list), and no staging left.
 */
async function assertExactlyOnce(out: string, manifest: RunManifest, lateStagingOf?: string): Promise<void> {
  assert.equal(manifest.status, 'succeeded', JSON.stringify(manifest.errors));
  assert.deepEqual(manifest.errors, []);
  assert.deepEqual(manifest.partitions.map((p) => p.dir), DATES.map((d) => `dt=${d}`));
  assert.equal(manifest.totals.rows, TOTAL);
  for (const p of manifest.partitions) {
    assert.equal(p.status, 'succeeded');
    assert.equal(p.files.length, 1);
    assert.equal(p.files[0]!.error, null);
    assert.equal(p.files[0]!.output?.rows, ROWS);
    assert.equal(p.files[0]!.output?.uri, new URL(`file://${join(out, p.dir, 'part-0.parquet')}`).href);
  }
  const expectedIds = Array.from({ length: TOTAL }, (_, k) => BigInt(k));
  // A reader globbing the folder.
  const globbed = await publishedRows(out);
  assert.equal(globbed.length, expectedIds.length, 'rows seen by a globbing reader (0 lost, 0 duplicated)');
  assert.deepEqual(globbed.map((r) => r.id), expectedIds, 'each input id exactly once');
  for (const r of globbed) assert.equal(r.probability, baseline.get(r.id), `score of id ${r.id}`);
  // A reader following the success markers.
  const listed: string[] = [];
  for (const d of DATES) {
    const marker = JSON.parse(await readFile(join(out, `dt=${d}`, '_SUCCESS.json'), 'utf8')) as SuccessMarker;
    assert.equal(marker.runId, manifest.runId);
    assert.equal(marker.rows, ROWS);
    listed.push(...marker.files.map((f) => join(out, `dt=${d}`, f.name)));
  }
  const followed = await manifestRows(listed);
  assert.deepEqual(followed.map((r) => r.id), expectedIds);
  // Nothing but the published files, the markers and the manifest.
  const files = (await listFiles(out)).map((f) => f.slice(out.length + 1));
  const staged = files.filter((f) => f.startsWith('_staging/'));
  // A zombie's late write may remain under its run's staging prefix (swept by the next run).
  const allowed = lateStagingOf ? staged.filter((f) => !f.startsWith(`_staging/${lateStagingOf}/`)) : staged;
  assert.deepEqual(allowed, [], 'no staging left behind');
  assert.ok(files.includes(`_runs/${manifest.runId}.json`));
  const published = files.filter((f) => !f.startsWith('_staging/') && !f.startsWith('_runs/'));
  assert.deepEqual(published, DATES.flatMap((d) => [`dt=${d}/_SUCCESS.json`, `dt=${d}/part-0.parquet`]), 'no stray file in a partition folder');
}

before(async () => {
  dir = await tmpDir('batchscore-faults-');
  input = join(dir.path, 'input');
  await writeDemoDataset(input, DATES, ROWS);
  modelPath = join(dir.path, 'logistic.onnx');
  await writeFile(modelPath, demoModels().logistic.bytes);
  redisUrl = await redisUrlForTests();
  redis = createRedis(redisUrl);
  const out = join(dir.path, 'out-baseline');
  const { manifest } = await runJob(demoSpec(input, modelPath, out), { threads: 1 });
  assert.equal(manifest.status, 'succeeded');
  baseline = new Map((await publishedRows(out)).map((r) => [r.id, r.probability]));
  assert.equal(baseline.size, TOTAL);
});

after(async () => {
  await redis.quit();
  closeCachedStores();
  await dir.cleanup();
});

describe('a worker SIGKILLed in the middle of a run', () => {
  // read: after the first row group; score: after the first batch; upload: before the staged
  // write; after-upload: staged file written, job not completed; commit: finalize has copied
  // the first file of the first partition (its old _SUCCESS.json already deleted);
  // after-manifest: the manifest written, the run's lineage end event not yet;
  // after-finalize: everything published and the manifest written, the finalize job not
  // completed, so it runs again in full.
  for (const point of ['read', 'score', 'upload', 'after-upload', 'commit', 'after-manifest', 'after-finalize']) {
    test(`at "${point}": another worker re-runs the job, output exactly once`, async () => {
      const s = new Scenario(`kill-${point}`);
      const onceFile = join(dir.path, `fault-${point}.fired`);
      try {
        const faulty = await s.worker({ BATCHSCORE_FAULT_POINT: point, BATCHSCORE_FAULT_ONCE_FILE: onceFile });
        const run = await submitRun(s.spec, redis, s.config, { selection: ALL, ...SUBMIT });
        const exit = await exitOf(faulty);
        assert.equal(exit.signal, 'SIGKILL', `the failpoint killed the worker: ${faulty.output()}`);
        assert.ok(existsSync(onceFile));
        // No manifest yet (but after-finalize), and for `commit` the first partition is
        // mid-publish: its file copied, its _SUCCESS.json not yet written.
        const manifestWritten = point === 'after-manifest' || point === 'after-finalize';
        assert.equal(existsSync(join(s.out, '_runs', `${run.runId}.json`)), manifestWritten);
        if (point === 'after-upload') {
          // The killed attempt's output is staged under its own attempt key: abandoned, to be
          // cleaned up by the finalize step.
          const staged = (await listFiles(join(s.out, '_staging', run.runId))).filter((f) => f.endsWith('.parquet'));
          assert.equal(staged.length, 1, staged.join(', '));
        }
        if (point === 'commit') {
          // Partitions are published a few at once: at least one is mid-publish (file copied,
          // no _SUCCESS.json yet) when the worker dies.
          const midPublish = DATES.filter((d) => existsSync(join(s.out, `dt=${d}`, 'part-0.parquet')) && !existsSync(join(s.out, `dt=${d}`, '_SUCCESS.json')));
          assert.ok(midPublish.length >= 1, 'a partition is mid-publish');
        }
        const healthy = await s.worker();
        const status = await waitForManifest(redis, s.config, run.runId, 45_000, () => s.logs());
        if (manifestWritten) assert.match(healthy.output(), /finalized before/, 'the finalize job ran again');
        await assertExactlyOnce(s.out, status.manifest!);
        // The run's lineage ends exactly once, whoever finalized it (the finalizer killed
        // after the manifest left it to the next one).
        const lineage = (await readFile(join(s.out, '_runs', `${run.runId}.lineage.jsonl`), 'utf8')).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { eventType: string; run: { runId: string } });
        assert.deepEqual(lineage.filter((e) => e.run.runId === run.runId).map((e) => e.eventType), ['START', 'COMPLETE']);
        assert.equal(status.record.status, 'succeeded');
        assert.equal(status.record.filesFailed, 0);
      } finally {
        await s.close();
      }
    });
  }
});

describe('the same file job executed twice at once (zombie worker)', () => {
  test('a worker frozen past its lock and resumed after the job was re-run elsewhere adds no rows', async () => {
    const s = new Scenario('zombie');
    const queue = new Queue(s.config.queueName, { connection: redis });
    try {
      const zombie = await s.worker();
      const run = await submitRun(s.spec, redis, s.config, { selection: ALL, ...SUBMIT });
      // Freeze the worker while it holds a file job (its first job: the thread is still starting).
      const active = await waitUntil(async () => (await queue.getActive())[0], 'an active job', 20_000, 2);
      // Long enough to have loaded the plan, too short to finish (a cold worker's first file
      // waits for its scoring thread and ONNX session).
      await sleep(100);
      zombie.signal('SIGSTOP');
      assert.equal(await queue.getJobState(active.id!), 'active', 'frozen while holding the job');
      assert.equal(active.name, 'file');
      const jobId = active.id!;
      await s.worker();
      // The healthy worker finds the job stalled (lock expired) and runs it to completion.
      await waitUntil(async () => (await queue.getJobState(jobId)) === 'completed', `job ${jobId} completed by the healthy worker`, 30_000, 50);
      const status = await waitForManifest(redis, s.config, run.runId, 30_000, () => s.logs());
      // Now the zombie wakes up and finishes its copy of the job: it scores the file into its
      // own attempt-scoped staging key and cannot complete the job (it lost the lock).
      zombie.signal('SIGCONT');
      // It finishes scoring, but cannot complete the job: the lock belongs to the re-run.
      await zombie.waitFor(new RegExp(`Missing lock for job ${jobId}\\. moveToFinished`), 20_000);
      const job = await Job.fromId(queue, jobId);
      assert.ok((job?.stalledCounter ?? 0) >= 1, 'the job was taken from the frozen worker');
      await assertExactlyOnce(s.out, status.manifest!, run.runId);
      // The manifest on disk is still the one the finalizer wrote; the zombie's late report
      // neither counts its file twice nor moves the finished run back to 'running'.
      const onDisk = JSON.parse(await readFile(join(s.out, '_runs', `${run.runId}.json`), 'utf8')) as RunManifest;
      assert.deepEqual(onDisk, status.manifest);
      const record = (await getRunStatus(redis, s.config, run.runId))!.record;
      assert.equal(record.status, 'succeeded');
      assert.equal(record.filesDone, DATES.length);
      assert.equal(record.rows, TOTAL);
      // A late zombie write can only land under _staging/<runId>/ (never in a partition
      // folder); the next run's finalize sweeps the staging of finished runs.
      const lateFiles = await listFiles(join(s.out, '_staging'));
      assert.equal(lateFiles.length, 1, 'the zombie scored the file again, into its own attempt key');
      assert.match(lateFiles[0]!, new RegExp(`/_staging/${run.runId}/dt=[0-9-]+/a\\d+-[0-9a-f]{8}-part-0\\.parquet$`));
      const next = await submitRun(s.spec, redis, s.config, { selection: ALL, ...SUBMIT });
      const second = await waitForManifest(redis, s.config, next.runId, 30_000, () => s.logs());
      await assertExactlyOnce(s.out, second.manifest!);
      assert.deepEqual(await listFiles(join(s.out, '_staging')), [], 'swept by the next run');
    } finally {
      await queue.close();
      await s.close();
    }
  });
});

describe('two finalizers of one run (a zombie finalizer)', () => {
  test('a commit that finds its staged files gone because its twin published them changes nothing', async () => {
    const store = new FileStore();
    const root = join(dir.path, 'commit-twin');
    const run = { runId: 'c0ffee00-0000-4000-8000-000000000001', createdAt: new Date().toISOString() };
    const bytes = await readFile(join(input, `dt=${DATES[0]}`, 'part-0.parquet'));
    const staged = join(stagingPrefix(root, run.runId), `dt=${DATES[0]}`, 'a0-0000beef-part-0.parquet');
    await store.put(staged, bytes);
    const files = [{ staged, name: 'part-0.parquet', rows: ROWS, bytes: bytes.length, sha256: 'x'.repeat(64) }];
    const successKey = join(root, `dt=${DATES[0]}`, '_SUCCESS.json');
    // This finalizer stalls before its first copy; meanwhile its twin (the job's re-run)
    // publishes the partition and removes the run's staging.
    let stalled = false;
    const zombieStore = Object.create(store, {
      copy: {
        value: async (from: string, to: string) => {
          if (!stalled) {
            stalled = true;
            assert.equal(await commitPartition(store, root, `dt=${DATES[0]}`, run, files), successKey);
            await deleteStaged(store, stagingPrefix(root, run.runId));
          }
          return store.copy(from, to);
        },
      },
    }) as FileStore;
    assert.equal(await commitPartition(zombieStore, root, `dt=${DATES[0]}`, run, files), successKey);
    assert.ok(stalled);
    const marker = JSON.parse(await readFile(successKey, 'utf8')) as SuccessMarker;
    assert.equal(marker.runId, run.runId);
    assert.deepEqual(await readFile(join(root, `dt=${DATES[0]}`, 'part-0.parquet')), bytes);
    // And a finalize that runs once more, staging long gone: still published, nothing touched.
    const before = marker.committedAt;
    assert.equal(await commitPartition(store, root, `dt=${DATES[0]}`, run, files), successKey);
    assert.equal((JSON.parse(await readFile(successKey, 'utf8')) as SuccessMarker).committedAt, before);
    assert.deepEqual((await listFiles(root)).map((f) => f.slice(root.length + 1)), [`dt=${DATES[0]}/_SUCCESS.json`, `dt=${DATES[0]}/part-0.parquet`]);
  });
});

describe('Redis killed and restarted mid-run', () => {
  test('with an append-only file, the run resumes after the restart and publishes exactly once', async () => {
    const server: RedisServer = await startRedisServer({ aof: true });
    const client = createRedis(server.url);
    const s = new Scenario('redis-restart', server.url);
    try {
      await Promise.all([s.worker(), s.worker()]);
      const run = await submitRun(s.spec, client, s.config, { selection: ALL, ...SUBMIT });
      const registryKey = `${s.config.prefix}:${s.config.queueName}:bs:run:${run.runId}`;
      // Kill as soon as one file is done: the run is between files.
      await waitUntil(async () => Number(await client.hget(registryKey, 'filesDone')) >= 1, 'a file done', 30_000, 2);
      await server.kill('SIGKILL');
      const manifestAtKill = existsSync(join(s.out, '_runs', `${run.runId}.json`));
      await sleep(1500);
      await server.start();
      assert.equal(manifestAtKill, false, 'Redis was killed before the run finished');
      const status = await waitForManifest(client, s.config, run.runId, 45_000, () => s.logs());
      await assertExactlyOnce(s.out, status.manifest!);
      assert.equal(status.record.filesDone, DATES.length);
      // The workers rode out the outage: both are still running.
      for (const w of s.workers) assert.equal(w.child.exitCode, null, w.output());
    } finally {
      await s.close(client);
      await client.quit();
      await server.stop();
    }
  });
});

describe('S3 endpoint failures (fault-injecting proxy in front of s3rver)', () => {
  let s3: S3rverHandle;
  let proxy: HttpProxy;
  let bucket: string;
  const saved = { ...process.env };
  before(async () => {
    s3 = await startS3rver();
    proxy = await startHttpProxy(s3.endpoint);
    bucket = await s3.bucket();
    const store = s3StoreFor(s3.endpoint, bucket);
    await uploadDir(store, input, 'features');
    await store.put('models/logistic.onnx', demoModels().logistic.bytes);
    store.close();
    // This process (the submitter) talks to s3rver directly; the workers go through the proxy.
    Object.assign(process.env, s3Env(s3.endpoint, S3RVER_CREDENTIALS));
  });
  after(async () => {
    process.env = saved;
    closeCachedStores();
    await proxy.stop();
    await s3.stop();
  });

  async function s3Run(name: string, decide: HttpProxy['decide']): Promise<{ manifest: RunManifest; local: string; runId: string; s: Scenario; queue: Queue }> {
    const s = new Scenario(name);
    const prefix = `scores-${name}`;
    s.spec = demoSpec(`s3://${bucket}/features`, `s3://${bucket}/models/logistic.onnx`, `s3://${bucket}/${prefix}`);
    proxy.requests.length = 0;
    proxy.decide = decide;
    const env = s3Env(proxy.endpoint, S3RVER_CREDENTIALS);
    await Promise.all([s.worker(env), s.worker(env)]);
    const run = await submitRun(s.spec, redis, s.config, { selection: ALL, ...SUBMIT });
    const status = await waitForManifest(redis, s.config, run.runId, 60_000, () => s.logs());
    proxy.decide = () => 'forward';
    const local = join(dir.path, `s3-${name}`);
    const store = s3StoreFor(s3.endpoint, bucket);
    const keys = await downloadPrefix(store, `${prefix}/`, local);
    store.close();
    assert.deepEqual(keys.filter((k) => k.includes('_staging')), [], 'no staging left in the bucket');
    const manifest = status.manifest!;
    // Map the manifest's s3:// URIs onto the downloaded copy for assertExactlyOnce.
    const localized = JSON.parse(JSON.stringify(manifest).replaceAll(`s3://${bucket}/${prefix}/`, `file://${local}/`)) as RunManifest;
    return { manifest: localized, local, runId: run.runId, s, queue: new Queue(s.config.queueName, { connection: redis }) };
  }

  test('20% of requests answered 503 or reset: the run completes with exact output', async () => {
    let seed = 0x9e3779b9;
    const random = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
    const { manifest, local, s, queue } = await s3Run('flaky', () => {
      const r = random();
      return r < 0.1 ? 503 : r < 0.2 ? 'reset' : 'forward';
    });
    try {
      await assertExactlyOnce(local, manifest);
      const faults = proxy.requests.filter((r) => r.fate !== 'forward');
      assert.ok(faults.filter((r) => r.fate === 503).length >= 3, `503s injected: ${faults.length} of ${proxy.requests.length}`);
      assert.ok(faults.filter((r) => r.fate === 'reset').length >= 3, 'resets injected');
    } finally {
      await queue.close();
      await s.close();
    }
  });

  test('a transient outage longer than the SDK retries fails the job attempt; the queue retries it with backoff', async () => {
    const target = `/${bucket}/features/dt=${DATES[2]}/part-0.parquet`;
    let served = 0;
    // The first 8 requests for one input file fail (the SDK makes 5 attempts per call).
    const { manifest, local, runId, s, queue } = await s3Run('outage', (req) => {
      if (!decodeURIComponent(req.url).startsWith(target)) return 'forward';
      return served++ < 8 ? 503 : 'forward';
    });
    try {
      await assertExactlyOnce(local, manifest);
      const job = await Job.fromId(queue, fileJobId(runId, 2, 0));
      assert.ok(job);
      assert.ok(job.attemptsMade >= 2, `retried (attemptsMade ${job.attemptsMade})`);
      assert.equal(await job.getState(), 'completed');
      for (const p of [0, 1, 3]) assert.equal((await Job.fromId(queue, fileJobId(runId, p, 0)))?.attemptsMade, 1, `file ${p} ran once`);
      assert.ok(served >= 8);
    } finally {
      await queue.close();
      await s.close();
    }
  });

  test('an outage in the middle of reading a file (after its footer) is transient: the job is retried and publishes', async () => {
    const file = `dt=${DATES[3]}/part-0.parquet`;
    const size = statSync(join(input, file)).size;
    let failed = 0;
    let victim: string | undefined;
    // Footer reads (the object's last bytes) go through. One read of page data fails 5 times
    // in a row, which exhausts the SDK's attempts for that call; parquet-wasm traps on the
    // failed read, so the scoring thread dies mid-file. The job's retry reads it fine.
    const { manifest, local, runId, s, queue } = await s3Run('mid-read', (req) => {
      if (!decodeURIComponent(req.url).startsWith(`/${bucket}/features/${file}`) || req.method !== 'GET') return 'forward';
      const start = Number(/^bytes=(\d+)-/.exec(req.range ?? '')?.[1] ?? NaN);
      if (!(start < size / 2)) return 'forward';
      victim ??= req.range;
      if (req.range !== victim || failed >= 5) return 'forward';
      failed++;
      return 503;
    });
    try {
      assert.equal(failed, 5, 'one page read failed for good, then went through');
      await assertExactlyOnce(local, manifest);
      const job = await Job.fromId(queue, fileJobId(runId, 3, 0));
      assert.ok(job);
      assert.ok(job.attemptsMade >= 2, `retried, not failed for good as a crash (attemptsMade ${job.attemptsMade})`);
      assert.equal(await job.getState(), 'completed');
      assert.match(s.logs(), /the read failed, then the Parquet decoder stopped/);
    } finally {
      await queue.close();
      await s.close();
    }
  });

  test('an outage that outlasts every retry fails the partition as a transient error; the others publish', async () => {
    const target = `/${bucket}/features/dt=${DATES[1]}/part-0.parquet`;
    const s = new Scenario('s3-down');
    s.spec = demoSpec(`s3://${bucket}/features`, `s3://${bucket}/models/logistic.onnx`, `s3://${bucket}/scores-down`);
    proxy.decide = (req) => (decodeURIComponent(req.url).startsWith(target) ? 503 : 'forward');
    const queue = new Queue(s.config.queueName, { connection: redis });
    try {
      const env = s3Env(proxy.endpoint, S3RVER_CREDENTIALS);
      await s.worker(env);
      const run = await submitRun(s.spec, redis, s.config, { selection: ALL, attempts: 2, backoffMs: 100 });
      const status = await waitForManifest(redis, s.config, run.runId, 60_000, () => s.logs());
      const m = status.manifest!;
      assert.equal(m.status, 'failed');
      assert.deepEqual(m.partitions.map((p) => p.status), ['succeeded', 'failed', 'succeeded', 'succeeded']);
      const error = m.partitions[1]!.error!;
      assert.match(error.message, /503|ServiceUnavailable/);
      assert.equal(error.permanent, false, 'recorded as transient: a later run may well succeed');
      const job = await Job.fromId(queue, fileJobId(run.runId, 1, 0));
      assert.equal(job?.attemptsMade, 2, 'every attempt was used');
      assert.equal(status.record.filesFailed, 1);
      assert.equal(status.record.filesDone, 3);
      assert.equal(m.totals.rows, 3 * ROWS);
    } finally {
      proxy.decide = () => 'forward';
      await queue.close();
      await s.close();
    }
  });

  test('a run whose finalize fails for good is recorded failed and frees its window', async () => {
    const s = new Scenario('finalize-fails');
    s.spec = demoSpec(`s3://${bucket}/features`, `s3://${bucket}/models/logistic.onnx`, `s3://${bucket}/scores-finalize-fails`);
    const queue = new Queue(s.config.queueName, { connection: redis });
    try {
      // Workers whose key S3 refuses (InvalidAccessKeyId): neither the plan nor anything else
      // can be read, so the file jobs and then the finalize job fail after their attempts.
      const refused = await s.worker(s3Env(s3.endpoint, { accessKeyId: 'AKIAREFUSED', secretAccessKey: 'refused' }));
      const selection = { kind: 'values' as const, values: [DATES[0]!] };
      const dead = await submitRun(s.spec, redis, s.config, { selection, attempts: 2, backoffMs: 50 });
      await waitUntil(async () => (await getRunStatus(redis, s.config, dead.runId))?.record.status === 'failed', 'the run recorded failed', 30_000, 100);
      assert.equal(await queue.getJobState(`finalize-${dead.runId}`), 'failed');
      const record = (await getRunStatus(redis, s.config, dead.runId))!.record;
      assert.equal(record.filesFailed, 1);
      assert.equal(record.manifestUri, '');
      assert.ok(record.finishedAt);
      assert.match(refused.output(), new RegExp(`run ${dead.runId} failed: finalize: .*(403|InvalidAccessKeyId)`));
      await refused.stop();
      // The same job and window again: a new run (not the dead one), which a healthy worker runs.
      const next = await submitRun(s.spec, redis, s.config, { selection, ...SUBMIT });
      assert.equal(next.created, true);
      assert.notEqual(next.runId, dead.runId);
      await s.worker(s3Env(s3.endpoint, S3RVER_CREDENTIALS));
      const status = await waitForManifest(redis, s.config, next.runId, 30_000, () => s.logs());
      assert.equal(status.manifest!.status, 'succeeded');
    } finally {
      await queue.close();
      await s.close();
    }
  });
});

describe('a permanent error', () => {
  test('a corrupt input fails its partition at once (1 attempt, no retry); the others publish', async () => {
    const corruptInput = join(dir.path, 'input-corrupt');
    await writeDemoDataset(corruptInput, DATES, ROWS);
    const bad = join(corruptInput, `dt=${DATES[2]}`, 'part-0.parquet');
    const bytes = await readFile(bad);
    // Keep the PAR1 magic at both ends; garble the footer and the data in between.
    for (let i = 8; i < bytes.length - 8; i += 7) bytes[i] = (bytes[i]! * 31 + 17) & 0xff;
    await writeFile(bad, bytes);
    const good = DATES.filter((_, i) => i !== 2);

    const strict = new Scenario('permanent-strict');
    const tolerant = new Scenario('permanent-tolerant', redisUrl, { maxFailedPartitions: 1 });
    for (const s of [strict, tolerant]) s.spec = { ...s.spec, input: { ...s.spec.input, uri: corruptInput } };
    const queue = new Queue(strict.config.queueName, { connection: redis });
    try {
      await Promise.all([strict.worker(), tolerant.worker()]);
      // Slow backoff: a retry would show up as attemptsMade > 1 and a long run.
      const t0 = Date.now();
      const run = await submitRun(strict.spec, redis, strict.config, { selection: ALL, backoffMs: 5000 });
      const status = await waitForManifest(redis, strict.config, run.runId, 30_000, () => strict.logs());
      assert.ok(Date.now() - t0 < 5000, 'no backoff was waited for');
      const m = status.manifest!;
      assert.equal(m.status, 'failed', 'maxFailedPartitions 0: one failed partition fails the run');
      assert.equal(status.record.status, 'failed');
      assert.equal(status.record.filesFailed, 1);
      const failed = m.partitions.filter((p) => p.status === 'failed');
      assert.deepEqual(failed.map((p) => p.dir), [`dt=${DATES[2]}`]);
      assert.equal(failed[0]!.error?.permanent, true);
      assert.match(failed[0]!.error?.name ?? '', /ParquetError|ThreadCrashError/);
      assert.deepEqual(status.failedPartitions.map((f) => f.partition), [`dt=${DATES[2]}`]);
      const job = await Job.fromId(queue, fileJobId(run.runId, 2, 0));
      assert.equal(job?.attemptsMade, 1, 'failed on its first attempt, not retried');
      assert.equal(await job?.getState(), 'failed');
      // The good partitions are published exactly once; the bad one publishes nothing.
      const rows = await publishedRows(strict.out);
      assert.deepEqual(new Set(rows.map((r) => r.dt)), new Set(good));
      assert.equal(rows.length, good.length * ROWS);
      assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
      for (const r of rows) assert.equal(r.probability, baseline.get(r.id));
      assert.deepEqual(await listFiles(join(strict.out, `dt=${DATES[2]}`)), []);
      assert.deepEqual(await listFiles(join(strict.out, '_staging')), []);

      const run2 = await submitRun(tolerant.spec, redis, tolerant.config, { selection: ALL, ...SUBMIT });
      const status2 = await waitForManifest(redis, tolerant.config, run2.runId, 30_000, () => tolerant.logs());
      assert.equal(status2.manifest!.status, 'partial', 'maxFailedPartitions 1: partial');
      assert.equal(status2.manifest!.totals.failedPartitions, 1);
      assert.equal(status2.manifest!.totals.rows, good.length * ROWS);
    } finally {
      await queue.close();
      await strict.close();
      await tolerant.close();
    }
  });
});
