import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ALIAS_HISTORY_LIMIT,
  parseAliasDocument,
  previousTarget,
  promoteAlias,
  rollbackAlias,
  serializeAliasDocument,
  targetStack,
  type AliasDocument,
} from '../../src/registry/alias-document.js';
import { RegistryError } from '../../src/registry/errors.js';

let n = 0;
const change = () => ({ model: 'churn', alias: 'production', at: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(), by: 'tester', id: `id-${++n}` });

function promote(doc: AliasDocument | undefined, version: number): AliasDocument {
  return promoteAlias(doc, change(), version).doc;
}

test('rollback walks back like an undo stack, not a toggle', () => {
  let doc = promote(undefined, 1);
  doc = promote(doc, 2);
  doc = promote(doc, 3);
  assert.deepEqual(targetStack(doc.history), [1, 2, 3]);
  doc = rollbackAlias(doc, change());
  assert.equal(doc.target, 2);
  doc = rollbackAlias(doc, change());
  assert.equal(doc.target, 1, 'a second rollback goes further back, not back to 3');
  assert.equal(previousTarget(doc), undefined);
  assert.throws(() => rollbackAlias(doc, change()), (err: unknown) => err instanceof RegistryError && err.code === 'no-history');
  doc = promote(doc, 4);
  assert.equal(previousTarget(doc), 1, 'rolled-back versions are not rollback targets');
  assert.deepEqual(doc.history.map((h) => `${h.action}:${h.version}`), ['promote:1', 'promote:2', 'promote:3', 'rollback:2', 'rollback:1', 'promote:4']);
});

test('promoting to the current target changes nothing', () => {
  const doc = promote(undefined, 5);
  const again = promoteAlias(doc, change(), 5);
  assert.equal(again.changed, false);
  assert.equal(again.doc, doc);
});

test('history is capped; rollback still lands on the recorded version after trimming', () => {
  let doc = promote(undefined, 1);
  for (let i = 0; i < ALIAS_HISTORY_LIMIT + 10; i++) doc = promote(doc, (i % 2) + 2);
  assert.equal(doc.history.length, ALIAS_HISTORY_LIMIT);
  doc = rollbackAlias(doc, change());
  assert.equal(doc.history.length, ALIAS_HISTORY_LIMIT);
  assert.equal(targetStack(doc.history).at(-1), doc.target);
  // A log that starts with a rollback (its promote trimmed away) still derives the right top.
  assert.deepEqual(targetStack([{ version: 7, at: 'x', by: 'y', action: 'rollback', id: 'z' }]), [7]);
});

test('parse refuses malformed documents with the URI and the reason', () => {
  const doc = promote(promote(undefined, 1), 2);
  const where = 's3://models/churn/aliases/production.json';
  const expected = { model: 'churn', alias: 'production' };
  assert.deepEqual(parseAliasDocument(serializeAliasDocument(doc), where, expected), doc);
  const bad: [string, RegExp][] = [
    ['{', /not JSON/],
    ['[]', /not a JSON object/],
    [JSON.stringify({ ...doc, format: 'v0' }), /format is "v0"/],
    [JSON.stringify({ ...doc, history: [] }), /history must be a non-empty array/],
    [JSON.stringify({ ...doc, target: 1 }), /target 1 differs from the last history entry \(2\)/],
    [JSON.stringify({ ...doc, history: [{ version: 'one' }] }), /history\[0\] is malformed/],
  ];
  for (const [text, pattern] of bad) {
    assert.throws(() => parseAliasDocument(text, where, expected), (err: unknown) => {
      assert.ok(err instanceof RegistryError && err.code === 'corrupt');
      assert.ok(err.message.startsWith(`registry: alias document ${where} is invalid: `), err.message);
      assert.match(err.message, pattern);
      return true;
    });
  }
});
