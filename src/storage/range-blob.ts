/**
 * A Blob-like view of one stored object that reads byte ranges on demand, for parquet-wasm's
 * `ParquetFile.fromFile(blob)`. Reading one column of one row group then fetches only the
 * footer and that column chunk, never the whole object.
 *
 * parquet-wasm 0.8 (measured by wrapping a real Blob in a Proxy) touches exactly three
 * things: `blob.size` once, `blob.slice(start, end)` with absolute, in-bounds offsets, and
 * `arrayBuffer()` on the slice. Nothing else (`type`, `stream()`, `text()`) is called, so
 * nothing else is implemented.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { FileStore } from './file-store.js';
import { NotFoundError, type ObjectStore } from './object-store.js';

/** The subset of `Blob` that parquet-wasm uses. Cast with `as unknown as Blob` to pass it. */
export interface RangeBlob {
  /** Bytes in this view. */
  readonly size: number;
  /** A view of bytes `[start, end)` of this view; Blob semantics (negative = from the end, clamped). */
  slice(start?: number, end?: number): RangeBlob;
  /** Read this view's bytes: one range request (or one positioned file read). */
  arrayBuffer(): Promise<ArrayBuffer>;
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
}

type ReadRange = (start: number, end: number) => Promise<ArrayBuffer>;

/**
 * A Blob-like over `store`/`key` whose object is `size` bytes long. Every `arrayBuffer()`
 * is one `store.getRange`. The caller vouches for `size` (from `head` or `list`): a wrong
 * size makes parquet-wasm look for the footer in the wrong place.
 */
export function rangeBlob(store: ObjectStore, key: string, size: number, options: RangeBlobOptions = {}): RangeBlob {
  checkSize(store, key, size);
  const uri = store.uri(key);
  return view(0, size, async (start, end) => {
    options.onRead?.(start, end);
    const bytes = await store.getRange(key, start, end);
    return exactBuffer(bytes, end - start, uri);
  });
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
  const blob = view(0, size, async (start, end) => {
    if (fd === undefined) throw new Error(`storage: read from ${uri} after close`);
    options.onRead?.(start, end);
    const buffer = new ArrayBuffer(end - start);
    const target = new Uint8Array(buffer);
    let filled = 0;
    while (filled < target.length) {
      const n = readSync(fd, target, filled, target.length - filled, start + filled);
      if (n === 0) break;
      filled += n;
    }
    return exactBuffer(target.subarray(0, filled), end - start, uri);
  });
  return Object.assign(blob, {
    close: async () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  });
}

/** The Blob-like view of absolute object bytes `[offset, offset + size)`. */
function view(offset: number, size: number, read: ReadRange): RangeBlob {
  return {
    size,
    slice(start = 0, end = size) {
      const from = clamp(start, size);
      const to = Math.max(clamp(end, size), from);
      return view(offset + from, to - from, read);
    },
    arrayBuffer() {
      return size === 0 ? Promise.resolve(new ArrayBuffer(0)) : read(offset, offset + size);
    },
  };
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
    throw new Error(
      `storage: short read from ${uri}: expected ${expected} bytes, got ${bytes.byteLength} (object changed or truncated?)`,
    );
  }
  const { buffer, byteOffset, byteLength } = bytes;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) return buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

function checkSize(store: ObjectStore, key: string, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new Error(`storage: invalid object size ${size} for ${store.uri(key)}`);
  }
}
