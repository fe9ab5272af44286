/**
 * Row-major copies of float32 feature columns by the SIMD kernel of fill-kernel.ts, inside
 * the WebAssembly memory the columns were decoded into (parquet-wasm's, in a scoring
 * thread): the model's input matrix is allocated there too, so the kernel reads the decoded
 * columns in place and writes the matrix ONNX Runtime reads, with no copy in or out.
 *
 * Views of that memory (the matrix handed out here, the columns) are valid until the memory
 * grows, which only a call into the module that owns it can do (a decode, an encode):
 * `matrix` hands out a fresh view each time, and the caller takes one per batch.
 */
import { fillKernelBytes } from './fill-kernel.js';
import type { RowCopier } from './feature-matrix.js';

/** What the copier needs of the WebAssembly instance that owns the memory. */
export interface WasmHost {
  /** The instance's memory (a `WebAssembly.Memory`). */
  readonly memory: { readonly buffer: ArrayBuffer };
  /** Allocate `size` bytes aligned to `align` in that memory (the owner's allocator). */
  malloc(size: number, align: number): number;
  /** Give back what `malloc` returned, with the same size and alignment. */
  free(ptr: number, size: number, align: number): void;
}

type FillFn = (cols: number, ncols: number, row0: number, n: number, out: number) => number;
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

let compiled: object | null | undefined;

/** The compiled kernel, or null where WebAssembly SIMD is not available. */
function kernelModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = new wasmApi.Module(fillKernelBytes());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A region of host memory, kept and grown as needed (never shrunk: the memory is not). */
class HostBuffer {
  ptr = 0;
  bytes = 0;

  constructor(private readonly host: WasmHost) {}

  /** The region's address, at least `bytes` long. */
  reserve(bytes: number): number {
    if (bytes > this.bytes) {
      const ptr = this.host.malloc(bytes, 16);
      if (ptr === 0) throw new RangeError(`wasm-fill: cannot allocate ${bytes} bytes`);
      if (this.bytes > 0) this.host.free(this.ptr, this.bytes, 16);
      this.ptr = ptr;
      this.bytes = bytes;
    }
    return this.ptr;
  }
}

/**
 * The SIMD copier over `host`'s memory, or null when the kernel cannot run here (no
 * WebAssembly SIMD): callers then copy in JavaScript.
 */
export function createWasmRowCopier(host: WasmHost): WasmRowCopier | null {
  const module = kernelModule();
  if (!module) return null;
  const instance = new wasmApi.Instance(module, { env: { memory: host.memory } });
  return new WasmRowCopier(host, instance.exports.fill as FillFn);
}

/** Columns the kernel takes at most (its table of column addresses is reserved up front). */
export const MAX_KERNEL_COLUMNS = 4096;

export class WasmRowCopier {
  private readonly matrixBuffer: HostBuffer;
  private readonly table: number;

  constructor(private readonly host: WasmHost, private readonly kernel: FillFn) {
    this.matrixBuffer = new HostBuffer(host);
    // Reserved now: an allocation may grow the memory, and `copyRows` must not detach the
    // views it was given.
    this.table = new HostBuffer(host).reserve(MAX_KERNEL_COLUMNS * 4);
  }

  /**
   * A float32 matrix of at least `n` values in host memory: the same memory on every call
   * (its contents survive), as a view valid until the host memory grows.
   */
  matrix(n: number): Float32Array {
    // Call before taking views of the columns to copy: growing this buffer may grow the
    // memory (and detach every view of it).
    const ptr = this.matrixBuffer.reserve(Math.max(n, 1) * 4);
    return new Float32Array(this.host.memory.buffer, ptr, n);
  }

  /**
   * `RowCopier`: copy `rows` rows of `cols` into `out` (row-major, `cols.length` values a
   * row) with the kernel when they all are views of host memory; else undefined.
   */
  readonly copyRows: RowCopier = (cols, rows, out) => {
    const memory = this.host.memory.buffer;
    if (cols.length > MAX_KERNEL_COLUMNS || out.buffer !== memory || out.length < rows * cols.length) return undefined;
    for (const c of cols) if (c.buffer !== memory || c.length < rows) return undefined;
    const addresses = new Int32Array(memory, this.table, cols.length);
    for (let j = 0; j < cols.length; j++) addresses[j] = cols[j]!.byteOffset;
    return this.kernel(this.table, cols.length, 0, rows, out.byteOffset) !== 0;
  };
}
