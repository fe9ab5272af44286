/**
 * Pure schedule arithmetic: when a cron pattern fired, and which partition each firing
 * scores. Kept apart from timers and Redis so it is testable with fixed clocks.
 */
import { createRequire } from 'node:module';
import type { CronExpressionParser } from 'cron-parser';
import type { ScheduleSpec } from '../spec/job-spec.js';

let parser: typeof CronExpressionParser | undefined;

/**
 * cron-parser, loaded on first use: with luxon it takes ~20 ms to load, and the spec parser
 * imports this module, so every `run` of an unscheduled job would pay for it. It is CommonJS,
 * so `require` loads it synchronously.
 */
function cronParser(): typeof CronExpressionParser {
  parser ??= (createRequire(import.meta.url)('cron-parser') as typeof import('cron-parser')).CronExpressionParser;
  return parser;
}

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function dateIn(instant: Date, tz: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

/** Add days to a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The partition a firing at `fireTime` scores: its local date plus `offsetDays`. */
export function partitionForFiring(fireTime: Date, schedule: ScheduleSpec): string {
  return addDays(dateIn(fireTime, schedule.tz), schedule.offsetDays);
}

/**
 * Why `cron` cannot be scheduled in `tz`, or undefined when it can: cron-parser's own reason,
 * from the same parse the scheduler does. Shared by spec validation and `startScheduler` so a
 * pattern that passes one is accepted by the other.
 */
export function cronProblem(cron: string, tz: string, now: Date = new Date()): string | undefined {
  // cron-parser reports an unknown zone only as "CronDate: unhandled timestamp".
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    return `unknown time zone ${JSON.stringify(tz)}`;
  }
  let expression: ReturnType<typeof CronExpressionParser.parse>;
  try {
    expression = cronParser().parse(cron, { currentDate: now, tz });
  } catch (err) {
    return (err as Error).message;
  }
  try {
    // parse() accepts some patterns that can never fire ("0 0 31 2,4 *", Feb/Apr 31st);
    // next() is what finds them, and the scheduler calls it on every arming.
    expression.next();
  } catch (err) {
    return `never fires (${(err as Error).message})`;
  }
  return undefined;
}

/** The next firing strictly after `after`. */
export function nextFiring(schedule: ScheduleSpec, after: Date): Date {
  return cronParser().parse(schedule.cron, { currentDate: after, tz: schedule.tz }).next().toDate();
}

/**
 * The last `count` firings at or before `now`, newest first: exactly those `nextFiring` fires.
 * cron-parser's prev() disagrees with its next() around DST changes (when clocks go back it
 * yields a repeated wall-clock time twice, when they go forward it skips the night whose time
 * does not exist, which next() fires an hour later), so prev() only finds where to start, and
 * the firings are walked forward with next().
 */
export function recentFirings(schedule: ScheduleSpec, now: Date, count: number): Date[] {
  if (count <= 0) return [];
  // cron-parser's prev() is strictly before currentDate; step 1 ms past now to include it.
  const back = cronParser().parse(schedule.cron, { currentDate: new Date(now.getTime() + 1), tz: schedule.tz });
  let start = now;
  // Two more than asked: a skipped night and a repeated hour cannot leave fewer than `count`.
  for (let i = 0; i < count + 2; i++) start = back.prev().toDate();
  const forward = cronParser().parse(schedule.cron, { currentDate: new Date(start.getTime() - 1), tz: schedule.tz });
  const out: Date[] = [];
  for (let firing = forward.next().toDate(); firing.getTime() <= now.getTime(); firing = forward.next().toDate()) out.push(firing);
  return out.slice(-count).reverse();
}
