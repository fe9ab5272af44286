import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripZipMap } from '../../src/model/zipmap.js';
import { decodeModel, readSignature } from '../../src/model/signature.js';
import { loadModel } from '../../src/model/load-model.js';
import { DataType } from '../../src/model/onnx-proto.js';
import { buildLinearClassifierModel } from '../../src/model/build/linear-classifier.js';
import { buildLogisticModel } from '../../src/model/build/logistic.js';
import {
  ML_DOMAIN,
  attrFloats,
  attrInt,
  attrStrings,
  attrString,
  encodeModel,
  node,
  tensorValue,
  zipMapValue,
} from '../../src/model/build/graph.js';
import { linearClassifierReference } from '../../src/model/reference.js';
import { assertClose, output, row, runSession } from './helpers.js';

const params = { weights: [1, -2, 0.5], bias: 0.1 };

test('a model without ZipMap comes back as the very same bytes', () => {
  const bytes = buildLogisticModel(params);
  const r = stripZipMap(bytes);
  assert.equal(r.bytes, bytes);
  assert.equal(r.changed, false);
  assert.deepEqual(r.notes, []);
});

test('ZipMap becomes Identity and its output a float [N, classes] tensor under the same name', () => {
  const r = stripZipMap(buildLinearClassifierModel(params));
  assert.equal(r.changed, true);
  assert.equal(r.notes.length, 1);
  assert.match(r.notes[0]!, /output 'output_probability' is now float32 \[N, 2\]/);
  const nodes = decodeModel(r.bytes).graph?.node ?? [];
  assert.deepEqual(nodes.map((n) => n.opType), ['LinearClassifier', 'Identity']);
  assert.deepEqual(nodes[1]?.input, ['probabilities']);
  const sig = readSignature(r.bytes);
  assert.equal(sig.hasZipMap, false);
  assert.deepEqual(sig.outputs[1], {
    name: 'output_probability',
    elemType: 'float32',
    shape: ['N', 2],
    kind: 'tensor',
    type: 'tensor(float32)[N,2]',
  });
  // Idempotent: nothing left to strip.
  assert.equal(stripZipMap(r.bytes).changed, false);
});

test('string class labels, and a model importing only ai.onnx.ml, load and run after stripping', async () => {
  const w = params.weights;
  const bytes = encodeModel({
    name: 'strings',
    nodes: [
      node(
        'LinearClassifier',
        ['X'],
        ['label', 'probabilities'],
        [
          attrFloats('coefficients', [...w.map((v) => -v), ...w]),
          attrFloats('intercepts', [-params.bias, params.bias]),
          attrStrings('classlabels_strings', ['no', 'yes']),
          attrInt('multi_class', 0),
          attrString('post_transform', 'LOGISTIC'),
        ],
        ML_DOMAIN,
      ),
      node('ZipMap', ['probabilities'], ['output_probability'], [attrStrings('classlabels_strings', ['no', 'yes'])], ML_DOMAIN),
    ],
    inputs: [tensorValue('X', DataType.FLOAT, [3, 3])],
    outputs: [tensorValue('label', DataType.STRING, [3]), zipMapValue('output_probability', DataType.STRING)],
    opsets: { [ML_DOMAIN]: 1 },
  });
  const loaded = await loadModel(bytes, { source: 'mem://strings.onnx' });
  try {
    assert.ok(loaded.notes.some((n) => /default-domain opset 13/.test(n)), loaded.notes.join('\n'));
    // The batch dimension is copied from nowhere here (ZipMap input undeclared): 'N'.
    assert.deepEqual(loaded.signature.outputs[1]?.shape, ['N', 2]);
    const x = Float32Array.from([1, 0, 0, 0, 1, 0, -1, -1, 3]);
    const result = await runSession(loaded.session, { X: { data: x, dims: [3, 3] } });
    const probs = output(result, 'output_probability').data as Float32Array;
    const labels = output(result, 'label').data as string[];
    for (let r = 0; r < 3; r++) {
      const ref = linearClassifierReference(params, row(x, r, 3));
      assert.equal(labels[r], ref.label === 1 ? 'yes' : 'no');
      assertClose(probs[2 * r + 1]!, ref.probabilities[1], 1e-6, `row ${r}`);
    }
  } finally {
    await loaded.session.release();
  }
});

test('a ZipMap whose output feeds another node is kept and reported', () => {
  const bytes = encodeModel({
    name: 'chained',
    nodes: [
      node('ZipMap', ['P'], ['zm'], [{ name: 'classlabels_int64s', type: 7, ints: [0, 1] }], ML_DOMAIN),
      node('Identity', ['zm'], ['out']),
    ],
    inputs: [tensorValue('P', DataType.FLOAT, ['N', 2])],
    outputs: [zipMapValue('out', DataType.INT64)],
    opsets: { '': 16, [ML_DOMAIN]: 1 },
  });
  const r = stripZipMap(bytes);
  assert.equal(r.changed, false);
  assert.equal(r.bytes, bytes);
  assert.match(r.notes[0] ?? '', /kept/);
});
