/**
 * The one growable output buffer of the Parquet encoders written here (dictionary pages,
 * RLE/bit-packed runs, Thrift structs).
 */
/** A growable byte buffer with the little-endian and varint writes Parquet's encodings use. */
export class Bytes {
  buf: Uint8Array;
  len = 0;

  /** @param capacity initial size: the exact size when known, to grow (and copy) never */
  constructor(capacity = 4096) {
    this.buf = new Uint8Array(capacity);
  }

  /** Empty it, keeping the memory (for a scratch buffer reused page after page). */
  reset(): this {
    this.len = 0;
    return this;
  }

  /** The bytes written, without a copy: valid until the next write or `reset`. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  /** Unsigned LEB128 of a 32-bit value. */
  varint(n: number): void {
    this.room(5);
    while (n >= 0x80) {
      this.buf[this.len++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.len++] = n;
  }

  u32(n: number): void {
    this.room(4);
    this.buf[this.len++] = n & 0xff;
    this.buf[this.len++] = (n >>> 8) & 0xff;
    this.buf[this.len++] = (n >>> 16) & 0xff;
    this.buf[this.len++] = (n >>> 24) & 0xff;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** The bytes written: the buffer itself when it is exactly full, else a copy. */
  result(): Uint8Array {
    return this.len === this.buf.length ? this.buf : this.buf.slice(0, this.len);
  }
}
