/**
 * The scoring threads of an in-process run: which script they run, how many there are by
 * default, and starting them early.
 *
 * Why start early: a scoring thread spends ~100 ms (more when two start at once on 2 cores)
 * loading ONNX Runtime, Arrow and parquet-wasm before it can score. The `run` command knows
 * it will need them as soon as its arguments parse, well before the main thread has loaded
 * the planner, planned the run and created its pool; threads started then load in parallel
 * with all of that, and the pool takes them (see `prestartThreads`).
 */
import os from 'node:os';
import { prestartThreads } from './thread-pool.js';

/** The module every scoring thread runs. */
export const SCORE_THREAD_SCRIPT = new URL('./score-thread.js', import.meta.url);

/** The default number of scoring threads: the cores, at most 8. */
export function defaultThreads(): number {
  return Math.min(8, os.availableParallelism());
}

/** Start `threads` scoring threads now for the run's pool to take when it starts. */
export function prestartScoringThreads(threads: number = defaultThreads()): void {
  prestartThreads({ script: SCORE_THREAD_SCRIPT }, threads);
}
