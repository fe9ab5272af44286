/**
 * The script a scoring thread runs: the loader that starts the bundled thread code with V8's
 * code cache (thread-loader.cts), which falls back to score-thread.js without a bundle.
 */
export const SCORE_THREAD_SCRIPT = new URL('./thread-loader.cjs', import.meta.url);
