/**
 * Page compression for the column encoders written here (dict-column.ts, numeric-column.ts):
 * the codecs they take, and their Parquet codec ids. Snappy pages are written as literals
 * only: valid Snappy that any reader decodes, without the cost of searching for matches in
 * data that barely compresses (packed codes, float scores) or is already small (deltas).
 */
import { gzipSync } from 'node:zlib';
import type { OutputCompression } from '../spec/job-spec.js';
import { Bytes } from './byte-buffer.js';

/** Parquet codec ids of the codecs these encoders write; others are left to arrow-rs. */
export const CODEC_IDS: Partial<Record<OutputCompression, number>> = { none: 0, snappy: 1, gzip: 2 };

/** Raw snappy framing of `data` as literals only (valid snappy; the codes are already packed). */
function snappyLiterals(data: Uint8Array): Uint8Array {
  const out = new Bytes(snappyLiteralsSize(data.length));
  out.varint(data.length);
  for (let at = 0; at < data.length; at += 65536) {
    const len = Math.min(65536, data.length - at);
    const l = len - 1;
    if (l < 60) out.byte(l << 2);
    else if (l < 256) {
      out.byte(60 << 2);
      out.byte(l);
    } else {
      out.byte(61 << 2);
      out.byte(l & 0xff);
      out.byte(l >>> 8);
    }
    out.bytes(data.subarray(at, at + len));
  }
  return out.result();
}

/** The exact size of `snappyLiterals` output for `n` bytes: varint length, then a tag per 64 KiB. */
function snappyLiteralsSize(n: number): number {
  let size = n + 1;
  for (let v = n; v >= 0x80; v >>>= 7) size++;
  for (let at = 0; at < n; at += 65536) {
    const l = Math.min(65536, n - at) - 1;
    size += l < 60 ? 1 : l < 256 ? 2 : 3;
  }
  return size;
}

/** A page body compressed with `codec` (one of CODEC_IDS). */
export function compress(data: Uint8Array, codec: OutputCompression): Uint8Array {
  if (codec === 'snappy') return snappyLiterals(data);
  if (codec === 'gzip') return new Uint8Array(gzipSync(data));
  return data;
}

