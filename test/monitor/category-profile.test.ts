import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  emptyCategory,
  encodeCategories,
  mergeCategory,
  topK,
  updateCategory,
  type CategoryChunk,
  type CategoryProfile,
} from '../../src/monitor/category-profile.js';
import { chunkOf, rng } from './helpers.js';

function utf8Chunk(values: readonly (string | null)[]): CategoryChunk {
  const bytes: number[] = [];
  const offsets = [0];
  const nulls: boolean[] = [];
  for (const v of values) {
    if (v !== null) bytes.push(...Buffer.from(v, 'utf8'));
    offsets.push(bytes.length);
    nulls.push(v === null);
  }
  const validity = chunkOf(new Uint8Array(values.length), nulls);
  return {
    kind: 'utf8', data: Uint8Array.from(bytes), valueOffsets: Int32Array.from(offsets),
    nullBitmap: validity.nullBitmap, offset: 0, length: values.length, nullCount: validity.nullCount,
  };
}

function exactCounts(values: readonly (string | null)[]): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const v of values) if (v !== null) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function profileOf(chunks: CategoryChunk[], cap?: number): CategoryProfile {
  const p = emptyCategory(cap);
  for (const c of chunks) updateCategory(p, c);
  return p;
}

const SEGMENTS = ['retail', 'smb', 'enterprise', 'público', '<b>x</b>', ''];

test('utf8, dictionary, plain string and integer-code chunks give exact counts', () => {
  const u = rng(1);
  const values = Array.from({ length: 500 }, () => (u() < 0.1 ? null : SEGMENTS[Math.floor(u() * SEGMENTS.length)]!));
  const expected = exactCounts(values);
  const dictionary = [...SEGMENTS, 'retail']; // a repeated dictionary entry shares the count
  const indices = Int32Array.from(values, (v) => (v === null ? 0 : dictionary.indexOf(v)));
  const dict: CategoryChunk = { kind: 'dictionary', indices: chunkOf(indices, values.map((v) => v === null)), dictionary };
  for (const chunk of [utf8Chunk(values), dict, { kind: 'strings', values } as CategoryChunk]) {
    const p = profileOf([chunk]);
    assert.equal(p.count, 500);
    assert.equal(p.nulls, values.filter((v) => v === null).length);
    assert.deepEqual(p.values, expected, chunk.kind);
    assert.equal(p.truncated, false);
  }
  const codes = profileOf([{ kind: 'codes', chunk: chunkOf(Int32Array.from([3, 1, 3, 3, 2]), [false, false, true, false, false]) }]);
  assert.deepEqual(codes.values, [['3', 2], ['1', 1], ['2', 1]]);
  assert.equal(codes.nulls, 1);
});

test('encodeCategories decodes each distinct string once and marks nulls -1', () => {
  const enc = encodeCategories(utf8Chunk(['a', null, 'b', 'a']));
  assert.deepEqual([...enc.codes], [0, -1, 1, 0]);
  assert.deepEqual(enc.labels, ['a', 'b']);
});

test('merge is exact and associative below the cap', () => {
  const u = rng(2);
  const parts = [0, 1, 2].map(() => Array.from({ length: 300 }, () => `v${Math.floor(u() * 40)}`));
  const [a, b, c] = parts.map((p) => profileOf([{ kind: 'strings', values: p }]));
  const whole = profileOf([{ kind: 'strings', values: parts.flat() }]);
  assert.deepEqual(mergeCategory(mergeCategory(a!, b!), c!), whole);
  assert.deepEqual(mergeCategory(a!, mergeCategory(b!, c!)), whole);
  assert.deepEqual(whole.values, exactCounts(parts.flat()));
});

test('past the cap the most frequent values are kept, the rest counted in other', () => {
  const values = [...Array(50).fill('a'), ...Array(30).fill('b'), ...Array(20).fill('c'), 'd', 'e'];
  const p = profileOf([{ kind: 'strings', values }], 2);
  assert.deepEqual(p.values, [['a', 50], ['b', 30]]);
  assert.equal(p.other, 22);
  assert.equal(p.truncated, true);
  assert.deepEqual(topK(p, 1), [['a', 50]]);
  const merged = mergeCategory(p, profileOf([{ kind: 'strings', values: ['c', 'c', 'c'] }], 5));
  assert.equal(merged.cap, 2);
  // Totals are conserved whatever was folded.
  assert.equal(merged.values.reduce((s, [, c]) => s + c, 0) + merged.other, 105);
});

test('a bad cap is refused with the value quoted', () => {
  assert.throws(() => emptyCategory(0), /^RangeError: monitor: category cap must be a positive integer, got 0$/);
});
