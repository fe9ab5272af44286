import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { fillMatrix, fillPolicy, FeatureValueError, type FillPolicy } from '../../src/scoring/feature-matrix.js';
import type { ColumnChunk, FeatureColumn, NumericValues } from '../../src/scoring/columns.js';
import type { NonFinitePolicy } from '../../src/spec/job-spec.js';
import { seededRandom } from '../../src/model/build/random.js';

/** A cell of a source column: a number (or bigint for 64-bit integer columns) or null. */
type Cell = number | bigint | null;

/** Deterministic PRNG so failures reproduce. */
const rng = seededRandom;

/** Random float cells, about `nullRate` of them null. Values are exactly representable in float32. */
function floatCells(n: number, seed: number, nullRate = 0.1): Cell[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() < nullRate ? null : Math.fround((r() - 0.5) * 1000)));
}

type TypedCtor = { new (n: number): NumericValues };

/**
 * Build chunks of `cells` cut at `cuts` (chunk lengths), each with a validity bitmap whose
 * row 0 sits at bit `bitOffset`. Bits before the offset are set to the opposite of what a
 * correct reader expects, and null slots hold a junk value, so an off-by-offset read or a
 * read of a null's storage shows up in the output.
 */
function chunked(cells: readonly Cell[], cuts: readonly number[], Ctor: TypedCtor, bitOffset = 0): ColumnChunk[] {
  assert.equal(cuts.reduce((a, b) => a + b, 0), cells.length, 'cuts must cover the cells');
  const chunks: ColumnChunk[] = [];
  let start = 0;
  for (const len of cuts) {
    const piece = cells.slice(start, start + len);
    start += len;
    const values = new Ctor(len);
    const big = values instanceof BigInt64Array || values instanceof BigUint64Array;
    const bitmap = new Uint8Array(Math.ceil((bitOffset + len) / 8) + 1).fill(0);
    for (let b = 0; b < bitOffset; b++) bitmap[b >> 3]! |= 1 << (b & 7); // junk "valid" bits before row 0
    let nulls = 0;
    piece.forEach((c, i) => {
      if (c === null) {
        nulls++;
        (values as unknown as (number | bigint)[])[i] = big ? 777n : 777;
      } else {
        const b = bitOffset + i;
        bitmap[b >> 3]! |= 1 << (b & 7);
        (values as unknown as (number | bigint)[])[i] = big ? BigInt(c) : Number(c);
      }
    });
    chunks.push({ values, nullBitmap: nulls > 0 ? bitmap : new Uint8Array(0), offset: bitOffset, length: len, nullCount: nulls });
  }
  return chunks;
}

/**
 * Naive reference: row-major rows [rowStart, rowStart+rowCount) computed straight from the
 * source cells and the spec-level policy, one value at a time. Returns the error it expects
 * instead of values when a value is refused.
 */
function reference(
  sources: readonly (readonly Cell[])[],
  rowStart: number,
  rowCount: number,
  nullValues: readonly (number | undefined)[],
  nonFinite: NonFinitePolicy,
): number[] | { column: number; row: number; kind: string } {
  const out: number[] = [];
  for (let r = rowStart; r < rowStart + rowCount; r++) {
    for (let j = 0; j < sources.length; j++) {
      const cell = sources[j]![r]!;
      if (cell === null) {
        const nv = nullValues[j];
        if (nv === undefined) return { column: j, row: r, kind: 'null' };
        out.push(nv);
        continue;
      }
      const v = Number(cell);
      if (!Number.isFinite(v) && nonFinite !== 'keep') {
        const kind = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
        const nv = nullValues[j];
        if (nonFinite === 'error' || nv === undefined) return { column: j, row: r, kind };
        out.push(nv);
        continue;
      }
      out.push(v);
    }
  }
  return out;
}

