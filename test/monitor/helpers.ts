/**
 * Shared helpers for monitor tests: seeded random data, chunks with validity bitmaps, and
 * a profile comparison that is exact on counts and histograms and tolerant on the
 * floating-point moments.
 */
import assert from 'node:assert/strict';
import type { ColumnChunk, NumericValues } from '../../src/scoring/columns.js';
import { seededRandom } from '../../src/model/build/random.js';
import type { NumericProfile } from '../../src/monitor/numeric-profile.js';
import type { DatasetProfile, ProfileSet } from '../../src/monitor/profile-set.js';

/** Deterministic uniform [0, 1) generator (the project's mulberry32). */
export const rng = seededRandom;

/** Standard normal samples (Box–Muller) from a seeded generator. */
export function normals(n: number, seed: number, mean = 0, sd = 1): Float64Array {
  const u = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    out[i] = mean + sd * r * Math.cos(2 * Math.PI * u());
  }
  return out;
}

/**
 * A chunk over `values` where rows with `nulls[i]` true are null, the bitmap starting at
 * bit `bitOffset` (as in a sliced Arrow Data).
 */
export function chunkOf(values: NumericValues, nulls?: readonly boolean[], bitOffset = 0): ColumnChunk {
  if (!nulls || !nulls.some(Boolean)) return { values, offset: bitOffset, length: values.length, nullCount: 0 };
  const bitmap = new Uint8Array(Math.ceil((values.length + bitOffset) / 8) + 1);
  let nullCount = 0;
  for (let i = 0; i < values.length; i++) {
    const bit = bitOffset + i;
    if (nulls[i]) nullCount++;
    else bitmap[bit >> 3]! |= 1 << (bit & 7);
  }
  return { values, nullBitmap: bitmap, offset: bitOffset, length: values.length, nullCount };
}

function close(actual: number, expected: number, what: string, rel = 1e-9): void {
  const tol = rel * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);
}

/** Numeric profiles equal: exact except mean and m2 (relative 1e-9). */
export function assertNumericEqual(actual: NumericProfile, expected: NumericProfile, what = 'profile'): void {
  const { mean: am, m2: a2, ...aRest } = actual;
  const { mean: em, m2: e2, ...eRest } = expected;
  assert.deepEqual(aRest, eRest, `${what}: counts, min/max and histograms`);
  close(am, em, `${what}.mean`);
  close(a2, e2, `${what}.m2`);
}

/** Profile sets equal (numeric moments with tolerance, everything else exact). */
export function assertSetEqual(actual: ProfileSet, expected: ProfileSet, what = 'set'): void {
  assert.equal(actual.rows, expected.rows, `${what}.rows`);
  assert.deepEqual(actual.columns.map((c) => c.name), expected.columns.map((c) => c.name), `${what} columns`);
  actual.columns.forEach((c, i) => {
    const e = expected.columns[i]!;
    assert.equal(c.type, e.type);
    assert.equal(c.role, e.role);
    if (c.stats.kind === 'numeric' && e.stats.kind === 'numeric') assertNumericEqual(c.stats, e.stats, `${what}.${c.name}`);
    else assert.deepEqual(c.stats, e.stats, `${what}.${c.name}`);
  });
}

/** Dataset profiles equal, slices included. */
export function assertDatasetEqual(actual: DatasetProfile, expected: DatasetProfile): void {
  assertSetEqual(actual.overall, expected.overall, 'overall');
  assert.deepEqual(actual.slices.map((s) => s.value), expected.slices.map((s) => s.value), 'slice values');
  actual.slices.forEach((s, i) => assertSetEqual(s.profile, expected.slices[i]!.profile, `slice ${s.value}`));
}

/** Exact lower empirical quantile: the value of rank ceil(q·n) (at least 1). */
export function exactQuantile(sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}
