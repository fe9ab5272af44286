/**
 * Import this first (before anything that imports `./arrow.js` or `./wasm.js`) in a scoring
 * thread: apache-arrow then loads as its single-file bundle (arrow.ts) and parquet-wasm
 * waits for a compiled module shared by the pool's threads (wasm.ts).
 */
import { SCORING_THREAD } from './thread-mode.js';

(globalThis as Record<symbol, unknown>)[SCORING_THREAD] = true;
