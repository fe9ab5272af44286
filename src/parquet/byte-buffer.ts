/**
 * The one growable output buffer of the Parquet encoders written here (dictionary pages,
 * RLE/bit-packed runs, Thrift structs).
 */
/** A growable byte buffer with the little-endian and varint writes Parquet's encodings use. */
export class Bytes {
  buf = new Uint8Array(4096);
  len = 0;

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

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
