/**
 * The shared set-up of the queue fault tests (faults.test.ts, s3-faults.test.ts): a small
 * demo dataset and model, Redis, the scores of a clean in-process run that every faulty run
 * must publish, a Scenario per test (a queue of its own and its workers) and the
 * exactly-once check every test ends with.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createRedis, type QueueConfig } from '../../src/queue/connection.js';
import type { SubmitOptions } from '../../src/queue/submit-run.js';
import type { SuccessMarker } from '../../src/run/commit.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { runJob } from '../../src/run/run-job.js';
import type { JobSpec } from '../../src/spec/job-spec.js';
import { closeCachedStores } from '../../src/storage/resolve.js';
import { demoModels, demoSpec, writeDemoDataset } from './dataset.js';
import {
  listFiles, manifestRows, obliterateQueue, publishedRows, queueConfig, randomQueueName, startWorker, workerEnv, type CliProcess,
} from './queue-harness.js';
import { redisUrlForTests } from './redis.js';
import { tmpDir, type TmpDir } from './tmp.js';

export const DATES = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'];
export const ROWS = 2000;
export const TOTAL = DATES.length * ROWS;
export const ALL = { kind: 'all' } as const;
/** Fast job retries: the tests wait for backoff, production keeps the 1 s default. */
export const SUBMIT: Omit<SubmitOptions, 'selection'> = { backoffMs: 200 };

/** The suite's state, set by the hooks `useFaultSuite` registers. */
export const suite = {} as {
  dir: TmpDir;
  input: string;
  modelPath: string;
  redisUrl: string;
  redis: Redis;
  /** id → probability of a clean in-process run: what every faulty run must publish. */
  baseline: Map<bigint, number>;
};

/** Register the suite's set-up and clean-up hooks in the calling test file. */
export function useFaultSuite(): void {
  before(async () => {
    suite.dir = await tmpDir('batchscore-faults-');
    suite.input = join(suite.dir.path, 'input');
    await writeDemoDataset(suite.input, DATES, ROWS);
    suite.modelPath = join(suite.dir.path, 'logistic.onnx');
    await writeFile(suite.modelPath, demoModels().logistic.bytes);
    suite.redisUrl = await redisUrlForTests();
    suite.redis = createRedis(suite.redisUrl);
    const out = join(suite.dir.path, 'out-baseline');
    const { manifest } = await runJob(demoSpec(suite.input, suite.modelPath, out), { threads: 1 });
    assert.equal(manifest.status, 'succeeded');
    suite.baseline = new Map((await publishedRows(out)).map((r) => [r.id, r.probability]));
    assert.equal(suite.baseline.size, TOTAL);
  });
  after(async () => {
    await suite.redis.quit();
    closeCachedStores();
    await suite.dir.cleanup();
  });
}

/** A queue of its own, its workers, and cleanup. */
export class Scenario {
  readonly config: QueueConfig;
  readonly workers: CliProcess[] = [];
  readonly out: string;
  spec: JobSpec;
  constructor(readonly name: string, url = suite.redisUrl, specOverrides: Record<string, unknown> = {}) {
    this.config = queueConfig(url, randomQueueName(name));
    this.out = join(suite.dir.path, `out-${name}`);
    this.spec = demoSpec(suite.input, suite.modelPath, this.out, specOverrides);
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
  async close(client: Redis = suite.redis): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    await obliterateQueue(client, this.config);
  }
}

/**
 * What every run here must end with: a succeeded manifest naming every file, each input id
 * published exactly once with the baseline's score (globbing the folder, and reading just
 * the files the `_SUCCESS.json` markers list), and no staging left.
 */
export async function assertExactlyOnce(out: string, manifest: RunManifest, lateStagingOf?: string): Promise<void> {
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
  for (const r of globbed) assert.equal(r.probability, suite.baseline.get(r.id), `score of id ${r.id}`);
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

