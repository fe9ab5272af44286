/**
 * The scheduler: submits the run for the partition each cron firing names, and on start
 * catches up firings it missed while down. The durable record of "done" is the partition's
 * `_SUCCESS.json` in object storage (Redis may have lost everything), and submission is
 * idempotent per window, so running two schedulers or catching up twice is harmless.
 * A failed submission is reported and the next firing tried; a failure of the scheduler
 * itself (catch-up, arming a timer) stops it and rejects `done`, never leaving a rejected
 * promise or a throwing timer behind.
 */
import type { Redis } from 'ioredis';
import type { JobSpec, ScheduleSpec } from '../spec/job-spec.js';
import { joinKey, resolveUri } from '../storage/resolve.js';
import type { QueueConfig } from './connection.js';
import { cronProblem, nextFiring, partitionForFiring, recentFirings } from './schedule-math.js';
import { submitRun, type SubmitResult } from './submit-run.js';

export interface SchedulerOptions {
  /** Clock, for tests. Default `() => new Date()`. */
  now?: () => Date;
  /** Called for every submission (new or already active). */
  onSubmit?: (event: { partition: string; firing: Date; result: SubmitResult; catchUp: boolean }) => void;
  /**
   * Called for every failure: of one submission (the scheduler goes on), and of the scheduler
   * itself (catch-up or arming the next firing failed; `done` then rejects with the same error).
   */
  onError?: (err: Error) => void;
}

export interface Scheduler {
  /**
   * Submissions made by the start-up catch-up. Rejects when the catch-up itself failed (a
   * single submission failing only goes to `onError`).
   */
  readonly caughtUp: Promise<string[]>;
  /**
   * Settles when the scheduler ends: resolves after `stop()`, rejects with the error that
   * stopped it when catch-up or arming the next firing failed (nothing fires after that).
   * A long-running caller should await it next to its shutdown signal and exit on rejection.
   * Neither this nor `caughtUp` becomes an unhandled rejection when nobody awaits it: the
   * error has been passed to `onError`.
   */
  readonly done: Promise<void>;
  stop(): void;
}

/** Whether a partition's output is already published (its `_SUCCESS.json` exists). */
export async function partitionPublished(spec: JobSpec, value: string): Promise<boolean> {
  const key = spec.input.partitionKey;
  // Guessing a key (say `dt`) would look for a folder the run never writes.
  if (!key) throw new Error(`scheduler: job "${spec.name}" has no input.partitionKey, so it has no partitions to look up`);
  const out = resolveUri(spec.output.uri);
  return (await out.store.head(joinKey(out.key.replace(/\/+$/, ''), `${key}=${value}`, '_SUCCESS.json'))) !== undefined;
}

/**
 * Start scheduling `spec`.
 * @throws Error at once when the spec has no `schedule`, no `input.partitionKey`, or a cron
 *   pattern or time zone cron-parser refuses (parseJobSpec refuses those specs too)
 */
export function startScheduler(spec: JobSpec, redis: Redis, config: QueueConfig, options: SchedulerOptions = {}): Scheduler {
  const schedule: ScheduleSpec | undefined = spec.schedule;
  if (!schedule) throw new Error(`scheduler: job "${spec.name}" has no "schedule" in its spec`);
  if (!spec.input.partitionKey) {
    throw new Error(`scheduler: job "${spec.name}": schedule needs input.partitionKey (the partition each firing scores)`);
  }
  const now = options.now ?? (() => new Date());
  // Checked here too, for specs built in code: failing now beats failing inside a timer.
  const problem = cronProblem(schedule.cron, schedule.tz, now());
  if (problem !== undefined) {
    throw new Error(`scheduler: job "${spec.name}": schedule.cron ${JSON.stringify(schedule.cron)} in time zone ${JSON.stringify(schedule.tz)}: ${problem}`);
  }
  const onError = options.onError ?? (() => {});
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  // A throwing onError must not become an unhandled rejection in the timer chain.
  const report = (err: unknown): void => {
    try {
      onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // Nowhere left to report it.
    }
  };

  let endDone!: () => void;
  let failDone!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    endDone = resolve;
    failDone = reject;
  });
  done.catch(() => {}); // reported through onError; awaiting `done` is optional

  // The scheduler cannot go on: stop it, report why, reject `done`.
  const fail = (stage: string, err: unknown): void => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    const error = new Error(`scheduler: job "${spec.name}" stopped: ${stage} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    report(error);
    failDone(error);
  };

  const submit = async (firing: Date, catchUp: boolean): Promise<string | null> => {
    const partition = partitionForFiring(firing, schedule);
    if (catchUp && (await partitionPublished(spec, partition))) return null;
    const result = await submitRun(spec, redis, config, { selection: { kind: 'values', values: [partition] } });
    options.onSubmit?.({ partition, firing, result, catchUp });
    return partition;
  };

  const caughtUp = (async () => {
    const submitted: string[] = [];
    // Oldest first, so backfilled partitions land in date order.
    for (const firing of recentFirings(schedule, now(), schedule.catchUp).reverse()) {
      if (stopped) break;
      try {
        const p = await submit(firing, true);
        if (p) submitted.push(p);
      } catch (err) {
        // One partition's submission (Redis, storage): the next firing may well succeed.
        report(err);
      }
    }
    return submitted;
  })();
  caughtUp.catch(() => {}); // the failure goes to fail() below; awaiting `caughtUp` is optional

  const arm = (): void => {
    if (stopped) return;
    try {
      const at = nextFiring(schedule, now());
      // setTimeout is capped at ~24.8 days; re-arm in steps for long periods.
      const delay = Math.min(Math.max(0, at.getTime() - now().getTime()), 2 ** 31 - 1);
      timer = setTimeout(() => {
        try {
          if (now().getTime() + 5 < at.getTime()) return arm();
        } catch (err) {
          return fail('arming the next firing', err);
        }
        void submit(at, false).catch(report).finally(arm);
      }, delay);
    } catch (err) {
      fail('arming the next firing', err);
    }
  };
  void caughtUp.then(arm, (err: unknown) => fail('catch-up', err));

  return {
    caughtUp,
    done,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      endDone();
    },
  };
}
