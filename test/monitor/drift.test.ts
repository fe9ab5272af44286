import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareProfiles, type DriftReport } from '../../src/monitor/drift.js';
import { jensenShannonDistance, ksFromCounts, psi, PSI_EPSILON } from '../../src/monitor/divergence.js';
import { binCounts, ksStatistic, outOfRangeFraction, quantileEdges } from '../../src/monitor/numeric-bins.js';
import { emptyNumeric, updateNumeric, type NumericProfile } from '../../src/monitor/numeric-profile.js';
import { emptyDatasetProfile, profileBatch, type DatasetProfile, type MonitorColumn } from '../../src/monitor/profile-set.js';
import { parseMonitoringSpec } from '../../src/monitor/thresholds.js';
import { chunkOf, normals, rng } from './helpers.js';

const spec = parseMonitoringSpec({});

function numeric(values: Float64Array): NumericProfile {
  const p = emptyNumeric();
  updateNumeric(p, chunkOf(values));
  return p;
}

// Independent computations from raw samples, for the same bin edges.
function rawBinCounts(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    let b = 0;
    while (b < edges.length && values[i]! >= edges[b]!) b++;
    counts[b]!++;
  }
  return counts;
}

function directPsi(r: number[], c: number[]): number {
  const shares = (x: number[]) => {
    const n = x.reduce((s, v) => s + v, 0);
    const raised = x.map((v) => Math.max(v / n, PSI_EPSILON));
    const t = raised.reduce((s, v) => s + v, 0);
    return raised.map((v) => v / t);
  };
  const rs = shares(r), cs = shares(c);
  return rs.reduce((s, rv, i) => s + (cs[i]! - rv) * Math.log(cs[i]! / rv), 0);
}

function directJs(r: number[], c: number[]): number {
  const nr = r.reduce((s, v) => s + v, 0), nc = c.reduce((s, v) => s + v, 0);
  const kl = (p: number[], q: number[]) => p.reduce((s, pv, i) => (pv > 0 ? s + pv * Math.log2(pv / q[i]!) : s), 0);
  const p = r.map((v) => v / nr), q = c.map((v) => v / nc), m = p.map((v, i) => (v + q[i]!) / 2);
  return Math.sqrt(kl(p, m) / 2 + kl(q, m) / 2);
}

function exactKs(a: Float64Array, b: Float64Array): number {
  const sa = Float64Array.from(a).sort(), sb = Float64Array.from(b).sort();
  let i = 0, j = 0, d = 0;
  while (i < sa.length && j < sb.length) {
    const x = Math.min(sa[i]!, sb[j]!);
    while (i < sa.length && sa[i] === x) i++;
    while (j < sb.length && sb[j] === x) j++;
    d = Math.max(d, Math.abs(i / sa.length - j / sb.length));
  }
  return d;
}

function dataset(x: Float64Array, segment?: readonly string[], extra: MonitorColumn[] = []): DatasetProfile {
  const p = emptyDatasetProfile({ sliceBy: segment ? 'segment' : null });
  const cols: MonitorColumn[] = [{ name: 'x', role: 'feature', type: 'float64', chunks: [{ kind: 'numeric', chunk: chunkOf(x) }] }, ...extra];
  if (segment) cols.push({ name: 'segment', role: 'passthrough', type: 'utf8', chunks: [{ kind: 'strings', values: segment }] });
  profileBatch(p, x.length, cols);
  return p;
}

test('identical distributions: PSI, KS and JS are 0 (same data) or near 0 (same law)', () => {
  const ref = dataset(normals(20000, 1));
  const same = compareProfiles(ref, ref, spec);
  const x = same.columns.find((c) => c.column === 'x')!;
  assert.equal(x.psi, 0);
  assert.equal(x.ks, 0);
  assert.equal(x.js, 0);
  assert.equal(same.status, 'ok');
  const other = compareProfiles(ref, dataset(normals(20000, 2)), spec).columns.find((c) => c.column === 'x')!;
  assert.ok(other.psi! < 0.01, `psi ${other.psi}`);
  assert.ok(other.ks! < 0.03, `ks ${other.ks}`);
  assert.ok(other.js! < 0.05, `js ${other.js}`);
  assert.equal(other.severity, 'ok');
});

