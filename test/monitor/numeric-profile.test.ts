import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  emptyNumeric,
  finiteCount,
  mergeNumeric,
  quantile,
  quantileBounds,
  stddev,
  updateNumeric,
  type NumericProfile,
} from '../../src/monitor/numeric-profile.js';
import { LOG_MIN_MAGNITUDE, LOG_RELATIVE_ERROR, linearWidth, logKey, logLowerEdge, logUpperEdge, totalCount } from '../../src/monitor/grid.js';
import { assertNumericEqual, chunkOf, exactQuantile, normals, rng } from './helpers.js';

function profileOf(...chunks: Parameters<typeof updateNumeric>[1][]): NumericProfile {
  const p = emptyNumeric();
  for (const c of chunks) updateNumeric(p, c);
  return p;
}

function exactStats(values: readonly number[]) {
  const finite = values.filter(Number.isFinite);
  const mean = finite.reduce((s, x) => s + x, 0) / finite.length;
  const variance = finite.reduce((s, x) => s + (x - mean) ** 2, 0) / finite.length;
  return { n: finite.length, mean, std: Math.sqrt(variance), min: Math.min(...finite), max: Math.max(...finite) };
}

test('counts, min, max, mean and std equal an exact computation, nulls and non-finite values apart', () => {
  const values = [3.5, -1, NaN, 7, Infinity, 0, 2.25, -Infinity, 1e-3, 42, NaN, -7.75];
  const nulls = [false, false, false, true, false, false, true, false, false, false, false, false];
  // Bitmap starting at bit 5, as in a sliced Arrow array.
  const p = profileOf(chunkOf(Float64Array.from(values), nulls, 5));
  const valid = values.filter((_, i) => !nulls[i]);
  const exact = exactStats(valid);
  assert.equal(p.count, 12);
  assert.equal(p.nulls, 2);
  assert.equal(p.nan, 2);
  assert.equal(p.posInf, 1);
  assert.equal(p.negInf, 1);
  assert.equal(finiteCount(p), exact.n);
  assert.equal(p.min, exact.min);
  assert.equal(p.max, exact.max);
  assert.ok(Math.abs(p.mean - exact.mean) < 1e-9);
  assert.ok(Math.abs(stddev(p) - exact.std) < 1e-9);
  assert.equal(totalCount(p.log), exact.n);
  assert.equal(totalCount(p.linear), exact.n);
});

test('integer, float32 and int64 chunks are read from their typed arrays', () => {
  const ints = Int32Array.from([5, -3, 12, 0, 7]);
  const floats = Float32Array.from([0.1, 0.2, 0.3]);
  const bigs = BigInt64Array.from([10n, -20n, 30n]);
  const p = profileOf(chunkOf(ints), chunkOf(floats), chunkOf(bigs, [false, true, false]));
  const all = [...ints, ...floats, 10, 30];
  const exact = exactStats(all);
  assert.equal(p.count, 11);
  assert.equal(p.nulls, 1);
  assert.equal(p.min, -3);
  assert.equal(p.max, 30);
  assert.ok(Math.abs(p.mean - exact.mean) < 1e-9);
  assert.ok(Math.abs(stddev(p) - exact.std) < 1e-9);
});

test('mean and std stay exact for a large offset (corrected two-pass + Chan merge)', () => {
  const base = normals(5000, 7, 1e9, 0.5);
  const p = profileOf(chunkOf(base.subarray(0, 1234)), chunkOf(base.subarray(1234)));
  // x − 1e9 is exact for these values, so the shifted data gives the exact moments.
  const exact = exactStats(Array.from(base, (x) => x - 1e9));
  assert.ok(Math.abs(p.mean - 1e9 - exact.mean) < 1e-6, `${p.mean - 1e9} vs ${exact.mean}`);
  assert.ok(Math.abs(stddev(p) - exact.std) / exact.std < 1e-9, `${stddev(p)} vs ${exact.std}`);
});

