import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLinearClassifierModel } from '../../../src/model/build/linear-classifier.js';
import { gaussian, randomMatrix, seededRandom } from '../../../src/model/build/random.js';
import { linearClassifierReference } from '../../../src/model/reference.js';
import { loadModel } from '../../../src/model/load-model.js';
import { readSignature } from '../../../src/model/signature.js';
import { assertClose, output, row, runOnce, runSession } from '../helpers.js';

const F = 8;
const rng = seededRandom(31);
const params = { weights: Float32Array.from({ length: F }, () => gaussian(rng)), bias: 0.2 };
const N = 256;
const x = randomMatrix(rng, N, F);

function check(labels: BigInt64Array, probs: Float32Array): void {
  for (let r = 0; r < N; r++) {
    const ref = linearClassifierReference(params, row(x, r, F));
    assert.equal(labels[r], BigInt(ref.label), `label row ${r}`);
    assertClose(probs[2 * r]!, ref.probabilities[0], 1e-5, `P(0) row ${r}`);
    assertClose(probs[2 * r + 1]!, ref.probabilities[1], 1e-5, `P(1) row ${r}`);
  }
}

test('LinearClassifier + ZipMap: loadModel strips ZipMap, probabilities match the reference', async () => {
  const bytes = buildLinearClassifierModel(params);
  const sig = readSignature(bytes);
  assert.equal(sig.hasZipMap, true);
  assert.deepEqual(sig.opsets, [
    { domain: '', version: 13 },
    { domain: 'ai.onnx.ml', version: 1 },
  ]);
  const loaded = await loadModel(bytes, { source: 'mem://linear.onnx' });
  try {
    assert.deepEqual(
      loaded.signature.outputs.map((o) => [o.name, o.kind, o.elemType, o.shape]),
      [
        ['label', 'tensor', 'int64', ['N']],
        ['output_probability', 'tensor', 'float32', ['N', 2]],
      ],
    );
    const result = await runSession(loaded.session, { features: { data: x, dims: [N, F] } });
    const probs = output(result, 'output_probability');
    assert.deepEqual(probs.dims, [N, 2]);
    check(output(result, 'label').data as BigInt64Array, probs.data as Float32Array);
  } finally {
    await loaded.session.release();
  }
});

test('LinearClassifier without ZipMap runs directly', async () => {
  const result = await runOnce(buildLinearClassifierModel({ ...params, zipMap: false }), { features: { data: x, dims: [N, F] } });
  check(output(result, 'label').data as BigInt64Array, output(result, 'probabilities').data as Float32Array);
});
