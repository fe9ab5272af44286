/**
 * The light protobuf scan (model-scan.ts) reads a graph's inputs and outputs as the full
 * ONNX schema reader (`readSignature`) does: planning uses it to skip loading onnx-proto.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLinearClassifierModel } from '../../src/model/build/linear-classifier.js';
import { buildLogisticModel } from '../../src/model/build/logistic.js';
import { buildTreeEnsembleClassifierModel } from '../../src/model/build/tree-classifier.js';
import { generateTreeEnsemble } from '../../src/model/build/trees.js';
import { encodeModel, node, tensorValue } from '../../src/model/build/graph.js';
import { DataType } from '../../src/model/onnx-proto.js';
import { readSignature } from '../../src/model/signature.js';
import { scanModel } from '../../src/run/model-scan.js';
import { resolveModel } from '../../src/run/run-plan.js';
import { demoModels } from '../support/dataset.js';
import { tmpDir } from '../support/tmp.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A model with what builders rarely make: an input that is also an initializer, an unnamed dim. */
function oddModel(): Uint8Array {
  return encodeModel({
    name: 'odd',
    nodes: [node('Add', ['x', 'w'], ['sum']), node('Identity', ['sum'], ['y'])],
    inputs: [{ name: 'x', type: { tensorType: { elemType: DataType.DOUBLE, shape: { dim: [{}, { dimValue: 3 }] } } } }, tensorValue('w', DataType.DOUBLE, [3])],
    outputs: [tensorValue('y', DataType.DOUBLE, ['batch', 3])],
    initializers: [{ name: 'w', dims: [3], dataType: DataType.DOUBLE, doubleData: [1, 2, 3] }],
    opsets: { '': 13 },
  });
}

const models: [string, () => Uint8Array][] = [
  ['demo logistic', () => demoModels().logistic.bytes],
  ['demo MLP', () => demoModels().mlp.bytes],
  ['demo trees', () => demoModels().trees.bytes],
  ['logistic with per-feature inputs', () => buildLogisticModel({ weights: new Float32Array(3), bias: 1, perFeatureInputs: ['a', 'b', 'c'] })],
  ['linear classifier with ZipMap', () => buildLinearClassifierModel({ weights: [1, 2], bias: 0 })],
  ['linear classifier without ZipMap', () => buildLinearClassifierModel({ weights: [1, 2], bias: 0, zipMap: false })],
  ['tree classifier with ZipMap', () => buildTreeEnsembleClassifierModel(generateTreeEnsemble(1, { nFeatures: 4, nTrees: 3, depth: 2 }), { zipMap: true })],
  ['hand-made: initializer input, unnamed and named dims, float64', oddModel],
];

for (const [name, build] of models) {
  test(`scanModel reads the inputs and outputs readSignature reads: ${name}`, () => {
    const bytes = build();
    const scan = scanModel(bytes);
    const sig = readSignature(bytes);
    const view = (v: { name: string; elemType: string; shape: readonly (number | string | null)[] }) => ({ name: v.name, elemType: v.elemType, shape: [...v.shape] });
    assert.deepEqual(scan.inputs.map((v) => v.tensor), sig.inputs.map((v) => v.kind === 'tensor'));
    assert.deepEqual(scan.outputs.map((v) => v.tensor), sig.outputs.map((v) => v.kind === 'tensor'));
    assert.deepEqual(scan.inputs.filter((v) => v.tensor).map(view), sig.inputs.filter((v) => v.kind === 'tensor').map(view));
    assert.deepEqual(scan.outputs.filter((v) => v.tensor).map(view), sig.outputs.filter((v) => v.kind === 'tensor').map(view));
    assert.deepEqual(scan.outputs.map((v) => v.name), sig.outputs.map((v) => v.name));
  });
}

test('resolveModel records the same signature by the light scan as by the full reader, and notes ZipMap removal', async () => {
  const dir = await tmpDir();
  try {
    const plain = join(dir.path, 'logistic.onnx');
    await writeFile(plain, demoModels().logistic.bytes);
    const spec = { model: { uri: plain }, features: Array.from({ length: 32 }, (_, i) => `f${i}`) } as unknown as Parameters<typeof resolveModel>[0];
    const record = await resolveModel(spec);
    const sig = readSignature(demoModels().logistic.bytes);
    assert.deepEqual(record.inputs, sig.inputs.map((v) => ({ name: v.name, elemType: v.elemType, shape: v.shape })));
    assert.deepEqual(record.outputs, sig.outputs.map((v) => ({ name: v.name, elemType: v.elemType, shape: v.shape })));
    assert.deepEqual(record.notes, []);

    const zip = join(dir.path, 'linear.onnx');
    await writeFile(zip, buildLinearClassifierModel({ weights: [1, 2], bias: 0 }));
    const zipped = await resolveModel({ model: { uri: zip }, features: ['a', 'b'] } as unknown as Parameters<typeof resolveModel>[0]);
    assert.deepEqual(zipped.notes, ['ZipMap removed: probabilities exposed as a float tensor']);
    assert.deepEqual(zipped.outputs.map((o) => [o.name, o.elemType]), [['label', 'int64'], ['output_probability', 'float32']]);

    const garbage = join(dir.path, 'garbage.onnx');
    await writeFile(garbage, new Uint8Array([1, 2, 3, 4, 5]));
    await assert.rejects(resolveModel({ model: { uri: garbage }, features: ['a'] } as unknown as Parameters<typeof resolveModel>[0]), /model: cannot load .*garbage\.onnx/);
  } finally {
    await dir.cleanup();
  }
});
