import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { loadModel, sha256Hex, ModelError } from '../../src/model/load-model.js';
import { DataType, onnx } from '../../src/model/onnx-proto.js';
import { makeDemoModels } from '../../src/model/build/demo.js';
import { buildLinearClassifierModel } from '../../src/model/build/linear-classifier.js';
import { encodeModel, floatInitializer, node, tensorValue } from '../../src/model/build/graph.js';
import { seededRandom } from '../../src/model/build/random.js';
import { output, runSession } from './helpers.js';

const demo = makeDemoModels(42);
const bytes = demo.logistic.bytes;
const sha = createHash('sha256').update(bytes).digest('hex');

/** Assert that loading fails with a ModelError of this code naming the source. */
async function rejectsWith(b: Uint8Array, source: string, code: ModelError['code'], pattern?: RegExp): Promise<ModelError> {
  let caught: unknown;
  try {
    const loaded = await loadModel(b, { source });
    await loaded.session.release();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ModelError, `expected ModelError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.permanent, true);
  assert.equal(caught.source, source);
  assert.ok(caught.message.startsWith(`model: cannot load ${source}: `), caught.message);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

test('loads with a matching pin (any case, optional sha256: prefix) and reports hash, size, signature', async () => {
  for (const pin of [sha, sha.toUpperCase(), `sha256:${sha}`]) {
    const loaded = await loadModel(bytes, { source: 'mem://logistic.onnx', expectedSha256: pin, intraOpNumThreads: 2 });
    try {
      assert.equal(loaded.sha256, sha);
      assert.equal(sha256Hex(bytes), sha);
      assert.equal(loaded.size, bytes.byteLength);
      assert.deepEqual(loaded.notes, []);
      assert.equal(loaded.signature, loaded.sourceSignature);
      assert.deepEqual(loaded.session.inputNames, ['features']);
      assert.deepEqual(loaded.session.outputNames, ['probability']);
      const x = new Float32Array(32).fill(0.5);
      const p = output(await runSession(loaded.session, { features: { data: x, dims: [1, 32] } }), 'probability');
      assert.ok(Math.abs((p.data as Float32Array)[0]! - demo.logistic.reference(x)) < 1e-6);
    } finally {
      await loaded.session.release();
    }
  }
});

test('sha256 pin mismatch throws a ModelError with the documented message', async () => {
  const wrong = '0'.repeat(64);
  await assert.rejects(loadModel(bytes, { source: 's3://models/m.onnx', expectedSha256: wrong }), (err: unknown) => {
    assert.ok(err instanceof ModelError);
    assert.equal(err.code, 'sha256-mismatch');
    assert.equal(err.message, `model: sha256 mismatch for s3://models/m.onnx: expected ${wrong}, got ${sha}`);
    return true;
  });
});

test('the hash is of the original bytes even when ZipMap is stripped', async () => {
  const zm = buildLinearClassifierModel({ weights: [1, 2], bias: 0 });
  const loaded = await loadModel(zm, { source: 'mem://zm.onnx', expectedSha256: sha256Hex(zm) });
  try {
    assert.equal(loaded.size, zm.byteLength);
    assert.equal(loaded.sourceSignature.hasZipMap, true);
    assert.equal(loaded.signature.hasZipMap, false);
    assert.equal(loaded.notes.length, 1);
  } finally {
    await loaded.session.release();
  }
});

test('garbage, empty and truncated bytes give a ModelError naming the source', async () => {
  const rng = seededRandom(5);
  const garbage = Uint8Array.from({ length: 4096 }, () => Math.floor(rng() * 256));
  await rejectsWith(garbage, 'mem://garbage.onnx', 'invalid-model', /not an ONNX model/);
  await rejectsWith(new Uint8Array(0), 'mem://empty.onnx', 'invalid-model');
  await rejectsWith(new TextEncoder().encode('<html>404 Not Found</html>'), 'https://x/model.onnx', 'invalid-model');
  // Truncation can land inside a field (protobuf error) or between fields (a valid but
  // incomplete message that ORT then refuses): both must be ModelErrors.
  const mlp = demo.mlp.bytes;
  const codes = new Set<string>();
  for (const cut of [1, 10, 100, 1000, Math.floor(mlp.length / 2), mlp.length - 1]) {
    let caught: unknown;
    try {
      const loaded = await loadModel(mlp.subarray(0, cut), { source: `mem://mlp-cut-${cut}.onnx` });
      await loaded.session.release();
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof ModelError, `cut ${cut}: ${String(caught)}`);
    assert.ok(caught.message.startsWith(`model: cannot load mem://mlp-cut-${cut}.onnx: `), caught.message);
    codes.add(caught.code);
  }
  assert.ok(codes.size >= 1);
});

test('a decodable model that ONNX Runtime refuses gives a load-failed ModelError with ORT message', async () => {
  const unknownOp = encodeModel({
    name: 'bad',
    nodes: [node('NoSuchOperator', ['x'], ['y'])],
    inputs: [tensorValue('x', DataType.FLOAT, ['N', 2])],
    outputs: [tensorValue('y', DataType.FLOAT, ['N', 2])],
    opsets: { '': 13 },
  });
  await rejectsWith(unknownOp, 'mem://unknown-op.onnx', 'load-failed', /NoSuchOperator/);

  const badShapes = encodeModel({
    name: 'bad-shapes',
    nodes: [node('MatMul', ['x', 'W'], ['y'])],
    inputs: [tensorValue('x', DataType.FLOAT, ['N', 3])],
    outputs: [tensorValue('y', DataType.FLOAT, ['N', 1])],
    initializers: [floatInitializer('W', [2, 1], [1, 2])],
    opsets: { '': 13 },
  });
  await rejectsWith(badShapes, 'mem://bad-shapes.onnx', 'load-failed', /Incompatible dimensions/);

  // What a truncation between top-level fields looks like: a model that lost its opset_import.
  const cut = onnx.ModelProto.decode(demo.mlp.bytes);
  cut.opsetImport = [];
  await rejectsWith(onnx.ModelProto.encode(cut).finish(), 'mem://no-opset.onnx', 'load-failed', /opset/i);
});

test('models with external data are refused before ORT resolves any path', async () => {
  const model = onnx.ModelProto.decode(demo.logistic.bytes);
  const w = model.graph?.initializer?.[0];
  assert.ok(w);
  w.rawData = new Uint8Array(0);
  w.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  w.externalData = [{ key: 'location', value: '../../etc/passwd' }];
  const b = onnx.ModelProto.encode(model).finish();
  await rejectsWith(b, 'mem://ext.onnx', 'unsupported', /external files \(\.\.\/\.\.\/etc\/passwd\)/);
});
