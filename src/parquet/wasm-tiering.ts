/**
 * Which parquet-wasm functions V8 optimizes in a one-shot run.
 *
 * V8 runs WebAssembly first as baseline (Liftoff) code and re-compiles functions that run a
 * lot with its optimizing compiler (TurboFan), on background threads. In a cold
 * `batchscore run` of the demo job that re-compilation took ~0.5 CPU-seconds (two async
 * state machines of the Parquet reader, 39 KB and 77 KB of code, ~150 ms each), on the same
 * two cores that score, for functions that barely matter to the run's speed. Only one
 * function pays for its optimization in a run this short: the loop with which arrow-rs
 * zero-fills each float column before decoding into it (it runs over every value, ~6% of a
 * scoring thread's time); with no optimization at all the run is slower than the default.
 *
 * V8 has one switch for that, `--wasm-tier-up-filter=<function index>` (only that function
 * is optimized). A function index belongs to one build of parquet-wasm, so the filter is set
 * only when the installed module holds exactly the known function at that index (its size
 * and the hash of its body): any other build gets V8's default. The filter covers every
 * WebAssembly module of the process: the fill kernel (scoring/fill-kernel.ts) puts its own
 * loop at the same index so that it is optimized too. Measured (demo job, 2 cores,
 * alternating runs): 0.73 → 0.66 s and 1.24 → 1.11 CPU-s cold; MLP 1.68 → 1.59 s; trees
 * and a 20M-row file unchanged or better. Long-lived workers keep the default (a warm pass
 * was ~5% slower with the filter), and so does code that uses this package as a library.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import { isMainThread } from 'node:worker_threads';

/** The zero-fill loop of parquet-wasm 0.8.0's web build: where its body lies, what it hashes to. */
const KNOWN = {
  fileBytes: 4_951_555,
  functionIndex: 3011,
  /** Offset of the body's size byte (120) in the file; the body follows it. */
  offset: 0x342b3d,
  length: 121,
  sha256: '3f9be1c3fec63a43bc90f9b06b238577b43925b5b652f6154b885e63005e23ed',
} as const;

/**
 * Environment variable telling scoring threads which function index V8 is limited to: their
 * code cache is keyed by it, and the fill kernel puts its loop at that index. Set only by
 * `limitWasmTierUpForColdRun` in this process: a value inherited from the environment (with
 * no flag behind it) is dropped when this module loads on the main thread.
 */
export const TIER_UP_FILTER_ENV = 'BATCHSCORE_WASM_TIER_UP_FILTER';
if (isMainThread) delete process.env[TIER_UP_FILTER_ENV];

/** The wasm file the scoring threads compile. */
export function parquetWasmPath(): string {
  return createRequire(import.meta.url).resolve('parquet-wasm/esm/parquet_wasm_bg.wasm');
}

/**
 * The function index to let V8 optimize in a one-shot run, if `path` is the parquet-wasm
 * build this was measured on; else null (never an error).
 */
export function coldRunTierUpFunction(path: string = parquetWasmPath()): number | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    if (fstatSync(fd).size !== KNOWN.fileBytes) return null;
    // The body's size byte, then the body: another build has something else here.
    const bytes = Buffer.alloc(KNOWN.length);
    if (readSync(fd, bytes, 0, KNOWN.length, KNOWN.offset) !== KNOWN.length) return null;
    return createHash('sha256').update(bytes).digest('hex') === KNOWN.sha256 ? KNOWN.functionIndex : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * For a one-shot process about to score (the `run` and `demo` commands): let V8 optimize
 * only parquet-wasm's zero-fill loop, before the scoring threads start. Does nothing when
 * `BATCHSCORE_WASM_TIERING=full`, or when the installed build is not the known one.
 * @returns whether the filter was set
 */
export function limitWasmTierUpForColdRun(): boolean {
  if (process.env.BATCHSCORE_WASM_TIERING === 'full') return false;
  const index = coldRunTierUpFunction();
  if (index === null) return false;
  // A V8 flag read when a function is due for optimization, process-wide: set before any
  // thread compiles parquet-wasm. It is part of the flags V8 checks code caches against, so
  // threads include it in their cache's key (thread-loader.cts) through this variable.
  v8.setFlagsFromString(`--wasm-tier-up-filter=${index}`);
  process.env[TIER_UP_FILTER_ENV] = String(index);
  return true;
}
