/**
 * "file has: …" lists in missing-column errors: at most 20 names, and when the file has
 * more, a count of the rest, so that a cut list never reads as the whole file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { checkSchema, ColumnError } from '../../src/parquet/arrow-columns.js';
import { requireColumns } from '../../src/monitor-io/profile-dataset.js';

function schemaOf(names: readonly string[]): arrow.Schema {
  return new arrow.Schema(names.map((n) => new arrow.Field(n, new arrow.Float32(), true)));
}

/** The "file has: …" part of a message. */
function listed(message: string): string {
  const m = /\(file has: (.*)\)$/.exec(message);
  assert.ok(m, message);
  return m[1]!;
}

function thrown(fn: () => void): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected an error');
}

test('a cut column list says how many names it left out', () => {
  // The demo's shape: id, segment, event_time and 32 features: 35 columns, 15 past the cut.
  const names = ['id', 'segment', 'event_time', ...Array.from({ length: 32 }, (_, i) => `f${i}`)];
  const expected = `${names.slice(0, 20).join(', ')}, … and 15 more`;

  const feature = thrown(() => checkSchema(schemaOf(names), 'file:///d/x.parquet', ['f40'], []));
  assert.ok(feature instanceof ColumnError);
  assert.equal(listed(feature.message), expected);
  const passthrough = thrown(() => checkSchema(schemaOf(names), 'file:///d/x.parquet', ['f0'], ['customer']));
  assert.match(passthrough.message, /"customer" \(passthrough\) is missing/);
  assert.equal(listed(passthrough.message), expected);

  const profile = thrown(() => requireColumns('profile', schemaOf(names), 'file:///d/x.parquet', ['label']));
  assert.equal(listed(profile.message), expected);
});

test('a list of 20 names or fewer is given whole, with no count', () => {
  for (const n of [1, 19, 20]) {
    const names = Array.from({ length: n }, (_, i) => `c${i}`);
    const err = thrown(() => checkSchema(schemaOf(names), 'u', ['missing'], []));
    assert.equal(listed(err.message), names.join(', '), `${n} columns`);
    assert.equal(listed(thrown(() => requireColumns('profile', schemaOf(names), 'u', ['missing'])).message), names.join(', '));
  }
  // 21: one past the cut.
  const names = Array.from({ length: 21 }, (_, i) => `c${i}`);
  assert.equal(listed(thrown(() => checkSchema(schemaOf(names), 'u', ['missing'], [])).message), `${names.slice(0, 20).join(', ')}, … and 1 more`);
});
