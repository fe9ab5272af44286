import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindFeatures, BindingError, type InputSignature } from '../../src/scoring/binding.js';

function input(name: string, shape: (number | string | null)[], elemType = 'float32'): InputSignature {
  return { name, elemType, shape };
}

function bindingError(fn: () => unknown, ...mentions: string[]): BindingError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BindingError, `expected BindingError, got ${String(err)}`);
    assert.equal(err.name, 'BindingError');
    for (const m of mentions) assert.ok(err.message.includes(m), `message should mention ${m}: ${err.message}`);
    return err;
  }
  assert.fail('expected a BindingError');
}

const FEATURES = ['age', 'income', 'tenure'];

test('a matrix input whose width matches the feature count', () => {
  assert.deepEqual(bindFeatures([input('X', ['N', 3])], FEATURES), { kind: 'matrix', input: 'X', type: 'float32', features: FEATURES });
  assert.deepEqual(bindFeatures([input('X', [null, 3])], FEATURES), { kind: 'matrix', input: 'X', type: 'float32', features: FEATURES });
});

test('a matrix input whose width differs from the feature count is refused with both numbers', () => {
  bindingError(() => bindFeatures([input('X', ['N', 4])], FEATURES), '"X"', '4', '3 features');
  bindingError(() => bindFeatures([input('X', ['N', 2])], FEATURES), '"X"', '2', '3 features');
  bindingError(() => bindFeatures([input('X', ['N', 3])], ['only']), '"X"', '3', '1 features');
});

test('a symbolic or unknown width takes any feature count', () => {
  for (const width of ['F', null]) {
    for (const features of [['a'], FEATURES, Array.from({ length: 40 }, (_, i) => `f${i}`)]) {
      const b = bindFeatures([input('X', ['N', width])], features);
      assert.equal(b.kind, 'matrix');
      assert.deepEqual(b.features, features);
    }
  }
});

test('a matrix input without spec features: width 1 uses the input name, otherwise an error', () => {
  assert.deepEqual(bindFeatures([input('x0', ['N', 1])], undefined), { kind: 'matrix', input: 'x0', type: 'float32', features: ['x0'] });
  bindingError(() => bindFeatures([input('X', ['N', 3])], undefined), '"X"', 'features');
  bindingError(() => bindFeatures([input('X', ['N', 'F'])], undefined), '"X"', 'features');
});

test('a float64 input binds as float64', () => {
  assert.deepEqual(bindFeatures([input('X', ['N', 3], 'float64')], FEATURES), { kind: 'matrix', input: 'X', type: 'float64', features: FEATURES });
  const per = bindFeatures([input('a', ['N', 1], 'float64'), input('b', ['N', 1], 'float32')], undefined);
  assert.deepEqual(per.kind === 'per-feature' && per.inputs, [{ name: 'a', type: 'float64' }, { name: 'b', type: 'float32' }]);
});

test('integer and other non-float inputs are refused naming the input and type', () => {
  bindingError(() => bindFeatures([input('X', ['N', 3], 'int64')], FEATURES), '"X"', 'int64');
  bindingError(() => bindFeatures([input('X', ['N', 3], 'string')], FEATURES), '"X"', 'string');
  bindingError(() => bindFeatures([input('a', ['N', 1]), input('b', ['N', 1], 'int64')], ['a', 'b']), '"b"', 'int64');
});

test('a single input that is not [N, features] is refused', () => {
  bindingError(() => bindFeatures([input('X', ['N'])], FEATURES), '"X"', '[N]');
  bindingError(() => bindFeatures([input('X', ['N', 3, 1])], FEATURES), '"X"');
});

test('per-feature inputs default to the model input names', () => {
  const inputs = [input('age', ['N', 1]), input('income', [null, 1]), input('tenure', ['batch', 'one'])];
  assert.deepEqual(bindFeatures(inputs, undefined), {
    kind: 'per-feature',
    inputs: [{ name: 'age', type: 'float32' }, { name: 'income', type: 'float32' }, { name: 'tenure', type: 'float32' }],
    features: ['age', 'income', 'tenure'],
  });
});

test('per-feature inputs take spec features in input order', () => {
  const inputs = [input('in_0', ['N', 1]), input('in_1', ['N', 1])];
  const b = bindFeatures(inputs, ['col_b', 'col_a']);
  assert.equal(b.kind, 'per-feature');
  assert.deepEqual(b.features, ['col_b', 'col_a']);
  assert.deepEqual(b.kind === 'per-feature' && b.inputs.map((i) => i.name), ['in_0', 'in_1']);
});

test('per-feature count mismatch and non-[N,1] inputs are refused', () => {
  const inputs = [input('a', ['N', 1]), input('b', ['N', 1]), input('c', ['N', 1])];
  bindingError(() => bindFeatures(inputs, ['a', 'b']), '3 per-feature inputs', '2 features');
  bindingError(() => bindFeatures(inputs, ['a', 'b', 'c', 'd']), '3 per-feature inputs', '4 features');
  bindingError(() => bindFeatures([input('a', ['N', 1]), input('b', ['N', 2])], undefined), '"b"', '[N,2]');
  bindingError(() => bindFeatures([input('a', ['N', 1]), input('b', ['N'])], undefined), '"b"', '[N]');
});

test('a model without inputs is refused', () => {
  bindingError(() => bindFeatures([], FEATURES), 'no inputs');
});
