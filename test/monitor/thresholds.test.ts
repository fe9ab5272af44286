import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MONITORING, parseMonitoringSpec, severityOf, worst } from '../../src/monitor/thresholds.js';

test('an absent or empty section gives the defaults (PSI 0.1/0.25)', () => {
  const spec = parseMonitoringSpec(undefined);
  assert.deepEqual(spec, { ...DEFAULT_MONITORING });
  assert.deepEqual(spec.psi, { warn: 0.1, alert: 0.25 });
  assert.deepEqual(parseMonitoringSpec({}), spec);
});

test('fields override the defaults; a band may set one side only', () => {
  const spec = parseMonitoringSpec({
    psi: { alert: 0.5 }, ks: { warn: 0.05, alert: 0.1 }, bins: 20, minRows: 1000, sliceBy: 'region',
    maxSlices: 10, ignore: ['id'], webhook: 'https://hooks.example.com/x', reference: 's3://models/churn/3/reference.json',
  });
  assert.deepEqual(spec.psi, { warn: 0.1, alert: 0.5 });
  assert.deepEqual(spec.ks, { warn: 0.05, alert: 0.1 });
  assert.equal(spec.bins, 20);
  assert.equal(spec.sliceBy, 'region');
  assert.deepEqual(spec.ignore, ['id']);
  assert.equal(spec.webhook, 'https://hooks.example.com/x');
  assert.equal(spec.reference, 's3://models/churn/3/reference.json');
});

test('errors name the field and quote the value', () => {
  const cases: Array<[unknown, RegExp]> = [
    [[], /^SpecError: spec: monitoring: expected an object, got \[\]$/],
    [{ psi: { warn: 'high' } }, /^SpecError: spec: monitoring\.psi\.warn: expected a number ≥ 0, got "high"$/],
    [{ js: { alert: 1.5 } }, /^SpecError: spec: monitoring\.js\.alert: expected a number from 0 to 1, got 1\.5$/],
    [{ psi: { warn: 0.3, alert: 0.2 } }, /^SpecError: spec: monitoring\.psi: warn 0\.3 must not be above alert 0\.2$/],
    [{ psi: { warm: 0.1 } }, /^SpecError: spec: monitoring\.psi\.warm: unknown field/],
    [{ psii: {} }, /^SpecError: spec: monitoring\.psii: unknown field \(known: psi, ks/],
    [{ bins: 1 }, /^SpecError: spec: monitoring\.bins: expected an integer from 2 to 100, got 1$/],
    [{ sliceBy: '' }, /^SpecError: spec: monitoring\.sliceBy: expected a column name, got ""$/],
    [{ webhook: 'ftp://x/y' }, /^SpecError: spec: monitoring\.webhook: expected an http\(s\) URL, got "ftp:\/\/x\/y"$/],
    [{ reference: 3 }, /^SpecError: spec: monitoring\.reference: expected a non-empty string, got 3$/],
    [{ ignore: ['id', 7] }, /^SpecError: spec: monitoring\.ignore\[1\]: expected a column name, got 7$/],
    [{ ignore: ['region'], sliceBy: 'region' }, /^SpecError: spec: monitoring\.ignore: cannot ignore the sliceBy column "region"$/],
  ];
  for (const [raw, re] of cases) assert.throws(() => parseMonitoringSpec(raw), re);
});

test('the job spec parser can have its own error type thrown', () => {
  class OwnError extends Error {}
  assert.throws(
    () => parseMonitoringSpec({ bins: 'x' }, 'monitoring', (field, message) => new OwnError(`${field}|${message}`)),
    (err: unknown) => err instanceof OwnError && err.message === 'monitoring.bins|expected an integer from 2 to 100, got "x"',
  );
});

test('severities order ok < warn < alert', () => {
  const band = { warn: 0.1, alert: 0.25 };
  assert.equal(severityOf(0.05, band), 'ok');
  assert.equal(severityOf(0.1, band), 'warn');
  assert.equal(severityOf(0.25, band), 'alert');
  assert.equal(severityOf(null, band), 'ok');
  assert.equal(worst('ok', 'alert', 'warn'), 'alert');
  assert.equal(worst(), 'ok');
});
