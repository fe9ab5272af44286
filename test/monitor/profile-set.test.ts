import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  emptyDatasetProfile,
  mergeAll,
  mergeDatasetProfiles,
  profileBatch,
  OTHER_SLICE,
  type DatasetProfile,
  type MonitorColumn,
} from '../../src/monitor/profile-set.js';
import { emptyNumeric, updateNumeric } from '../../src/monitor/numeric-profile.js';
import { parseDatasetProfile } from '../../src/monitor/profile-json.js';
import { assertDatasetEqual, assertNumericEqual, chunkOf, normals, rng } from './helpers.js';

interface Rows {
  x: Float64Array;
  score: Float32Array;
  segment: (string | null)[];
}

function makeRows(n: number, seed: number): Rows {
  const u = rng(seed);
  return {
    x: normals(n, seed + 100),
    score: Float32Array.from({ length: n }, () => u()),
    segment: Array.from({ length: n }, () => (u() < 0.05 ? null : ['north', 'south', 'east'][Math.floor(u() * 3)]!)),
  };
}

function slice(r: Rows, from: number, to: number): Rows {
  return { x: r.x.subarray(from, to), score: r.score.subarray(from, to), segment: r.segment.slice(from, to) };
}

// One batch; x arrives in two chunks to exercise chunk-relative slice rows.
function columns(r: Rows): MonitorColumn[] {
  const cut = Math.floor(r.x.length / 3);
  return [
    { name: 'x', role: 'feature', type: 'float64', chunks: [{ kind: 'numeric', chunk: chunkOf(r.x.subarray(0, cut)) }, { kind: 'numeric', chunk: chunkOf(r.x.subarray(cut)) }] },
    { name: 'score', role: 'prediction', type: 'float32', chunks: [{ kind: 'numeric', chunk: chunkOf(r.score) }] },
    { name: 'segment', role: 'passthrough', type: 'utf8', chunks: [{ kind: 'strings', values: r.segment }] },
  ];
}

function profile(r: Rows, batch: number, sliceBy: string | null = 'segment', maxSlices?: number): DatasetProfile {
  const p = emptyDatasetProfile({ sliceBy, maxSlices });
  for (let s = 0; s < r.x.length; s += batch) {
    const part = slice(r, s, Math.min(r.x.length, s + batch));
    profileBatch(p, part.x.length, columns(part));
  }
  return p;
}

test('a sliced profile has one profile set per segment value, each exact', () => {
  const r = makeRows(3000, 1);
  const p = profile(r, 1000);
  assert.deepEqual(p.slices.map((s) => s.value), ['(null)', 'east', 'north', 'south']);
  assert.equal(p.slices.reduce((s, x) => s + x.profile.rows, 0), 3000);
  const north = p.slices.find((s) => s.value === 'north')!.profile;
  const direct = emptyNumeric();
  updateNumeric(direct, chunkOf(Float64Array.from(r.x.filter((_, i) => r.segment[i] === 'north'))));
  const x = north.columns.find((c) => c.name === 'x')!;
  assert.equal(x.stats.kind, 'numeric');
  if (x.stats.kind === 'numeric') assertNumericEqual(x.stats, direct);
  assert.deepEqual(p.overall.columns.map((c) => [c.name, c.role, c.stats.kind]), [
    ['score', 'prediction', 'numeric'], ['segment', 'passthrough', 'category'], ['x', 'feature', 'numeric'],
  ]);
});

test('partition profiles merge into the profile of the whole run, associatively', () => {
  const r = makeRows(6000, 2);
  const whole = profile(r, 6000);
  const [a, b, c] = [slice(r, 0, 1500), slice(r, 1500, 4000), slice(r, 4000, 6000)].map((part) => profile(part, 700));
  assertDatasetEqual(mergeDatasetProfiles(mergeDatasetProfiles(a!, b!), c!), whole);
  assertDatasetEqual(mergeDatasetProfiles(a!, mergeDatasetProfiles(b!, c!)), whole);
  assertDatasetEqual(mergeAll([c!, b!, a!]), whole);
  // Merging does not change its arguments.
  assertDatasetEqual(a!, profile(slice(r, 0, 1500), 700));
});

test('slices past maxSlices share the (other) slice', () => {
  const r = makeRows(2000, 3);
  const p = profile(r, 500, 'segment', 2);
  assert.equal(p.slices.filter((s) => s.value !== OTHER_SLICE).length, 2);
  assert.equal(p.slices.reduce((s, x) => s + x.profile.rows, 0), 2000);
  const merged = mergeDatasetProfiles(p, profile(makeRows(500, 4), 500, 'segment', 2));
  assert.equal(merged.slices.reduce((s, x) => s + x.profile.rows, 0), 2500);
  assert.ok(merged.slices.some((s) => s.value === OTHER_SLICE));
});

test('mismatches are reported with the values quoted', () => {
  const r = makeRows(10, 5);
  const p = emptyDatasetProfile({ sliceBy: 'region' });
  assert.throws(() => profileBatch(p, 10, columns(r)), /^Error: monitor: slice column "region" is not in the batch$/);
  assert.throws(() => profileBatch(emptyDatasetProfile(), 11, columns(r)), /monitor: column "x" has 10 rows in a batch of 11/);
  assert.throws(() => mergeDatasetProfiles(profile(r, 10), profile(r, 10, null)), /monitor: cannot merge profiles sliced by "segment" and null/);
  const numericSegment: MonitorColumn = { name: 'segment', role: 'passthrough', type: 'int32', chunks: [{ kind: 'numeric', chunk: chunkOf(new Int32Array(10)) }] };
  const q = profile(r, 10, null);
  assert.throws(() => profileBatch(q, 10, [numericSegment]), /monitor: column "segment" was category, this batch has it numeric/);
  assert.throws(() => emptyDatasetProfile({ maxSlices: 0 }), /monitor: maxSlices must be a positive integer, got 0/);
});

test('an integer segment column slices by its values', () => {
  const seg = Int32Array.from({ length: 100 }, (_, i) => i % 3);
  const p = emptyDatasetProfile({ sliceBy: 'seg' });
  profileBatch(p, 100, [{ name: 'seg', role: 'passthrough', type: 'int32', chunks: [{ kind: 'numeric', chunk: chunkOf(seg) }] }]);
  assert.deepEqual(p.slices.map((s) => [s.value, s.profile.rows]), [['0', 34], ['1', 33], ['2', 33]]);
});

test('a stored profile round-trips through JSON and is validated on the way back', () => {
  const p = profile(makeRows(500, 6), 200);
  const back = parseDatasetProfile(JSON.parse(JSON.stringify(p)), 'ref.json');
  assertDatasetEqual(back, p);
  const broken = JSON.parse(JSON.stringify(p));
  broken.overall.columns[2].stats.log.counts[0] += 1;
  assert.throws(() => parseDatasetProfile(broken, 'ref.json'),
    /^ProfileFormatError: monitor: profile ref\.json: overall\.columns\[2\]\.stats\.log\.counts: expected counts summing to the 500 finite values, got 501$/);
  assert.throws(() => parseDatasetProfile({ ...p, version: 2 }, 'ref.json'), /monitor: profile ref\.json: version: expected 1, got 2/);
  assert.throws(() => parseDatasetProfile('x', 'ref.json'), /\(root\): expected an object, got "x"/);
});
