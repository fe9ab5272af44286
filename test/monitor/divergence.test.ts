import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jensenShannonDistance, ksFromCounts, psi, smoothedShares } from '../../src/monitor/divergence.js';

test('PSI of hand-computed cases', () => {
  assert.equal(psi([50, 50], [50, 50]), 0);
  // (0.6 − 0.4)·ln(0.6/0.4) + (0.4 − 0.6)·ln(0.4/0.6) = 0.4·ln 1.5
  assert.ok(Math.abs(psi([40, 60], [60, 40]) - 0.4 * Math.log(1.5)) < 1e-15);
  // An empty reference bin is smoothed, not infinite.
  assert.ok(Number.isFinite(psi([100, 0], [90, 10])) && psi([100, 0], [90, 10]) > 0.25);
  assert.ok(Number.isNaN(psi([0, 0], [1, 1])));
  assert.throws(() => psi([1], [1, 2]), /^Error: monitor: bin counts differ in length: reference 1, current 2$/);
});

test('smoothed shares are floored and sum to 1', () => {
  const s = smoothedShares([0, 1, 999_999]);
  assert.ok(Math.abs(s.reduce((a, b) => a + b, 0) - 1) < 1e-15);
  assert.ok(s[0]! > 0 && s[0] === s[1]);
});

test('Jensen–Shannon distance: 0 for equal, 1 for disjoint, symmetric', () => {
  assert.equal(jensenShannonDistance([1, 2, 3], [2, 4, 6]), 0);
  assert.equal(jensenShannonDistance([5, 0], [0, 7]), 1);
  assert.equal(jensenShannonDistance([1, 3], [3, 1]), jensenShannonDistance([3, 1], [1, 3]));
  // p = (1/2, 1/2), q = (1, 0): m = (3/4, 1/4), JSD = ½KL(p‖m) + ½KL(q‖m) in bits.
  const jsd = 0.5 * (0.5 * Math.log2(0.5 / 0.75) + 0.5 * Math.log2(0.5 / 0.25)) + 0.5 * Math.log2(1 / 0.75);
  assert.ok(Math.abs(jensenShannonDistance([1, 1], [1, 0]) - Math.sqrt(jsd)) < 1e-15);
});

test('KS from counts is the largest gap of the cumulative shares', () => {
  assert.equal(ksFromCounts([1, 1, 1, 1], [1, 1, 1, 1]), 0);
  assert.equal(ksFromCounts([4, 0, 0, 0], [0, 0, 0, 4]), 1);
  assert.equal(ksFromCounts([1, 1, 2], [2, 1, 1]), 0.25);
});
