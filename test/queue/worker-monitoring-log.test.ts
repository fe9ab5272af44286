/**
 * The queue worker's finalize logs what `batchscore run` logs: the drift alert naming its
 * columns and an undelivered webhook, through the worker's own log (real Redis, local files).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { demoPartition } from '../../src/demo/demo-data.js';
import { profileDataset } from '../../src/monitor-io/profile-dataset.js';
import { createRedis, type QueueConfig } from '../../src/queue/connection.js';
import { startScoreWorker } from '../../src/queue/score-worker.js';
import { submitRun } from '../../src/queue/submit-run.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { obliterateQueue, queueConfig, randomQueueName, waitForManifest } from '../support/queue-harness.js';
import { redisUrlForTests } from '../support/redis.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const ROWS = 3000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('queue worker: monitoring warnings in the log', () => {
  let dir: TmpDir;
  let redis: Redis;
  let config: QueueConfig;
  before(async () => {
    dir = await tmpDir();
    await writeFile(join(dir.path, 'logistic.onnx'), demoModels().logistic.bytes);
    await writeDemoDataset(join(dir.path, 'train'), ['2026-10-01'], ROWS);
    await writeFile(join(dir.path, 'reference.json'), JSON.stringify(await profileDataset(join(dir.path, 'train'))));
    // 30% nulls in f3, f7, f11 where training had 1%: missing-rate alerts for these three.
    await mkdir(join(dir.path, 'input', 'dt=2026-11-01'), { recursive: true });
    await writeFile(join(dir.path, 'input', 'dt=2026-11-01', 'part-0.parquet'), await demoPartition('2026-11-01', { rows: ROWS, nullFraction: 0.3 }));
    const url = await redisUrlForTests();
    redis = createRedis(url);
    config = queueConfig(url, randomQueueName('monlog'));
  });
  after(async () => {
    await obliterateQueue(redis, config);
    await redis.quit();
    await dir.cleanup();
  });

  test('the alert and the undelivered webhook are logged at warn level; debug lines are not', async () => {
    const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> | undefined }> = [];
    const worker = startScoreWorker(redis, config, {
      concurrency: 1, threads: 1, lockDuration: 10_000, stalledInterval: 10_000,
      log: (level, msg, fields) => lines.push({ level, msg, fields }),
    });
    try {
      const port = await freePort();
      const spec = demoSpec(join(dir.path, 'input'), join(dir.path, 'logistic.onnx'), join(dir.path, 'out'), {
        passthrough: ['id', 'segment'],
        monitoring: { reference: join(dir.path, 'reference.json'), ignore: ['id'], webhook: `http://127.0.0.1:${port}/hook` },
      });
      const run = await submitRun(spec, redis, config, { selection: { kind: 'all' } });
      const status = await waitForManifest(redis, config, run.runId, 60_000);
      const manifest = status.manifest!;
      assert.equal(manifest.status, 'succeeded', JSON.stringify(manifest.errors));
      assert.equal(manifest.monitoring?.status, 'alert');
      assert.deepEqual(manifest.monitoring?.drift?.schema, []);
      const alerted = manifest.monitoring!.drift!.columns.filter((c) => c.severity === 'alert').map((c) => c.column).sort();
      assert.deepEqual(alerted, ['f11', 'f3', 'f7']);

      const drift = lines.find((l) => l.msg.startsWith('monitoring alert: '));
      assert.ok(drift, JSON.stringify(lines));
      assert.equal(drift.level, 'warn');
      assert.equal(drift.fields?.runId, run.runId);
      for (const c of alerted) assert.match(drift.msg, new RegExp(`\\b${c} \\(alert: [^)]*missing-rate change`));
      const webhook = lines.find((l) => l.msg.startsWith('monitoring webhook'));
      assert.ok(webhook, JSON.stringify(lines));
      assert.equal(webhook.level, 'warn');
      assert.equal(webhook.msg, `monitoring webhook http://127.0.0.1:${port} not delivered after 3 attempt(s): ECONNREFUSED`);
      assert.ok(lines.every((l) => (l.level as string) !== 'debug'), 'debug lines are filtered out');
    } finally {
      await worker.close();
    }
  });
});
