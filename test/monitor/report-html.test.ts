import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareProfiles } from '../../src/monitor/drift.js';
import { evaluate } from '../../src/monitor/evaluate.js';
import { emptyDatasetProfile, profileBatch, type DatasetProfile, type MonitorColumn } from '../../src/monitor/profile-set.js';
import { escapeHtml, renderRunReport } from '../../src/monitor/report-html.js';
import { histogramPanels, type RunReport } from '../../src/monitor/run-report.js';
import { parseMonitoringSpec } from '../../src/monitor/thresholds.js';
import { chunkOf, normals, rng } from './helpers.js';

const EVIL = '<script>alert(1)</script>';

function profile(shift: number, seed: number): DatasetProfile {
  const n = 4000;
  const u = rng(seed);
  const p = emptyDatasetProfile({ sliceBy: 'segment' });
  const num = (name: string, values: Float64Array | Float32Array, role: MonitorColumn['role'] = 'feature'): MonitorColumn =>
    ({ name, role, type: 'float64', chunks: [{ kind: 'numeric', chunk: chunkOf(values) }] });
  profileBatch(p, n, [
    num('stable', normals(n, seed)),
    num('moved', normals(n, seed + 1, shift)),
    num(EVIL, normals(n, seed + 2, shift / 3)),
    num('score', Float32Array.from({ length: n }, () => Math.min(1, u() + shift / 10)), 'prediction'),
    { name: 'segment', role: 'passthrough', type: 'utf8', chunks: [{ kind: 'strings', values: Array.from({ length: n }, () => (u() < 0.5 ? 'a' : 'b')) }] },
  ]);
  return p;
}

function report(): RunReport {
  const reference = profile(0, 1), current = profile(1, 2);
  const drift = compareProfiles(reference, current, parseMonitoringSpec({}));
  const u = rng(5);
  const scores = Float64Array.from({ length: 200 }, () => u());
  return {
    title: `Run of ${EVIL}`, job: 'churn', runId: 'churn-20261101-x', status: drift.status === 'ok' ? 'ok' : drift.status,
    startedAt: '2026-11-02T01:00:00Z', finishedAt: '2026-11-02T01:05:00Z',
    model: { uri: 's3://models/churn/3/model.onnx', sha256: 'ab'.repeat(32) }, reference: 'baseline run churn-20261025',
    rows: 4000, seconds: 300,
    partitions: [{ partition: 'dt=2026-11-01', outcome: 'published', files: 2, rows: 4000, seconds: 280, error: null },
      { partition: 'dt=2026-11-02', outcome: 'failed', files: 1, rows: 0, seconds: 3, error: `bad row ${EVIL}` }],
    drift,
    histograms: histogramPanels(reference, current, drift),
    evaluation: evaluate({ scores, labels: Uint8Array.from(scores, (s) => (u() < s ? 1 : 0)), slices: Array.from(scores, (_, i) => (i % 2 ? 'a' : 'b')) }),
  };
}

test('the drift table lists columns most severe first', () => {
  const r = report();
  const html = renderRunReport(r);
  const table = html.slice(html.indexOf('<div id="drift">'), html.indexOf('</div>', html.indexOf('<div id="drift">')));
  const rows = [...table.matchAll(/<tr><td>(.*?)<\/td>.*?<span class="badge (\w+)">/g)].map((m) => [m[1], m[2]]);
  assert.equal(rows.length, r.drift!.columns.length);
  const rank = { ok: 0, warn: 1, alert: 2 } as Record<string, number>;
  for (let i = 1; i < rows.length; i++) assert.ok(rank[rows[i - 1]![1]!]! >= rank[rows[i]![1]!]!, JSON.stringify(rows));
  assert.deepEqual(rows[0], ['moved', 'alert']);
  assert.ok(rows.some(([name, sev]) => name === 'stable' && sev === 'ok'));
});

test('the report is self-contained: no scripts, no external assets', () => {
  const html = renderRunReport(report());
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
  assert.doesNotMatch(html, /https?:\/\//i);
  assert.doesNotMatch(html, /url\(/i);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<link/i);
  assert.match(html, /^<!doctype html>/);
  assert.ok((html.match(/<svg /g) ?? []).length >= 3, 'histograms of drifted features and predictions');
  assert.match(html, /Ground truth/);
});

test('text from the data is escaped, <script> in a column name included', () => {
  const html = renderRunReport(report());
  assert.ok(!html.includes(EVIL));
  assert.ok(html.includes(escapeHtml(EVIL)));
  assert.equal(escapeHtml(`a<b>&"c'`), 'a&#60;b&#62;&#38;&#34;c&#39;');
});

test('histogram panels cover the most drifted features and the predictions', () => {
  const r = report();
  const names = r.histograms.map((h) => [h.column, h.role]);
  assert.ok(names.some(([c]) => c === 'moved'));
  assert.ok(names.some(([c, role]) => c === 'score' && role === 'prediction'));
  for (const h of r.histograms) {
    const sum = (k: 'reference' | 'current') => h.bins.reduce((s, b) => s + b[k], 0);
    assert.ok(Math.abs(sum('reference') - 1) < 1e-9 && Math.abs(sum('current') - 1) < 1e-9, h.column);
  }
});
