/**
 * Credentials never leave the environment: a run goes through a password-protected Redis and
 * an S3 API that only accepts a known fake key id (used with a known fake secret and session
 * token; s3rver does not verify SigV4 signatures, so those are only carried), with a corrupt
 * partition so error paths run too, and a second worker whose secret is wrong so S3 auth
 * failures are recorded. Then every Redis key and value, every object written to the bucket
 * (and s3rver's raw data directory), and everything the worker and CLI processes printed
 * are searched for the secrets: 0 hits. Positive controls make sure each haystack really
 * holds what a leak would sit next to (run ids, job payloads, errors).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/queue/connection.js';
import { submitRun } from '../../src/queue/submit-run.js';
import { closeCachedStores } from '../../src/storage/resolve.js';
import type { S3Store } from '../../src/storage/s3-store.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import {
  exitOf, listFiles, obliterateQueue, queueConfig, randomQueueName, s3Env, spawnCli, startWorker, uploadDir, waitUntil,
  workerEnv, type CliProcess,
} from '../support/queue-harness.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startKeyedS3rver, type KeyedS3rver } from '../support/s3rver-keyed.js';
import { s3StoreFor } from '../support/s3rver.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const tag = randomBytes(6).toString('hex');
const SECRETS = {
  redisPassword: `fake-redis-pass-${tag}`,
  awsSecret: `fakeAwsSecretKey${tag}XYZ`,
  awsSessionToken: `fakeSessionToken${tag}`,
  wrongAwsSecret: `wrongAwsSecretKey${tag}`,
};
const ACCESS_KEY_ID = `AKIAFAKE${tag.toUpperCase()}`;
const DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];
const ROWS = 500;

/** Every form a secret could take on the way out: plain, URL-encoded, base64. */
function forms(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')])];
}

/** Every key and value on the server, whatever their types, as one text. */
async function dumpRedis(redis: Redis): Promise<{ text: string; keys: number }> {
  const parts: string[] = [];
  let keys = 0;
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', '1000');
    cursor = next;
    for (const key of batch) {
      keys++;
      const type = await redis.type(key);
      parts.push(`${type} ${key}`);
      if (type === 'string') parts.push((await redis.getBuffer(key))?.toString('latin1') ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, '0', '-1', 'WITHSCORES')));
      else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      else parts.push(`(unhandled type ${type})`);
    }
  } while (cursor !== '0');
  // Server-side state too: client names, the config we can read.
  parts.push(String(await redis.client('LIST')));
  return { text: parts.join('\n'), keys };
}

