import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { monitorColumnFromPrediction, monitorColumnsForRowGroup, monitorColumnsFromTable } from '../../src/monitor/arrow-input.js';
import { emptyDatasetProfile, profileBatch } from '../../src/monitor/profile-set.js';
import { emptyNumeric, updateNumeric } from '../../src/monitor/numeric-profile.js';
import { assertNumericEqual, chunkOf } from './helpers.js';

test('Arrow float, int, bool, utf8 and dictionary columns profile like their values', () => {
  const n = 50;
  const x = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : i * 0.5 - 3));
  const k = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : BigInt(i)));
  const s = Array.from({ length: n }, (_, i) => (i % 6 === 0 ? null : ['x', 'y', 'ü'][i % 3]!));
  const flag = Array.from({ length: n }, (_, i) => i % 4 === 0);
  const table = new arrow.Table({
    x: arrow.vectorFromArray(x, new arrow.Float64()),
    k: arrow.vectorFromArray(k, new arrow.Int64()),
    s: arrow.vectorFromArray(s, new arrow.Utf8()),
    d: arrow.vectorFromArray(s, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    flag: arrow.vectorFromArray(flag, new arrow.Bool()),
  });
  // A slice not on a byte boundary: bitmaps and bool bits keep a bit offset.
  const sliced = table.slice(3, 43);
  const cols = monitorColumnsFromTable(sliced, ['x', 'k', 's', 'd', 'flag', 'absent'].map((name) => ({ name, role: 'passthrough' as const })));
  assert.deepEqual(cols.map((c) => [c.name, c.type]), [['x', 'Float64'], ['k', 'Int64'], ['s', 'Utf8'], ['d', 'Utf8'], ['flag', 'Bool']]);
  // Dictionary encoding is the writer's storage choice, not a type: DuckDB rewrites drop it.
  const p = emptyDatasetProfile();
  profileBatch(p, sliced.numRows, cols);
  const stats = (name: string) => p.overall.columns.find((c) => c.name === name)!.stats;

  const xs = x.slice(3, 43);
  const direct = emptyNumeric();
  updateNumeric(direct, chunkOf(Float64Array.from(xs, (v) => v ?? 0), xs.map((v) => v === null)));
  const sx = stats('x');
  assert.ok(sx.kind === 'numeric');
  assertNumericEqual(sx, direct);
  const sk = stats('k');
  assert.ok(sk.kind === 'numeric' && sk.nulls === k.slice(3, 43).filter((v) => v === null).length && sk.max === 42);
  const expected = new Map<string, number>();
  for (const v of s.slice(3, 43)) if (v !== null) expected.set(v, (expected.get(v) ?? 0) + 1);
  for (const name of ['s', 'd']) {
    const st = stats(name);
    assert.ok(st.kind === 'category');
    assert.deepEqual(new Map(st.values), expected, name);
    assert.equal(st.nulls, s.slice(3, 43).filter((v) => v === null).length);
  }
  const sf = stats('flag');
  assert.ok(sf.kind === 'numeric');
  assert.equal(sf.mean, flag.slice(3, 43).filter(Boolean).length / 40);
});

test('prediction columns: numbers stay numeric, strings become categories, rows can be limited', () => {
  const prob = monitorColumnFromPrediction({ name: 'p', type: 'float32', values: Float32Array.from([0.1, 0.9, 0.5, 0]) }, 3);
  const label = monitorColumnFromPrediction({ name: 'label', type: 'string', values: ['a', 'b', 'a', ''] }, 3);
  const p = emptyDatasetProfile();
  profileBatch(p, 3, [prob, label]);
  const [l, q] = p.overall.columns;
  assert.ok(q!.stats.kind === 'numeric' && q!.stats.count === 3 && q!.role === 'prediction');
  assert.ok(l!.stats.kind === 'category');
  assert.deepEqual(l!.stats.values, [['a', 2], ['b', 1]]);
});

test('a scored row group gives feature, passthrough, extra and prediction columns', () => {
  const table = new arrow.Table({
    f0: arrow.vectorFromArray([1, 2, 3], new arrow.Float32()),
    id: arrow.vectorFromArray(['a', 'b', 'c'], new arrow.Utf8()),
    region: arrow.vectorFromArray(['n', 's', 'n'], new arrow.Utf8()),
  });
  const predictions = [{ name: 'p', type: 'float32' as const, values: new Float32Array(8) }];
  const all = monitorColumnsForRowGroup(table, ['f0'], ['id', 'f0'], predictions, { extra: ['region'] });
  assert.deepEqual(all.map((c) => [c.name, c.role]), [['region', 'passthrough'], ['id', 'passthrough'], ['f0', 'feature'], ['p', 'prediction']]);
  const cols = monitorColumnsForRowGroup(table, ['f0'], ['id', 'f0'], predictions, { extra: ['region'], ignore: ['id'] });
  assert.deepEqual(cols.map((c) => c.name), ['region', 'f0', 'p']);
  const p = emptyDatasetProfile({ sliceBy: 'region' });
  profileBatch(p, 3, cols);
  assert.deepEqual(p.slices.map((s) => [s.value, s.profile.rows]), [['n', 2], ['s', 1]]);
});