test('a mean shift of one standard deviation alerts (PSI well above 0.25)', () => {
  const report = compareProfiles(dataset(normals(20000, 1)), dataset(normals(20000, 2, 1)), spec);
  const x = report.columns.find((c) => c.column === 'x')!;
  assert.ok(x.psi! > 0.6, `psi ${x.psi}`);
  assert.ok(Math.abs(x.ks! - 0.383) < 0.03, `ks ${x.ks}`); // 2Φ(0.5) − 1
  assert.equal(x.severity, 'alert');
  assert.equal(report.status, 'alert');
  assert.ok(x.findings.some((f) => f.startsWith('psi ')));
});

test('PSI, JS and KS equal a direct computation from the raw samples with the same bins', () => {
  const u = rng(9);
  const cases: Array<[string, Float64Array, Float64Array]> = [
    ['normal shift', normals(5000, 3), normals(4000, 4, 0.3, 1.2)],
    ['lognormal', normals(5000, 5).map(Math.exp), normals(3000, 6, 0.2).map(Math.exp)],
    ['discrete', Float64Array.from({ length: 3000 }, () => Math.floor(u() * 4)), Float64Array.from({ length: 3000 }, () => Math.floor(u() * 5))],
    ['years', Float64Array.from({ length: 4000 }, () => 2020 + 5 * u()), Float64Array.from({ length: 4000 }, () => 2021 + 5 * u())],
    // Negative integers sit exactly on log-bucket edges.
    ['negative integers', Float64Array.from({ length: 3000 }, () => Math.floor(u() * 40) - 39), Float64Array.from({ length: 3000 }, () => Math.floor(u() * 40) - 35)],
  ];
  for (const [name, a, b] of cases) {
    const ra = numeric(a), rb = numeric(b);
    const edges = quantileEdges(ra, rb, 10);
    const values = edges.map((e) => e.value);
    const rc = rawBinCounts(a, values), cc = rawBinCounts(b, values);
    assert.deepEqual(binCounts(ra, edges), rc, `${name}: reference bins`);
    assert.deepEqual(binCounts(rb, edges), cc, `${name}: current bins`);
    assert.ok(Math.abs(psi(rc, cc) - directPsi(rc, cc)) < 1e-12, name);
    assert.ok(Math.abs(jensenShannonDistance(rc, cc) - directJs(rc, cc)) < 1e-12, name);
    assert.equal(ksFromCounts(rc, cc), ksFromCounts(rawBinCounts(a, values), rawBinCounts(b, values)));
    // Grid KS is the KS of the values rounded to the fine grids: never above the exact
    // statistic, and below it by at most the mass of a fine bucket.
    const ks = ksStatistic(ra, rb), exact = exactKs(a, b);
    assert.ok(ks <= exact + 1e-12 && ks > exact - 0.02, `${name}: ks ${ks} vs exact ${exact}`);
    if (name !== 'discrete') assert.ok(edges.length >= 8, `${name}: ${edges.length} edges`);
  }
});

test('quality checks: missing-rate change and values outside the reference range', () => {
  const ref = normals(5000, 1);
  const cur = normals(5000, 2);
  for (let i = 0; i < 500; i++) cur[i] = NaN; // 10% missing
  for (let i = 500; i < 700; i++) cur[i] = 100; // 4% far above the reference max
  const report = compareProfiles(dataset(ref), dataset(cur), spec);
  const x = report.columns.find((c) => c.column === 'x')!;
  assert.equal(x.missingRate.reference, 0);
  assert.equal(x.missingRate.current, 0.1);
  // Never over-reported: at least the 200 planted values, at most the exact share.
  const [lo, hi] = [Math.min(...ref), Math.max(...ref)];
  const exact = cur.filter((v) => v < lo || v > hi).length / 4500;
  assert.ok(x.outOfRange! >= 200 / 4500 && x.outOfRange! <= exact, `out of range ${x.outOfRange} vs exact ${exact}`);
  assert.ok(x.findings.some((f) => f.startsWith('missing-rate change 0.100')), x.findings.join());
  assert.equal(outOfRangeFraction(numeric(ref), numeric(ref)), 0);
});

