import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSignature, decodeModel, elemTypeOf } from '../../src/model/signature.js';
import { ModelError } from '../../src/model/errors.js';
import { onnx, DataType } from '../../src/model/onnx-proto.js';
import { buildLogisticModel } from '../../src/model/build/logistic.js';
import { buildTreeEnsembleClassifierModel } from '../../src/model/build/tree-classifier.js';
import { generateTreeEnsemble } from '../../src/model/build/trees.js';
import { encodeModel, floatInitializer, node, tensorValue } from '../../src/model/build/graph.js';

test('signature of a built logistic model', () => {
  const sig = readSignature(buildLogisticModel({ weights: new Float32Array(32), bias: 0 }));
  assert.deepEqual(sig, {
    inputs: [{ name: 'features', elemType: 'float32', shape: ['N', 32], kind: 'tensor', type: 'tensor(float32)[N,32]' }],
    outputs: [{ name: 'probability', elemType: 'float32', shape: ['N', 1], kind: 'tensor', type: 'tensor(float32)[N,1]' }],
    opsets: [{ domain: '', version: 13 }],
    producer: { name: 'batchscore', version: '0.1.0' },
    irVersion: 8,
    hasZipMap: false,
    externalData: [],
  });
});

test('signature of a ZipMap classifier reports the sequence-of-maps output', () => {
  const params = generateTreeEnsemble(1, { nFeatures: 4, nTrees: 3, depth: 2 });
  const sig = readSignature(buildTreeEnsembleClassifierModel(params, { zipMap: true }));
  assert.equal(sig.hasZipMap, true);
  assert.deepEqual(sig.outputs[1], {
    name: 'output_probability',
    elemType: 'float32',
    shape: [],
    kind: 'sequence',
    type: 'seq(map(int64,float32))',
  });
  assert.deepEqual(sig.outputs[0]?.elemType, 'int64');
});

/** A hand-made model covering what the builders never produce. */
function oddModel(): Uint8Array {
  const external = (name: string, location: string): onnx.ITensorProto => ({
    name,
    dims: [2],
    dataType: DataType.FLOAT,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: '0' },
      { key: 'length', value: '8' },
    ],
  });
  const model: onnx.IModelProto = {
    irVersion: 3,
    producerName: 'hand',
    opsetImport: [{ domain: '', version: 9 }],
    graph: {
      name: 'odd',
      node: [
        node('Constant', [], ['c'], [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: external('c', '../secret.bin') }]),
        node('Add', ['x', 'w'], ['y']),
      ],
      initializer: [external('w', 'weights.bin'), floatInitializer('w2', [1], [1])],
      input: [
        // Unknown batch dimension (neither dim_value nor dim_param) and an unknown-rank input.
        { name: 'x', type: { tensorType: { elemType: DataType.DOUBLE, shape: { dim: [{}, { dimValue: 2 }] } } } },
        { name: 's', type: { tensorType: { elemType: DataType.STRING } } },
        // IR 3 style: initializers repeated as inputs; not something to feed.
        tensorValue('w', DataType.FLOAT, [2]),
        tensorValue('w2', DataType.FLOAT, [1]),
      ],
      output: [
        tensorValue('y', DataType.DOUBLE, ['batch', 2]),
        { name: 'm', type: { mapType: { keyType: DataType.STRING, valueType: { tensorType: { elemType: DataType.INT32 } } } } },
      ],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

test('signature: unknown dims, other element types, maps, IR-3 inputs, external data', () => {
  const sig = readSignature(oddModel());
  assert.deepEqual(
    sig.inputs.map((i) => [i.name, i.elemType, i.shape, i.kind]),
    [
      ['x', 'float64', [null, 2], 'tensor'],
      ['s', 'string', [], 'tensor'],
    ],
  );
  assert.deepEqual(sig.outputs.map((o) => [o.name, o.kind, o.elemType, o.type]), [
    ['y', 'tensor', 'float64', 'tensor(float64)[batch,2]'],
    ['m', 'map', 'int32', 'map(string,int32)'],
  ]);
  assert.deepEqual(sig.externalData, ['weights.bin', '../secret.bin']);
  assert.equal(sig.irVersion, 3);
  assert.deepEqual(sig.producer, { name: 'hand', version: '' });
});

test('decodeModel rejects bytes that are not an ONNX model', () => {
  for (const bytes of [new Uint8Array(0), Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), new TextEncoder().encode('hello world')]) {
    assert.throws(
      () => decodeModel(bytes),
      (err: unknown) => err instanceof ModelError && err.code === 'invalid-model' && /^model: not an ONNX model/.test(err.message),
    );
  }
  // A well-formed graph-less model is still not a model.
  const empty = encodeModel({ name: 'g', nodes: [], inputs: [], outputs: [], opsets: { '': 13 } });
  assert.throws(() => readSignature(empty), /no graph outputs/);
});

test('elemTypeOf maps ONNX codes to ORT names', () => {
  assert.equal(elemTypeOf(DataType.FLOAT), 'float32');
  assert.equal(elemTypeOf(DataType.DOUBLE), 'float64');
  assert.equal(elemTypeOf(DataType.INT64), 'int64');
  assert.equal(elemTypeOf(999), 'unknown');
  assert.equal(elemTypeOf(undefined), 'unknown');
});
