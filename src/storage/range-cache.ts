/**
 * Byte ranges of one object read ahead of being asked for, and the reads they then serve:
 * a `RangeBlob` over a remote store keeps the object's tail here (footer reads) and a row
 * group's column chunks (fetched concurrently before parquet-wasm asks for them one decode
 * call after another). Every round trip saved is ~20-50 ms on S3.
 */

/** One range being read or read. */
interface Entry {
  readonly start: number;
  readonly end: number;
  readonly bytes: Promise<Uint8Array>;
  /** Bytes served from it so far. */
  served: number;
  /** Kept until the blob goes (the tail); others go once fully served, or at `drop()`. */
  readonly pinned: boolean;
}

/** Ranges read ahead of one object, and reads served from them. */
export class RangeCache {
  private entries: Entry[] = [];

  /** @param read reads bytes `[start, end)` of the object (exactly that many, or rejects) */
  constructor(private readonly read: (start: number, end: number) => Promise<ArrayBuffer>) {}

  /**
   * Start reading `[start, end)` now unless that range is held already. A failed read is
   * forgotten (a later fetch or direct read tries again); whoever takes from it meanwhile
   * gets the error.
   */
  fetch(start: number, end: number, pinned = false): void {
    if (end <= start || this.entries.some((e) => e.start === start && e.end === end)) return;
    const bytes = this.read(start, end).then((b) => new Uint8Array(b));
    const entry: Entry = { start, end, bytes, served: 0, pinned };
    bytes.catch(() => this.remove(entry));
    this.entries.push(entry);
  }

  /** Bytes `[start, end)` from a held range that contains them (a copy), or null if none does. */
  take(start: number, end: number): Promise<ArrayBuffer> | null {
    const entry = this.entries.find((e) => e.start <= start && end <= e.end);
    if (!entry) return null;
    entry.served += end - start;
    // Each column chunk is read once: a range whose every byte went out is done with.
    if (!entry.pinned && entry.served >= entry.end - entry.start) this.remove(entry);
    // The whole of an unpinned range goes to one reader: hand over its buffer, no copy.
    const whole = !entry.pinned && start === entry.start && end === entry.end;
    return entry.bytes.then((bytes) =>
      whole && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice(start - entry.start, end - entry.start).buffer,
    );
  }

  /** Forget every range that is not pinned (read or still in flight). */
  drop(): void {
    this.entries = this.entries.filter((e) => e.pinned);
  }

  /** Bytes held or in flight, pinned included. */
  get size(): number {
    return this.entries.reduce((n, e) => n + (e.end - e.start), 0);
  }

  private remove(entry: Entry): void {
    this.entries = this.entries.filter((e) => e !== entry);
  }
}
