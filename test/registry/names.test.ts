import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RegistryError } from '../../src/registry/errors.js';
import { checkAliasName, checkModelName, checkVersion, formatModelRef, parseModelRef } from '../../src/registry/names.js';

test('refs: bare name and @latest mean the latest version; digits are versions; letters are aliases', () => {
  assert.deepEqual(parseModelRef('churn'), { name: 'churn', kind: 'latest' });
  assert.deepEqual(parseModelRef('churn@latest'), { name: 'churn', kind: 'latest' });
  assert.deepEqual(parseModelRef('churn@3'), { name: 'churn', kind: 'version', version: 3 });
  assert.deepEqual(parseModelRef('churn.v2_x-y@production'), { name: 'churn.v2_x-y', kind: 'alias', alias: 'production' });
  assert.deepEqual(parseModelRef('churn@v3'), { name: 'churn', kind: 'alias', alias: 'v3' });
  for (const ref of ['churn', 'churn@latest', 'churn@3', 'churn@production']) {
    assert.equal(formatModelRef(parseModelRef(ref)), ref === 'churn' ? 'churn@latest' : ref);
  }
});

test('refs and names: every refusal is a RegistryError quoting the bad value', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => parseModelRef(''), /invalid model ref ""/],
    [() => parseModelRef(42), /invalid model ref 42/],
    [() => parseModelRef('@3'), /invalid model name ""/],
    [() => parseModelRef('churn@'), /invalid alias ""/],
    [() => parseModelRef('churn@0'), /invalid version "0"/],
    [() => parseModelRef('churn@3.1'), /invalid version "3.1"/],
    [() => parseModelRef('churn@Prod'), /invalid alias "Prod"/],
    [() => checkModelName('a/b'), /invalid model name "a\/b"/],
    [() => checkModelName('-x'), /invalid model name "-x"/],
    [() => checkModelName('x'.repeat(65)), /invalid model name/],
    [() => checkAliasName('latest', true), /alias "latest" is reserved/],
    [() => checkAliasName('pro duction'), /invalid alias "pro duction"/],
    [() => checkVersion(0), /invalid version 0/],
    [() => checkVersion(1.5), /invalid version 1.5/],
    [() => checkVersion('007'), /invalid version "007"/],
  ];
  for (const [fn, pattern] of cases) {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.code, 'invalid-name');
      assert.equal(err.permanent, true);
      assert.match(err.message, /^registry: /);
      assert.match(err.message, pattern);
      return true;
    });
  }
  assert.equal(checkAliasName('latest'), 'latest', 'reading @latest is fine; only writing it is refused');
  assert.equal(checkVersion('12'), 12);
});
