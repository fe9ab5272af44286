import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createMonitorMetrics } from '../../src/monitor/metrics.js';
import type { DriftReport, ColumnDrift } from '../../src/monitor/drift.js';

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parse the text exposition format strictly enough to catch malformed lines. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `malformed line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[2].length) {
        const l = LABEL.exec(m[2]);
        assert.ok(l, `malformed labels: ${line}`);
        labels[l[1]!] = l[2]!;
      }
    }
    // Prometheus parses values with Go's ParseFloat: NaN and Inf in any case (prom-client
    // writes "Nan" for an empty event-loop-lag histogram).
    const special: Record<string, number> = { nan: NaN, '+inf': Infinity, inf: Infinity, '-inf': -Infinity };
    const raw = m[3]!;
    const value = raw.toLowerCase() in special ? special[raw.toLowerCase()]! : Number(raw);
    assert.ok(!Number.isNaN(value) || raw.toLowerCase() === 'nan', `bad value: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

function column(name: string, severity: ColumnDrift['severity'], psi: number): ColumnDrift {
  return {
    column: name, role: 'feature', kind: 'numeric', rows: { reference: 1000, current: 1000 }, bins: 10, psi, ks: 0.1, js: 0.1,
    missingRate: { reference: 0, current: 0.01, change: 0.01 }, outOfRange: 0, judged: true, severity, findings: [], score: 1,
  };
}

function drift(columns: ColumnDrift[]): DriftReport {
  return {
    status: 'alert', columns, schema: [], sliceBy: 'region',
    slices: [{ value: 'north "quoted"', rows: 10, baseline: 'slice', status: 'warn', columns: [column('f0', 'warn', 0.12)] }],
  };
}

test('the registry exposes well-formed metrics with conventional names and the defaults', async () => {
  const m = createMonitorMetrics();
  m.recordFile('churn', { rows: 1000, seconds: 0.4, outcome: 'ok' });
  m.recordFile('churn', { rows: 500, seconds: 0.2, outcome: 'ok' });
  m.recordPartition('churn', { outcome: 'published', seconds: 12 });
  m.recordPartition('churn', { outcome: 'failed', seconds: 3 });
  m.setQueueDepth('score', { waiting: 4, active: 2 });
  m.setRowsPerSecond('churn', 2500);
  m.recordRun('churn', { status: 'alert', rows: 1500, seconds: 15, finishedAt: new Date(1_700_000_000_000), drift: drift([column('f0', 'alert', 0.4), column('f1', 'ok', 0.01)]) });
  const text = await m.metrics();
  const { samples, types } = parse(text);
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

  for (const [name, type] of types) if (type === 'counter') assert.match(name, /_total$/, `counter ${name}`);
  assert.ok([...types.keys()].some((n) => n.startsWith('process_')), 'process_* metrics');
  assert.ok([...types.keys()].some((n) => n.startsWith('nodejs_')), 'nodejs_* metrics');
  assert.equal(value('batchscore_rows_scored_total', { job: 'churn' }), 1500);
  assert.equal(value('batchscore_files_total', { job: 'churn', outcome: 'ok' }), 2);
  assert.equal(value('batchscore_partitions_total', { outcome: 'failed' }), 1);
  assert.equal(value('batchscore_partition_duration_seconds_count', { job: 'churn' }), 2);
  assert.equal(value('batchscore_partition_duration_seconds_bucket', { le: '+Inf' }), 2);
  assert.equal(value('batchscore_queue_depth', { queue: 'score', state: 'waiting' }), 4);
  assert.equal(value('batchscore_rows_per_second', { job: 'churn' }), 100);
  assert.equal(value('batchscore_last_run_status', { status: 'alert' }), 1);
  assert.equal(value('batchscore_last_run_status', { status: 'ok' }), 0);
  assert.equal(value('batchscore_last_run_timestamp_seconds'), 1_700_000_000);
  assert.equal(value('batchscore_drift_psi', { column: 'f0', slice: '(all)' }), 0.4);
  assert.equal(value('batchscore_drift_severity', { column: 'f0', slice: '(all)' }), 2);
  assert.equal(value('batchscore_drift_psi', { column: 'f0', slice: 'north \\"quoted\\"' }), 0.12);
  assert.equal(types.get('batchscore_partition_duration_seconds'), 'histogram');

  // promtool is the reference linter; run it when the machine has it.
  if (spawnSync('which', ['promtool']).status === 0) execFileSync('promtool', ['check', 'metrics'], { input: text });
});

test("a run's drift series replace the previous run's", async () => {
  const m = createMonitorMetrics({ defaultMetrics: false });
  m.recordRun('churn', { status: 'ok', rows: 1, seconds: 1, finishedAt: new Date(), drift: drift([column('old', 'ok', 0.01)]) });
  m.recordRun('churn', { status: 'ok', rows: 1, seconds: 1, finishedAt: new Date(), drift: drift([column('new', 'ok', 0.02)]) });
  const { samples } = parse(await m.metrics());
  const columns = new Set(samples.filter((s) => s.name === 'batchscore_drift_psi').map((s) => s.labels.column));
  assert.deepEqual([...columns].sort(), ['f0', 'new']);
  assert.ok(!samples.some((s) => s.name.startsWith('process_')));
});
