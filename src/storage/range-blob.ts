/**
 * A Blob-like view of one stored object that reads byte ranges on demand, for parquet-wasm's
 * `ParquetFile.fromFile(blob)`. Reading one column of one row group then fetches only the
 * footer (from a remote store: with the object's last 64 KiB in one request, see `tailBytes`)
 * and that column chunk, never the whole object.
 *
 * parquet-wasm 0.8 (measured by wrapping a real Blob in a Proxy) touches exactly three
 * things: `blob.size` once, `blob.slice(start, end)` with absolute, in-bounds offsets, and
 * `arrayBuffer()` on the slice. Nothing else (`type`, `stream()`, `text()`) is called, so
 * nothing else is implemented.
 *
 * Failed reads: parquet-wasm 0.8 cannot take a rejected `arrayBuffer()` promise. It traps
 * (`RuntimeError: unreachable`, thrown as an uncaught exception; the read promise never
 * settles), even while reading the footer. It does fail cleanly on a *short* buffer while
 * reading the footer (not while decoding pages: that traps too, as corrupt pages do with any
 * Blob). So every failure is recorded in `failure` (and `onError`), and the option
 * `onReadError: 'empty'` makes `arrayBuffer()` resolve to an empty buffer instead of
 * rejecting: use it when the blob goes straight to `fromFile`, then throw `blob.failure`
 * when `fromFile` rejects. The default stays Blob-honest (reject), which is what code that
 * reads bytes itself (e.g. a magic-number check) wants. Decode in a worker thread if one bad
 * object must not take the process down; transient errors are already retried by the stores.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { FileStore } from './file-store.js';
import { NotFoundError, type ObjectStore } from './object-store.js';
import { RangeCache } from './range-cache.js';
import type { ReadBuffers } from './read-buffers.js';

/**
 * Fewer bytes than asked for: the object is shorter than the size it was planned with
 * (truncated or replaced). Retrying reads the same object again: a permanent error.
 */
export class ShortReadError extends Error {
  constructor(uri: string, detail: string) {
    super(`storage: short read from ${uri}: ${detail}`);
    this.name = 'ShortReadError';
  }
}

/** The subset of `Blob` that parquet-wasm uses. Cast with `as unknown as Blob` to pass it. */
export interface RangeBlob {
  /** Bytes in this view. */
  readonly size: number;
  /** A view of bytes `[start, end)` of this view; Blob semantics (negative = from the end, clamped). */
  slice(start?: number, end?: number): RangeBlob;
  /**
   * Read this view's bytes: one range request (or one positioned file read). On failure it
   * sets `failure`, then rejects, or resolves empty with `onReadError: 'empty'`.
   */
  arrayBuffer(): Promise<ArrayBuffer>;
  /** The first read error of this blob or any of its slices, if one happened. */
  readonly failure: Error | undefined;
  /**
   * Open a lease on the buffers `arrayBuffer()` returns (see `ReadBuffers`): call the result
   * when the bytes read since are no longer referenced, e.g. once a decode call settled.
   */
  lease(): () => void;
  /**
   * Start reading these absolute object ranges now, concurrently; a later `arrayBuffer()`
   * of a slice inside one of them is served from it instead of making a request. Only over
   * remote stores (`rangeBlob`); absent on local files, whose reads cost no round trip.
   * Ranges go once every byte was served, or at `dropPrefetched()`.
   */
  prefetch?(ranges: readonly (readonly [number, number])[]): void;
  /** Forget what `prefetch` read that was not asked for (in flight or done). */
  dropPrefetched?(): void;
}

/** A `RangeBlob` holding a resource (an open file) until closed. */
export interface ClosableRangeBlob extends RangeBlob {
  /** Release the file descriptor, if any. Reads after close fail. */
  close(): Promise<void>;
}

