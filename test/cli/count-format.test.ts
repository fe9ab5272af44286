/** formatCount writes what toLocaleString('en-US') writes (it replaces it in run summaries). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCount } from '../../src/cli/count-format.js';

test('formatCount matches toLocaleString("en-US")', () => {
  const values = [0, -0, 1, -1, 7, 12, 123, 999, 1000, -1000, 1234, 99_999, 100_000, 2_000_000, 1_234_567_890, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
  const others = [1.5, 1234.5678, -0.25, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY];
  for (const n of [...values, ...others]) assert.equal(formatCount(n), n.toLocaleString('en-US'), String(n));
  for (let n = 1; n < 1e15; n = n * 7 + 3) assert.equal(formatCount(n), n.toLocaleString('en-US'));
});
