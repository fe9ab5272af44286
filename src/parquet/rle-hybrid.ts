/**
 * Parquet's RLE / bit-packing hybrid encoding (definition levels and dictionary codes). Pure.
 */
import { Bytes } from './byte-buffer.js';
/**
 * RLE / bit-packing hybrid encoding of `values[0..n)` at `width` bits: runs of 8 or more
 * equal values as RLE runs, the rest bit-packed in groups of 8 (the last group padded).
 */
export function encodeHybrid(values: Int32Array, n: number, width: number, out: Bytes): void {
  const valueBytes = Math.ceil(width / 8);
  let i = 0;
  while (i < n) {
    const v = values[i]!;
    const run = runLength(values, i, n);
    if (run >= 8) {
      out.varint(run * 2);
      out.room(valueBytes);
      for (let b = 0; b < valueBytes; b++) out.buf[out.len++] = (v >>> (8 * b)) & 0xff;
      i += run;
      continue;
    }
    // Bit-pack whole groups of 8 until a run of 8 equal values starts at a group boundary.
    const start = i;
    let groups = 0;
    do {
      i = Math.min(i + 8, n);
      groups++;
      if (i >= n) break;
      let r = 1;
      while (r < 8 && i + r < n && values[i + r] === values[i]) r++;
      if (r >= 8) break;
    } while (groups < 0x3fffffff);
    out.varint(groups * 2 + 1);
    out.room(groups * width + 8);
    out.len = bitPack(values, start, Math.min(start + groups * 8, n), start + groups * 8, width, out.buf, out.len);
  }
}

/**
 * What `encodeHybrid` writes for `n` values of 1 at width 1 (the definition levels of a page
 * without nulls), without a levels array: one RLE run from 8 values on.
 */
export function encodeOnes(n: number, out: Bytes): void {
  if (n >= 8) {
    out.varint(n * 2);
    out.byte(1);
  } else {
    encodeHybrid(new Int32Array(n).fill(1), n, 1, out);
  }
}

/**
 * Bit-pack `values[from, to)` LSB first at `width` bits (≤ 24), padded with zeros up to
 * `end`; returns the new length of `buf`.
 */
function bitPack(values: Int32Array, from: number, to: number, end: number, width: number, buf: Uint8Array, len: number): number {
  if (width <= 4) {
    // Dictionary codes are usually this narrow: 8 values make one 32-bit word, written as
    // `width` bytes, instead of a shift and a test per value (same bytes, LSB first).
    const words = (to - from) >> 3;
    for (let w = 0; w < words; w += WORDS_PER_CALL) len = packWords(values, from + w * 8, Math.min(WORDS_PER_CALL, words - w), width, buf, len);
    const k = from + words * 8;
    if (k === end) return len;
    from = k;
  }
  let acc = 0;
  let bits = 0;
  for (let k = from; k < end; k++) {
    acc |= (k < to ? values[k]! : 0) << bits; // bits < 8 and width ≤ 24: fits 31 bits
    bits += width;
    while (bits >= 8) {
      buf[len++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) buf[len++] = acc & 0xff;
  return len;
}

/*
 * The loops below are leaf functions called once per run or per bounded stretch, not loops
 * inside the encoders: V8 optimizes a long-running loop on the stack (OSR) before the code
 * after it has run once, and that code then deoptimizes for want of type feedback, page
 * after page. A leaf called many times is optimized whole, with its feedback complete.
 */

/** Words packed per `packWords` call (see above). */
const WORDS_PER_CALL = 512;

/** Length of the run of equal values starting at `i` (at least 1). */
function runLength(values: Int32Array, i: number, n: number): number {
  const v = values[i]!;
  let run = 1;
  while (i + run < n && values[i + run] === v) run++;
  return run;
}

/** Pack `words` groups of 8 values from `k` at `width` ≤ 4 bits; returns the new length of `buf`. */
function packWords(values: Int32Array, k: number, words: number, width: number, buf: Uint8Array, len: number): number {
  for (let w = 0; w < words; w++, k += 8) {
    const word =
      (values[k]! |
        (values[k + 1]! << width) |
        (values[k + 2]! << (2 * width)) |
        (values[k + 3]! << (3 * width)) |
        (values[k + 4]! << (4 * width)) |
        (values[k + 5]! << (5 * width)) |
        (values[k + 6]! << (6 * width)) |
        (values[k + 7]! << (7 * width))) >>>
      0;
    for (let b = 0; b < width; b++) buf[len++] = (word >>> (8 * b)) & 0xff;
  }
  return len;
}
