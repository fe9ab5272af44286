/**
 * fillMatrix's fast path against the reference algorithm (the value-by-value loop it always
 * had, copied here verbatim): the same output bits and the same error (column, row, kind)
 * for random columns of every source type, nulls, NaN and infinities, several chunks,
 * float32 and float64 outputs, matrix and per-feature strides, and every policy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fillMatrix, fillPolicy, FeatureValueError, type FillPolicy, type RowCopier } from '../../src/scoring/feature-matrix.js';
import { createWasmRowCopier } from '../../src/scoring/wasm-fill.js';
import { testHost } from '../support/wasm-host.js';
import type { ColumnChunk, FeatureColumn } from '../../src/scoring/columns.js';
import type { NonFinitePolicy, NullPolicy } from '../../src/spec/job-spec.js';

// ---- reference: the original implementation ----
const BLOCK_ROWS = 512;
function referenceFill(columns: readonly FeatureColumn[], rowStart: number, rowCount: number, out: Float32Array | Float64Array, policy: FillPolicy, stride: number = columns.length): void {
  for (let block = 0; block < rowCount; block += BLOCK_ROWS) {
    const n = Math.min(BLOCK_ROWS, rowCount - block);
    for (let j = 0; j < columns.length; j++) refColumn(columns[j]!, j, rowStart + block, n, out, block * stride + j, stride, policy);
  }
}
function refColumn(column: FeatureColumn, j: number, row: number, count: number, out: Float32Array | Float64Array, outPos: number, stride: number, policy: FillPolicy): void {
  let chunkStart = 0;
  let done = 0;
  for (const chunk of column.chunks) {
    if (done === count) return;
    const chunkEnd = chunkStart + chunk.length;
    const at = row + done;
    if (at < chunkEnd) {
      const local = at - chunkStart;
      const n = Math.min(chunkEnd - at, count - done);
      refChunk(column.name, chunk, local, n, out, outPos + done * stride, stride, policy.nullValue[j], policy.nonFinite, at);
      done += n;
    }
    chunkStart = chunkEnd;
  }
  if (done < count) throw new RangeError('short column');
}
function refChunk(name: string, chunk: ColumnChunk, local: number, n: number, out: Float32Array | Float64Array, pos: number, stride: number, nullValue: number | undefined, nonFinite: NonFinitePolicy, firstRow: number): void {
  const values = chunk.values;
  const bitmap = chunk.nullCount > 0 && chunk.nullBitmap && chunk.nullBitmap.length > 0 ? chunk.nullBitmap : null;
  const bit0 = chunk.offset + local;
  const isBig = values instanceof BigInt64Array || values instanceof BigUint64Array;
  const checkFinite = nonFinite !== 'keep' && (values instanceof Float32Array || values instanceof Float64Array);
  const kindOf = (v: number) => (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') as 'NaN';
  for (let i = 0; i < n; i++, pos += stride) {
    if (bitmap !== null) {
      const b = bit0 + i;
      if ((bitmap[b >> 3]! & (1 << (b & 7))) === 0) {
        if (nullValue === undefined) throw new FeatureValueError(name, firstRow + i, 'null', 'x');
        out[pos] = nullValue;
        continue;
      }
    }
    const v = isBig ? Number(values[local + i]!) : (values[local + i] as number);
    if (checkFinite && v - v !== 0) {
      if (nonFinite === 'error') throw new FeatureValueError(name, firstRow + i, kindOf(v), 'x');
      if (nullValue === undefined) throw new FeatureValueError(name, firstRow + i, kindOf(v), 'x');
      out[pos] = nullValue;
      continue;
    }
    out[pos] = v;
  }
}
// ---- random columns ----
let seed = 12345;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
}
type Kind = 'f32' | 'f64' | 'i32' | 'i64' | 'u8';
function makeChunk(kind: Kind, length: number, nullRate: number, badRate: number, offset: number): ColumnChunk {
  const total = offset + length;
  const special = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  const num = () => (rnd() < badRate ? special[Math.floor(rnd() * 3)]! : rnd() * 200 - 100);
  let values: ColumnChunk['values'];
  switch (kind) {
    case 'f32': values = Float32Array.from({ length: total }, num); break;
    case 'f64': values = Float64Array.from({ length: total }, num); break;
    case 'i32': values = Int32Array.from({ length: total }, () => Math.floor(rnd() * 1e6) - 5e5); break;
    case 'u8': values = Uint8Array.from({ length: total }, () => Math.floor(rnd() * 256)); break;
    case 'i64': values = BigInt64Array.from({ length: total }, () => BigInt(Math.floor(rnd() * 1e9))); break;
  }
  let nullBitmap: Uint8Array | null = null;
  let nullCount = 0;
  if (nullRate > 0) {
    nullBitmap = new Uint8Array(Math.ceil(total / 8)).fill(0xff);
    for (let i = 0; i < length; i++) {
      if (rnd() < nullRate) {
        const b = offset + i;
        nullBitmap[b >> 3]! &= ~(1 << (b & 7));
        nullCount++;
      }
    }
  }
  // Rows are values[offset + i]: the chunk's values view starts at `offset` like Arrow's.
  const view = (values as Float32Array).subarray(offset) as ColumnChunk['values'];
  return { values: view, nullBitmap, offset, length, nullCount };
}
function makeColumn(name: string, kind: Kind, rows: number, nullRate: number, badRate: number): FeatureColumn {
  const pieces = rnd() < 0.3 ? [Math.floor(rows / 3), rows - Math.floor(rows / 3)] : [rows];
  return { name, chunks: pieces.map((n) => makeChunk(kind, n, nullRate, badRate, Math.floor(rnd() * 9))) };
}
function outcome(fn: () => void, out: Float32Array | Float64Array): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof FeatureValueError) return `error ${err.column} ${err.row} ${err.kind}`;
    throw err;
  }
  return `ok ${Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('base64')}`;
}

const NULL_POLICIES: NullPolicy[] = ['nan', 'error', { impute: {} }];
const FINITE_POLICIES: NonFinitePolicy[] = ['keep', 'error', 'as-null'];

/** Trial `trial`'s random columns (of `kinds`, up to `maxWidth` of them), policy and row range. */
function randomTrial(trial: number, kinds: readonly Kind[], maxWidth: number) {
  const width = 1 + Math.floor(rnd() * maxWidth);
  const rows = 1 + Math.floor(rnd() * 1500);
  const nullRate = rnd() < 0.5 ? 0 : rnd() * 0.05;
  const badRate = rnd() < 0.5 ? 0 : rnd() * 0.003;
  const columns = Array.from({ length: width }, (_, j) => makeColumn(`f${j}`, kinds[Math.floor(rnd() * kinds.length)]!, rows, nullRate, badRate));
  const names = columns.map((c) => c.name);
  const nulls = NULL_POLICIES[trial % 3]!;
  const imputed: NullPolicy = typeof nulls === 'object' ? { impute: Object.fromEntries(names.map((n, j) => [n, j * 1.5 - 2])) } : nulls;
  const policy = fillPolicy(names, imputed, FINITE_POLICIES[Math.floor(trial / 3) % 3]!);
  const start = Math.floor(rnd() * rows);
  const count = Math.max(1, Math.floor(rnd() * (rows - start)));
  return { width, columns, policy, start, count };
}

