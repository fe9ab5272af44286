/**
 * Reusable buffers for positioned file reads.
 *
 * parquet-wasm asks for every byte range it decodes as a fresh `ArrayBuffer` and copies it
 * into WASM memory at once. A scoring thread reads ~34 MB per file of the demo workload that
 * way, and each fresh buffer is external memory that V8 counts towards its next full GC: a
 * warm pass of 8 files ran ~16 mark-compacts (with concurrent marking threads competing for
 * the same two cores), and the new pages are faulted in again for every file.
 *
 * A pool lends resizable ArrayBuffers (resized to the exact length asked for, as the Blob
 * contract requires) for reads made under a lease, and takes them back when the last open
 * lease ends: the caller opens a lease around one decode call, after which the decoder no
 * longer refers to the bytes it was given. A blob (range-blob.ts) counts its own leases, so
 * only its reads under one of them are pooled; every other read gets a plain new buffer, and
 * code that keeps what it read (a footer check, another reader) is never handed bytes that
 * a later read overwrites.
 */

/** A free buffer serves a read when their sizes differ by at most 1/CLOSE_SIZE of the larger. */
const CLOSE_SIZE = 8;

/** Options of `ReadBuffers`. */
export interface ReadBuffersOptions {
  /**
   * Largest read served from the pool, in bytes; larger reads get a plain buffer. Each pooled
   * buffer reserves this much address space (not memory). Default 256 MiB.
   */
  maxReadBytes?: number;
  /** Buffers kept between leases. Default 8. */
  maxBuffers?: number;
  /**
   * Bytes kept between leases, all buffers together: a file with huge column chunks must not
   * leave a long-lived thread holding them. Buffers past it are dropped. Default 64 MiB.
   */
  maxPooledBytes?: number;
}

/** A pool of read buffers for one thread. Not for use across threads. */
export class ReadBuffers {
  readonly maxReadBytes: number;
  readonly maxBuffers: number;
  readonly maxPooledBytes: number;
  private readonly free: ArrayBuffer[] = [];
  private readonly lent: ArrayBuffer[] = [];
  private leases = 0;

  constructor(options: ReadBuffersOptions = {}) {
    this.maxReadBytes = options.maxReadBytes ?? 256 << 20;
    this.maxBuffers = options.maxBuffers ?? 8;
    this.maxPooledBytes = options.maxPooledBytes ?? 64 << 20;
    if (!Number.isSafeInteger(this.maxReadBytes) || this.maxReadBytes < 0) {
      throw new TypeError(`read-buffers: maxReadBytes must be a non-negative integer, got ${options.maxReadBytes}`);
    }
    if (!Number.isSafeInteger(this.maxBuffers) || this.maxBuffers < 0) {
      throw new TypeError(`read-buffers: maxBuffers must be a non-negative integer, got ${options.maxBuffers}`);
    }
    if (!Number.isSafeInteger(this.maxPooledBytes) || this.maxPooledBytes < 0) {
      throw new TypeError(`read-buffers: maxPooledBytes must be a non-negative integer, got ${options.maxPooledBytes}`);
    }
  }

  /**
   * Open a lease; call the returned function (once) when the bytes read during it are no
   * longer referenced. Buffers return to the pool when no lease is open.
   */
  lease(): () => void {
    this.leases++;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      if (--this.leases === 0) this.reclaim();
    };
  }

  /**
   * An ArrayBuffer of exactly `size` bytes (contents unspecified: the caller overwrites it),
   * for a read made under a lease its caller holds (see `RangeBlob.lease`): the buffer is
   * lent until every lease has ended. With no lease open, a plain new buffer.
   */
  take(size: number): ArrayBuffer {
    if (this.leases === 0 || size === 0 || size > this.maxReadBytes) return new ArrayBuffer(size);
    // The buffer closest in size. Resizing costs what the size changes by: V8 zeroes what a
    // shrink cuts off and gives those pages back, and a grow faults them in again (~2 ms for
    // a 0.5 ↔ 5.8 MB round trip here; parquet-wasm's reads of one file alternate between
    // such sizes). So a read far from every free buffer's size gets a buffer of its own
    // while the pool has room: a few buffers, one per size the files are read in.
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (best < 0 || Math.abs(b.byteLength - size) < Math.abs(this.free[best]!.byteLength - size)) best = i;
    }
    const room = this.lent.length + this.free.length < this.maxBuffers;
    const close = best >= 0 && Math.abs(this.free[best]!.byteLength - size) * CLOSE_SIZE <= Math.max(size, this.free[best]!.byteLength);
    let buffer: ArrayBuffer;
    if (best >= 0 && (close || !room)) {
      buffer = this.free.splice(best, 1)[0]!;
      (buffer as ResizableArrayBuffer).resize(size);
    } else if (room) {
      buffer = new (ArrayBuffer as unknown as ResizableArrayBufferConstructor)(size, { maxByteLength: this.maxReadBytes });
    } else {
      return new ArrayBuffer(size);
    }
    this.lent.push(buffer);
    return buffer;
  }

  /** Buffers held between leases (for tests and metrics). */
  get pooled(): number {
    return this.free.length;
  }

  /** Bytes held between leases (for tests and metrics). */
  get pooledBytes(): number {
    return this.free.reduce((n, b) => n + b.byteLength, 0);
  }

  private reclaim(): void {
    let bytes = this.pooledBytes;
    // Smallest first: many reads of the usual size are worth more than one outsized one.
    for (const b of this.lent.splice(0).sort((x, y) => x.byteLength - y.byteLength)) {
      if (this.free.length >= this.maxBuffers || bytes + b.byteLength > this.maxPooledBytes) continue;
      this.free.push(b);
      bytes += b.byteLength;
    }
  }
}

// Resizable ArrayBuffers (ES2024) are in Node 20's V8 but not in this project's `lib`.
interface ResizableArrayBuffer extends ArrayBuffer {
  resize(size: number): void;
}
type ResizableArrayBufferConstructor = new (size: number, options: { maxByteLength: number }) => ResizableArrayBuffer;