test('schema changes: missing, added and changed columns', () => {
  const x = normals(1000, 1);
  const col = (name: string, type: string, chunk: MonitorColumn['chunks'][number]): MonitorColumn => ({ name, role: 'feature', type, chunks: [chunk] });
  const ref = dataset(x, undefined, [
    col('gone', 'float64', { kind: 'numeric', chunk: chunkOf(x) }),
    col('widened', 'float32', { kind: 'numeric', chunk: chunkOf(x) }),
    col('recoded', 'int32', { kind: 'numeric', chunk: chunkOf(new Int32Array(1000)) }),
  ]);
  const cur = dataset(x, undefined, [
    col('widened', 'float64', { kind: 'numeric', chunk: chunkOf(x) }),
    col('recoded', 'utf8', { kind: 'strings', values: new Array<string>(1000).fill('a') }),
    col('new', 'float64', { kind: 'numeric', chunk: chunkOf(x) }),
  ]);
  const report = compareProfiles(ref, cur, spec);
  assert.deepEqual(report.schema.map((s) => [s.column, s.change, s.severity]), [
    ['gone', 'missing', 'alert'], ['recoded', 'kind-changed', 'alert'], ['widened', 'type-changed', 'warn'], ['new', 'added', 'warn'],
  ]);
  assert.equal(report.status, 'alert');
  assert.deepEqual(report.columns.map((c) => c.column).sort(), ['widened', 'x']);
});

test('categorical drift compares category shares; unseen categories count as out of range', () => {
  const u = rng(4);
  const pick = (weights: number[], names: string[]) => Array.from({ length: 4000 }, () => {
    let r = u() * weights.reduce((s, w) => s + w, 0);
    return names[weights.findIndex((w) => (r -= w) < 0)]!;
  });
  const names = ['a', 'b', 'c', 'd'];
  const ref = pick([4, 3, 2, 1], names);
  const cur = pick([1, 2, 3, 4], [...names.slice(0, 3), 'z']);
  const seg = (values: string[]): MonitorColumn[] => [{ name: 'kind', role: 'passthrough', type: 'utf8', chunks: [{ kind: 'strings', values }] }];
  const report = compareProfiles(dataset(normals(4000, 1), undefined, seg(ref)), dataset(normals(4000, 2), undefined, seg(cur)), spec);
  const kind = report.columns.find((c) => c.column === 'kind')!;
  const count = (v: string[], name: string) => v.filter((x) => x === name).length;
  const rc = names.map((n) => count(ref, n)), cc = names.map((n) => count(cur, n));
  rc.push(0); cc.push(count(cur, 'z')); // "other" bin: values outside the reference's top
  assert.equal(kind.ks, null);
  assert.ok(Math.abs(kind.psi! - directPsi(rc, cc)) < 1e-12);
  assert.ok(Math.abs(kind.js! - directJs(rc, cc)) < 1e-12);
  assert.equal(kind.outOfRange, count(cur, 'z') / 4000);
  assert.equal(kind.severity, 'alert');
  assert.equal(report.columns[0]!.column, 'kind', 'most severe first');
});

test('slices: a shifted segment alerts on its own, compared with its reference slice', () => {
  const n = 8000;
  const segs = Array.from({ length: n }, (_, i) => (i % 2 ? 'east' : 'west'));
  const ref = dataset(normals(n, 1), segs);
  const cur = normals(n, 2);
  for (let i = 0; i < n; i += 2) cur[i]! += 1.5; // only "west" moves
  const report: DriftReport = compareProfiles(ref, dataset(cur, segs), spec);
  assert.deepEqual(report.slices.map((s) => [s.value, s.status, s.baseline]), [['west', 'alert', 'slice'], ['east', 'ok', 'slice']]);
  assert.equal(report.sliceBy, 'segment');
  // Against a reference without slices, each slice is compared with the whole reference.
  const flat = compareProfiles(dataset(normals(n, 1)), dataset(cur, segs), spec);
  assert.ok(flat.slices.every((s) => s.baseline === 'overall'));
});

