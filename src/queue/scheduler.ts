/**
 * The scheduler: submits the run for the partition each cron firing names, and on start
 * catches up firings it missed while down. The durable record of "done" is the partition's
 * `_SUCCESS.json` in object storage (Redis may have lost everything), and submission is
 * idempotent per window, so running two schedulers or catching up twice is harmless.
 */
import type { Redis } from 'ioredis';
import type { JobSpec, ScheduleSpec } from '../spec/job-spec.js';
import { joinKey, resolveUri } from '../storage/resolve.js';
import type { QueueConfig } from './connection.js';
import { nextFiring, partitionForFiring, recentFirings } from './schedule-math.js';
import { submitRun, type SubmitResult } from './submit-run.js';

export interface SchedulerOptions {
  /** Clock, for tests. Default `() => new Date()`. */
  now?: () => Date;
  /** Called for every submission (new or already active). */
  onSubmit?: (event: { partition: string; firing: Date; result: SubmitResult; catchUp: boolean }) => void;
  onError?: (err: Error) => void;
}

export interface Scheduler {
  /** Submissions made by the start-up catch-up. */
  readonly caughtUp: Promise<string[]>;
  stop(): void;
}

/** Whether a partition's output is already published (its `_SUCCESS.json` exists). */
export async function partitionPublished(spec: JobSpec, value: string): Promise<boolean> {
  const out = resolveUri(spec.output.uri);
  const key = joinKey(out.key.replace(/\/+$/, ''), `${spec.input.partitionKey ?? 'dt'}=${value}`, '_SUCCESS.json');
  return (await out.store.head(key)) !== undefined;
}

/** Start scheduling `spec` (which must have a `schedule`). */
export function startScheduler(spec: JobSpec, redis: Redis, config: QueueConfig, options: SchedulerOptions = {}): Scheduler {
  const schedule: ScheduleSpec | undefined = spec.schedule;
  if (!schedule) throw new Error(`scheduler: job "${spec.name}" has no "schedule" in its spec`);
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? (() => {});
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const submit = async (firing: Date, catchUp: boolean): Promise<string | null> => {
    const partition = partitionForFiring(firing, schedule);
    if (catchUp && (await partitionPublished(spec, partition))) return null;
    const result = await submitRun(spec, redis, config, { selection: { kind: 'values', values: [partition] } });
    options.onSubmit?.({ partition, firing, result, catchUp });
    return partition;
  };

  const caughtUp = (async () => {
    const done: string[] = [];
    // Oldest first, so backfilled partitions land in date order.
    for (const firing of recentFirings(schedule, now(), schedule.catchUp).reverse()) {
      try {
        const p = await submit(firing, true);
        if (p) done.push(p);
      } catch (err) {
        onError(err as Error);
      }
    }
    return done;
  })();

  const arm = () => {
    if (stopped) return;
    const at = nextFiring(schedule, now());
    // setTimeout is capped at ~24.8 days; re-arm in steps for long periods.
    const delay = Math.min(Math.max(0, at.getTime() - now().getTime()), 2 ** 31 - 1);
    timer = setTimeout(() => {
      if (now().getTime() + 5 < at.getTime()) return arm();
      submit(at, false).catch((err: Error) => onError(err)).finally(arm);
    }, delay);
  };
  void caughtUp.then(arm);

  return {
    caughtUp,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
