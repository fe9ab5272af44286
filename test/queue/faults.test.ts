/**
 * Exactly-once visible output under at-least-once execution, with real failures: worker
 * processes SIGKILLed at failpoints, a zombie worker (SIGSTOP past its lock, SIGCONT after
 * the job was re-run elsewhere), two finalizers of one run, Redis killed and restarted
 * mid-run, and a corrupt input (a permanent error); S3 endpoint failures are in
 * s3-faults.test.ts (shared set-up: support/fault-suite.ts). After every run DuckDB reads
 * the published output (globbing the folder, and following the `_SUCCESS.json` markers):
 * each input id exactly once, with the scores of a clean baseline run, and a complete
 * manifest.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, Queue } from 'bullmq';
import { createRedis } from '../../src/queue/connection.js';
import { getRunStatus } from '../../src/queue/run-status.js';
import { fileJobId, submitRun } from '../../src/queue/submit-run.js';
import { commitPartition, deleteStaged, stagingPrefix, type SuccessMarker } from '../../src/run/commit.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { FileStore } from '../../src/storage/file-store.js';
import { writeDemoDataset } from '../support/dataset.js';
import { exitOf, listFiles, publishedRows, waitForManifest, waitUntil } from '../support/queue-harness.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { ALL, assertExactlyOnce, DATES, ROWS, Scenario, SUBMIT, suite, TOTAL, useFaultSuite } from '../support/fault-suite.js';

useFaultSuite();

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
      const onceFile = join(suite.dir.path, `fault-${point}.fired`);
      try {
        const faulty = await s.worker({ BATCHSCORE_FAULT_POINT: point, BATCHSCORE_FAULT_ONCE_FILE: onceFile });
        const run = await submitRun(s.spec, suite.redis, s.config, { selection: ALL, ...SUBMIT });
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
        const status = await waitForManifest(suite.redis, s.config, run.runId, 45_000, () => s.logs());
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
    const queue = new Queue(s.config.queueName, { connection: suite.redis });
    try {
      const zombie = await s.worker();
      const run = await submitRun(s.spec, suite.redis, s.config, { selection: ALL, ...SUBMIT });
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
      const status = await waitForManifest(suite.redis, s.config, run.runId, 30_000, () => s.logs());
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
      const record = (await getRunStatus(suite.redis, s.config, run.runId))!.record;
      assert.equal(record.status, 'succeeded');
      assert.equal(record.filesDone, DATES.length);
      assert.equal(record.rows, TOTAL);
      // A late zombie write can only land under _staging/<runId>/ (never in a partition
      // folder); the next run's finalize sweeps the staging of finished runs.
      const lateFiles = await listFiles(join(s.out, '_staging'));
      assert.equal(lateFiles.length, 1, 'the zombie scored the file again, into its own attempt key');
      assert.match(lateFiles[0]!, new RegExp(`/_staging/${run.runId}/dt=[0-9-]+/a\\d+-[0-9a-f]{8}-part-0\\.parquet$`));
      const next = await submitRun(s.spec, suite.redis, s.config, { selection: ALL, ...SUBMIT });
      const second = await waitForManifest(suite.redis, s.config, next.runId, 30_000, () => s.logs());
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
    const root = join(suite.dir.path, 'commit-twin');
    const run = { runId: 'c0ffee00-0000-4000-8000-000000000001', createdAt: new Date().toISOString() };
    const bytes = await readFile(join(suite.input, `dt=${DATES[0]}`, 'part-0.parquet'));
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

describe('a permanent error', () => {
  test('a corrupt input fails its partition at once (1 attempt, no retry); the others publish', async () => {
    const corruptInput = join(suite.dir.path, 'input-corrupt');
    await writeDemoDataset(corruptInput, DATES, ROWS);
    const bad = join(corruptInput, `dt=${DATES[2]}`, 'part-0.parquet');
    const bytes = await readFile(bad);
    // Keep the PAR1 magic at both ends; garble the footer and the data in between.
    for (let i = 8; i < bytes.length - 8; i += 7) bytes[i] = (bytes[i]! * 31 + 17) & 0xff;
    await writeFile(bad, bytes);
    const good = DATES.filter((_, i) => i !== 2);

    const strict = new Scenario('permanent-strict');
    const tolerant = new Scenario('permanent-tolerant', suite.redisUrl, { maxFailedPartitions: 1 });
    for (const s of [strict, tolerant]) s.spec = { ...s.spec, input: { ...s.spec.input, uri: corruptInput } };
    const queue = new Queue(strict.config.queueName, { connection: suite.redis });
    try {
      await Promise.all([strict.worker(), tolerant.worker()]);
      // Slow backoff: a retry would show up as attemptsMade > 1 and a long run.
      const t0 = Date.now();
      const run = await submitRun(strict.spec, suite.redis, strict.config, { selection: ALL, backoffMs: 5000 });
      const status = await waitForManifest(suite.redis, strict.config, run.runId, 30_000, () => strict.logs());
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
      for (const r of rows) assert.equal(r.probability, suite.baseline.get(r.id));
      assert.deepEqual(await listFiles(join(strict.out, `dt=${DATES[2]}`)), []);
      assert.deepEqual(await listFiles(join(strict.out, '_staging')), []);

      const run2 = await submitRun(tolerant.spec, suite.redis, tolerant.config, { selection: ALL, ...SUBMIT });
      const status2 = await waitForManifest(suite.redis, tolerant.config, run2.runId, 30_000, () => tolerant.logs());
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