describe('credentials never appear in payloads, manifests, status output or logs', () => {
  let dir: TmpDir;
  let redisServer: RedisServer;
  let redis: Redis;
  let s3: KeyedS3rver;
  let store: S3Store;
  let bucket: string;
  const procs: CliProcess[] = [];
  const saved = { ...process.env };
  const creds = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRETS.awsSecret };

  before(async () => {
    dir = await tmpDir('batchscore-secrets-');
    redisServer = await startRedisServer({ password: SECRETS.redisPassword });
    redis = createRedis(redisServer.url);
    s3 = await startKeyedS3rver(creds);
    bucket = `secrets-${tag}`;
    store = s3StoreFor(s3.endpoint, bucket, { credentials: creds });
    await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const local = join(dir.path, 'input');
    await writeDemoDataset(local, DATES, ROWS);
    await writeFile(join(local, `dt=${DATES[1]}`, 'part-0.parquet'), 'PAR1 this is not parquet PAR1');
    await uploadDir(store, local, 'features');
    await store.put('models/logistic.onnx', demoModels().logistic.bytes);
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    process.env = saved;
    closeCachedStores();
    store.close();
    await redis.quit();
    await redisServer.stop();
    await s3.stop();
    await dir.cleanup();
  });

  test('a run through a worker and the CLI, and a worker with a wrong secret: 0 hits anywhere', async () => {
    const config = queueConfig(redisServer.url, randomQueueName('secrets'));
    const env = workerEnv(redisServer.url, config.queueName, { ...s3Env(s3.endpoint, creds), AWS_SESSION_TOKEN: SECRETS.awsSessionToken });
    const worker = await startWorker(env);
    procs.push(worker);
    const spec = demoSpec(`s3://${bucket}/features`, `s3://${bucket}/models/logistic.onnx`, `s3://${bucket}/scores`, { maxFailedPartitions: 1 });
    const specPath = join(dir.path, 'job.json');
    await writeFile(specPath, JSON.stringify(spec, null, 2));

    const backfill = spawnCli(['backfill', specPath, '--from', DATES[0]!, '--to', DATES[2]!, '--wait'], env);
    procs.push(backfill);
    const done = await exitOf(backfill, 60_000);
    assert.equal(done.code, 1, `a partial run exits 1: ${backfill.output()}`);
    const runId = /submitted: run ([0-9a-f-]{36})/.exec(backfill.stdout())?.[1];
    assert.ok(runId, backfill.output());
    assert.match(backfill.stdout(), new RegExp(`run ${runId} partial: ${2 * ROWS} rows`));

    const statusText = spawnCli(['status', runId], env);
    const statusJson = spawnCli(['status', runId, '--json'], env);
    procs.push(statusText, statusJson);
    await Promise.all([exitOf(statusText), exitOf(statusJson)]);
    assert.match(statusText.stdout(), /files: 2 done, 1 failed, 0 pending of 3/);
    assert.match(statusText.stdout(), /failed dt=2026-11-02: .*parquet/i);
    assert.equal((JSON.parse(statusJson.stdout()) as { record: { status: string } }).record.status, 'partial');

    // A worker with wrong credentials (the submitter plans with the right ones, in this
    // process): its S3 calls are refused, and the refusals end up in Redis and its logs.
    // (s3rver checks the access key id but does not verify SigV4 signatures, so the id is
    // what is wrong here; the wrong secret still travels with it.)
    Object.assign(process.env, s3Env(s3.endpoint, creds));
    const badConfig = queueConfig(redisServer.url, randomQueueName('secrets-bad'));
    const badWorker = await startWorker(workerEnv(redisServer.url, badConfig.queueName, s3Env(s3.endpoint, { accessKeyId: `AKIAWRONG${tag.toUpperCase()}`, secretAccessKey: SECRETS.wrongAwsSecret })));
    procs.push(badWorker);
    const bad = await submitRun({ ...spec, output: { ...spec.output, uri: `s3://${bucket}/scores-bad` } }, redis, badConfig, {
      selection: { kind: 'values', values: [DATES[0]!] },
      attempts: 2,
      backoffMs: 50,
    });
    const badQueue = new Queue(badConfig.queueName, { connection: redis });
    try {
      const finalize = await waitUntil(async () => {
        const job = await Job.fromId(badQueue, `finalize-${bad.runId}`);
        return job && (await job.getState()) === 'failed' ? job : undefined;
      }, 'the wrong-secret run to fail', 30_000, 100).catch(async (e: Error) => {
        const jobs = await badQueue.getJobs();
        throw new Error(`${e.message}\n${JSON.stringify(await Promise.all(jobs.map(async (j) => [j.id, await j.getState(), j.attemptsMade, j.failedReason])))}\n${badWorker.output()}`);
      });
      assert.match(finalize.failedReason, /SignatureDoesNotMatch|403|Forbidden|AccessDenied|InvalidAccessKeyId/i, finalize.failedReason);
    } finally {
      await badQueue.close();
    }
    await Promise.all([worker.stop(), badWorker.stop()]);

    // Haystack 1: Redis, every key and value.
    const { text: redisText, keys } = await dumpRedis(redis);
    assert.ok(keys > 10, `scanned ${keys} keys`);
    for (const control of [runId, bad.runId, 'plan.json', 'ParquetError', 'InvalidAccessKeyId']) {
      assert.ok(redisText.includes(control), `the Redis dump holds job payloads and errors (${control})`);
    }
    // Haystack 2: every object in the bucket (manifest, markers, outputs, plans) and s3rver's
    // own files on disk (object data and metadata).
    const objects: string[] = [];
    // (Listed per top-level prefix: s3rver's listing of a whole bucket is not in S3 key
    // order across `scores/` and `scores-bad/`; the raw walk below covers everything anyway.)
    for (const prefix of ['features/', 'models/', 'scores/', 'scores-bad/']) {
      for await (const obj of store.list(prefix)) objects.push(`${obj.key}\n${Buffer.from(await store.get(obj.key)).toString('latin1')}`);
    }
    const objectText = objects.join('\n');
    assert.ok(objectText.includes(`scores/_runs/${runId}.json`), 'the manifest is in the bucket');
    assert.match(objectText, /"status": "partial"/);
    const rawFiles = await listFiles(s3.dataDir);
    assert.ok(rawFiles.length > 10);
    const rawText = (await Promise.all(rawFiles.map((f) => readFile(f, 'latin1')))).join('\n');
    // Haystack 3: what the processes printed (the worker logs, the CLI's output).
    const logs = procs.map((p) => p.output()).join('\n');
    assert.ok(logs.includes(runId) && logs.includes('worker started'));
    assert.ok(logs.includes(`redis://:***@127.0.0.1:${redisServer.port}`), 'the Redis URL is logged redacted');

    const hits: string[] = [];
    const haystacks = { redis: redisText, objects: objectText, s3rverFiles: rawText, logs };
    for (const [name, secret] of Object.entries(SECRETS)) {
      for (const form of forms(secret)) {
        for (const [where, text] of Object.entries(haystacks)) if (text.includes(form)) hits.push(`${name} (${form}) in ${where}`);
      }
    }
    assert.deepEqual(hits, []);
    // The access key id is not a secret, but nothing of ours has a reason to store it either.
    for (const [where, text] of Object.entries({ redis: redisText, objects: objectText, logs })) {
      assert.ok(!text.includes(ACCESS_KEY_ID), `access key id in ${where}`);
    }
    // Canary: the same search finds a secret planted in a job's data.
    await redis.hset(`bull:${config.queueName}:canary`, 'data', JSON.stringify({ token: SECRETS.redisPassword }));
    assert.ok((await dumpRedis(redis)).text.includes(SECRETS.redisPassword), 'the dump would show a leaked secret');
    await obliterateQueue(redis, config);
    await obliterateQueue(redis, badConfig);
  });
});
