import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputShapeError, PredictionBuffer, type OutputTensor } from '../../src/scoring/predictions.js';

function tensor(type: string, dims: number[], data: OutputTensor['data']): OutputTensor {
  return { type, dims, data };
}

function shapeError(fn: () => void, output: string): OutputShapeError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OutputShapeError, `expected OutputShapeError, got ${String(err)}`);
    assert.equal(err.name, 'OutputShapeError');
    assert.ok(err.message.includes(`"${output}"`), err.message);
    return err;
  }
  assert.fail('expected an OutputShapeError');
}

test('[N] and [N,1] outputs become one column named after the output, filled batch by batch', () => {
  const rows = 7;
  const buf = new PredictionBuffer(['score', 'prob'], rows);
  const score = Array.from({ length: rows }, (_, i) => i * 0.5 - 1);
  const prob = Array.from({ length: rows }, (_, i) => 1 / (i + 2));
  // Batches of 3, 3, 1 rows.
  for (const [start, n] of [[0, 3], [3, 3], [6, 1]] as [number, number][]) {
    buf.write(start, n, {
      score: tensor('float32', [n], Float32Array.from(score.slice(start, start + n))),
      prob: tensor('float64', [n, 1], Float64Array.from(prob.slice(start, start + n))),
      ignored: tensor('float32', [n, 5], new Float32Array(n * 5)),
    });
  }
  const cols = buf.columns();
  assert.deepEqual(cols.map((c) => [c.name, c.type]), [['score', 'float32'], ['prob', 'float64']]);
  assert.ok(cols[0]!.values instanceof Float32Array);
  assert.ok(cols[1]!.values instanceof Float64Array);
  assert.deepEqual(Array.from(cols[0]!.values as Float32Array), Array.from(Float32Array.from(score)));
  assert.deepEqual(Array.from(cols[1]!.values as Float64Array), prob);
});

test('[N,k] outputs are de-interleaved into name_0 .. name_{k-1}', () => {
  const rows = 5;
  const k = 3;
  // probabilities[r][c] = r * 10 + c, so every cell is distinct and traceable.
  const cell = (r: number, c: number) => r * 10 + c;
  const buf = new PredictionBuffer(['probabilities'], rows);
  for (const [start, n] of [[0, 2], [2, 3]] as [number, number][]) {
    const data = new Float32Array(n * k);
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) data[i * k + c] = cell(start + i, c);
    buf.write(start, n, { probabilities: tensor('float32', [n, k], data) });
  }
  const cols = buf.columns();
  assert.deepEqual(cols.map((c) => c.name), ['probabilities_0', 'probabilities_1', 'probabilities_2']);
  for (let c = 0; c < k; c++) {
    assert.equal(cols[c]!.type, 'float32');
    assert.deepEqual(Array.from(cols[c]!.values as Float32Array), Array.from({ length: rows }, (_, r) => cell(r, c)));
  }
});

test('int64 labels stay BigInt64Array, also when de-interleaved', () => {
  const buf = new PredictionBuffer(['label', 'pair'], 4);
  const labels = [0n, 1n, -(2n ** 62n), 2n ** 60n + 1n];
  buf.write(0, 4, {
    label: tensor('int64', [4], BigInt64Array.from(labels)),
    pair: tensor('int64', [4, 2], BigInt64Array.from(labels.flatMap((v) => [v, -v]))),
  });
  const cols = buf.columns();
  assert.deepEqual(cols.map((c) => [c.name, c.type]), [['label', 'int64'], ['pair_0', 'int64'], ['pair_1', 'int64']]);
  for (const c of cols) assert.ok(c.values instanceof BigInt64Array, `${c.name} is ${c.values.constructor.name}`);
  assert.deepEqual(Array.from(cols[0]!.values as BigInt64Array), labels);
  assert.deepEqual(Array.from(cols[1]!.values as BigInt64Array), labels);
  assert.deepEqual(Array.from(cols[2]!.values as BigInt64Array), labels.map((v) => -v));
});

test('int32, bool and string outputs keep their types', () => {
  const buf = new PredictionBuffer(['i', 'b', 's', 's2'], 3);
  buf.write(0, 3, {
    i: tensor('int32', [3], Int32Array.from([-1, 0, 2147483647])),
    b: tensor('bool', [3, 1], Uint8Array.from([1, 0, 1])),
    s: tensor('string', [3], ['yes', 'no', 'maybe']),
    s2: tensor('string', [3, 2], ['a0', 'a1', 'b0', 'b1', 'c0', 'c1']),
  });
  const cols = buf.columns();
  assert.deepEqual(cols.map((c) => [c.name, c.type]), [['i', 'int32'], ['b', 'bool'], ['s', 'string'], ['s2_0', 'string'], ['s2_1', 'string']]);
  assert.ok(cols[0]!.values instanceof Int32Array);
  assert.deepEqual(Array.from(cols[0]!.values as Int32Array), [-1, 0, 2147483647]);
  assert.ok(cols[1]!.values instanceof Uint8Array);
  assert.deepEqual(Array.from(cols[1]!.values as Uint8Array), [1, 0, 1]);
  assert.deepEqual(cols[2]!.values, ['yes', 'no', 'maybe']);
  assert.deepEqual(cols[3]!.values, ['a0', 'b0', 'c0']);
  assert.deepEqual(cols[4]!.values, ['a1', 'b1', 'c1']);
});

