/**
 * The bench's order of measurement: a pipeline workload and its peer take turns when both
 * are selected, every other workload runs alone, in catalog order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allWorkloads, INTERLEAVED, measurementSteps, selectWorkloads } from '../../bench/catalog.js';

const names = (steps: { name: string }[][]) => steps.map((s) => s.map((w) => w.name).join('+'));

test('measurementSteps: interleaved pairs run as one step where the first of them is; each workload exactly once', () => {
  const all = allWorkloads(2);
  const steps = measurementSteps(all);
  const flat = steps.flat().map((w) => w.name);
  assert.deepEqual([...flat].sort(), all.map((w) => w.name).sort(), 'every workload once');
  const got = names(steps);
  for (const group of INTERLEAVED) {
    assert.ok(got.includes(group.join('+')), `${group.join(', ')} measured in turns`);
    // Steps run in the catalog order of their first member.
    const at = (step: { name: string }[]) => Math.min(...step.map((w) => all.findIndex((x) => x.name === w.name)));
    const order = steps.map(at);
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'steps in catalog order of their first member');
  }
});

test('measurementSteps: a pipeline workload selected without its peer runs alone', () => {
  const steps = measurementSteps(selectWorkloads(allWorkloads(2), ['e2e-logistic-big-file', 'e2e-logistic-warm']));
  assert.deepEqual(names(steps), ['e2e-logistic-warm', 'e2e-logistic-big-file']);
  assert.deepEqual(names(measurementSteps(selectWorkloads(allWorkloads(2), ['e2e-logistic', 'duckdb-sql']))), [
    'e2e-logistic+duckdb-sql',
    'e2e-logistic-warm+duckdb-sql-warm',
    'e2e-logistic-big-file',
  ]);
});
