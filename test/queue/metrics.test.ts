/**
 * A worker's /metrics, scraped while it scores a run: Prometheus text format with the
 * expected series (rows, files, partitions, durations, queue depth, run status, process_*).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/queue/connection.js';
import { submitRun } from '../../src/queue/submit-run.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { redisUrlForTests } from '../support/redis.js';
import { obliterateQueue, queueConfig, randomQueueName, startWorker, waitForManifest, workerEnv, type CliProcess } from '../support/queue-harness.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

let dir: TmpDir;
let redis: Redis;
let worker: CliProcess;
let redisUrl: string;
const queueName = randomQueueName('metrics');

before(async () => {
  dir = await tmpDir();
  redisUrl = await redisUrlForTests();
  redis = createRedis(redisUrl);
  worker = await startWorker(workerEnv(redisUrl, queueName), ['--concurrency', '1', '--metrics-port', '0']);
});
after(async () => {
  await worker?.stop();
  await obliterateQueue(redis, queueConfig(redisUrl, queueName));
  redis.disconnect();
  await dir.cleanup();
});

/** Parse the text exposition format; throws on a malformed line. */
function parseMetrics(text: string): Map<string, number> {
  const series = new Map<string, number>();
  const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( \d+)?$/;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = sample.exec(line);
    assert.ok(m, `not Prometheus text format: ${JSON.stringify(line)}`);
    series.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return series;
}

function sum(series: Map<string, number>, name: string): number {
  let total = 0;
  for (const [k, v] of series) if (k === name || k.startsWith(`${name}{`)) total += v;
  return total;
}

test('/metrics during and after a run', async () => {
  const url = /"metrics":"(http:\/\/[^"]+)"/.exec(worker.output())?.[1];
  assert.ok(url, `worker printed its metrics URL: ${worker.output()}`);
  const input = join(dir.path, 'in');
  await writeDemoDataset(input, ['2026-11-01', '2026-11-02', '2026-11-03'], 3000);
  const model = join(dir.path, 'm.onnx');
  await writeFile(model, demoModels().logistic.bytes);
  const before = parseMetrics(await (await fetch(url)).text());
  assert.ok(before.has('process_cpu_user_seconds_total'));
  assert.ok([...before.keys()].some((k) => k.startsWith('nodejs_')));
  assert.equal(sum(before, 'batchscore_rows_scored_total'), 0);

  const config = queueConfig(redisUrl, queueName);
  const { runId } = await submitRun(demoSpec(input, model, join(dir.path, 'out'), { name: 'metrics-job' }), redis, config, { selection: { kind: 'all' } });
  const during = parseMetrics(await (await fetch(url)).text());
  assert.ok([...during.keys()].some((k) => k.startsWith('batchscore_queue_depth{')), 'queue depth series');
  const status = await waitForManifest(redis, config, runId);
  assert.equal(status.manifest?.status, 'succeeded');

  const text = await (await fetch(url)).text();
  const afterRun = parseMetrics(text);
  assert.equal(sum(afterRun, 'batchscore_rows_scored_total'), 9000);
  assert.equal(afterRun.get('batchscore_files_total{job="metrics-job",outcome="ok"}'), 3);
  assert.equal(afterRun.get('batchscore_partitions_total{job="metrics-job",outcome="succeeded"}'), 3);
  assert.equal(afterRun.get('batchscore_file_duration_seconds_count{job="metrics-job"}'), 3);
  assert.equal(afterRun.get('batchscore_last_run_status{job="metrics-job",status="ok"}'), 1);
  assert.match(text, /# TYPE batchscore_rows_scored_total counter/);
  assert.match(text, /# TYPE batchscore_partition_duration_seconds histogram/);
  assert.equal((await fetch(url.replace('/metrics', '/nope'))).status, 404);
});