test('fast and reference fills agree bit for bit, errors included', () => {
  let cases = 0;
  for (let trial = 0; trial < 240; trial++) {
    const kinds: Kind[] = rnd() < 0.6 ? ['f32'] : ['f32', 'f64', 'i32', 'i64', 'u8'];
    const { width, columns, policy, start, count } = randomTrial(trial, kinds, 13);
    const Out = rnd() < 0.75 ? Float32Array : Float64Array;
    // Matrix layout, and one column at stride 1 (per-feature inputs).
    const fast = new Out(count * width).fill(-7);
    const ref = new Out(count * width).fill(-7);
    const a = outcome(() => fillMatrix(columns, start, count, fast, policy), fast);
    const b = outcome(() => referenceFill(columns, start, count, ref, policy), ref);
    assert.equal(a, b, `trial ${trial}: width ${width}, rows ${start}+${count}, ${Out.name}`);
    const one = [columns[0]!];
    const onePolicy = { nullValue: [policy.nullValue[0]], nonFinite: policy.nonFinite };
    const f1 = new Out(count).fill(-7);
    const r1 = new Out(count).fill(-7);
    assert.equal(outcome(() => fillMatrix(one, start, count, f1, onePolicy, 1), f1), outcome(() => referenceFill(one, start, count, r1, onePolicy, 1), r1), `trial ${trial} stride 1`);
    cases += 2;
  }
  assert.equal(cases, 480);
});

test('with the SIMD copier (columns and matrix in WebAssembly memory), fills agree with the reference bit for bit', () => {
  const host = testHost();
  const copier = createWasmRowCopier(host);
  assert.ok(copier, 'WebAssembly SIMD is available on this machine');
  let viaKernel = 0;
  const counting: RowCopier = (cols, rows, out) => {
    const r = copier.copyRows(cols, rows, out);
    if (r !== undefined) viaKernel++;
    return r;
  };
  for (let trial = 0; trial < 120; trial++) {
    const { width, columns, policy, start, count } = randomTrial(trial, ['f32'], 40);
    // Every chunk's values moved into the WebAssembly memory, views taken after the last
    // allocation (the matrix's).
    const placed = columns.map((c) => c.chunks.map((ch) => host.place(ch.values as Float32Array)));
    const fast = copier.matrix(count * width)!.fill(-7);
    const inWasm: FeatureColumn[] = columns.map((c, j) => ({ name: c.name, chunks: c.chunks.map((ch, k) => ({ ...ch, values: host.view(placed[j]![k]!, ch.values.length) })) }));
    const ref = new Float32Array(count * width).fill(-7);
    const a = outcome(() => fillMatrix(inWasm, start, count, fast, policy, width, counting), fast);
    const b = outcome(() => referenceFill(columns, start, count, ref, policy), ref);
    assert.equal(a, b, `trial ${trial}: width ${width}, rows ${start}+${count}`);
  }
  // Split columns and refused values take the other paths; most trials go through the kernel.
  assert.ok(viaKernel >= 60, `the kernel ran in ${viaKernel} of 120 trials`);
});
