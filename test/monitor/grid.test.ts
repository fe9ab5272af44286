import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  coarsen,
  linearKey,
  linearLevel,
  logKey,
  logLowerEdge,
  logUpperEdge,
  LINEAR_MAX_SPAN,
  LOG_BUCKETS_PER_SIGN,
  LOG_MIN_MAGNITUDE,
  LOG_RELATIVE_ERROR,
} from '../../src/monitor/grid.js';
import { normals } from './helpers.js';

const M0 = LOG_MIN_MAGNITUDE;

test('every value lies in its log bucket [lower, upper), edges included, both signs', () => {
  const values = [
    ...normals(2000, 1), ...normals(2000, 2).map((z) => Math.exp(8 * z)),
    // Exact bucket edges, where a mirrored negative side is easy to get wrong.
    ...Array.from({ length: 201 }, (_, i) => i - 100), 1.5, -1.5, 1.03125, -1.03125, 0.75, -0.75,
    M0, -M0, M0 * 1.01, -M0 * 1.01, M0 / 2, -M0 / 2, 0, -0, 1e15, -1e15, 2 ** 40, -(2 ** 40), Number.MAX_VALUE, -Number.MAX_VALUE,
  ];
  for (const x of values) {
    const k = logKey(x);
    assert.ok(Math.abs(k) <= LOG_BUCKETS_PER_SIGN, `${x}: key ${k}`);
    assert.ok(logLowerEdge(k) <= x && x < logUpperEdge(k), `${x}: key ${k} is [${logLowerEdge(k)}, ${logUpperEdge(k)})`);
    const [lo, hi] = [logLowerEdge(k), logUpperEdge(k)];
    if (Number.isFinite(lo) && Number.isFinite(hi) && k !== 0) {
      assert.ok(Math.abs((lo + hi) / 2 - x) <= LOG_RELATIVE_ERROR * Math.abs(x) * (1 + 1e-12), `${x}: midpoint error`);
    }
  }
  const sorted = [...values].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) assert.ok(logKey(sorted[i - 1]!) <= logKey(sorted[i]!), 'keys grow with x');
  assert.equal(logUpperEdge(-1), -M0);
  // −1 is the lower edge of its bucket: closed below, like the positive side.
  assert.equal(logLowerEdge(logKey(-1)), -1);
  assert.equal(logKey(-1 - 1e-12), logKey(-1) - 1);
  assert.equal(logKey(-1 + 1e-12), logKey(-1));
});

test('the linear level is the finest whose span fits, and a pure function of min and max', () => {
  const cases: Array<[number, number]> = [[0, 0], [0, 1], [2020, 2026], [-5, 5], [1e-12, 2e-12], [-1e300, 1e300], [40.7, 40.8], [0, 1e9]];
  for (const [min, max] of cases) {
    const level = linearLevel(min, max);
    const span = (l: number) => linearKey(max, l) - linearKey(min, l) + 1;
    assert.ok(span(level) <= LINEAR_MAX_SPAN, `${min}..${max}`);
    if (level > -64 && max - min > 0) assert.ok(span(level - 1) > LINEAR_MAX_SPAN || Math.max(-min, max) >= 2 ** (level - 1 + 50), `${min}..${max}: finest`);
    assert.ok(Number.isSafeInteger(linearKey(max, level)) && Number.isSafeInteger(linearKey(min, level)));
  }
});

test('coarsening a dyadic store equals counting at the coarser level', () => {
  const xs = normals(3000, 3, 10, 2);
  const count = (level: number) => {
    const keys = Array.from(xs, (x) => linearKey(x, level));
    const lo = Math.min(...keys), hi = Math.max(...keys);
    const counts = new Array<number>(hi - lo + 1).fill(0);
    for (const k of keys) counts[k - lo]!++;
    return { offset: lo, counts };
  };
  assert.deepEqual(coarsen(count(-6), 3), count(-3));
  assert.deepEqual(coarsen(count(-6), 0), count(-6));
});
