import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTreeEnsembleClassifierModel } from '../../../src/model/build/tree-classifier.js';
import { generateTreeEnsemble } from '../../../src/model/build/trees.js';
import { randomMatrix, seededRandom } from '../../../src/model/build/random.js';
import { treeClassifierReference } from '../../../src/model/reference.js';
import { loadModel } from '../../../src/model/load-model.js';
import { readSignature } from '../../../src/model/signature.js';
import { assertClose, output, row, runOnce, runSession } from '../helpers.js';

const F = 16;
// A non-zero base value checks that the single base_values entry is added to the logit.
const params = generateTreeEnsemble(21, { nFeatures: F, nTrees: 100, depth: 6, leafScale: 0.2, baseValue: -0.4 });
const N = 300;
const x = randomMatrix(seededRandom(22), N, F);

function checkPredictions(labels: BigInt64Array, probs: Float32Array): void {
  let positives = 0;
  for (let r = 0; r < N; r++) {
    const ref = treeClassifierReference(params, row(x, r, F));
    assert.equal(labels[r], BigInt(ref.label), `label row ${r}`);
    assertClose(probs[2 * r]!, ref.probabilities[0], 1e-5, `P(0) row ${r}`);
    assertClose(probs[2 * r + 1]!, ref.probabilities[1], 1e-5, `P(1) row ${r}`);
    positives += ref.label;
  }
  // Both classes occur, or the label check above proves little.
  assert.ok(positives > 0 && positives < N, `positives ${positives}`);
}

test('binary TreeEnsembleClassifier: label int64 [N] and probabilities [N,2] match the reference', async () => {
  const bytes = buildTreeEnsembleClassifierModel(params);
  const sig = readSignature(bytes);
  assert.deepEqual(
    sig.outputs.map((o) => [o.name, o.kind, o.elemType, o.shape]),
    [
      ['label', 'tensor', 'int64', ['N']],
      ['probabilities', 'tensor', 'float32', ['N', 2]],
    ],
  );
  const result = await runOnce(bytes, { features: { data: x, dims: [N, F] } });
  const label = output(result, 'label');
  const probs = output(result, 'probabilities');
  assert.equal(label.type, 'int64');
  assert.deepEqual(label.dims, [N]);
  assert.deepEqual(probs.dims, [N, 2]);
  assert.ok(label.data instanceof BigInt64Array);
  checkPredictions(label.data, probs.data as Float32Array);
});

test('classifier with ZipMap loads via loadModel and yields a [N,2] output_probability tensor', async () => {
  const bytes = buildTreeEnsembleClassifierModel(params, { zipMap: true, mlOpset: 1 });
  const sig = readSignature(bytes);
  assert.equal(sig.hasZipMap, true);
  assert.deepEqual(sig.outputs.map((o) => [o.name, o.kind, o.type]), [
    ['label', 'tensor', 'tensor(int64)[N]'],
    ['output_probability', 'sequence', 'seq(map(int64,float32))'],
  ]);
  const loaded = await loadModel(bytes, { source: 'mem://tree-classifier-zipmap.onnx' });
  try {
    assert.deepEqual(loaded.session.outputNames, ['label', 'output_probability']);
    assert.equal(loaded.signature.hasZipMap, false);
    assert.equal(loaded.notes.length, 1);
    const result = await runSession(loaded.session, { features: { data: x, dims: [N, F] } });
    const probs = output(result, 'output_probability');
    assert.equal(probs.type, 'float32');
    assert.deepEqual(probs.dims, [N, 2]);
    checkPredictions(output(result, 'label').data as BigInt64Array, probs.data as Float32Array);
  } finally {
    await loaded.session.release();
  }
});

test('classifier builder refuses all-positive leaves (ORT would skip the sigmoid silently)', () => {
  const positive = generateTreeEnsemble(1, { nFeatures: 2, nTrees: 2, depth: 1 });
  const abs = { ...positive, trees: positive.trees.map((t) => ({ nodes: t.nodes.map((n) => (n.kind === 'leaf' ? { ...n, value: Math.abs(n.value) } : n)) })) };
  assert.throws(() => buildTreeEnsembleClassifierModel(abs), /must not all be >= 0/);
});
