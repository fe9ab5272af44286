/**
 * The bytes of one output file while it is being written: kept in memory while small,
 * spilled to a local temporary file past a threshold, so a thread's memory stays bounded
 * whatever the file's size. Hashes as it goes; uploads with `put` (in memory) or `putFile`
 * (spilled: streamed, multipart on S3).
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { threadId } from 'node:worker_threads';
import { join } from 'node:path';
import type { ByteSink, PieceSource } from '../parquet/concat.js';
import type { BlobLike } from '../parquet/parquet-reader.js';
import type { ObjectStore } from '../storage/object-store.js';

/**
 * Default spill threshold: 8 MiB. Outputs of files up to ~1M rows (id, segment and a
 * float score: ~4 bytes a row) stay in memory; bigger ones go to disk a row group at a time.
 */
export const DEFAULT_SPILL_BYTES = 8 << 20;

export interface OutputFileOptions {
  /** Bytes kept in memory before spilling to disk. Default `DEFAULT_SPILL_BYTES`. */
  spillBytes?: number;
  /** Folder for the spill file. Default: the OS temp folder. */
  dir?: string;
}

export class OutputFile implements ByteSink {
  private chunks: Uint8Array[] = [];
  private fd: number | undefined;
  private path: string | undefined;
  private hash: Hash | null = createHash('sha256');
  private digest: string | undefined;
  private length = 0;
  private readonly spillBytes: number;

  constructor(private readonly options: OutputFileOptions = {}) {
    this.spillBytes = options.spillBytes ?? DEFAULT_SPILL_BYTES;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.length;
  }

  /** Whether the bytes went to a temporary file. */
  get spilled(): boolean {
    return this.path !== undefined;
  }

  write(chunk: Uint8Array): void {
    if (!this.hash) throw new Error('OutputFile: write after sha256()');
    this.hash.update(chunk);
    this.length += chunk.length;
    if (this.fd === undefined) {
      this.chunks.push(chunk);
      if (this.length <= this.spillBytes) return;
      this.path = join(this.options.dir ?? tmpdir(), `batchscore-out-${process.pid}-t${threadId}-${randomBytes(6).toString('hex')}.parquet`);
      // Default mode (0666 less the umask), as any output file: `putFile` copies the mode.
      this.fd = openSync(this.path, 'wx+');
      const pending = this.chunks;
      this.chunks = [];
      for (const c of pending) writeAll(this.fd, c);
      return;
    }
    writeAll(this.fd, chunk);
  }

  /** Hex sha256 of everything written; no write after this. */
  sha256(): string {
    if (this.digest === undefined) {
      this.digest = this.hash!.digest('hex');
      this.hash = null;
    }
    return this.digest;
  }

  /** Random access to the bytes written (for checks and concatenation). */
  source(): PieceSource & BlobLike {
    const read = (start: number, end: number): Uint8Array => {
      if (start < 0 || end > this.length || start > end) throw new RangeError(`OutputFile: read [${start}, ${end}) of ${this.length} bytes`);
      if (this.fd !== undefined) {
        const out = new Uint8Array(end - start);
        let filled = 0;
        while (filled < out.length) {
          const n = readSync(this.fd, out, filled, out.length - filled, start + filled);
          if (n === 0) throw new Error(`OutputFile: short read of ${this.path}`);
          filled += n;
        }
        return out;
      }
      return concatRange(this.chunks, start, end);
    };
    type View = BlobLike & PieceSource & { arrayBuffer(): Promise<ArrayBuffer> };
    const view = (from: number, to: number): View => ({
      size: to - from,
      read: (a: number, b: number) => read(from + a, from + b),
      slice: (a = 0, b = to - from) => {
        const s = Math.max(0, a < 0 ? to - from + a : Math.min(a, to - from));
        const e = Math.max(s, b < 0 ? to - from + b : Math.min(b, to - from));
        return view(from + s, from + e);
      },
      arrayBuffer: async () => {
        const bytes = read(from, to);
        return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
      },
    });
    return view(0, this.length);
  }

  /** Upload to `store`/`key`: one `put` from memory, or `putFile` of the spill file. */
  async upload(store: ObjectStore, key: string): Promise<void> {
    if (this.path !== undefined) {
      await store.putFile(key, this.path);
      return;
    }
    await store.put(key, this.chunks.length === 1 ? this.chunks[0]! : concatRange(this.chunks, 0, this.length));
  }

  /**
   * Hand the bytes over instead of uploading them: in memory (one buffer) or the spill
   * file, which the receiver must delete. The OutputFile is then empty.
   */
  release(): { bytes: Uint8Array; path: null } | { bytes: null; path: string } {
    if (this.path !== undefined) {
      const path = this.path;
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
      this.path = undefined;
      this.chunks = [];
      return { bytes: null, path };
    }
    const bytes = concatRange(this.chunks, 0, this.length);
    this.chunks = [];
    return { bytes, path: null };
  }

  /** Drop the bytes and the spill file. Idempotent. */
  dispose(): void {
    this.chunks = [];
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    if (this.path !== undefined) {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
      this.path = undefined;
    }
  }
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let done = 0;
  while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
}

function concatRange(chunks: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  let at = 0;
  let filled = 0;
  for (const c of chunks) {
    const from = Math.max(start - at, 0);
    const to = Math.min(end - at, c.length);
    if (from < to) {
      out.set(c.subarray(from, to), filled);
      filled += to - from;
    }
    at += c.length;
    if (at >= end) break;
  }
  return out;
}
