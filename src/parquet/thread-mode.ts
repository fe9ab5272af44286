/**
 * The global flag that puts `arrow.ts` and `wasm.ts` in scoring-thread mode (see there).
 * Side-effect free: importing it changes nothing.
 */
export const SCORING_THREAD = Symbol.for('batchscore.scoring-thread');

/** Whether this thread opted in (`scoring-thread-mode.ts`). */
export function isScoringThread(): boolean {
  return (globalThis as Record<symbol, unknown>)[SCORING_THREAD] === true;
}
