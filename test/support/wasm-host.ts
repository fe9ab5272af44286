/**
 * A stand-in for parquet-wasm's memory and allocator in tests of scoring/wasm-fill.ts: a
 * WebAssembly.Memory with a bump allocator that grows the memory when it runs out (as a
 * real allocator does, detaching every view).
 */
import type { WasmHost } from '../../src/scoring/wasm-fill.js';

interface MemoryLike {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => MemoryLike } }).WebAssembly;

export interface TestHost extends WasmHost {
  readonly memory: MemoryLike;
  /**
   * Copy `values` into the memory; the copy's address. (Take views after the last
   * allocation: one that grows the memory detaches every view of it.)
   */
  place(values: Float32Array): number;
  /** A view of `length` float32 values at `ptr`. */
  view(ptr: number, length: number): Float32Array;
  /** Bytes freed so far (for leak checks). */
  readonly freed: number;
}

export function testHost(pages = 16): TestHost {
  const memory = new WebAssemblyApi.Memory({ initial: pages });
  let top = 4096;
  let freed = 0;
  const host: TestHost = {
    memory,
    malloc(size, align) {
      top = Math.ceil(top / align) * align;
      const ptr = top;
      top += size;
      const short = top - memory.buffer.byteLength;
      if (short > 0) memory.grow(Math.ceil(short / 65536));
      return ptr;
    },
    free(_ptr, size) {
      freed += size;
    },
    place(values) {
      // Deliberately not 16-byte aligned: the kernel must not assume it.
      const ptr = host.malloc(values.byteLength + 4, 4) + 4;
      new Float32Array(memory.buffer, ptr, values.length).set(values);
      return ptr;
    },
    view(ptr, length) {
      return new Float32Array(memory.buffer, ptr, length);
    },
    get freed() {
      return freed;
    },
  };
  return host;
}
