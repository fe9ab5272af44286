import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cardTitle, checkCard, checkMetrics, MAX_CARD_BYTES, parseMetricArgs } from '../../src/registry/model-card.js';
import { featureNamesOf } from '../../src/registry/model-metadata.js';

test('metric arguments: name=value, comma-joined or repeated, sorted', () => {
  assert.deepEqual(parseMetricArgs(['auc=0.81,f1=.7', 'logloss=4.1e-1', 'val/auc=-1']), { auc: 0.81, f1: 0.7, logloss: 0.41, 'val/auc': -1 });
  assert.deepEqual(Object.keys(parseMetricArgs(['z=1', 'a=2'])), ['a', 'z']);
  assert.deepEqual(parseMetricArgs([]), {});
  assert.throws(() => parseMetricArgs(['auc']), /registry: invalid metric "auc": expected name=number/);
  assert.throws(() => parseMetricArgs(['auc=']), /registry: invalid metric "auc="/);
  assert.throws(() => parseMetricArgs(['auc=0x10']), /registry: metric "auc" must be a finite number, got "0x10"/);
  assert.throws(() => parseMetricArgs(['auc=Infinity']), /must be a finite number, got "Infinity"/);
  assert.throws(() => parseMetricArgs(['auc=1', 'auc=2']), /metric "auc" given twice/);
  assert.throws(() => parseMetricArgs(['1auc=1']), /invalid metric name "1auc"/);
  assert.throws(() => checkMetrics([1]), /metrics must be an object/);
});

test('model cards: text only, bounded, line endings normalised; title from the first heading', () => {
  assert.equal(checkCard(undefined), null);
  assert.equal(checkCard('a\r\nb\rc'), 'a\nb\nc');
  assert.throws(() => checkCard('x'.repeat(MAX_CARD_BYTES + 1)), new RegExp(`is ${MAX_CARD_BYTES + 1} bytes; the limit is ${MAX_CARD_BYTES}`));
  assert.throws(() => checkCard('PK\u0003\u0004\u0000'), /NUL characters/);
  assert.throws(() => checkCard(42), /model card must be text, got 42/);
  assert.equal(cardTitle('intro line\n\n## Churn model v3\ntext'), 'Churn model v3');
  assert.equal(cardTitle('\n  plain first line \n'), 'plain first line');
  assert.equal(cardTitle(null), null);
});

test('feature names: given, else per-feature input names, else none for a matrix', () => {
  const matrix = { inputs: [{ name: 'X', elemType: 'float32' as const, shape: ['N', 3], kind: 'tensor' as const, type: '' }] };
  const perFeature = { inputs: ['a', 'b'].map((name) => ({ name, elemType: 'float32' as const, shape: ['N', 1], kind: 'tensor' as const, type: '' })) };
  assert.equal(featureNamesOf(matrix), null);
  assert.deepEqual(featureNamesOf(matrix, ['x', 'y', 'z']), ['x', 'y', 'z']);
  assert.throws(() => featureNamesOf(matrix, ['x']), /registry: 1 feature names given but the model takes 3 features/);
  assert.throws(() => featureNamesOf(matrix, ['x', 'x', 'y']), /must be distinct non-empty strings/);
  assert.deepEqual(featureNamesOf(perFeature), ['a', 'b']);
});