test('wrong batch dimensions are OutputShapeErrors naming the output', () => {
  const buf = () => new PredictionBuffer(['y'], 10);
  shapeError(() => buf().write(0, 4, { y: tensor('float32', [3], new Float32Array(3)) }), 'y');
  shapeError(() => buf().write(0, 4, { y: tensor('float32', [5, 1], new Float32Array(5)) }), 'y');
  shapeError(() => buf().write(0, 4, { y: tensor('float32', [4, 2, 1], new Float32Array(8)) }), 'y');
  shapeError(() => buf().write(0, 4, { y: tensor('float32', [], new Float32Array(1)) }), 'y');
  shapeError(() => buf().write(0, 4, { y: tensor('float32', [1, 4], new Float32Array(4)) }), 'y');
  const missing = shapeError(() => buf().write(0, 4, { z: tensor('float32', [4], new Float32Array(4)) }), 'y');
  assert.match(missing.message, /missing/);
  const err = shapeError(() => buf().write(0, 4, { y: tensor('float32', [3], new Float32Array(3)) }), 'y');
  assert.match(err.message, /\[3\]/);
});

test('unsupported element types are OutputShapeErrors', () => {
  for (const type of ['float16', 'uint8', 'int8', 'int16', 'uint16', 'complex64']) {
    const err = shapeError(() => new PredictionBuffer(['y'], 2).write(0, 2, { y: tensor(type, [2], new Float32Array(2)) }), 'y');
    assert.ok(err.message.includes(type), err.message);
  }
});

test('a width change between batches is an error', () => {
  const wider = new PredictionBuffer(['p'], 6);
  wider.write(0, 3, { p: tensor('float32', [3, 2], new Float32Array(6)) });
  const err = shapeError(() => wider.write(3, 3, { p: tensor('float32', [3, 3], new Float32Array(9)) }), 'p');
  assert.match(err.message, /2/);
  assert.match(err.message, /3/);

  const fromOne = new PredictionBuffer(['p'], 6);
  fromOne.write(0, 3, { p: tensor('float32', [3], new Float32Array(3)) });
  shapeError(() => fromOne.write(3, 3, { p: tensor('float32', [3, 2], new Float32Array(6)) }), 'p');

  const toOne = new PredictionBuffer(['p'], 6);
  toOne.write(0, 3, { p: tensor('float32', [3, 2], new Float32Array(6)) });
  shapeError(() => toOne.write(3, 3, { p: tensor('float32', [3, 1], new Float32Array(3)) }), 'p');

  // [N] then [N,1] is the same single column, not a width change.
  const same = new PredictionBuffer(['p'], 4);
  same.write(0, 2, { p: tensor('float32', [2], Float32Array.from([1, 2])) });
  same.write(2, 2, { p: tensor('float32', [2, 1], Float32Array.from([3, 4])) });
  assert.deepEqual(same.columns().map((c) => [c.name, Array.from(c.values as Float32Array)]), [['p', [1, 2, 3, 4]]]);
});

test('after reset, another model\'s outputs of the same names may have another width or type', () => {
  // One buffer per thread is reused file after file; the next file may use another model.
  const buf = new PredictionBuffer(['label', 'probabilities'], 4);
  buf.write(0, 4, { label: tensor('int64', [4], BigInt64Array.from([0n, 1n, 1n, 0n])), probabilities: tensor('float32', [4, 2], new Float32Array(8).fill(0.5)) });
  buf.reset(3);
  buf.write(0, 3, { label: tensor('int32', [3], Int32Array.from([2, 0, 1])), probabilities: tensor('float64', [3, 3], Float64Array.from([0.1, 0.2, 0.7, 0.6, 0.3, 0.1, 0.2, 0.5, 0.3])) });
  const cols = buf.columns();
  assert.deepEqual(cols.map((c) => [c.name, c.type]), [['label', 'int32'], ['probabilities_0', 'float64'], ['probabilities_1', 'float64'], ['probabilities_2', 'float64']]);
  assert.deepEqual(Array.from(cols[0]!.values as Int32Array), [2, 0, 1]);
  assert.deepEqual(Array.from(cols[3]!.values as Float64Array), [0.7, 0.1, 0.3]);
  // Within one row group a change is still an error.
  shapeError(() => buf.write(0, 1, { label: tensor('int32', [1], Int32Array.from([1])), probabilities: tensor('float64', [1, 2], new Float64Array(2)) }), 'probabilities');
});

test('columns() before any write is empty; rows not yet written stay zero', () => {
  const buf = new PredictionBuffer(['y'], 4);
  assert.deepEqual(buf.columns(), []);
  buf.write(2, 2, { y: tensor('float64', [2], Float64Array.from([5, 6])) });
  assert.deepEqual(Array.from(buf.columns()[0]!.values as Float64Array), [0, 0, 5, 6]);
  assert.equal(buf.rows, 4);
});
