/**
 * Exactly-once visible output under at-least-once execution when the S3 endpoint misbehaves:
 * a fault-injecting HTTP proxy in front of s3rver answers 503 or resets connections on the
 * workers' requests (reads of inputs and models, uploads, copies). After every run the
 * published output is checked as in faults.test.ts (shared set-up: support/fault-suite.ts).
 */
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { getRunStatus } from '../../src/queue/run-status.js';
import { fileJobId, submitRun } from '../../src/queue/submit-run.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { closeCachedStores } from '../../src/storage/resolve.js';
import { demoModels, demoSpec } from '../support/dataset.js';
import { startHttpProxy, type HttpProxy } from '../support/http-proxy.js';
import { downloadPrefix, s3Env, uploadDir, waitForManifest, waitUntil } from '../support/queue-harness.js';
import { startS3rver, s3StoreFor, S3RVER_CREDENTIALS, type S3rverHandle } from '../support/s3rver.js';
import { ALL, assertExactlyOnce, DATES, ROWS, Scenario, SUBMIT, suite, useFaultSuite } from '../support/fault-suite.js';

useFaultSuite();

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
    await uploadDir(store, suite.input, 'features');
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
    const run = await submitRun(s.spec, suite.redis, s.config, { selection: ALL, ...SUBMIT });
    const status = await waitForManifest(suite.redis, s.config, run.runId, 60_000, () => s.logs());
    proxy.decide = () => 'forward';
    const local = join(suite.dir.path, `s3-${name}`);
    const store = s3StoreFor(s3.endpoint, bucket);
    const keys = await downloadPrefix(store, `${prefix}/`, local);
    store.close();
    assert.deepEqual(keys.filter((k) => k.includes('_staging')), [], 'no staging left in the bucket');
    const manifest = status.manifest!;
    // Map the manifest's s3:// URIs onto the downloaded copy for assertExactlyOnce.
    const localized = JSON.parse(JSON.stringify(manifest).replaceAll(`s3://${bucket}/${prefix}/`, `file://${local}/`)) as RunManifest;
    return { manifest: localized, local, runId: run.runId, s, queue: new Queue(s.config.queueName, { connection: suite.redis }) };
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
    // The first 8 requests for one suite.input file fail (the SDK makes 5 attempts per call).
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
    const size = statSync(join(suite.input, file)).size;
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
    const queue = new Queue(s.config.queueName, { connection: suite.redis });
    try {
      const env = s3Env(proxy.endpoint, S3RVER_CREDENTIALS);
      await s.worker(env);
      const run = await submitRun(s.spec, suite.redis, s.config, { selection: ALL, attempts: 2, backoffMs: 100 });
      const status = await waitForManifest(suite.redis, s.config, run.runId, 60_000, () => s.logs());
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
    const queue = new Queue(s.config.queueName, { connection: suite.redis });
    try {
      // Workers whose key S3 refuses (InvalidAccessKeyId): neither the plan nor anything else
      // can be read, so the file jobs and then the finalize job fail after their attempts.
      const refused = await s.worker(s3Env(s3.endpoint, { accessKeyId: 'AKIAREFUSED', secretAccessKey: 'refused' }));
      const selection = { kind: 'values' as const, values: [DATES[0]!] };
      const dead = await submitRun(s.spec, suite.redis, s.config, { selection, attempts: 2, backoffMs: 50 });
      await waitUntil(async () => (await getRunStatus(suite.redis, s.config, dead.runId))?.record.status === 'failed', 'the run recorded failed', 30_000, 100);
      assert.equal(await queue.getJobState(`finalize-${dead.runId}`), 'failed');
      const record = (await getRunStatus(suite.redis, s.config, dead.runId))!.record;
      assert.equal(record.filesFailed, 1);
      assert.equal(record.manifestUri, '');
      assert.ok(record.finishedAt);
      assert.match(refused.output(), new RegExp(`run ${dead.runId} failed: finalize: .*(403|InvalidAccessKeyId)`));
      await refused.stop();
      // The same job and window again: a new run (not the dead one), which a healthy worker runs.
      const next = await submitRun(s.spec, suite.redis, s.config, { selection, ...SUBMIT });
      assert.equal(next.created, true);
      assert.notEqual(next.runId, dead.runId);
      await s.worker(s3Env(s3.endpoint, S3RVER_CREDENTIALS));
      const status = await waitForManifest(suite.redis, s.config, next.runId, 30_000, () => s.logs());
      assert.equal(status.manifest!.status, 'succeeded');
    } finally {
      await queue.close();
      await s.close();
    }
  });
});

