import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMlpModel, mlpLayerSizes, type MlpLayer } from '../../../src/model/build/mlp.js';
import { randomMatrix, seededRandom, uniform } from '../../../src/model/build/random.js';
import { mlpForward, mlpReference } from '../../../src/model/reference.js';
import { readSignature } from '../../../src/model/signature.js';
import { assertClose, output, row, runOnce } from '../helpers.js';

const rng = seededRandom(5);
function layer(inp: number, out: number, activation: MlpLayer['activation']): MlpLayer {
  const lim = Math.sqrt(6 / (inp + out));
  return {
    weights: Float32Array.from({ length: inp * out }, () => uniform(rng, -lim, lim)),
    bias: Float32Array.from({ length: out }, () => uniform(rng, -0.1, 0.1)),
    activation,
  };
}

test('MLP 32→256→256→1 (relu, relu, sigmoid) matches the JS reference', async () => {
  const params = { layers: [layer(32, 256, 'relu'), layer(256, 256, 'relu'), layer(256, 1, 'sigmoid')] };
  const bytes = buildMlpModel(params);
  const sig = readSignature(bytes);
  assert.deepEqual(sig.inputs[0]?.shape, ['N', 32]);
  assert.deepEqual(sig.outputs[0]?.shape, ['N', 1]);
  const N = 200;
  const x = randomMatrix(rng, N, 32);
  const out = output(await runOnce(bytes, { features: { data: x, dims: [N, 32] } }), 'probability');
  assert.deepEqual(out.dims, [N, 1]);
  for (let r = 0; r < N; r++) {
    assertClose((out.data as Float32Array)[r]!, mlpReference(params, row(x, r, 32)), 1e-5, `row ${r}`);
  }
});

test('MLP with a linear multi-unit head', async () => {
  const params = { layers: [layer(4, 8, 'sigmoid'), layer(8, 3, 'none')] };
  const bytes = buildMlpModel({ ...params, inputName: 'in', outputName: 'out' });
  const N = 20;
  const x = randomMatrix(rng, N, 4, -3, 3);
  const out = output(await runOnce(bytes, { in: { data: x, dims: [N, 4] } }), 'out');
  assert.deepEqual(out.dims, [N, 3]);
  for (let r = 0; r < N; r++) {
    const expected = mlpForward(params, row(x, r, 4));
    for (let j = 0; j < 3; j++) assertClose((out.data as Float32Array)[r * 3 + j]!, expected[j]!, 1e-5, `row ${r} unit ${j}`);
  }
});

test('MLP layer shapes must chain', () => {
  assert.deepEqual(mlpLayerSizes([layer(3, 5, 'relu'), layer(5, 1, 'none')]), [[3, 5], [5, 1]]);
  assert.throws(() => buildMlpModel({ layers: [] }), /at least one layer/);
  assert.throws(() => buildMlpModel({ layers: [layer(3, 5, 'relu'), layer(4, 1, 'none')] }), /takes 4 inputs/);
  const bad = { weights: new Float32Array(7), bias: new Float32Array(2), activation: 'none' as const };
  assert.throws(() => buildMlpModel({ layers: [bad] }), /7 weights for 2 outputs/);
});
