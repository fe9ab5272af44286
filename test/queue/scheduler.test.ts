/**
 * The scheduler: schedule arithmetic with fixed clocks (time zones, offsets, a seconds-level
 * cron), then the real thing against Redis: a `*\/2 * * * * *` pattern submitting runs on
 * its own timer, and the start-up catch-up (with a faked clock) submitting the partitions
 * whose `_SUCCESS.json` is missing and skipping published ones, idempotently across restarts.
 * Failures (a bad pattern in a spec built in code, a catch-up or arming that throws) are
 * refused at once or stop the scheduler through `onError` and `done`, with no unhandled
 * rejection or uncaught exception.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis, type QueueConfig } from '../../src/queue/connection.js';
import { addDays, cronProblem, dateIn, nextFiring, partitionForFiring, recentFirings } from '../../src/queue/schedule-math.js';
import { partitionPublished, startScheduler } from '../../src/queue/scheduler.js';
import { startScoreWorker } from '../../src/queue/score-worker.js';
import type { SubmitResult } from '../../src/queue/submit-run.js';
import { runJob } from '../../src/run/run-job.js';
import type { JobSpec, ScheduleSpec } from '../../src/spec/job-spec.js';
import { demoPartition } from '../../src/demo/demo-data.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { obliterateQueue, publishedRows, queueConfig, randomQueueName, waitForManifest, waitUntil } from '../support/queue-harness.js';
import { redisUrlForTests } from '../support/redis.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const at = (iso: string) => new Date(iso);
const schedule = (cron: string, tz = 'UTC', offsetDays = -1, catchUp = 3): ScheduleSpec => ({ cron, tz, offsetDays, catchUp });

describe('schedule math', () => {
  test('dateIn: the calendar date of an instant in a time zone', () => {
    const instant = at('2026-03-08T04:30:00Z');
    assert.equal(dateIn(instant, 'UTC'), '2026-03-08');
    assert.equal(dateIn(instant, 'America/New_York'), '2026-03-07'); // 23:30 EST the day before
    assert.equal(dateIn(instant, 'Asia/Tokyo'), '2026-03-08');
    assert.equal(dateIn(at('2026-12-31T15:00:00Z'), 'Asia/Tokyo'), '2027-01-01'); // midnight JST
    assert.equal(dateIn(at('2026-12-31T14:59:59.999Z'), 'Asia/Tokyo'), '2026-12-31');
    assert.equal(dateIn(at('2026-01-01T00:30:00Z'), 'Pacific/Honolulu'), '2025-12-31');
    // Across the US spring-forward night, offsets change from -5 to -4.
    assert.equal(dateIn(at('2026-03-09T03:59:00Z'), 'America/New_York'), '2026-03-08');
    assert.equal(dateIn(at('2026-03-09T04:00:00Z'), 'America/New_York'), '2026-03-09');
  });

  test('addDays across months, leap days and years', () => {
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
    assert.equal(addDays('2024-03-01', -1), '2024-02-29');
    assert.equal(addDays('2026-03-01', -1), '2026-02-28');
    assert.equal(addDays('2026-11-25', 0), '2026-11-25');
    assert.equal(addDays('2026-11-25', -30), '2026-10-26');
  });

  test('partitionForFiring: the firing date in the schedule time zone, plus offsetDays', () => {
    // 02:00 in Berlin (UTC+1 in November) is 01:00 UTC.
    const firing = at('2026-11-25T01:00:00Z');
    assert.equal(partitionForFiring(firing, schedule('0 2 * * *', 'Europe/Berlin', -1)), '2026-11-24');
    assert.equal(partitionForFiring(firing, schedule('0 2 * * *', 'Europe/Berlin', 0)), '2026-11-25');
    assert.equal(partitionForFiring(firing, schedule('0 2 * * *', 'Europe/Berlin', -7)), '2026-11-18');
    // The same instant is still the 24th in New York: the zone decides the date.
    assert.equal(partitionForFiring(firing, schedule('0 20 * * *', 'America/New_York', -1)), '2026-11-23');
    // 08:30 in Tokyo on the 1st of January is still 2026 in UTC.
    const newYear = at('2026-12-31T23:30:00Z');
    assert.equal(partitionForFiring(newYear, schedule('30 8 * * *', 'Asia/Tokyo', -1)), '2026-12-31');
    assert.equal(partitionForFiring(newYear, schedule('30 23 * * *', 'UTC', -1)), '2026-12-30');
  });

  test('nextFiring / recentFirings for a 6-field (seconds) pattern', () => {
    const every2s = schedule('*/2 * * * * *');
    assert.deepEqual(nextFiring(every2s, at('2026-11-25T12:00:00.500Z')), at('2026-11-25T12:00:02.000Z'));
    // Strictly after: a firing instant itself is not "next".
    assert.deepEqual(nextFiring(every2s, at('2026-11-25T12:00:02.000Z')), at('2026-11-25T12:00:04.000Z'));
    assert.deepEqual(nextFiring(every2s, at('2026-11-25T23:59:59.000Z')), at('2026-11-26T00:00:00.000Z'));
    // At or before now, newest first.
    assert.deepEqual(recentFirings(every2s, at('2026-11-25T12:00:05.300Z'), 3), [
      at('2026-11-25T12:00:04Z'), at('2026-11-25T12:00:02Z'), at('2026-11-25T12:00:00Z'),
    ]);
    assert.deepEqual(recentFirings(every2s, at('2026-11-25T12:00:04.000Z'), 2), [at('2026-11-25T12:00:04Z'), at('2026-11-25T12:00:02Z')]);
    assert.deepEqual(recentFirings(every2s, at('2026-11-25T12:00:04.000Z'), 0), []);
    // A seconds field with a list.
    assert.deepEqual(nextFiring(schedule('5,35 * * * * *'), at('2026-11-25T12:00:06Z')), at('2026-11-25T12:00:35Z'));
  });

  test('recentFirings of a nightly pattern in a time zone, across a DST change', () => {
    const nightly = schedule('0 2 * * *', 'Europe/Berlin');
    assert.deepEqual(recentFirings(nightly, at('2026-11-25T12:00:00Z'), 3), [
      at('2026-11-25T01:00:00Z'), at('2026-11-24T01:00:00Z'), at('2026-11-23T01:00:00Z'),
    ]);
    // Berlin leaves summer time on 2026-10-25: 06:00 is 04:00 UTC before, 05:00 UTC after.
    const morning = schedule('0 6 * * *', 'Europe/Berlin');
    assert.deepEqual(recentFirings(morning, at('2026-10-26T12:00:00Z'), 3), [
      at('2026-10-26T05:00:00Z'), at('2026-10-25T05:00:00Z'), at('2026-10-24T04:00:00Z'),
    ]);
    assert.deepEqual(
      recentFirings(morning, at('2026-10-26T12:00:00Z'), 3).map((f) => partitionForFiring(f, morning)),
      ['2026-10-25', '2026-10-24', '2026-10-23'],
    );
    assert.deepEqual(nextFiring(nightly, at('2026-11-25T01:00:00Z')), at('2026-11-26T01:00:00Z'));
  });

  test('around DST changes, catch-up lists exactly the firings the scheduler fires: one a night', () => {
    // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:30 is 00:30 UTC and again 01:30 UTC.
    const late = schedule('30 2 * * *', 'Europe/Berlin');
    assert.deepEqual(nextFiring(late, at('2026-10-24T12:00:00Z')), at('2026-10-25T00:30:00Z'));
    assert.deepEqual(nextFiring(late, at('2026-10-25T00:30:00Z')), at('2026-10-26T01:30:00Z'));
    const recent = recentFirings(late, at('2026-10-26T12:00:00Z'), 3);
    assert.deepEqual(recent, [at('2026-10-26T01:30:00Z'), at('2026-10-25T00:30:00Z'), at('2026-10-24T00:30:00Z')]);
    assert.deepEqual(recent.map((f) => partitionForFiring(f, late)), ['2026-10-25', '2026-10-24', '2026-10-23']);
    // Clocks going forward: 02:30 does not exist on 2026-03-29; the night still fires once.
    assert.deepEqual(recentFirings(late, at('2026-03-30T12:00:00Z'), 3).map((f) => partitionForFiring(f, late)), ['2026-03-29', '2026-03-28', '2026-03-27']);
  });
});

