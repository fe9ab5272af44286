import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sigmoid,
  logisticReference,
  linearClassifierReference,
  mlpReference,
  treeEnsembleReference,
  treeClassifierReference,
} from '../../src/model/reference.js';
import type { TreeEnsembleParams } from '../../src/model/build/trees.js';

test('sigmoid is exact at 0, symmetric, finite at the extremes, NaN-preserving', () => {
  assert.equal(sigmoid(0), 0.5);
  assert.ok(Math.abs(sigmoid(2) + sigmoid(-2) - 1) < 1e-15);
  assert.equal(sigmoid(1000), 1);
  assert.equal(sigmoid(-1000), 0);
  assert.ok(Number.isNaN(sigmoid(NaN)));
});

test('logistic and linear-classifier references agree with hand arithmetic', () => {
  const p = { weights: [1, -2], bias: 0.5 };
  // z = 1*3 - 2*1 + 0.5 = 1.5
  assert.equal(logisticReference(p, [3, 1]), 1 / (1 + Math.exp(-1.5)));
  const c = linearClassifierReference(p, [3, 1]);
  assert.equal(c.label, 1);
  assert.ok(Math.abs(c.probabilities[0] + c.probabilities[1] - 1) < 1e-15);
  assert.equal(linearClassifierReference(p, [0, 1]).label, 0);
  assert.throws(() => logisticReference(p, [1]), /row has 1 features, model takes 2/);
});

test('references round parameters and inputs to float32 like the model does', () => {
  // 0.1 is not a float32; the model stores fround(0.1).
  const p = { weights: [0.1], bias: 0 };
  assert.equal(logisticReference(p, [1]), sigmoid(Math.fround(0.1)));
});

test('MLP reference: relu then linear head', () => {
  const params = {
    layers: [
      // 2 inputs → 2 units: unit0 = x0 - x1, unit1 = x1 - x0 (row-major in × out)
      { weights: Float32Array.from([1, -1, -1, 1]), bias: Float32Array.from([0, 0]), activation: 'relu' as const },
      { weights: Float32Array.from([1, 2]), bias: Float32Array.from([0.5]), activation: 'none' as const },
    ],
  };
  assert.equal(mlpReference(params, [3, 1]), 2 + 0.5); // relu(2)*1 + relu(-2)*2 + 0.5
  assert.equal(mlpReference(params, [1, 3]), 4 + 0.5); // relu(-2)*1 + relu(2)*2 + 0.5
});

test('tree references: <= goes left, NaN goes right, classifier logit is the sum', () => {
  const p: TreeEnsembleParams = {
    nFeatures: 1,
    baseValue: -1,
    trees: [{ nodes: [{ kind: 'branch', feature: 0, threshold: 0, left: 1, right: 2 }, { kind: 'leaf', value: 0.5 }, { kind: 'leaf', value: 3 }] }],
  };
  assert.equal(treeEnsembleReference(p, [0]), -0.5);
  assert.equal(treeEnsembleReference(p, [0.001]), 2);
  assert.equal(treeEnsembleReference(p, [NaN]), 2);
  const c = treeClassifierReference(p, [0]);
  assert.equal(c.label, 0);
  assert.equal(c.probabilities[1], sigmoid(-0.5));
});
