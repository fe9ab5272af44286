/**
 * The nominal time of a run: the data window it scores, not when it ran. A partition value
 * that is a date (`2026-11-01`), an hour (`2026-11-01T03`, `2026-11-01 03`, `2026-11-01-03`)
 * or a month (`2026-11`) names a window [start, end); a run's window spans its partitions'.
 * Other values (`region=eu`) have no time, and the facet is left out. Pure.
 *
 * Windows are read in the job's time zone (the schedule's `tz`, default UTC): a nightly job
 * in Europe/Paris scoring `dt=2026-11-01` covers Paris midnight to midnight.
 */

/** A half-open time window as ISO-8601 UTC strings. */
export interface TimeWindow {
  start: string;
  end: string;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HOUR_RE = /^(\d{4})-(\d{2})-(\d{2})[T -](\d{2})$/;
const MONTH_RE = /^(\d{4})-(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of `timeZone` from UTC at instant `t`, in ms (positive east of Greenwich). */
function zoneOffset(t: number, timeZone: string): number {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, fmt);
  }
  const parts = Object.fromEntries(fmt.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(t / 1000) * 1000;
}

/**
 * The instant when the wall clock in `timeZone` shows this local time. Two passes: the
 * offset at the first guess can differ from the offset at the answer across a DST change.
 */
function zonedInstant(year: number, month: number, day: number, hour: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour);
  if (timeZone === 'UTC') return wall;
  const first = wall - zoneOffset(wall, timeZone);
  return wall - zoneOffset(first, timeZone);
}

function valid(year: number, month: number, day: number, hour = 0): boolean {
  const d = new Date(Date.UTC(year, month - 1, day, hour));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day && d.getUTCHours() === hour;
}

/** The window a partition value names, or undefined when it is not a date, hour or month. */
export function partitionWindow(value: string | null, timeZone = 'UTC'): TimeWindow | undefined {
  if (value === null) return undefined;
  let m = DATE_RE.exec(value);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (!valid(y, mo, d)) return undefined;
    return window(zonedInstant(y, mo, d, 0, timeZone), zonedInstant(y, mo, d + 1, 0, timeZone));
  }
  m = HOUR_RE.exec(value);
  if (m) {
    const [y, mo, d, h] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    if (!valid(y, mo, d, h)) return undefined;
    return window(zonedInstant(y, mo, d, h, timeZone), zonedInstant(y, mo, d, h + 1, timeZone));
  }
  m = MONTH_RE.exec(value);
  if (m) {
    const [y, mo] = [Number(m[1]), Number(m[2])];
    if (!valid(y, mo, 1)) return undefined;
    return window(zonedInstant(y, mo, 1, 0, timeZone), zonedInstant(y, mo + 1, 1, 0, timeZone));
  }
  return undefined;
}

function window(start: number, end: number): TimeWindow {
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}

/** Which partitions a run covers (`run/plan.ts`'s `PartitionSelection`). */
export type SelectionLike =
  | { readonly kind: 'all' }
  | { readonly kind: 'range'; readonly from: string; readonly to: string }
  | { readonly kind: 'values'; readonly values: readonly string[] };

/**
 * The window of a whole run: from the earliest partition start to the latest partition end,
 * when every partition has a window. Without partitions (a run that failed before listing),
 * the selection's own dates are used.
 */
export function runWindow(
  partitions: readonly { value: string | null }[],
  selection: SelectionLike,
  timeZone = 'UTC',
): TimeWindow | undefined {
  const values = partitions.length > 0
    ? partitions.map((p) => p.value)
    : selection.kind === 'range' ? [selection.from, selection.to] : selection.kind === 'values' ? [...selection.values] : [];
  if (values.length === 0) return undefined;
  const windows = values.map((v) => partitionWindow(v, timeZone));
  if (windows.some((w) => w === undefined)) return undefined;
  const defined = windows as TimeWindow[];
  // ISO-8601 UTC strings of equal length compare in time order.
  return {
    start: defined.map((w) => w.start).reduce((a, b) => (b < a ? b : a)),
    end: defined.map((w) => w.end).reduce((a, b) => (b > a ? b : a)),
  };
}
