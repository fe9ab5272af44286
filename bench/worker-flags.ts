/**
 * Node flags of long-lived worker processes in the bench: those docker-compose.yml starts
 * workers with (V8 GC without helper threads; README "Distributed mode" says why).
 * Used by the distributed workers and the warm in-process run. BENCH_WORKER_NODE_FLAGS
 * overrides them ("" for Node's defaults). One-shot runs (`e2e-*`) use none: `batchscore
 * run` as a user types it.
 */
export const WORKER_NODE_FLAGS: readonly string[] = (process.env.BENCH_WORKER_NODE_FLAGS ?? '--single-threaded-gc').split(/\s+/).filter(Boolean);
