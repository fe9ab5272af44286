import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bytes } from '../../src/parquet/byte-buffer.js';
import { encodeHybrid, encodeOnes } from '../../src/parquet/rle-hybrid.js';

test('hybrid RLE/bit-packing: runs, groups, padding, widths', () => {
  // Decode with a small reference decoder and compare.
  function decode(buf: Uint8Array, width: number, n: number): number[] {
    const out: number[] = [];
    let pos = 0;
    const varint = () => {
      let r = 0;
      let m = 1;
      for (;;) {
        const b = buf[pos++]!;
        r += (b & 0x7f) * m;
        if (b < 0x80) return r;
        m *= 128;
      }
    };
    while (out.length < n) {
      const h = varint();
      if (h % 2 === 0) {
        let v = 0;
        for (let b = 0; b < Math.ceil(width / 8); b++) v |= buf[pos++]! << (8 * b);
        for (let k = 0; k < h / 2; k++) out.push(v);
      } else {
        const count = ((h - 1) / 2) * 8;
        let bit = pos * 8;
        for (let k = 0; k < count; k++) {
          let v = 0;
          for (let w = 0; w < width; w++, bit++) v |= ((buf[bit >> 3]! >> (bit & 7)) & 1) << w;
          out.push(v);
        }
        pos += Math.ceil((count * width) / 8);
      }
    }
    return out.slice(0, n);
  }
  const cases: number[][] = [
    [],
    [3],
    Array(100).fill(5),
    Array.from({ length: 37 }, (_, i) => i % 3),
    [...Array(9).fill(1), 2, 3, ...Array(20).fill(0), 1, 2, 3, 4, 5, 6, 7],
    Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000),
    // Bit-packed stretches longer than one packing call (4096 values), narrow widths.
    Array.from({ length: 10_007 }, (_, i) => (i * 7919) % 8),
    Array.from({ length: 9_001 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
  ];
  for (const c of cases) {
    for (const width of [1, 3, 8, 10, 16]) {
      if (c.some((v) => v >= 2 ** width)) continue;
      const bytes = new Bytes();
      encodeHybrid(Int32Array.from(c), c.length, width, bytes);
      assert.deepEqual(decode(bytes.buf.subarray(0, bytes.len), width, c.length), c, `width ${width}: ${c.slice(0, 12).join(',')}`);
    }
  }
});


test('encodeOnes writes what encodeHybrid writes for the same run of ones', () => {
  for (const n of [0, 1, 7, 8, 9, 100, 131_072]) {
    const a = new Bytes();
    encodeOnes(n, a);
    const b = new Bytes();
    encodeHybrid(new Int32Array(n).fill(1), n, 1, b);
    assert.deepEqual([...a.view()], [...b.view()], `n = ${n}`);
  }
});
