/**
 * How the bench runs long-lived worker processes: their node flags, and pinning to a core.
 */
import { spawnSync } from 'node:child_process';

/**
 * Node flags of long-lived worker processes: those docker-compose.yml starts workers with
 * (V8 GC without helper threads; README "Distributed mode" says why). Used by the
 * distributed workers and the warm in-process run. BENCH_WORKER_NODE_FLAGS overrides them
 * ("" for Node's defaults). One-shot runs (`e2e-*`) use none: `batchscore run` as a user
 * types it.
 */
export const WORKER_NODE_FLAGS: readonly string[] = (process.env.BENCH_WORKER_NODE_FLAGS ?? '--single-threaded-gc').split(/\s+/).filter(Boolean);

/**
 * Pin every thread of a process, and the threads it starts later (they inherit it), to one
 * core, as a 1-CPU container would limit it. Linux `taskset`; an error if it fails.
 */
export function pinProcess(pid: number, core: number): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench: taskset could not pin worker ${pid} to core ${core}: ${r.error?.message ?? r.stderr.trim()}`);
}
