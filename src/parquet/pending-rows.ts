/**
 * The rows a `ParquetStreamWriter` holds until its row group is complete: deep copies of the
 * Arrow data handed to `write` (the caller reuses its buffers at once), made in memory that
 * is reused from row group to row group and file to file.
 *
 * Why reuse: a scoring thread copies ~4 MB of passthrough and prediction columns per
 * 250,000-row file; as fresh ArrayBuffers that memory was paged in anew every time and
 * counted towards V8's next full GC, file after file.
 */
import type * as A from 'apache-arrow';
import { arrow } from './arrow.js';
import { ParquetError } from './parquet-reader.js';

/** Copies smaller than this are plain `slice()`s: pooling them would save nothing. */
const POOLED_MIN_BYTES = 64 << 10;
/** Pooled buffers are allocated in steps of this. */
const POOL_STEP = 64 << 10;

/** Options of `CopyPool`. */
export interface CopyPoolOptions {
  /** Bytes kept between uses, all buffers together; the largest go first. Default 64 MiB. */
  maxPooledBytes?: number;
}

/**
 * Free buffers for copies, shared by the writers of one thread. A writer takes buffers
 * through its `PendingCopies` and gives them back once encoded: the pool never hands a
 * buffer to two holders at once.
 */
export class CopyPool {
  readonly maxPooledBytes: number;
  private readonly free: ArrayBuffer[] = [];

  constructor(options: CopyPoolOptions = {}) {
    this.maxPooledBytes = options.maxPooledBytes ?? 64 << 20;
    if (!Number.isSafeInteger(this.maxPooledBytes) || this.maxPooledBytes < 0) {
      throw new TypeError(`copy-pool: maxPooledBytes must be a non-negative integer, got ${options.maxPooledBytes}`);
    }
  }

  /** A buffer of at least `bytes` bytes (a free one at most about twice that, else a new one). */
  take(bytes: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const n = this.free[i]!.byteLength;
      if (n >= bytes && n <= 2 * bytes + POOL_STEP && (best < 0 || n < this.free[best]!.byteLength)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0]!;
    return new ArrayBuffer(Math.ceil(bytes / POOL_STEP) * POOL_STEP);
  }

  /** Take back buffers nobody refers to any more. */
  give(buffers: readonly ArrayBuffer[]): void {
    this.free.push(...buffers);
    let total = this.pooledBytes;
    if (total <= this.maxPooledBytes) return;
    this.free.sort((a, b) => a.byteLength - b.byteLength);
    while (total > this.maxPooledBytes) total -= this.free.pop()!.byteLength;
  }

  /** Bytes held between uses (for tests and metrics). */
  get pooledBytes(): number {
    return this.free.reduce((n, b) => n + b.byteLength, 0);
  }
}

/** The pool of this thread's writers. */
export const threadCopyPool = new CopyPool();

type Copyable = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/**
 * Copies a writer holds: made from its pool, given back together by `release` once nothing
 * refers to them (after the rows were encoded).
 */
export class PendingCopies {
  private lent: ArrayBuffer[] = [];

  constructor(private readonly pool: CopyPool = threadCopyPool) {}

  private copy<T extends Copyable | undefined | null>(a: T): T {
    if (a === undefined || a === null) return a;
    const src = a as Copyable;
    if (src.byteLength < POOLED_MIN_BYTES) return src.slice() as T;
    const buffer = this.pool.take(src.byteLength);
    this.lent.push(buffer);
    const out = new (src.constructor as new (b: ArrayBuffer, offset: number, length: number) => Copyable)(buffer, 0, src.length);
    out.set(src as never);
    return out as T;
  }

  /** A deep copy of Arrow data (buffers, children, dictionary): safe to keep after the source dies. */
  copyData<T extends A.DataType>(d: A.Data<T>): A.Data<T> {
    const b = d.buffers;
    const dictionary = d.dictionary ? new arrow.Vector(d.dictionary.data.map((x) => this.copyData(x))) : undefined;
    return new arrow.Data(d.type, d.offset, d.length, d.nullCount, {
      0: this.copy(b[0] as Copyable | undefined),
      1: this.copy(b[1] as Copyable | undefined),
      2: this.copy(b[2] as Copyable | undefined),
      3: this.copy(b[3] as Copyable | undefined),
    } as unknown as A.Data<T>['buffers'], d.children.map((c) => this.copyData(c)), dictionary);
  }

  /**
   * A copy of `batch` typed as `schema` (the file's): the same columns and types, except that
   * dictionary ids may differ (each decoded row group may number its dictionaries anew).
   * @throws ParquetError when a column or type differs otherwise
   */
  copyBatch(batch: A.RecordBatch, schema: A.Schema | null, uri: string): A.RecordBatch {
    const fields = schema?.fields;
    const got = batch.schema.fields;
    if (fields && schema !== batch.schema) {
      const same = (a: A.DataType, b: A.DataType): boolean =>
        arrow.DataType.isDictionary(a) && arrow.DataType.isDictionary(b)
          ? same(a.dictionary, b.dictionary) && same(a.indices, b.indices) && a.isOrdered === b.isOrdered
          : arrow.util.compareTypes(a, b);
      if (got.length !== fields.length || got.some((f, i) => f.name !== fields[i]!.name || !same(f.type, fields[i]!.type))) {
        throw new ParquetError(uri, `output columns changed between row groups: (${got.map((f) => `${f.name}: ${f.type}`).join(', ')}) after (${fields.map((f) => `${f.name}: ${f.type}`).join(', ')})`);
      }
    }
    const data = this.copyData(batch.data);
    if (!schema || !fields || schema === batch.schema) return new arrow.RecordBatch(batch.schema, data);
    const children = data.children.map((c, i) => new arrow.Data(fields[i]!.type, c.offset, c.length, c.nullCount, c.buffers, c.children, c.dictionary));
    const struct = new arrow.Data(new arrow.Struct(fields), data.offset, data.length, data.nullCount, data.buffers, children);
    return new arrow.RecordBatch(schema, struct as A.Data<A.Struct>);
  }

  /** Give every copy back to the pool: the caller no longer refers to any of them. */
  release(): void {
    const lent = this.lent;
    this.lent = [];
    this.pool.give(lent);
  }
}

/** Bytes of a batch's buffers (its columns and their dictionaries). */
export function batchBytes(batch: A.RecordBatch): number {
  let n = 0;
  for (const child of batch.data.children) {
    const b = child.buffers;
    for (const buffer of [b[0], b[1], b[2], b[3]]) if (buffer) n += buffer.byteLength;
    if (child.dictionary) n += child.dictionary.byteLength;
  }
  return n;
}
