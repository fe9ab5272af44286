import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLogisticModel } from '../../../src/model/build/logistic.js';
import { gaussian, randomMatrix, seededRandom } from '../../../src/model/build/random.js';
import { logisticReference } from '../../../src/model/reference.js';
import { readSignature } from '../../../src/model/signature.js';
import { assertClose, output, row, runOnce } from '../helpers.js';

const F = 32;
const rng = seededRandom(11);
const weights = Float32Array.from({ length: F }, () => gaussian(rng) * 0.5);
const params = { weights, bias: 0.25 };

test('logistic [N, F] model matches the JS reference, NaN rows give NaN', async () => {
  const N = 500;
  const x = randomMatrix(rng, N, F);
  // A few rows with a missing value: MatMul propagates NaN, and so must the reference.
  for (const r of [0, 17, 499]) x[r * F + (r % F)] = NaN;
  const out = output(await runOnce(buildLogisticModel(params), { features: { data: x, dims: [N, F] } }), 'probability');
  assert.deepEqual(out.dims, [N, 1]);
  assert.equal(out.type, 'float32');
  let nans = 0;
  for (let r = 0; r < N; r++) {
    const expected = logisticReference(params, row(x, r, F));
    if (Number.isNaN(expected)) nans++;
    assertClose((out.data as Float32Array)[r]!, expected, 1e-5, `row ${r}`);
  }
  assert.equal(nans, 3);
});

test('logistic with custom names and number[] weights', async () => {
  const w = [0.5, -1.25, 2];
  const bytes = buildLogisticModel({ weights: w, bias: -0.1, inputName: 'X', outputName: 'p' });
  const x = Float32Array.from([1, 2, 3, -1, 0, 0.5]);
  const out = output(await runOnce(bytes, { X: { data: x, dims: [2, 3] } }), 'p');
  for (let r = 0; r < 2; r++) {
    assertClose((out.data as Float32Array)[r]!, logisticReference({ weights: w, bias: -0.1 }, row(x, r, 3)), 1e-6, `row ${r}`);
  }
});

test('per-feature inputs (sklearn-onnx layout) match the matrix model', async () => {
  const names = Array.from({ length: F }, (_, i) => `col_${i}`);
  const bytes = buildLogisticModel({ ...params, perFeatureInputs: names });
  const sig = readSignature(bytes);
  assert.deepEqual(
    sig.inputs.map((i) => [i.name, i.elemType, i.shape]),
    names.map((n) => [n, 'float32', ['N', 1]]),
  );
  const N = 64;
  const x = randomMatrix(rng, N, F);
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
  names.forEach((n, j) => {
    feeds[n] = { data: Float32Array.from({ length: N }, (_, r) => x[r * F + j]!), dims: [N, 1] };
  });
  const out = output(await runOnce(bytes, feeds), 'probability');
  assert.deepEqual(out.dims, [N, 1]);
  for (let r = 0; r < N; r++) {
    assertClose((out.data as Float32Array)[r]!, logisticReference(params, row(x, r, F)), 1e-5, `row ${r}`);
  }
});

test('logistic builder rejects inconsistent options', () => {
  assert.throws(() => buildLogisticModel({ weights: [], bias: 0 }), /empty/);
  assert.throws(() => buildLogisticModel({ weights: [1, 2], bias: 0, perFeatureInputs: ['a'] }), /perFeatureInputs/);
  assert.throws(() => buildLogisticModel({ weights: [1, 2], bias: 0, perFeatureInputs: ['a', 'a'] }), /duplicate/);
});
