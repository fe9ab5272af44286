/**
 * Scoring threads load models without onnx-proto when they can (thread-model.ts): the
 * session and the signature must be exactly what `loadModel` gives, and anything unusual
 * goes through `loadModel`. Model kinds choose rows per run (model-kind.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLinearClassifierModel } from '../../src/model/build/linear-classifier.js';
import { buildLogisticModel } from '../../src/model/build/logistic.js';
import { loadModel, ModelError, sha256Hex } from '../../src/model/load-model.js';
import { DENSE_BATCH_ROWS, modelKind, runBatchRows, TREE_BATCH_ROWS } from '../../src/run/model-kind.js';
import { scanModel } from '../../src/run/model-scan.js';
import { loadThreadModel } from '../../src/run/thread-model.js';
import { demoModels } from '../support/dataset.js';

async function same(bytes: Uint8Array, quick: boolean): Promise<void> {
  const sha = sha256Hex(bytes);
  const full = await loadModel(bytes, { source: 'mem://m', expectedSha256: sha });
  const thread = await loadThreadModel(bytes, { source: 'mem://m', expectedSha256: sha });
  try {
    assert.equal(thread.quick, quick);
    const plain = (i: { name: string; elemType: string; shape: readonly (number | string | null)[] }) => ({ name: i.name, elemType: i.elemType, shape: [...i.shape] });
    assert.deepEqual(thread.inputs.map(plain), full.signature.inputs.map(plain));
    assert.deepEqual(thread.outputNames, full.signature.outputs.filter((o) => o.kind === 'tensor').map((o) => o.name));
  } finally {
    await full.session.release();
    await thread.session.release();
  }
}

test('demo models load on the quick path with the signature loadModel reads', async () => {
  const m = demoModels();
  for (const name of ['logistic', 'mlp', 'trees'] as const) await same(m[name].bytes, true);
  // Per-feature inputs ([N,1] each, Concat in the graph).
  await same(buildLogisticModel({ weights: [0.5, -1, 2], bias: 0.1, perFeatureInputs: ['a', 'b', 'c'] }), true);
});

test('a ZipMap model goes through loadModel (stripped), with the same outputs', async () => {
  await same(buildLinearClassifierModel({ weights: [1, 2], bias: 0 }), false);
});

test('a wrong pin or bad bytes fail as loadModel fails', async () => {
  const bytes = demoModels().logistic.bytes;
  const wrong = '0'.repeat(64);
  await assert.rejects(loadThreadModel(bytes, { source: 'mem://m', expectedSha256: wrong }), (err: unknown) => err instanceof ModelError && err.code === 'sha256-mismatch');
  const garbage = new Uint8Array(300).fill(7);
  await assert.rejects(loadThreadModel(garbage, { source: 'mem://g', expectedSha256: sha256Hex(garbage) }), (err: unknown) => err instanceof ModelError);
});

test('model kinds and rows per run', () => {
  const m = demoModels();
  assert.equal(modelKind(m.logistic.bytes), 'other');
  assert.equal(modelKind(m.mlp.bytes), 'dense');
  assert.equal(modelKind(m.trees.bytes), 'tree-ensemble');
  assert.equal(modelKind(buildLinearClassifierModel({ weights: [1, 2], bias: 0 })), 'other');
  assert.equal(modelKind(new Uint8Array([1, 2, 3])), 'other');
  assert.equal(runBatchRows('dense', 8192), DENSE_BATCH_ROWS);
  assert.equal(runBatchRows('dense', 100), 100);
  assert.equal(runBatchRows('tree-ensemble', 8192), TREE_BATCH_ROWS);
  assert.equal(runBatchRows('tree-ensemble', 128), 128);
  assert.equal(runBatchRows('other', 8192), 8192);
  const scan = scanModel(m.mlp.bytes);
  assert.deepEqual(scan.ops.filter((op) => op === '/MatMul').length, 3);
  assert.equal(scan.externalData, false);
});