test('columns with fewer than minRows rows are shown but not judged', () => {
  const report = compareProfiles(dataset(normals(100, 1)), dataset(normals(100, 2, 3)), spec);
  const x = report.columns.find((c) => c.column === 'x')!;
  assert.ok(x.psi! > 1);
  assert.equal(x.judged, false);
  assert.equal(x.severity, 'ok');
  assert.match(x.findings.at(-1)!, /^not judged: 100 rows < minRows 500$/);
});

test('schema: ignore applies to both sides; predictions are checked only against a reference with predictions', () => {
  const n = 2000;
  const x1 = normals(n, 11), x2 = normals(n, 12);
  const ids = (first: number) => Float64Array.from({ length: n }, (_, i) => first + i);
  const col = (name: string, role: MonitorColumn['role'], values: Float64Array): MonitorColumn => ({ name, role, type: 'float64', chunks: [{ kind: 'numeric', chunk: chunkOf(values) }] });
  const probs = (seed: number) => Float64Array.from(normals(n, seed), (v) => 1 / (1 + Math.exp(-v)));
  // What `batchscore profile <training-data>` gives: every column, all as features, no predictions.
  const training = dataset(x1, undefined, [col('id', 'feature', ids(0))]);
  // What a run with ignore: ["id"] profiles: features and predictions, not id.
  const run = dataset(x2, undefined, [col('probability', 'prediction', probs(13))]);
  const ignoring = parseMonitoringSpec({ ignore: ['id'] });

  const ok = compareProfiles(training, run, ignoring);
  assert.deepEqual(ok.schema, []);
  assert.equal(ok.status, 'ok', JSON.stringify(ok.columns.map((c) => [c.column, c.severity, c.findings])));
  assert.deepEqual(ok.columns.map((c) => c.column), ['x'], 'the prediction has nothing to be compared with');

  // Without the ignore list, the reference's id is a real missing column.
  assert.deepEqual(compareProfiles(training, run, spec).schema.map((s) => [s.column, s.change, s.severity]), [['id', 'missing', 'alert']]);

  // A feature the run no longer has still alerts, ignore or not.
  const noX = emptyDatasetProfile({ sliceBy: null });
  profileBatch(noX, n, [col('probability', 'prediction', probs(13))]);
  const gone = compareProfiles(training, noX, ignoring);
  assert.deepEqual(gone.schema.map((s) => [s.column, s.change, s.severity]), [['x', 'missing', 'alert']]);
  assert.equal(gone.status, 'alert');

  // An ignored column the current side has (a run profiled before it was ignored) is left out too.
  const withId = dataset(x2, undefined, [col('id', 'passthrough', ids(n)), col('probability', 'prediction', probs(13))]);
  const againstTraining = compareProfiles(dataset(x1), withId, ignoring);
  assert.deepEqual(againstTraining.schema, []);
  assert.ok(!againstTraining.columns.some((c) => c.column === 'id'));

  // A baseline run's reference has predictions: a renamed prediction is a change.
  const baseline = dataset(x1, undefined, [col('probability', 'prediction', probs(14))]);
  const renamed = dataset(x2, undefined, [col('score', 'prediction', probs(13))]);
  assert.deepEqual(compareProfiles(baseline, renamed, ignoring).schema.map((s) => [s.column, s.change, s.severity]), [
    ['probability', 'missing', 'alert'], ['score', 'added', 'warn'],
  ]);
  // And the same predictions are compared, not skipped.
  assert.ok(compareProfiles(baseline, run, ignoring).columns.some((c) => c.column === 'probability' && c.psi !== null));
});
