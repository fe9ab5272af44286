/**
 * A queue worker uses every core for one job: with --concurrency 1 its idle scoring threads
 * help score a big file's row groups (real Redis, local files).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis, type QueueConfig } from '../../src/queue/connection.js';
import { startScoreWorker } from '../../src/queue/score-worker.js';
import { fileJobId, submitRun } from '../../src/queue/submit-run.js';
import { demoModels, demoSpec } from '../support/dataset.js';
import { obliterateQueue, queueConfig, randomQueueName, waitForManifest } from '../support/queue-harness.js';
import { redisUrlForTests } from '../support/redis.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';
import { writeBigFile } from '../run/fixtures/big-file.js';

const ROW_GROUP = 131_072;
const ROWS = 9 * ROW_GROUP; // two output units: 8 row groups, then 1

describe('queue worker threads', () => {
  let dir: TmpDir;
  let redis: Redis;
  let config: QueueConfig;
  before(async () => {
    dir = await tmpDir();
    await mkdir(join(dir.path, 'input', 'dt=2026-11-01'), { recursive: true });
    await writeBigFile(join(dir.path, 'input', 'dt=2026-11-01', 'part-0.parquet'), ROWS, { rowGroupRows: ROW_GROUP });
    await writeFile(join(dir.path, 'logistic.onnx'), demoModels().logistic.bytes);
    const url = await redisUrlForTests();
    redis = createRedis(url);
    config = queueConfig(url, randomQueueName('threads'));
  });
  after(async () => {
    await obliterateQueue(redis, config);
    await redis.quit();
    await dir.cleanup();
  });

  test('with concurrency 1, a second thread helps score one big file; the output is complete', async () => {
    const worker = startScoreWorker(redis, config, { concurrency: 1, threads: 2, lockDuration: 10_000, stalledInterval: 10_000 });
    const queue = new Queue(config.queueName, { connection: redis, prefix: config.prefix });
    try {
      const spec = demoSpec(join(dir.path, 'input'), join(dir.path, 'logistic.onnx'), join(dir.path, 'out'));
      const run = await submitRun(spec, redis, config, { selection: { kind: 'all' } });
      const status = await waitForManifest(redis, config, run.runId, 60_000);
      assert.equal(status.manifest!.status, 'succeeded', JSON.stringify(status.manifest!.errors));
      assert.equal(status.manifest!.totals.rows, ROWS);
      const job = await Job.fromId(queue, fileJobId(run.runId, 0, 0));
      assert.equal((job?.returnvalue as { threads?: number } | undefined)?.threads, 2, 'both threads scored the file');
    } finally {
      await queue.close();
      await worker.close();
    }
  });
});
