/**
 * The log line of a run whose monitoring is warn or alert: it names what made it so, worst
 * first, including schema changes and slices, capped, and falls back to the note.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnDrift, DriftReport, SchemaChange } from '../../src/monitor/drift.js';
import type { Severity } from '../../src/monitor/thresholds.js';
import { monitoringMessage } from '../../src/run/finalize.js';
import type { MonitoringRecord } from '../../src/run/monitor-run.js';

function column(name: string, severity: Severity, findings: string[] = []): ColumnDrift {
  return {
    column: name, role: 'feature', kind: 'numeric', rows: { reference: 1000, current: 1000 }, bins: 10,
    psi: 0, ks: 0, js: 0, missingRate: { reference: 0, current: 0, change: 0 }, outOfRange: 0,
    judged: true, severity, findings, score: 0,
  };
}

function record(status: Severity, drift: Partial<DriftReport> | null, note: string | null = null): MonitoringRecord {
  return {
    status, reference: 'ref.json', note, profileUri: 'file:///p.json', reportUri: 'file:///r.html',
    drift: drift && { status, columns: [], schema: [], sliceBy: null, slices: [], ...drift },
  };
}

test('columns, worst first, with their findings; ok columns left out', () => {
  const msg = monitoringMessage(record('alert', {
    columns: [column('f9', 'alert', ['psi 0.612 ≥ 0.25']), column('f2', 'warn', ['ks 0.130 ≥ 0.1']), column('f1', 'ok')],
  }));
  assert.equal(msg, 'monitoring alert: f9 (alert: psi 0.612 ≥ 0.25); f2 (warn: ks 0.130 ≥ 0.1)');
});

test('a schema change alone is named (the columns may all be ok)', () => {
  const schema: SchemaChange[] = [{ column: 'label', change: 'missing', reference: 'int64', current: null, severity: 'alert' }];
  const msg = monitoringMessage(record('alert', { columns: [column('f1', 'ok')], schema }));
  assert.equal(msg, 'monitoring alert: label missing (alert)');
});

test('slice columns are named with their slice, after the alerts of the whole data', () => {
  const msg = monitoringMessage(record('alert', {
    sliceBy: 'segment',
    columns: [column('f2', 'warn', ['js 0.110 ≥ 0.1'])],
    slices: [{ value: 'smb', rows: 800, baseline: 'slice', status: 'alert', columns: [column('f12', 'alert', ['psi 0.9 ≥ 0.25']), column('f1', 'ok')] }],
  }));
  assert.equal(msg, 'monitoring alert: f12 in segment=smb (alert); f2 (warn: js 0.110 ≥ 0.1)');
});

test('at most 8 findings, then how many more', () => {
  const columns = Array.from({ length: 11 }, (_, i) => column(`f${i}`, 'warn'));
  const msg = monitoringMessage(record('warn', { columns }));
  assert.equal(msg, `monitoring warn: ${columns.slice(0, 8).map((c) => `${c.column} (warn)`).join('; ')}; … and 3 more`);
});

test('no drift figures: the note says why', () => {
  assert.equal(monitoringMessage(record('warn', null, 'cannot read the reference profile: ENOENT')), 'monitoring warn: cannot read the reference profile: ENOENT');
});
