/**
 * Relative paths in a job spec are the submitter's: `withAbsolutePaths` fixes them before a
 * spec travels to workers. Pure cases, then a real run: a spec with relative paths submitted
 * from one directory and scored by a worker process started in another publishes its data
 * and its manifest in the submitter's directory, side by side.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedis, type QueueConfig } from '../../src/queue/connection.js';
import { submitRun } from '../../src/queue/submit-run.js';
import { withAbsolutePaths } from '../../src/spec/absolute-paths.js';
import { parseJobSpec } from '../../src/spec/job-spec.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { obliterateQueue, queueConfig, randomQueueName, ROOT, startWorker, waitForManifest, workerEnv, type CliProcess } from '../support/queue-harness.js';
import { redisUrlForTests } from '../support/redis.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

describe('withAbsolutePaths', () => {
  it('makes relative local paths absolute against the given directory and leaves URIs and absolute paths alone', () => {
    const spec = parseJobSpec({
      name: 'j',
      input: { uri: 'data/in', partitionKey: 'dt' },
      model: { ref: 'churn@production', registry: './registry/' },
      features: ['a'],
      output: { uri: 's3://bucket/out' },
      monitoring: { reference: '../ref.profile.json' },
    });
    const abs = withAbsolutePaths(spec, '/srv/jobs');
    assert.equal(abs.input.uri, '/srv/jobs/data/in');
    assert.equal(abs.model.registry, '/srv/jobs/registry/', 'a trailing slash is kept (a prefix)');
    assert.equal(abs.model.ref, 'churn@production');
    assert.equal(abs.output.uri, 's3://bucket/out');
    assert.equal(abs.monitoring?.reference, '/srv/ref.profile.json');
    assert.equal(spec.input.uri, 'data/in', 'the given spec is not modified');

    const other = withAbsolutePaths(parseJobSpec({
      name: 'j',
      input: { uri: 'file:///data/in' },
      model: { uri: '/models/m.onnx' },
      features: ['a'],
      output: { uri: 'out' },
      monitoring: { reference: '0b6e3c1a-3f5e-4d2a-9c1b-7a8e9f0d1c2b' },
    }), '/home/u');
    assert.equal(other.input.uri, 'file:///data/in');
    assert.equal(other.model.uri, '/models/m.onnx');
    assert.equal(other.output.uri, '/home/u/out');
    assert.equal(other.monitoring?.reference, '0b6e3c1a-3f5e-4d2a-9c1b-7a8e9f0d1c2b', 'a baseline run id is not a path');
  });
});

describe('a relative spec submitted from one directory, scored by a worker in another', () => {
  let dir: TmpDir;
  let redis: Redis;
  let config: QueueConfig;
  let worker: CliProcess | undefined;
  const cwd = process.cwd();

  before(async () => {
    dir = await tmpDir('batchscore-relative-');
    await writeDemoDataset(join(dir.path, 'input'), ['2026-11-01'], 1500);
    writeFileSync(join(dir.path, 'model.onnx'), demoModels().logistic.bytes);
    const url = await redisUrlForTests();
    redis = createRedis(url);
    config = queueConfig(url, randomQueueName('relative'));
    // The worker runs in the project root, not in the submitter's directory.
    worker = await startWorker(workerEnv(url, config.queueName));
  });
  after(async () => {
    process.chdir(cwd);
    await worker?.stop();
    await obliterateQueue(redis, config);
    await redis.quit();
    await dir.cleanup();
  });

  it('publishes the partition and writes the manifest under the submitter’s directory', async () => {
    process.chdir(dir.path);
    const submitted = await submitRun(demoSpec('input', 'model.onnx', 'scores'), redis, config, { selection: { kind: 'all' } });
    process.chdir(cwd);
    const status = await waitForManifest(redis, config, submitted.runId, 60_000, () => worker?.output() ?? '');
    const manifest = status.manifest!;
    assert.equal(manifest.status, 'succeeded', JSON.stringify(manifest.errors));
    assert.equal(manifest.spec.output.uri, join(dir.path, 'scores'));
    assert.ok(existsSync(join(dir.path, 'scores', 'dt=2026-11-01', 'part-0.parquet')), 'partition published beside the submitter');
    assert.ok(existsSync(join(dir.path, 'scores', '_runs', `${submitted.runId}.json`)), 'manifest written beside the data');
    assert.ok(!existsSync(join(ROOT, 'scores')), 'nothing written under the worker’s directory');
  });
});
