import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeDemoModels, DEMO_FEATURES } from '../../../src/model/build/demo.js';
import { randomMatrix, seededRandom } from '../../../src/model/build/random.js';
import { readSignature } from '../../../src/model/signature.js';
import { assertClose, output, row, runOnce } from '../helpers.js';

const demo = makeDemoModels(42);

test('demo models are deterministic per seed', () => {
  const again = makeDemoModels(42);
  const other = makeDemoModels(43);
  for (const k of ['logistic', 'mlp', 'trees'] as const) {
    assert.deepEqual(again[k].bytes, demo[k].bytes, `${k} same seed`);
    assert.notDeepEqual(other[k].bytes, demo[k].bytes, `${k} other seed`);
  }
});

test('demo models have the documented shapes', () => {
  assert.equal(demo.mlp.params.layers.length, 3);
  assert.deepEqual(demo.mlp.params.layers.map((l) => [l.weights.length / l.bias.length, l.bias.length, l.activation]), [
    [32, 256, 'relu'],
    [256, 256, 'relu'],
    [256, 1, 'sigmoid'],
  ]);
  assert.equal(demo.trees.params.trees.length, 100);
  assert.equal(demo.logistic.params.weights.length, DEMO_FEATURES);
  for (const m of [demo.logistic, demo.mlp, demo.trees]) {
    const sig = readSignature(m.bytes);
    assert.deepEqual(sig.inputs.map((i) => [i.name, i.shape]), [[m.inputName, ['N', DEMO_FEATURES]]]);
    assert.deepEqual(sig.outputs.map((o) => [o.name, o.shape]), [[m.outputName, ['N', 1]]]);
    assert.deepEqual(m.featureNames, Array.from({ length: 32 }, (_, i) => `f${i}`));
  }
});

for (const name of ['logistic', 'mlp', 'trees'] as const) {
  test(`demo ${name} in ORT matches its reference`, async () => {
    const m = demo[name];
    const N = 256;
    const x = randomMatrix(seededRandom(99), N, DEMO_FEATURES);
    const out = output(await runOnce(m.bytes, { [m.inputName]: { data: x, dims: [N, DEMO_FEATURES] } }), m.outputName);
    const values = out.data as Float32Array;
    let lo = Infinity;
    let hi = -Infinity;
    for (let r = 0; r < N; r++) {
      const expected = m.reference(row(x, r, DEMO_FEATURES));
      assertClose(values[r]!, expected, 1e-5, `row ${r}`);
      lo = Math.min(lo, expected);
      hi = Math.max(hi, expected);
    }
    // Scores spread out: a model stuck at a constant would make pipeline tests meaningless.
    assert.ok(hi - lo > 0.1, `${name} scores span [${lo}, ${hi}]`);
  });
}
