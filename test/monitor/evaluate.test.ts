import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auc, brierScore, calibrationTable, evaluate, logLoss } from '../../src/monitor/evaluate.js';
import { rng } from './helpers.js';

// AUC by counting every positive/negative pair (ties count ½).
function bruteAuc(s: ArrayLike<number>, y: ArrayLike<number>): number {
  let wins = 0, pairs = 0;
  for (let i = 0; i < s.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < s.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      wins += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

test('AUC equals the brute-force pair count, ties included', () => {
  const u = rng(1);
  for (let trial = 0; trial < 20; trial++) {
    const n = 5 + Math.floor(u() * 200);
    // Coarse scores make many ties.
    const s = Float64Array.from({ length: n }, () => Math.round(u() * 10) / 10);
    const y = Uint8Array.from(s, (v) => (u() < v ? 1 : 0));
    if (y.every((v) => v === y[0])) continue;
    assert.ok(Math.abs(auc(s, y) - bruteAuc(s, y)) < 1e-12, `trial ${trial}`);
  }
  assert.equal(auc([0.1, 0.9], [0, 1]), 1);
  assert.equal(auc([0.5, 0.5], [0, 1]), 0.5);
  assert.ok(Number.isNaN(auc([0.1, 0.2], [1, 1])));
});

test('log loss (clipped) and Brier score equal direct sums', () => {
  const s = [0.9, 0.2, 0.6, 0, 1];
  const y = [1, 0, 0, 0, 0];
  const eps = 1e-15;
  const direct = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.4) + Math.log(1) + Math.log(eps)) / 5;
  assert.ok(Math.abs(logLoss(s, y) - direct) < 1e-12);
  assert.ok(Math.abs(brierScore(s, y) - (0.01 + 0.04 + 0.36 + 0 + 1) / 5) < 1e-15);
});

test('calibration bins hold count, mean score and observed rate', () => {
  const { bins, ece } = calibrationTable([0.05, 0.15, 0.12, 0.95, 1], [0, 1, 0, 1, 1], 10);
  assert.equal(bins.length, 10);
  assert.deepEqual(bins[1], { lo: 0.1, hi: 0.2, count: 2, meanScore: 0.135, observedRate: 0.5 });
  assert.equal(bins[9]!.count, 2); // 1.0 falls in the last bin
  assert.equal(bins[5]!.meanScore, null);
  const expected = (1 / 5) * 0.05 + (2 / 5) * Math.abs(0.135 - 0.5) + (2 / 5) * Math.abs(0.975 - 1);
  assert.ok(Math.abs(ece - expected) < 1e-12);
});

test('evaluate skips unknown labels, slices rows and checks inputs', () => {
  const scores = [0.9, 0.8, 0.3, 0.1, NaN, 0.7];
  const labels = [1, true, 0, false, 1, null];
  const slices = ['a', 'b', 'a', 'b', 'a', null];
  const r = evaluate({ scores, labels, slices }, { bins: 5 });
  assert.equal(r.overall.rows, 4);
  assert.equal(r.overall.skipped, 2);
  assert.equal(r.overall.auc, 1);
  assert.deepEqual(r.slices.map((s) => [s.value, s.evaluation.rows, s.evaluation.skipped]), [['(null)', 0, 1], ['a', 2, 1], ['b', 2, 0]]);
  assert.equal(r.slices[0]!.evaluation.auc, null);
  assert.throws(() => evaluate({ scores: [0.5], labels: [2] }), /^Error: evaluate: label at row 0 is 2, expected 0 or 1$/);
  assert.throws(() => evaluate({ scores: [1.5], labels: [1] }), /^Error: evaluate: score at row 0 is 1.5, expected a probability in \[0, 1\]$/);
  assert.throws(() => evaluate({ scores: [0.5], labels: [] }), /evaluate: columns differ in length: scores 1, labels 0/);
});