test('quantiles hold the true quantile in their bounds and are within the stated error', () => {
  const u = rng(3);
  const datasets: Record<string, Float64Array> = {
    normal: normals(20000, 1),
    lognormal: normals(20000, 2).map(Math.exp),
    // Large offset, small spread: the log grid cannot resolve it, the linear grid does.
    years: Float64Array.from({ length: 20000 }, () => 2020 + 6 * u()),
    integers: Float64Array.from({ length: 20000 }, () => Math.floor(u() * 5)),
    withOutlier: Float64Array.from({ length: 20000 }, (_, i) => (i === 0 ? 1e9 : u() * 100)),
  };
  const qs = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1];
  for (const [name, data] of Object.entries(datasets)) {
    const p = profileOf(chunkOf(data.subarray(0, 7000)), chunkOf(data.subarray(7000)));
    const sorted = Float64Array.from(data).sort();
    const halfLinear = linearWidth(p.linear.level) / 2;
    for (const q of qs) {
      const truth = exactQuantile(sorted, q);
      const b = quantileBounds(p, q);
      assert.ok(b.lo <= truth && truth <= b.hi, `${name} q=${q}: ${truth} not in [${b.lo}, ${b.hi}]`);
      const bound = Math.min(LOG_RELATIVE_ERROR * Math.abs(truth) + LOG_MIN_MAGNITUDE, halfLinear);
      assert.ok(Math.abs(b.value - truth) <= bound * (1 + 1e-12), `${name} q=${q}: ${b.value} vs ${truth} (bound ${bound})`);
    }
  }
  assert.ok(Math.abs(quantile(profileOf(chunkOf(datasets.years!)), 0.5) - exactQuantile(Float64Array.from(datasets.years!).sort(), 0.5)) < 0.01);
});

test('quantile of an empty profile is NaN and q outside [0, 1] is refused', () => {
  assert.ok(Number.isNaN(quantile(emptyNumeric(), 0.5)));
  assert.throws(() => quantile(emptyNumeric(), 1.5), /^RangeError: monitor: quantile must be in \[0, 1\], got 1.5$/);
});

test('a row selection profiles exactly those rows', () => {
  const data = normals(1000, 11);
  const rows = Int32Array.from({ length: 300 }, (_, i) => i * 3 + 1);
  const selected = emptyNumeric();
  updateNumeric(selected, chunkOf(data), rows);
  const direct = profileOf(chunkOf(Float64Array.from(rows, (i) => data[i]!)));
  assertNumericEqual(selected, direct);
});

test('merging partition profiles equals the profile of the whole, in any grouping', () => {
  const data = Float64Array.from([...normals(3000, 5, 10, 3), ...normals(2000, 6, 500, 1), ...normals(1000, 8, -50, 20)]);
  data[17] = NaN;
  data[2500] = Infinity;
  const parts = [data.subarray(0, 2000), data.subarray(2000, 4500), data.subarray(4500)];
  // Each partition in two chunks, to exercise the streaming path too.
  const [a, b, c] = parts.map((part) => profileOf(chunkOf(part.subarray(0, 333)), chunkOf(part.subarray(333))));
  const whole = profileOf(chunkOf(data));
  const left = mergeNumeric(mergeNumeric(a!, b!), c!);
  const right = mergeNumeric(a!, mergeNumeric(b!, c!));
  assertNumericEqual(left, whole, '(a+b)+c');
  assertNumericEqual(right, whole, 'a+(b+c)');
  assertNumericEqual(mergeNumeric(c!, mergeNumeric(a!, b!)), whole, 'c+(a+b)');
  // The linear grid coarsened as partitions with different ranges came together.
  assert.ok(whole.linear.level > a!.linear.level);
  assertNumericEqual(mergeNumeric(emptyNumeric(), a!), a!, 'empty + a');
});

test('a profile is plain JSON and survives a round trip', () => {
  const p = profileOf(chunkOf(normals(500, 4)));
  assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
});
