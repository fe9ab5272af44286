/**
 * The SIMD fill kernel (fill-kernel.ts, run by wasm-fill.ts) against the JavaScript copy of
 * fillMatrix: the same bits in every slot (NaN payloads included), the same "a value was not
 * finite" answer, for widths that are and are not multiples of 4, row counts across its
 * 256-row blocks and its 4-row steps, unaligned columns, and memory that grows between calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fillKernelBytes, FILL_BLOCK_ROWS } from '../../src/scoring/fill-kernel.js';
import { createWasmRowCopier, MAX_HOST_BYTES_FOR_MATRIX, MAX_KERNEL_COLUMNS, MAX_KERNEL_MATRIX_BYTES } from '../../src/scoring/wasm-fill.js';
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
      const matrix = copier.matrix(rows * width)!.fill(-1);
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
  const matrix = copier.matrix(8)!;
  const inside = host.view(ptr, 8);
  assert.equal(copier.copyRows([inside], 8, new Float32Array(8)), undefined, 'output outside');
  assert.equal(copier.copyRows([new Float32Array(8)], 8, copier.matrix(8)!), undefined, 'column outside');
  assert.equal(copier.copyRows([inside], 9, matrix), undefined, 'a column shorter than the rows asked for');
  const many = Array.from({ length: MAX_KERNEL_COLUMNS + 1 }, () => inside.subarray(0, 1));
  assert.equal(copier.copyRows(many, 1, copier.matrix(MAX_KERNEL_COLUMNS + 1)!), undefined);
  assert.equal(copier.copyRows([inside], 8, copier.matrix(8)!), false);
});

test('after the memory grows, fresh views work and the matrix keeps its place and contents', () => {
  const host = testHost(1);
  const copier = createWasmRowCopier(host)!;
  const first = copier.matrix(64)!;
  first.fill(3);
  const at = first.byteOffset;
  host.memory.grow(4); // as a decode would
  assert.equal(first.length, 0, 'old views are detached');
  const again = copier.matrix(64)!;
  assert.equal(again.byteOffset, at);
  assert.equal(again[63], 3);
  const ptrs = [host.place(Float32Array.from({ length: 64 }, (_, i) => i)), host.place(new Float32Array(64).fill(-2))];
  const out = copier.matrix(128)!;
  assert.equal(copier.copyRows(ptrs.map((p) => host.view(p, 64)), 64, out), false);
  const m = copier.matrix(128)!;
  assert.deepEqual([m[0], m[1], m[126], m[127]], [0, -2, 63, -2]);
  // A bigger matrix moves (the old one is given back), contents need not survive.
  const before = host.freed;
  copier.matrix(1 << 16);
  assert.equal(host.freed - before, 128 * 4);
});

test('no new matrix in host memory past the size limits (JavaScript then), addresses past 2 GiB read as unsigned', () => {
  const host = testHost(1);
  const copier = createWasmRowCopier(host)!;
  assert.equal(copier.matrix(MAX_KERNEL_MATRIX_BYTES / 4 + 1), null, 'a matrix bigger than the limit');
  const kept = copier.matrix(1024)!;
  host.memory.grow(MAX_HOST_BYTES_FOR_MATRIX / 65536); // the host memory is now past the limit
  assert.ok(copier.matrix(1024), 'the matrix already reserved is still handed out');
  assert.equal(copier.matrix(4096), null, 'a bigger one is not reserved in a memory that big');
  assert.equal(kept.length, 0, '(the growth detached the old view)');

  // An allocator that hands out addresses past 2^31 as negative i32, as wasm-bindgen's does.
  const high = testHost(1);
  high.memory.grow(2 ** 31 / 65536 + 64);
  const base = 2 ** 31 + 65536;
  let top = base;
  const signed = { ...high, malloc: (size: number, align: number) => { top = Math.ceil(top / align) * align; const p = top; top += size; return p | 0; } };
  const far = createWasmRowCopier(signed)!;
  assert.ok(far, 'the column table was reserved past 2 GiB');
  const cols = [0, 1, 2].map((j) => {
    const view = new Float32Array(high.memory.buffer, base + (1 << 20) + j * 4096, 100);
    view.set(Float32Array.from({ length: 100 }, (_, i) => i + j / 10));
    return view;
  });
  const out = new Float32Array(high.memory.buffer, base + (2 << 20), 300);
  assert.equal(far.copyRows(cols, 100, out), false);
  assert.deepEqual([out[0], out[1], out[2], out[299]], [0, Math.fround(0.1), Math.fround(0.2), Math.fround(99.2)]);
});

test('with V8 limited to optimizing one function index, the kernel puts its copying loop at that index', () => {
  const api = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object } }).WebAssembly;
  const padded = fillKernelBytes(3011);
  new api.Module(padded); // valid
  assert.ok(padded.length > fillKernelBytes().length + 3011 * 3, 'empty functions before the loop');
  const host = testHost();
  process.env.BATCHSCORE_WASM_TIER_UP_FILTER = '3011';
  try {
    const copier = createWasmRowCopier(host)!;
    const at = host.place(Float32Array.from({ length: 40 }, (_, i) => i));
    const out = copier.matrix(40)!;
    assert.equal(copier.copyRows([host.view(at, 40)], 40, out), false);
    assert.deepEqual([...out.subarray(0, 40)], Array.from({ length: 40 }, (_, i) => i));
  } finally {
    delete process.env.BATCHSCORE_WASM_TIER_UP_FILTER;
  }
  assert.throws(() => fillKernelBytes(-1), /fill-kernel: coreIndex must be an integer from 0 to 100000, got -1/);
});
