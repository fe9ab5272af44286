/**
 * The options of a scoring thread pool, the same for the in-process runner and the queue
 * worker: the thread script (the loader that starts the bundled thread code with V8's code
 * cache, thread-loader.cts, which falls back to score-thread.js without a bundle), and what
 * the pool does with the leftovers of a helper or a thread that died.
 */
// ONNX Runtime's telemetry off in the process environment before any scoring thread loads it.
import '../model/ort-env.js';
// The V8 tier-up setting threads read from the environment is this process's own (see there).
import '../parquet/wasm-tiering.js';
import { abandonPart, discardPart } from './file-parts.js';
import { sweepThreadSpillFiles } from './spill-files.js';
import type { ThreadPoolOptions } from './thread-pool.js';

/** Options of a pool of `size` scoring threads. */
export function scoringPoolOptions(size: number): ThreadPoolOptions {
  return {
    script: new URL('./thread-loader.cjs', import.meta.url),
    size,
    discard: discardPart,
    abandon: abandonPart,
    onCrash: (id) => void sweepThreadSpillFiles(id),
  };
}