function fill(
  columns: readonly FeatureColumn[],
  rowStart: number,
  rowCount: number,
  policy: FillPolicy,
  Out: typeof Float32Array | typeof Float64Array = Float64Array,
): number[] {
  const out = new Out(rowCount * columns.length);
  fillMatrix(columns, rowStart, rowCount, out, policy);
  return Array.from(out);
}

/** The reference rounded as a Float32Array output would hold it. */
function asFloat32(values: readonly number[]): number[] {
  return Array.from(Float32Array.from(values));
}

function refValues(...args: Parameters<typeof reference>): number[] {
  const r = reference(...args);
  assert.ok(Array.isArray(r), `reference refused a value: ${JSON.stringify(r)}`);
  return r;
}

function featureError(fn: () => void): FeatureValueError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FeatureValueError, `expected FeatureValueError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a FeatureValueError');
}

const NAN_POLICY = (n: number): FillPolicy => fillPolicy(Array.from({ length: n }, (_, i) => `c${i}`), 'nan', 'error');

test('fillPolicy resolves the spec policies per feature', () => {
  const features = ['a', 'b', 'c'];
  const nan = fillPolicy(features, 'nan', 'keep');
  assert.equal(nan.nullValue.length, 3);
  assert.ok(nan.nullValue.every((v) => Number.isNaN(v)));
  assert.equal(nan.nonFinite, 'keep');
  assert.deepEqual(fillPolicy(features, 'error', 'as-null'), { nullValue: [undefined, undefined, undefined], nonFinite: 'as-null', nulls: 'error' });
  assert.deepEqual(fillPolicy(features, { impute: { c: 7, a: -1.5 } }, 'error'), { nullValue: [-1.5, undefined, 7], nonFinite: 'error', nulls: { impute: { c: 7, a: -1.5 } } });
});

test('row-major output equals the naive reference for several chunk layouts and ranges', () => {
  const n = 1300; // crosses the filler's internal 512-row blocks at unaligned chunk boundaries
  const sources = [floatCells(n, 1), floatCells(n, 2, 0), floatCells(n, 3, 0.4)];
  const layouts: number[][][] = [
    [[n], [n], [n]],
    [[700, 600], [1, 1298, 1], [513, 511, 276]],
    [[100, 100, 100, 1000], [650, 650], [1, 1, 1, 1, 1296]],
  ];
  const ranges: [number, number][] = [
    [0, n], // everything
    [0, 1], // one row
    [95, 10], // crosses a chunk boundary at 100 in layout 3
    [699, 2], // crosses 700 in layout 2
    [512, 300], // starts at the block size
    [1000, 300], // rowStart > 0 inside a later chunk, up to the end
    [37, 0], // nothing
  ];
  const policy = NAN_POLICY(3);
  for (const [li, layout] of layouts.entries()) {
    const cols = sources.map((s, j) => ({ name: `c${j}`, chunks: chunked(s, layout[j]!, Float32Array, li * 3) }));
    for (const [start, count] of ranges) {
      const expected = refValues(sources, start, count, policy.nullValue, 'error');
      assert.deepEqual(fill(cols, start, count, policy, Float64Array), expected, `layout ${li}, rows ${start}+${count}, Float64Array`);
      assert.deepEqual(fill(cols, start, count, policy, Float32Array), asFloat32(expected), `layout ${li}, rows ${start}+${count}, Float32Array`);
    }
  }
});

test('Float64 source values keep full precision in a Float64Array and are rounded in a Float32Array', () => {
  const cells: Cell[] = [0.1, 1 / 3, 1e-310, 123456789.123, -2.5e200];
  const col = { name: 'x', chunks: chunked(cells, [2, 3], Float64Array) };
  const policy = NAN_POLICY(1);
  assert.deepEqual(fill([col], 0, 5, policy, Float64Array), cells);
  assert.deepEqual(fill([col], 0, 5, policy, Float32Array), asFloat32(cells as number[]));
  assert.notDeepEqual(fill([col], 0, 5, policy, Float32Array), cells);
});

test('integer columns of every width, including BigInt64 and BigUint64, convert to numbers', () => {
  const i8: Cell[] = [-128, 127, 0, null, 5];
  const u16: Cell[] = [65535, 0, null, 1, 2];
  const i32: Cell[] = [-2147483648, 2147483647, 3, 4, null];
  const u32: Cell[] = [4294967295, 0, 1, null, 7];
  const i64: Cell[] = [-(2n ** 62n), 2n ** 53n + 2n, null, -1n, 42n];
  const u64: Cell[] = [2n ** 64n - 1n, 0n, 9n, 10n, null];
  const sources = [i8, u16, i32, u32, i64, u64];
  const ctors: TypedCtor[] = [Int8Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
  const cols = sources.map((s, j) => ({ name: `c${j}`, chunks: chunked(s, [3, 2], ctors[j]!, j) }));
  const policy = fillPolicy(['c0', 'c1', 'c2', 'c3', 'c4', 'c5'], { impute: { c0: -9, c1: -9, c2: -9, c3: -9, c4: -9, c5: -9 } }, 'error');
  const expected = refValues(sources, 0, 5, policy.nullValue, 'error');
  assert.deepEqual(fill(cols, 0, 5, policy, Float64Array), expected);
  // Spot-check the reference itself on the values a wrong conversion would get wrong.
  assert.equal(expected[4], -(2 ** 62));
  assert.equal(expected[5], 2 ** 64);
  assert.equal(expected[2 * 6 + 4], -9); // the BigInt64 null was imputed, not 0n/777n
  assert.deepEqual(fill(cols, 1, 3, policy, Float32Array), asFloat32(refValues(sources, 1, 3, policy.nullValue, 'error')));
});

test('hand-built validity bitmaps with a non-zero bit offset', () => {
  // Bits: offset 5, rows 0..9; rows 1, 6 and 8 null. Bits before the offset all say "valid".
  const values = new Float64Array([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  const bitmap = new Uint8Array(3);
  const nulls = new Set([1, 6, 8]);
  for (let b = 0; b < 5; b++) bitmap[0]! |= 1 << b;
  for (let i = 0; i < 10; i++) if (!nulls.has(i)) bitmap[(5 + i) >> 3]! |= 1 << ((5 + i) & 7);
  const col: FeatureColumn = { name: 'x', chunks: [{ values, nullBitmap: bitmap, offset: 5, length: 10, nullCount: 3 }] };
  const expected = Array.from(values, (v, i) => (nulls.has(i) ? -1 : v));
  const policy = fillPolicy(['x'], { impute: { x: -1 } }, 'error');
  assert.deepEqual(fill([col], 0, 10, policy), expected);
  assert.deepEqual(fill([col], 6, 3, policy), expected.slice(6, 9));
});

test('Arrow vectors: concatenated chunks, and slices whose Data keeps the bitmap with a bit offset', () => {
  const a = floatCells(45, 11, 0.3) as (number | null)[];
  const b = floatCells(30, 12, 0.3) as (number | null)[];
  const c = floatCells(20, 13, 0.3) as (number | null)[];
  const whole = arrow.vectorFromArray(a, new arrow.Float32())
    .concat(arrow.vectorFromArray(b, new arrow.Float32()))
    .concat(arrow.vectorFromArray(c, new arrow.Float32()));
  const source = [...a, ...b, ...c];
  assert.equal(whole.data.length, 3);
  const toColumn = (name: string, v: arrow.Vector): FeatureColumn => ({
    name,
    chunks: v.data.map((d) => ({ values: d.values as NumericValues, nullBitmap: d.nullBitmap, offset: d.offset, length: d.length, nullCount: d.nullCount })),
  });
  const policy = NAN_POLICY(2);

  // The premise of this test: a sliced Data has its values subarray'd but keeps the whole
  // bitmap, with row 0 at a bit offset.
  const premise = whole.slice(3, 90).data[0]!;
  assert.equal(premise.offset, 3);
  assert.equal(premise.length, 42);
  assert.equal(premise.values.length, 42);
  assert.ok(premise.nullCount > 0);
  assert.equal(premise.nullBitmap, whole.data[0]!.nullBitmap);

  for (const [from, to] of [[3, 90], [44, 46], [50, 75], [0, 95], [13, 14]] as [number, number][]) {
    const sliced = whole.slice(from, to);
    const src = source.slice(from, to);
    // Pair the sliced column with an unsliced one to exercise different chunk layouts side by side.
    const otherCells = floatCells(to - from, 14 + from, 0.2) as (number | null)[];
    const other = arrow.vectorFromArray(otherCells, new arrow.Float64());
    const cols = [toColumn('s', sliced), toColumn('o', other)];
    for (const [start, count] of [[0, to - from], [1, to - from - 1], [Math.floor((to - from) / 2), 1]] as [number, number][]) {
      const expected = refValues([src, otherCells], start, count, policy.nullValue, 'error');
      assert.deepEqual(fill(cols, start, count, policy, Float64Array), expected, `slice ${from}..${to}, rows ${start}+${count}`);
    }
  }
});

test('makeVector over a typed array without nulls and an Int64 Arrow vector with nulls', () => {
  const plain = arrow.makeVector(new Int32Array([5, -6, 7, 8]));
  const big = arrow.vectorFromArray([1n, null, -3n, 2n ** 40n], new arrow.Int64()).slice(1, 4);
  const chunk = (d: arrow.Data): ColumnChunk => ({ values: d.values as NumericValues, nullBitmap: d.nullBitmap, offset: d.offset, length: d.length, nullCount: d.nullCount });
  const cols: FeatureColumn[] = [
    { name: 'p', chunks: [chunk(plain.slice(1, 4).data[0]!)] },
    { name: 'b', chunks: big.data.map(chunk) },
  ];
  const policy = fillPolicy(['p', 'b'], { impute: { b: 0.25 } }, 'error');
  assert.deepEqual(fill(cols, 0, 3, policy), [-6, 0.25, 7, -3, 8, 2 ** 40]);
});

test('nulls: NaN, impute value, or a FeatureValueError with column, row and kind', () => {
  const cells: Cell[] = [1, 2, 3, 4, 5, 6, null, 8, 9, 10];
  const ok: Cell[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const cols = [{ name: 'ok', chunks: chunked(ok, [10], Float32Array) }, { name: 'age', chunks: chunked(cells, [4, 6], Float32Array, 3) }];

  const nan = fill(cols, 0, 10, fillPolicy(['ok', 'age'], 'nan', 'error'));
  assert.ok(Number.isNaN(nan[6 * 2 + 1]!));
  assert.equal(nan.filter((v) => Number.isNaN(v)).length, 1);

  const imputed = fill(cols, 0, 10, fillPolicy(['ok', 'age'], { impute: { age: 33 } }, 'error'));
  assert.equal(imputed[6 * 2 + 1], 33);
  assert.deepEqual(imputed, refValues([ok, cells], 0, 10, [undefined, 33], 'error'));

  for (const policy of [fillPolicy(['ok', 'age'], 'error', 'error'), fillPolicy(['ok', 'age'], { impute: { ok: 1 } }, 'keep')]) {
    // The row counts from the first row of the columns, also when the fill starts later.
    for (const start of [0, 4, 6]) {
      const err = featureError(() => fillMatrix(cols, start, 10 - start, new Float64Array(20), policy));
      assert.equal(err.column, 'age');
      assert.equal(err.row, 6);
      assert.equal(err.kind, 'null');
      assert.match(err.message, /"age"/);
      assert.match(err.message, /row 6/);
    }
  }
  // The hint names the policy that was set: impute lacks this column, it is not "error".
  const underImpute = featureError(() => fillMatrix(cols, 0, 10, new Float64Array(20), fillPolicy(['ok', 'age'], { impute: { ok: 1 } }, 'keep')));
  assert.equal(underImpute.hint, 'nulls: impute has no value for "age"; add it to nulls.impute or use "nan"');
  assert.doesNotMatch(underImpute.message, /"error"/);
  const underError = featureError(() => fillMatrix(cols, 0, 10, new Float64Array(20), fillPolicy(['ok', 'age'], 'error', 'keep')));
  assert.equal(underError.hint, 'nulls: "error"; use "nan" or impute');
  // A policy made by hand, without the spec's: the hint claims no policy.
  const byHand = featureError(() => fillMatrix(cols, 0, 10, new Float64Array(20), { nullValue: [1, undefined], nonFinite: 'keep' }));
  assert.doesNotMatch(byHand.hint, /"error"|impute has/);
  assert.match(byHand.hint, /"age"/);
  // A range that avoids the null row does not fail.
  assert.deepEqual(fill(cols, 7, 3, fillPolicy(['ok', 'age'], 'error', 'error')), [0, 8, 0, 9, 0, 10]);
});

test('a null in an integer column is not read as its storage value', () => {
  const cells: Cell[] = [1, null, 3];
  const col = { name: 'n', chunks: chunked(cells, [3], Int32Array, 6) };
  const out = fill([col], 0, 3, fillPolicy(['n'], 'nan', 'error'));
  assert.equal(out[0], 1);
  assert.ok(Number.isNaN(out[1]!));
  assert.equal(out[2], 3);
  const err = featureError(() => fillMatrix([col], 0, 3, new Float32Array(3), fillPolicy(['n'], 'error', 'keep')));
  assert.deepEqual([err.column, err.row, err.kind], ['n', 1, 'null']);
});

test('NaN and ±Infinity under nonFinite error, keep and as-null', () => {
  const cells: Cell[] = [1, Number.NaN, 3, Number.POSITIVE_INFINITY, 5, Number.NEGATIVE_INFINITY, null, 8];
  for (const Ctor of [Float32Array, Float64Array]) {
    const cols = [{ name: 'x', chunks: chunked(cells, [2, 3, 3], Ctor, 1) }];

    // error: each kind is reported at its own row.
    for (const [start, row, kind] of [[0, 1, 'NaN'], [2, 3, 'Infinity'], [4, 5, '-Infinity']] as [number, number, string][]) {
      const err = featureError(() => fillMatrix(cols, start, 8 - start, new Float64Array(8), fillPolicy(['x'], 'nan', 'error')));
      assert.deepEqual([err.column, err.row, err.kind], ['x', row, kind], `${Ctor.name} from ${start}`);
      assert.match(err.message, new RegExp(`is ${kind} at row ${row}`));
    }

    // keep: values pass through unchanged; nulls still follow the null policy.
    const kept = fill(cols, 0, 8, fillPolicy(['x'], { impute: { x: -1 } }, 'keep'));
    assert.deepEqual(kept, refValues([cells], 0, 8, [-1], 'keep'));
    assert.deepEqual(kept, [1, Number.NaN, 3, Infinity, 5, -Infinity, -1, 8]);

    // as-null: non-finite values get the null value.
    assert.deepEqual(fill(cols, 0, 8, fillPolicy(['x'], { impute: { x: -1 } }, 'as-null')), [1, -1, 3, -1, 5, -1, -1, 8]);
    const asNan = fill(cols, 0, 8, fillPolicy(['x'], 'nan', 'as-null'));
    assert.deepEqual(asNan.map((v) => Number.isNaN(v)), [false, true, false, true, false, true, true, false]);

    // as-null with nulls "error": the non-finite value is refused with its own kind.
    const err = featureError(() => fillMatrix(cols, 2, 6, new Float64Array(6), fillPolicy(['x'], 'error', 'as-null')));
    assert.deepEqual([err.column, err.row, err.kind], ['x', 3, 'Infinity']);
    assert.equal(err.hint, 'nonFinite: "as-null" and nulls: "error"; use "nan" or impute');
    // as-null with an impute list lacking the column: that is what the hint says.
    const lacking = featureError(() => fillMatrix(cols, 0, 8, new Float64Array(8), fillPolicy(['x'], { impute: { y: 0 } }, 'as-null')));
    assert.deepEqual([lacking.row, lacking.kind], [1, 'NaN']);
    assert.equal(lacking.hint, 'nonFinite: "as-null" and nulls: impute has no value for "x"; add it to nulls.impute or use "nan"');
  }
});

test('integer columns are never refused as non-finite', () => {
  const cells: Cell[] = [0, -1, 2147483647];
  const cols = [{ name: 'i', chunks: chunked(cells, [3], Int32Array) }];
  assert.deepEqual(fill(cols, 0, 3, fillPolicy(['i'], 'error', 'error')), [0, -1, 2147483647]);
});

test('a stride larger than the column count leaves the other positions of each row untouched', () => {
  const a: Cell[] = [1, 2, 3, 4, 5];
  const b: Cell[] = [10, null, 30, 40, 50];
  const cols = [{ name: 'a', chunks: chunked(a, [2, 3], Float64Array) }, { name: 'b', chunks: chunked(b, [5], Float64Array, 2) }];
  const stride = 4;
  const out = new Float64Array(4 * stride).fill(-7);
  fillMatrix(cols, 1, 4, out, fillPolicy(['a', 'b'], { impute: { b: 0 } }, 'error'), stride);
  const expected: number[] = [];
  for (let r = 1; r < 5; r++) expected.push(a[r] as number, b[r] === null ? 0 : (b[r] as number), -7, -7);
  assert.deepEqual(Array.from(out), expected);
});

test('per-feature use: one column at a time with stride 1 and that feature\'s own null value', () => {
  const sources: Cell[][] = [[1, null, 3], [null, 20, 30], [100, 200, null]];
  const policy = fillPolicy(['a', 'b', 'c'], { impute: { a: -1, b: -2, c: -3 } }, 'error');
  const cols = sources.map((s, j) => ({ name: 'abc'[j]!, chunks: chunked(s, [1, 2], Float32Array, j + 1) }));
  const matrix = fill(cols, 0, 3, policy);
  cols.forEach((col, j) => {
    const out = new Float32Array(3);
    fillMatrix([col], 0, 3, out, { nullValue: [policy.nullValue[j]], nonFinite: policy.nonFinite }, 1);
    // Column j of the row-major matrix, and the reference for that feature alone.
    assert.deepEqual(Array.from(out), [0, 1, 2].map((r) => matrix[r * 3 + j]!));
    assert.deepEqual(Array.from(out), refValues([sources[j]!], 0, 3, [policy.nullValue[j]], 'error'));
  });
});

test('an output too small, or rows past the end of a column, are RangeErrors', () => {
  const cols = [{ name: 'a', chunks: chunked([1, 2, 3, 4], [2, 2], Float32Array) }, { name: 'b', chunks: chunked([1, 2, 3, 4], [4], Float32Array) }];
  const policy = NAN_POLICY(2);
  assert.throws(() => fillMatrix(cols, 0, 4, new Float32Array(7), policy), RangeError);
  assert.throws(() => fillMatrix(cols, 2, 3, new Float32Array(6), policy), (err: unknown) => err instanceof RangeError && /"a"/.test(err.message));
  // Exactly the last rows is fine, and a larger output only gets the rows asked for.
  const out = new Float32Array(10).fill(9);
  fillMatrix(cols, 2, 2, out, policy);
  assert.deepEqual(Array.from(out), [3, 3, 4, 4, 9, 9, 9, 9, 9, 9]);
});
