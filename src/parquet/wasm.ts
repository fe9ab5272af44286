/**
 * The parquet-wasm module this project's Parquet code uses.
 *
 * In a main thread (and any thread not in scoring-thread mode) it is the package's Node
 * build, which compiles its 5 MB WebAssembly module when imported. Scoring threads use the
 * package's web build instead, initialised with `initParquetWasm` from a WebAssembly.Module
 * compiled once and shared by every thread of the pool (score-thread.ts): one compile
 * instead of one per thread (~120 ms each when two threads start at once on 2 cores), and
 * the threads share the compiled code, so the functions one thread compiled lazily or tiered
 * up while decoding its first row groups are ready for the others.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as PW from 'parquet-wasm';
import { isScoringThread } from './thread-mode.js';
import type { WasmHost } from '../scoring/wasm-fill.js';

/** A compiled WebAssembly.Module (the project's `lib` has no WebAssembly types). */
export type WasmModule = object;

type WebBuild = typeof PW & { initSync(input: { module: WasmModule }): unknown };
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly;

const threaded = isScoringThread();
export const pw: typeof PW = threaded ? ((await import('parquet-wasm/esm')) as unknown as typeof PW) : await import('parquet-wasm');
let ready = !threaded;

/** Whether parquet-wasm can be used in this thread. */
export function parquetWasmReady(): boolean {
  return ready;
}

/** Compile the web build's WebAssembly module (to share with `initParquetWasm`). */
export async function compileParquetWasm(): Promise<WasmModule> {
  const path = createRequire(import.meta.url).resolve('parquet-wasm/esm/parquet_wasm_bg.wasm');
  return WebAssemblyApi.compile(await readFile(path));
}

/** The instance's exports this project uses besides wasm-bindgen's API (see `parquetWasmHost`). */
interface RawExports {
  memory: { buffer: ArrayBuffer };
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
}
let raw: RawExports | null = null;

/** Instantiate parquet-wasm in this scoring thread from a compiled module. Idempotent. */
export function initParquetWasm(module: WasmModule): void {
  if (ready) return;
  const exports = (pw as WebBuild).initSync({ module }) as Partial<RawExports> | undefined;
  if (exports?.memory && typeof exports.__wbindgen_malloc === 'function' && typeof exports.__wbindgen_free === 'function') raw = exports as RawExports;
  ready = true;
}

/**
 * parquet-wasm's memory and allocator, in a scoring thread (null elsewhere): where the
 * feature matrix is built next to the decoded columns (scoring/wasm-fill.ts). Memory taken
 * with `malloc` belongs to the caller until it gives it back with `free`.
 */
export function parquetWasmHost(): WasmHost | null {
  const r = raw;
  if (!r) return null;
  return { memory: r.memory, malloc: (size, align) => r.__wbindgen_malloc(size, align), free: (ptr, size, align) => r.__wbindgen_free(ptr, size, align) };
}
