/**
 * DELTA_BINARY_PACKED, the Parquet encoding of integers as bit-packed differences (for
 * ascending ids and times: a few bits a value), in JS numbers: int32 values, or int64 values
 * read from their 32-bit halves, exact while |v| < 2^53 (the caller declines columns past
 * 2^51, where a difference may not be).
 */
import type { Bytes } from './byte-buffer.js';

/** Value i of an int64 column's halves (exact while |v| < 2^53). */
export function int64At(words: Int32Array, i: number): number {
  return words[2 * i + 1]! * 4294967296 + (words[2 * i]! >>> 0);
}

/** Zigzag varint of a safe integer (int64 in JS numbers). */
function zigzag(out: Bytes, n: number): void {
  let z = n >= 0 ? 2 * n : -2 * n - 1;
  out.room(10);
  while (z >= 128) {
    out.buf[out.len++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  out.buf[out.len++] = z;
}

/** Bit-pack `values[0..n)` (non-negative, below 2^width) LSB first, padded to `count` values. */
function pack(out: Bytes, values: Float64Array, n: number, count: number, width: number): void {
  if (width === 0) return;
  const bytes = (count * width) / 8;
  out.room(bytes);
  const start = out.len;
  const buf = out.buf;
  buf.fill(0, start, start + bytes);
  if (width <= 24) {
    // Integer shifts: a value and the bits left over from the last byte fit 31 bits.
    let acc = 0;
    let bits = 0;
    let at = start;
    for (let i = 0; i < n; i++) {
      acc |= values[i]! << bits;
      bits += width;
      while (bits >= 8) {
        buf[at++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) buf[at] = acc & 0xff;
  } else {
    for (let i = 0; i < n; i++) {
      let v = values[i]!;
      let bit = i * width;
      for (let left = width; left > 0; ) {
        const take = Math.min(8 - (bit & 7), left);
        const part = v % 2 ** take;
        buf[start + (bit >>> 3)]! |= part << (bit & 7);
        v = (v - part) / 2 ** take;
        bit += take;
        left -= take;
      }
    }
  }
  out.len = start + bytes;
}

/** Bits needed for a non-negative safe integer. */
function bitWidth(max: number): number {
  if (max === 0) return 0;
  return max < 2 ** 32 ? 32 - Math.clz32(max) : Math.floor(Math.log2(max)) + 1;
}

// One block's deltas and one miniblock's packed values: reused, the encoder keeps nothing.
const deltas = new Float64Array(128);
const mini = new Float64Array(32);
/**
 * What `blockDeltas*` found in a block: [min delta, max delta, min value, max value, last
 * value]. Shared scratch: encoding is synchronous.
 */
const block = new Float64Array(5);

/**
 * Deltas of the values of rows [at, at + count) into `deltas` (the first against `prev`),
 * their range and the values' range into `block`. Leaf functions, one per layout, so each
 * stays monomorphic and is optimized whole (see rle-hybrid.ts on V8's on-stack optimization).
 */
function blockDeltas64(words: Int32Array, at: number, count: number, prev: number): void {
  let dmin = Number.POSITIVE_INFINITY;
  let dmax = Number.NEGATIVE_INFINITY;
  let vmin = block[2]!;
  let vmax = block[3]!;
  for (let k = 0; k < count; k++) {
    const x = int64At(words, at + k);
    const d = x - prev;
    deltas[k] = d;
    prev = x;
    if (d < dmin) dmin = d;
    if (d > dmax) dmax = d;
    if (x < vmin) vmin = x;
    if (x > vmax) vmax = x;
  }
  block[0] = dmin;
  block[1] = dmax;
  block[2] = vmin;
  block[3] = vmax;
  block[4] = prev;
}

function blockDeltas32(words: Int32Array, at: number, count: number, prev: number): void {
  let dmin = Number.POSITIVE_INFINITY;
  let dmax = Number.NEGATIVE_INFINITY;
  let vmin = block[2]!;
  let vmax = block[3]!;
  for (let k = 0; k < count; k++) {
    const x = words[at + k]!;
    const d = x - prev;
    deltas[k] = d;
    prev = x;
    if (d < dmin) dmin = d;
    if (d > dmax) dmax = d;
    if (x < vmin) vmin = x;
    if (x > vmax) vmax = x;
  }
  block[0] = dmin;
  block[1] = dmax;
  block[2] = vmin;
  block[3] = vmax;
  block[4] = prev;
}

/**
 * DELTA_BINARY_PACKED of the values of rows [from, to): blocks of 128 values in 4 miniblocks
 * of 32. Leaves the values' [min, max] in `range` (one pass for bounds and encoding). The
 * caller checks those bounds: beyond |2^51| a delta may not be exact in a JS number.
 * @param words int32 values, or (`wide`) an int64 column's 32-bit halves (low, high)
 * @param after with `ascending`: the value before `from` (the previous page's last), or null
 * @returns false when `ascending` is asked for and a value is below the one before it (the
 *   page is then incomplete: the caller writes the column PLAIN instead)
 */
export function encodeDeltaBinaryPacked(out: Bytes, words: Int32Array, wide: boolean, from: number, to: number, ascending: boolean, after: number | null, range: Float64Array): boolean {
  const n = to - from;
  out.varint(128);
  out.varint(4);
  out.varint(n);
  if (n === 0) {
    zigzag(out, 0);
    range[0] = Number.POSITIVE_INFINITY;
    range[1] = Number.NEGATIVE_INFINITY;
    return true;
  }
  const first = wide ? int64At(words, from) : words[from]!;
  if (ascending && after !== null && first < after) return false;
  zigzag(out, first);
  block[2] = first;
  block[3] = first;
  let prev = first;
  for (let at = from + 1; at < to; at += 128) {
    const count = Math.min(128, to - at);
    if (wide) blockDeltas64(words, at, count, prev);
    else blockDeltas32(words, at, count, prev);
    const min = block[0]!;
    prev = block[4]!;
    if (ascending && min < 0) return false;
    zigzag(out, min);
    const widthsAt = out.len;
    out.room(4);
    out.len += 4;
    // Every delta the same (e.g. consecutive ids): every miniblock is 0 bits wide, no bytes.
    if (block[1] === min) {
      out.buf.fill(0, widthsAt, widthsAt + 4);
      continue;
    }
    for (let m = 0; m < 4; m++) {
      const k0 = m * 32;
      const len = Math.min(32, count - k0);
      let width = 0;
      if (len > 0) {
        let max = 0;
        for (let k = 0; k < len; k++) {
          const r = deltas[k0 + k]! - min;
          mini[k] = r;
          if (r > max) max = r;
        }
        width = bitWidth(max);
        pack(out, mini, len, 32, width);
      }
      // Unused miniblocks of the last block: width 0, no bytes.
      out.buf[widthsAt + m] = width;
    }
  }
  range[0] = block[2]!;
  range[1] = block[3]!;
  return true;
}