/** Options of `rangeBlob` / `openRangeBlob`. */
export interface RangeBlobOptions {
  /** Called before every read with the absolute object range `[start, end)`; for metrics/tests. */
  onRead?: (start: number, end: number) => void;
  /** Called with every read error (the first is also kept in `failure`). */
  onError?: (err: Error) => void;
  /**
   * What `arrayBuffer()` does after a failed read: `reject` (default, like a Blob), or
   * resolve to an empty ArrayBuffer (`empty`), which parquet-wasm turns into a clean
   * rejection of `fromFile` instead of a trap.
   */
  onReadError?: 'reject' | 'empty';
  /**
   * Buffers to read into, reused between leases (`openRangeBlob` on a local file only).
   * Default: a new buffer for every read.
   */
  buffers?: ReadBuffers;
  /**
   * Remote objects (`rangeBlob`): the first read that lies in the object's last `tailBytes`
   * fetches that whole tail in one request, and later reads inside it are served from it.
   * Opening a Parquet file reads the magic, the footer length, the footer and the page
   * index one after another, all near the end: four round trips to an object store (each
   * ~20-50 ms on S3) become one. A footer larger than this is read with ranges, as without.
   * 0 turns it off. Default: 64 KiB (arrow-rs and DuckDB prefetch footers the same way).
   */
  tailBytes?: number;
}

/** Default `tailBytes`: a typical footer and page index fit; small objects come whole. */
export const DEFAULT_TAIL_BYTES = 64 << 10;

type ReadRange = (start: number, end: number) => Promise<ArrayBuffer>;

/** What every view of one blob shares: how to read, and the first failure. */
interface Source {
  read: ReadRange;
  failure: Error | undefined;
  options: RangeBlobOptions;
  /** Open leases of this blob: only its reads under one of them use pooled buffers. */
  leases: number;
  /** Remote objects: ranges read ahead (the tail, prefetched chunks); none for local files. */
  cache?: RangeCache;
  /** Where the object's tail (see `tailBytes`) begins; undefined: no tail read. */
  tailStart?: number;
  /** The object's size. */
  objectSize: number;
}

/**
 * A Blob-like over `store`/`key` whose object is `size` bytes long. Every `arrayBuffer()`
 * is one `store.getRange`. The caller vouches for `size` (from `head` or `list`): a wrong
 * size makes parquet-wasm look for the footer in the wrong place.
 */
export function rangeBlob(store: ObjectStore, key: string, size: number, options: RangeBlobOptions = {}): RangeBlob {
  checkSize(store, key, size);
  const uri = store.uri(key);
  const read: ReadRange = async (start, end) => {
    options.onRead?.(start, end);
    const bytes = await store.getRange(key, start, end);
    return exactBuffer(bytes, end - start, uri);
  };
  const tailBytes = options.tailBytes ?? DEFAULT_TAIL_BYTES;
  if (!Number.isSafeInteger(tailBytes) || tailBytes < 0) {
    throw new TypeError(`storage: option tailBytes must be a non-negative integer, got ${tailBytes}`);
  }
  const tailStart = tailBytes > 0 ? Math.max(0, size - tailBytes) : undefined;
  return view({ read, failure: undefined, options, leases: 0, cache: new RangeCache(read), tailStart, objectSize: size }, 0, size);
}

/**
 * Read `[start, end)`: from what was read ahead when a held range contains it (reading the
 * object's tail first when the range lies in it), else with one request.
 */
function readRange(source: Source, start: number, end: number): Promise<ArrayBuffer> {
  const cache = source.cache;
  if (!cache) return source.read(start, end);
  if (source.tailStart !== undefined && start >= source.tailStart) cache.fetch(source.tailStart, source.objectSize, true);
  return cache.take(start, end) ?? source.read(start, end);
}

/**
 * Like `rangeBlob`, but looks up the size when not given (throwing `NotFoundError` if the
 * object is missing) and, for a `FileStore`, keeps the file open and serves each slice with
 * one synchronous positioned read straight into the returned buffer: no per-slice open,
 * no intermediate copy. Always `close()` it when done.
 */
