import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTreeEnsembleModel } from '../../../src/model/build/tree-regressor.js';
import { generateTreeEnsemble, validateTreeEnsemble, type TreeEnsembleParams } from '../../../src/model/build/trees.js';
import { randomMatrix, seededRandom } from '../../../src/model/build/random.js';
import { treeEnsembleReference } from '../../../src/model/reference.js';
import { readSignature } from '../../../src/model/signature.js';
import { assertClose, output, row, runOnce } from '../helpers.js';

const F = 32;
const params = generateTreeEnsemble(9, { nFeatures: F, nTrees: 100, depth: 6, baseValue: 0.3 });

test('generated ensemble has the requested shape and float32 values', () => {
  assert.equal(params.trees.length, 100);
  for (const t of params.trees) {
    assert.equal(t.nodes.length, 127);
    assert.equal(t.nodes.filter((n) => n.kind === 'leaf').length, 64);
    for (const n of t.nodes) {
      const v = n.kind === 'leaf' ? n.value : n.threshold;
      assert.equal(v, Math.fround(v));
    }
  }
  assert.deepEqual(generateTreeEnsemble(9, { nFeatures: F, baseValue: 0.3 }), params, 'same seed, same trees');
});

for (const mlOpset of [1, 3] as const) {
  test(`100-tree depth-6 TreeEnsembleRegressor (ai.onnx.ml ${mlOpset}) matches the reference, NaN included`, async () => {
    const bytes = buildTreeEnsembleModel(params, { mlOpset });
    const sig = readSignature(bytes);
    assert.deepEqual(sig.opsets, [
      { domain: '', version: 13 },
      { domain: 'ai.onnx.ml', version: mlOpset },
    ]);
    assert.deepEqual(sig.outputs.map((o) => [o.name, o.elemType, o.shape]), [['score', 'float32', ['N', 1]]]);
    const N = 300;
    const x = randomMatrix(seededRandom(mlOpset), N, F);
    // NaN fails `x <= t` and goes to the false branch, in ORT (missing_value_tracks_true=0) and in the reference.
    for (let r = 0; r < 10; r++) x[r * F + r] = NaN;
    const out = output(await runOnce(bytes, { features: { data: x, dims: [N, F] } }), 'score');
    assert.deepEqual(out.dims, [N, 1]);
    for (let r = 0; r < N; r++) {
      assertClose((out.data as Float32Array)[r]!, treeEnsembleReference(params, row(x, r, F)), 1e-5, `row ${r}`);
    }
  });
}

test('a hand-written irregular tree follows the documented split semantics', async () => {
  // x0 <= 0.5 ? (x1 <= -1 ? 1 : 2) : 3, plus a second tree that is a single leaf.
  const p: TreeEnsembleParams = {
    nFeatures: 2,
    baseValue: 10,
    trees: [
      {
        nodes: [
          { kind: 'branch', feature: 0, threshold: 0.5, left: 1, right: 2 },
          { kind: 'branch', feature: 1, threshold: -1, left: 3, right: 4 },
          { kind: 'leaf', value: 3 },
          { kind: 'leaf', value: 1 },
          { kind: 'leaf', value: 2 },
        ],
      },
      { nodes: [{ kind: 'leaf', value: 100 }] },
    ],
  };
  const x = Float32Array.from([0.5, -1, 0.5, 0, 0.6, -5, NaN, -5]);
  const expected = [111, 112, 113, 113];
  const out = output(await runOnce(buildTreeEnsembleModel(p), { features: { data: x, dims: [4, 2] } }), 'score');
  for (let r = 0; r < 4; r++) {
    assert.equal(treeEnsembleReference(p, row(x, r, 2)), expected[r]);
    assert.equal((out.data as Float32Array)[r], expected[r]);
  }
});

test('malformed ensembles are rejected before ORT sees them', () => {
  const leaf = { kind: 'leaf' as const, value: 1 };
  assert.throws(
    () => validateTreeEnsemble({ nFeatures: 1, baseValue: 0, trees: [{ nodes: [{ kind: 'branch', feature: 0, threshold: 0, left: 0, right: 1 }, leaf] }] }),
    /bad child 0/,
  );
  assert.throws(
    () => validateTreeEnsemble({ nFeatures: 1, baseValue: 0, trees: [{ nodes: [{ kind: 'branch', feature: 3, threshold: 0, left: 1, right: 2 }, leaf, leaf] }] }),
    /feature 3/,
  );
  assert.throws(() => buildTreeEnsembleModel({ nFeatures: 1, baseValue: 0, trees: [] }), /no trees/);
});
