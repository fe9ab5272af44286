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

const compiled = new Map<number, object | null>();

/**
 * The compiled kernel, or null where WebAssembly SIMD is not available. `coreIndex`: see
 * `fillKernelBytes` (the one function index V8 may optimize in this process, if limited).
 */
function kernelModule(coreIndex: number): object | null {
  let module = compiled.get(coreIndex);
  if (module === undefined) {
    try {
      module = new wasmApi.Module(fillKernelBytes(coreIndex));
    } catch {
      module = null;
    }
    compiled.set(coreIndex, module);
  }
  return module;
}

/** The index V8's optimization is limited to in this process (parquet/wasm-tiering.ts), else 0. */
function limitedTierUpIndex(): number {
  const v = Number(process.env.BATCHSCORE_WASM_TIER_UP_FILTER);
  return Number.isInteger(v) && v > 0 && v <= 100_000 ? v : 0;
}

/** Largest matrix built in host memory; a bigger one (huge batches) stays in JavaScript. */
export const MAX_KERNEL_MATRIX_BYTES = 64 << 20;
/**
 * Host memory past which no new matrix goes there: wasm32 memory ends at 4 GiB, it never
 * shrinks, and the decoder needs it more (an allocation that fails there traps).
 */
export const MAX_HOST_BYTES_FOR_MATRIX = 1 << 30;

/** A region of host memory, kept and grown as needed (never shrunk: the memory is not). */
class HostBuffer {
  ptr = 0;
  bytes = 0;

  constructor(private readonly host: WasmHost) {}

  /** The region's address, at least `bytes` long. */
  reserve(bytes: number): number {
    if (bytes > this.bytes) {
      // wasm32 addresses are unsigned; the export returns them as signed i32.
      const ptr = this.host.malloc(bytes, 16) >>> 0;
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
  const module = kernelModule(limitedTierUpIndex());
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
   * (its contents survive), as a view valid until the host memory grows; null when a new one
   * would be too big for that memory (the caller then uses a JavaScript array).
   */
  matrix(n: number): Float32Array | null {
    // Call before taking views of the columns to copy: growing this buffer may grow the
    // memory (and detach every view of it).
    const bytes = Math.max(n, 1) * 4;
    if (bytes > this.matrixBuffer.bytes && (bytes > MAX_KERNEL_MATRIX_BYTES || this.host.memory.buffer.byteLength + bytes > MAX_HOST_BYTES_FOR_MATRIX)) return null;
    const ptr = this.matrixBuffer.reserve(bytes);
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