export async function openRangeBlob(
  store: ObjectStore,
  key: string,
  options: RangeBlobOptions & { size?: number } = {},
): Promise<ClosableRangeBlob> {
  let size = options.size;
  if (size === undefined) {
    const info = await store.head(key);
    if (!info) throw new NotFoundError(store.uri(key));
    size = info.size;
  }
  if (!(store instanceof FileStore)) {
    return Object.assign(rangeBlob(store, key, size, options), { close: async () => {} });
  }
  checkSize(store, key, size);
  const uri = store.uri(key);
  let fd: number | undefined;
  try {
    fd = openSync(key, 'r');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new NotFoundError(uri);
    throw new Error(`storage: cannot open ${uri}: ${(err as Error).message}`, { cause: err });
  }
  const source: Source = { read: () => Promise.reject(new Error('unreachable')), failure: undefined, options, leases: 0, objectSize: size };
  source.read = async (start, end) => {
    if (fd === undefined) throw new Error(`storage: read from ${uri} after close`);
    options.onRead?.(start, end);
    // Pooled only under a lease of this blob: another reader's lease says nothing of when
    // this read's bytes are done with.
    const buffer = options.buffers && source.leases > 0 ? options.buffers.take(end - start) : new ArrayBuffer(end - start);
    const target = new Uint8Array(buffer);
    let filled = 0;
    while (filled < target.length) {
      const n = readSync(fd, target, filled, target.length - filled, start + filled);
      if (n === 0) break;
      filled += n;
    }
    return exactBuffer(target.subarray(0, filled), end - start, uri);
  };
  const blob = view(source, 0, size);
  return Object.assign(blob, {
    close: async () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  });
}

/** The Blob-like view of absolute object bytes `[offset, offset + size)`. */
function view(source: Source, offset: number, size: number): RangeBlob {
  const blob: RangeBlob = {
    size,
    get failure() {
      return source.failure;
    },
    slice(start = 0, end = size) {
      const from = clamp(start, size);
      const to = Math.max(clamp(end, size), from);
      return view(source, offset + from, to - from);
    },
    lease() {
      const end = source.options.buffers?.lease();
      if (!end) return () => {};
      source.leases++;
      let open = true;
      return () => {
        if (!open) return;
        open = false;
        source.leases--;
        end();
      };
    },
    async arrayBuffer() {
      if (size === 0) return new ArrayBuffer(0);
      try {
        return await readRange(source, offset, offset + size);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        source.failure ??= error;
        source.options.onError?.(error);
        if (source.options.onReadError === 'empty') return new ArrayBuffer(0);
        throw error;
      }
    },
  };
  const cache = source.cache;
  if (!cache) return blob;
  blob.prefetch = (ranges) => {
    for (const [start, end] of ranges) {
      if (Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end <= source.objectSize) cache.fetch(start, end);
    }
  };
  blob.dropPrefetched = () => cache.drop();
  return blob;
}

/** Blob.slice index rules: negative counts from the end; result within `[0, size]`. */
function clamp(index: number, size: number): number {
  const i = Math.trunc(Number.isFinite(index) ? index : index > 0 ? size : 0);
  return i < 0 ? Math.max(size + i, 0) : Math.min(i, size);
}

/**
 * An ArrayBuffer holding exactly `bytes`. A Node Buffer is often a window into a shared
 * 8 KiB pool, so handing over `bytes.buffer` would give parquet-wasm someone else's bytes.
 * A short read means the object shrank or changed since its size was taken.
 */
function exactBuffer(bytes: Uint8Array, expected: number, uri: string): ArrayBuffer {
  if (bytes.byteLength !== expected) {
    throw new ShortReadError(uri, `expected ${expected} bytes, got ${bytes.byteLength} (object changed or truncated?)`);
  }
  const { buffer, byteOffset, byteLength } = bytes;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) return buffer;
  // Not `bytes.slice()`: on a Buffer that is a view of the same pool, not a copy.
  const copy = new Uint8Array(byteLength);
  copy.set(bytes);
  return copy.buffer;
}

function checkSize(store: ObjectStore, key: string, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new Error(`storage: invalid object size ${size} for ${store.uri(key)}`);
  }
}