describe('cronProblem: the check the spec and the scheduler share', () => {
  test("reports cron-parser's reason for patterns it refuses, and nothing for good ones", () => {
    assert.equal(cronProblem('99 99 * * *', 'UTC'), 'Constraint error, got value 99 expected range 0-59');
    assert.match(cronProblem('not a real cron x', 'UTC') ?? '', /^Invalid characters/);
    assert.match(cronProblem('0 0 30 2 *', 'UTC') ?? '', /day of month/);
    // parse() takes this one; it never fires, which only next() finds.
    assert.match(cronProblem('0 0 31 2,4 *', 'UTC') ?? '', /^never fires \(/);
    // cron-parser accepts "UTC+3" itself; Intl (which dateIn uses) does not.
    assert.equal(cronProblem('0 2 * * *', 'UTC+3'), 'unknown time zone "UTC+3"');
    assert.equal(cronProblem('0 2 * * *', 'Mars/Olympus'), 'unknown time zone "Mars/Olympus"');
    for (const good of ['0 2 * * *', '0 30 2 * * *', '*/2 * * * * *', '0 0 29 2 *', '0 6 * * MON-FRI']) {
      assert.equal(cronProblem(good, 'Europe/Paris'), undefined, good);
      // What the check accepts, the scheduler can compute.
      const s = schedule(good, 'Europe/Paris');
      assert.equal(recentFirings(s, at('2026-11-25T12:00:00Z'), 3).length, 3, good);
      assert.ok(nextFiring(s, at('2026-11-25T12:00:00Z')) > at('2026-11-25T12:00:00Z'), good);
    }
  });
});

describe('startScheduler failures: reported, never an unhandled rejection', () => {
  // None of these reach Redis: they fail before the first submission.
  const noRedis = {} as Redis;
  const noConfig = {} as QueueConfig;
  const nightly = (overrides: Partial<ScheduleSpec> = {}): JobSpec => ({
    ...demoSpec('in', 'm.onnx', 'out'),
    schedule: { ...schedule('0 2 * * *'), ...overrides },
  });

  /** Collect unhandled rejections and uncaught exceptions while `fn` runs and a little after. */
  async function withoutUnhandled(fn: () => Promise<void>): Promise<unknown[]> {
    const seen: unknown[] = [];
    const onRejection = (reason: unknown) => seen.push(reason);
    const onException = (err: unknown) => seen.push(err);
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    try {
      await fn();
      // Unhandled rejections are detected after the microtask queue drains.
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    }
    return seen;
  }

  /** A clock that is right `good` times, then returns an invalid date (cron-parser throws on it). */
  function breakingClock(good: number): () => Date {
    let calls = 0;
    return () => (++calls <= good ? at('2026-11-25T12:00:00Z') : new Date(Number.NaN));
  }

  test('a spec built in code with a bad cron, tz or no partitionKey is refused at once, naming it', () => {
    assert.throws(() => startScheduler(nightly({ cron: '99 99 * * *' }), noRedis, noConfig), {
      message: 'scheduler: job "test-job": schedule.cron "99 99 * * *" in time zone "UTC": Constraint error, got value 99 expected range 0-59',
    });
    assert.throws(() => startScheduler(nightly({ tz: 'Mars/Olympus' }), noRedis, noConfig), /unknown time zone "Mars\/Olympus"/);
    const unkeyed = nightly();
    delete unkeyed.input.partitionKey;
    assert.throws(() => startScheduler(unkeyed, noRedis, noConfig), /schedule needs input\.partitionKey/);
  });

  test('a failing catch-up stops the scheduler: onError and done get the error, caughtUp rejects, nothing is armed', async () => {
    const errors: Error[] = [];
    let done: Promise<void> | undefined;
    let caughtUp: Promise<string[]> | undefined;
    const unhandled = await withoutUnhandled(async () => {
      // Right for the start-up check, wrong for the catch-up.
      const scheduler = startScheduler(nightly(), noRedis, noConfig, { now: breakingClock(1), onError: (e) => errors.push(e) });
      ({ done, caughtUp } = scheduler);
      // Nobody awaits either promise here, as the CLI does not: that must not be unhandled.
      await new Promise((r) => setTimeout(r, 20));
    });
    assert.deepEqual(unhandled, []);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /^scheduler: job "test-job" stopped: catch-up failed: CronDate: unhandled timestamp: Invalid Date$/);
    await assert.rejects(done!, (err) => err === errors[0]);
    await assert.rejects(caughtUp!, /Invalid Date/);
  });

  test('a failure arming the next firing stops the scheduler the same way', async () => {
    const errors: Error[] = [];
    let done: Promise<void> | undefined;
    const unhandled = await withoutUnhandled(async () => {
      // catchUp 0 needs the clock once without cron-parser; nextFiring then gets the bad date.
      const scheduler = startScheduler(nightly({ catchUp: 0 }), noRedis, noConfig, { now: breakingClock(2), onError: (e) => errors.push(e) });
      done = scheduler.done;
      assert.deepEqual(await scheduler.caughtUp, []);
      await new Promise((r) => setTimeout(r, 20));
    });
    assert.deepEqual(unhandled, []);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /^scheduler: job "test-job" stopped: arming the next firing failed: CronDate: unhandled timestamp/);
    await assert.rejects(done!, (err) => err === errors[0]);
  });

  test('a clock failing when a timer fires stops the scheduler instead of throwing from the timer', async () => {
    const errors: Error[] = [];
    let done: Promise<void> | undefined;
    const unhandled = await withoutUnhandled(async () => {
      // Every second; right for the check, catch-up and arming (4 calls), wrong when the timer fires.
      let calls = 0;
      const now = () => {
        if (++calls > 4) throw new Error('clock broke');
        return new Date();
      };
      const scheduler = startScheduler(nightly({ cron: '* * * * * *', catchUp: 0 }), noRedis, noConfig, { now, onError: (e) => errors.push(e) });
      done = scheduler.done;
      await assert.rejects(scheduler.done, /arming the next firing failed: clock broke/);
    });
    assert.deepEqual(unhandled, []);
    assert.deepEqual(errors.map((e) => e.message), ['scheduler: job "test-job" stopped: arming the next firing failed: clock broke']);
    await assert.rejects(done!, (err) => err === errors[0]);
  });

  test('an onError that throws does not turn a failure into an unhandled rejection', async () => {
    let calls = 0;
    let done: Promise<void> | undefined;
    const unhandled = await withoutUnhandled(async () => {
      const scheduler = startScheduler(nightly(), noRedis, noConfig, {
        now: breakingClock(1),
        onError: () => {
          calls++;
          throw new Error('logger down');
        },
      });
      done = scheduler.done;
      await new Promise((r) => setTimeout(r, 20));
    });
    assert.deepEqual(unhandled, []);
    assert.equal(calls, 1);
    await assert.rejects(done!, /catch-up failed/);
  });

  test('stop() resolves done', async () => {
    const scheduler = startScheduler(nightly({ catchUp: 0 }), noRedis, noConfig, { now: () => at('2026-11-25T12:00:00Z') });
    assert.deepEqual(await scheduler.caughtUp, []);
    scheduler.stop();
    await scheduler.done;
  });
});

