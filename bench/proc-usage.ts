/**
 * What the distributed bench reads from /proc about the processes it runs beside (Linux;
 * null or empty elsewhere, or once a process is gone): CPU time per process and per thread,
 * peak RSS, and the pids of s3rver and Redis.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** User + system CPU of a process (all threads), ms; `statPath` for one thread's own. */
export function procCpuMs(pid: number | null, statPath = `/proc/${pid}/stat`): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15, in USER_HZ (100) ticks.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** CPU ms of every thread of a process, by thread id (empty if unknown). */
export function threadCpuMs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const ms = procCpuMs(pid, `/proc/${pid}/task/${tid}/stat`);
      if (ms !== null) out.set(Number(tid), ms);
    }
  } catch {
    // gone, or no /proc
  }
  return out;
}

/**
 * Where a worker process's CPU went, between two thread snapshots: its main thread (BullMQ,
 * plan loading), its busiest other thread (the scoring thread with concurrency 1), and all
 * the rest (V8's GC and compiler helper threads, libuv's pool). Node names every thread
 * "node", so the busiest one stands for the scoring thread.
 */
export interface ThreadSplit {
  mainMs: number;
  busiestMs: number;
  restMs: number;
}

export function threadSplit(pid: number, a: Map<number, number>, b: Map<number, number>): ThreadSplit {
  let mainMs = 0;
  const others: number[] = [];
  for (const [tid, ms] of b) {
    const d = ms - (a.get(tid) ?? 0);
    if (tid === pid) mainMs = d;
    else others.push(d);
  }
  const busiestMs = others.length ? Math.max(...others) : 0;
  return { mainMs, busiestMs, restMs: others.reduce((x, y) => x + y, 0) - busiestMs };
}

/** Peak resident set size of a process (VmHWM), KiB. */
export function procPeakRssKB(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The s3rver child of this process (test/support/s3rver.ts does not expose its pid). */
export function findS3rverPid(): number | null {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== process.pid) continue;
        if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('s3rver')) return Number(entry);
      } catch {
        // the process went away meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return null;
}

/** Redis's own pid (INFO server), if it runs on this machine. */
export async function findRedisPid(redis: Redis): Promise<number | null> {
  try {
    const m = /^process_id:(\d+)/m.exec(await redis.info('server'));
    const pid = m ? Number(m[1]) : null;
    return pid !== null && procCpuMs(pid) !== null ? pid : null;
  } catch {
    return null;
  }
}

