/**
 * The SIMD fill kernel (fill-kernel.ts, run by wasm-fill.ts) against the JavaScript copy of
 * fillMatrix: the same bits in every slot (NaN payloads included), the same "a value was not
 * finite" answer, for widths that are and are not multiples of 4, row counts across its
 * 256-row blocks and its 4-row steps, unaligned columns, and memory that grows between calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fillKernelBytes, FILL_BLOCK_ROWS } from '../../src/scoring/fill-kernel.js';
import { createWasmRowCopier, MAX_KERNEL_COLUMNS } from '../../src/scoring/wasm-fill.js';
import { seededRandom } from '../../src/model/build/random.js';
import { testHost } from '../support/wasm-host.js';

const rnd = seededRandom(20261204);

/** What a plain JavaScript row-major copy gives, and whether a value was NaN or infinite. */
function reference(cols: readonly Float32Array[], rows: number): { bits: Uint32Array; nonFinite: boolean } {
  const bits = new Uint32Array(rows * cols.length);
  let nonFinite = false;
  cols.forEach((c, j) => {
    const u = new Uint32Array(c.buffer, c.byteOffset, rows);
    for (let i = 0; i < rows; i++) {
      bits[i * cols.length + j] = u[i]!;
      if (!Number.isFinite(c[i]!)) nonFinite = true;
    }
  });
  return { bits, nonFinite };
}

function column(rows: number, badRate: number): Float32Array {
  const c = new Float32Array(rows);
  const bits = new Uint32Array(c.buffer);
  for (let i = 0; i < rows; i++) {
    const u = rnd();
    if (u < badRate / 3) bits[i] = 0x7fc01234; // a NaN with a payload
    else if (u < (2 * badRate) / 3) c[i] = Number.POSITIVE_INFINITY;
    else if (u < badRate) c[i] = Number.NEGATIVE_INFINITY;
    else c[i] = (rnd() - 0.5) * 1e6;
  }
  return c;
}

test('the kernel module is valid WebAssembly: it imports env.memory and exports fill only', () => {
  const api = (globalThis as unknown as { WebAssembly: { Module: { new (b: Uint8Array): object; imports(m: object): { module: string; name: string; kind: string }[]; exports(m: object): { name: string; kind: string }[] } } }).WebAssembly;
  const m = new api.Module(fillKernelBytes());
  assert.deepEqual(api.Module.imports(m), [{ module: 'env', name: 'memory', kind: 'memory' }]);
  assert.deepEqual(api.Module.exports(m), [{ name: 'fill', kind: 'function' }]);
});

test('kernel and JavaScript copies agree bit for bit, and on non-finite values', () => {
  const host = testHost();
  const copier = createWasmRowCopier(host);
  assert.ok(copier, 'WebAssembly SIMD is available on this machine');
  const widths = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 31, 32, 33, 40];
  const rowCounts = [0, 1, 3, 4, 5, 255, 256, 257, 259, 600, 2 * FILL_BLOCK_ROWS + 3];
  let cases = 0;
  for (const width of widths) {
    for (const rows of rowCounts) {
      const badRate = cases % 3 === 0 ? 0 : 0.01;
      const source = Array.from({ length: width }, () => column(rows + 5, badRate));
      const skip = cases % 5; // columns starting part-way into their buffers
      const at = source.map((c) => host.place(c));
      // The kernel's matrix first (it may grow the memory), then the columns' views.
      const matrix = copier.matrix(rows * width).fill(-1);
      const cols = at.map((ptr) => host.view(ptr + 4 * skip, rows));
      assert.equal(matrix.buffer, cols[0]!.buffer, 'the matrix is in the same memory as the columns');
      const got = copier.copyRows(cols, rows, matrix);
      const want = reference(cols, rows);
      assert.equal(got, want.nonFinite, `width ${width} rows ${rows}: non-finite flag`);
      const gotBits = new Uint32Array(matrix.buffer, matrix.byteOffset, rows * width);
      const bad = want.bits.findIndex((b, i) => b !== gotBits[i]);
      assert.equal(bad, -1, `width ${width} rows ${rows}: slot ${bad}`);
      cases++;
    }
  }
  assert.equal(cases, widths.length * rowCounts.length);
});

test('arrays outside the host memory, or too many columns, are left to the JavaScript copy', () => {
  const host = testHost();
  const copier = createWasmRowCopier(host)!;
  const ptr = host.place(new Float32Array(8).fill(1));
  const matrix = copier.matrix(8);
  const inside = host.view(ptr, 8);
  assert.equal(copier.copyRows([inside], 8, new Float32Array(8)), undefined, 'output outside');
  assert.equal(copier.copyRows([new Float32Array(8)], 8, copier.matrix(8)), undefined, 'column outside');
  assert.equal(copier.copyRows([inside], 9, matrix), undefined, 'a column shorter than the rows asked for');
  const many = Array.from({ length: MAX_KERNEL_COLUMNS + 1 }, () => inside.subarray(0, 1));
  assert.equal(copier.copyRows(many, 1, copier.matrix(MAX_KERNEL_COLUMNS + 1)), undefined);
  assert.equal(copier.copyRows([inside], 8, copier.matrix(8)), false);
});

test('after the memory grows, fresh views work and the matrix keeps its place and contents', () => {
  const host = testHost(1);
  const copier = createWasmRowCopier(host)!;
  const first = copier.matrix(64);
  first.fill(3);
  const at = first.byteOffset;
  host.memory.grow(4); // as a decode would
  assert.equal(first.length, 0, 'old views are detached');
  const again = copier.matrix(64);
  assert.equal(again.byteOffset, at);
  assert.equal(again[63], 3);
  const ptrs = [host.place(Float32Array.from({ length: 64 }, (_, i) => i)), host.place(new Float32Array(64).fill(-2))];
  const out = copier.matrix(128);
  assert.equal(copier.copyRows(ptrs.map((p) => host.view(p, 64)), 64, out), false);
  const m = copier.matrix(128);
  assert.deepEqual([m[0], m[1], m[126], m[127]], [0, -2, 63, -2]);
  // A bigger matrix moves (the old one is given back), contents need not survive.
  const before = host.freed;
  copier.matrix(1 << 16);
  assert.equal(host.freed - before, 128 * 4);
});