describe('startScheduler against Redis', () => {
  let dir: TmpDir;
  let redis: Redis;
  let redisUrl: string;
  let input: string;
  let modelPath: string;
  const configs: QueueConfig[] = [];
  const DATES = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'];
  const ROWS = 1000;

  before(async () => {
    dir = await tmpDir('batchscore-scheduler-');
    input = join(dir.path, 'input');
    await writeDemoDataset(input, DATES, ROWS);
    modelPath = join(dir.path, 'logistic.onnx');
    await writeFile(modelPath, demoModels().logistic.bytes);
    redisUrl = await redisUrlForTests();
    redis = createRedis(redisUrl);
  });
  after(async () => {
    for (const c of configs) await obliterateQueue(redis, c);
    await redis.quit();
    await dir.cleanup();
  });

  const newConfig = (tag: string) => {
    const c = queueConfig(redisUrl, randomQueueName(tag));
    configs.push(c);
    return c;
  };

  test('a seconds-level cron submits the partition the spec names on every firing, once per active window', async () => {
    const config = newConfig('cron');
    // Partitions for today and tomorrow (UTC), so a firing just before midnight still plans.
    const today = dateIn(new Date(), 'UTC');
    const cronInput = join(dir.path, 'cron-input');
    for (const [i, d] of [today, addDays(today, 1)].entries()) {
      await mkdir(join(cronInput, `dt=${d}`), { recursive: true });
      await writeFile(join(cronInput, `dt=${d}`, 'part-0.parquet'), await demoPartition(d, { rows: 100, firstId: i * 100 }));
    }
    const spec: JobSpec = { ...demoSpec(cronInput, modelPath, join(dir.path, 'cron-out')), schedule: schedule('*/2 * * * * *', 'UTC', 0, 0) };
    const events: { partition: string; firing: Date; result: SubmitResult; catchUp: boolean; seen: number }[] = [];
    const errors: Error[] = [];
    const scheduler = startScheduler(spec, redis, config, {
      onSubmit: (e) => events.push({ ...e, seen: Date.now() }),
      onError: (err) => errors.push(err),
    });
    try {
      assert.deepEqual(await scheduler.caughtUp, [], 'catchUp 0: nothing to catch up');
      await waitUntil(() => events.length >= 2, 'two firings', 10_000, 20);
    } finally {
      scheduler.stop();
    }
    const count = events.length;
    assert.deepEqual(errors, []);
    const [first, second] = events as [typeof events[0], typeof events[0]];
    for (const e of [first, second]) {
      assert.equal(e.catchUp, false);
      assert.equal(e.firing.getUTCMilliseconds(), 0);
      assert.equal(e.firing.getUTCSeconds() % 2, 0, 'fires on even seconds');
      assert.ok(e.seen >= e.firing.getTime(), 'not before its time');
      assert.ok(e.seen - e.firing.getTime() < 1500, `on time (${e.seen - e.firing.getTime()} ms late)`);
      assert.equal(e.partition, dateIn(e.firing, 'UTC'));
    }
    assert.equal(second.firing.getTime() - first.firing.getTime(), 2000);
    // No worker runs: the first firing's run is still active, so the second returns it.
    assert.equal(first.result.created, true);
    assert.equal(first.result.files, 1);
    if (second.partition === first.partition) {
      assert.deepEqual(second.result, { runId: first.result.runId, created: false, files: 1 });
    }
    const queue = new Queue(config.queueName, { connection: redis });
    try {
      const finalizers = await queue.getJobs(['waiting-children']);
      const runIds = new Set(events.filter((e) => e.result.created).map((e) => e.result.runId));
      assert.deepEqual(new Set(finalizers.map((j) => (j.data as { runId: string }).runId)), runIds);
      const files = await queue.getJobs(['wait', 'prioritized']);
      assert.equal(files.length, runIds.size);
      assert.ok(files.every((j) => j.name === 'file'));
    } finally {
      await queue.close();
    }
    // stop() stops the timer: no firing after it.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(events.length, count);
  });

  test('on start it catches up missed firings whose partition is not published, and only those', async () => {
    const config = newConfig('catchup');
    const out = join(dir.path, 'catchup-out');
    // Nightly at 02:00 UTC scoring yesterday; down since it last ran on 2026-11-03 02:00.
    const spec: JobSpec = { ...demoSpec(input, modelPath, out), schedule: schedule('0 2 * * *', 'UTC', -1, 4) };
    // What ran before the outage: 11-01 and 11-02 are published.
    const earlier = await runJob(spec, { threads: 1, selection: { kind: 'values', values: [DATES[0]!, DATES[1]!] } });
    assert.equal(earlier.manifest.status, 'succeeded');
    assert.equal(await partitionPublished(spec, DATES[0]!), true);
    assert.equal(await partitionPublished(spec, DATES[2]!), false);

    // Restart on 2026-11-05 at 12:00: firings of 11-02..11-05 (partitions 11-01..11-04) are
    // within catchUp; 11-01 and 11-02 are published.
    const now = () => at('2026-11-05T12:00:00Z');
    const submitted: { partition: string; result: SubmitResult; catchUp: boolean }[] = [];
    const s1 = startScheduler(spec, redis, config, { now, onSubmit: (e) => submitted.push(e) });
    const caught = await s1.caughtUp;
    s1.stop();
    assert.deepEqual(caught, [DATES[2], DATES[3]], 'oldest first, published ones skipped');
    assert.deepEqual(submitted.map((e) => [e.partition, e.catchUp, e.result.created]), [[DATES[2], true, true], [DATES[3], true, true]]);

    // A second scheduler starting now (or the same one restarting) while those runs are
    // active submits nothing new.
    const again: { partition: string; result: SubmitResult }[] = [];
    const s2 = startScheduler(spec, redis, config, { now, onSubmit: (e) => again.push(e) });
    assert.deepEqual(await s2.caughtUp, [DATES[2], DATES[3]]);
    s2.stop();
    assert.deepEqual(again.map((e) => [e.result.runId, e.result.created]), submitted.map((e) => [e.result.runId, false]));

    // A worker runs them; afterwards a restart finds everything published and submits nothing.
    const worker = startScoreWorker(redis, config, { concurrency: 1, lockDuration: 5000, stalledInterval: 5000 });
    try {
      for (const e of submitted) {
        const status = await waitForManifest(redis, config, e.result.runId, 30_000);
        assert.equal(status.manifest!.status, 'succeeded');
        assert.deepEqual(status.manifest!.partitions.map((p) => p.value), [e.partition]);
      }
    } finally {
      await worker.close();
    }
    for (const d of DATES) assert.equal(await partitionPublished(spec, d), true, d);
    const third: unknown[] = [];
    const s3 = startScheduler(spec, redis, config, { now, onSubmit: (e) => third.push(e) });
    assert.deepEqual(await s3.caughtUp, []);
    s3.stop();
    assert.deepEqual(third, []);
    // Every partition published exactly once.
    const rows = await publishedRows(out);
    assert.equal(rows.length, DATES.length * ROWS);
    assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
    assert.deepEqual([...new Set(rows.map((r) => r.dt))].sort(), DATES);
    assert.ok(!existsSync(join(out, `dt=2026-11-05`)));
  });
});
