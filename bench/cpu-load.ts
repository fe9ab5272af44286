/**
 * How busy the machine was with other work while a child ran: total busy CPU time from
 * /proc/stat over the run, minus the child's own CPU time, divided by wall time = the
 * average number of cores other processes kept busy. Shared machines are noisy; a figure
 * taken while something else used a core is not comparable, so the report flags it.
 * Linux only; elsewhere `busyCpuMs()` returns null.
 */
import { readFileSync } from 'node:fs';

/** Cumulative busy CPU time of all cores, ms (user, nice, system, irq, softirq, steal). */
export function busyCpuMs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    // USER_HZ is 100 on every Linux architecture Node runs on.
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10;
  } catch {
    return null;
  }
}

/** Cores kept busy by other processes on average, or null if unknown. */
export function backgroundCores(busyBefore: number | null, busyAfter: number | null, ownCpuMs: number | null, wallMs: number): number | null {
  if (busyBefore === null || busyAfter === null || ownCpuMs === null || wallMs <= 0) return null;
  return Math.max(0, (busyAfter - busyBefore - ownCpuMs) / wallMs);
}

/** Above this many cores of other work on average, a sample is flagged as noisy. */
export const NOISY_CORES = 0.25;

/**
 * Wait until the machine looks quiet (busy cores over the last second ≤ NOISY_CORES), for
 * at most `maxSeconds`. Returns the busy cores of the last second measured (null if
 * unknown). The driver itself is idle meanwhile, so all measured load is someone else's.
 */
export async function waitQuiet(maxSeconds: number): Promise<number | null> {
  const deadline = performance.now() + maxSeconds * 1000;
  for (;;) {
    const before = busyCpuMs();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const cores = backgroundCores(before, busyCpuMs(), 0, performance.now() - t0);
    if (cores === null || cores <= NOISY_CORES || performance.now() >= deadline) return cores;
  }
}
