/**
 * Late labels joined with a real run: a demo dataset scored by runJob, labels drawn as
 * Bernoulli(p) from the model's own probabilities (seeded), some ids missing, some extra,
 * some not known yet. Metrics are checked against a brute-force computation over the rows
 * DuckDB joins independently; per-segment slices; the stored evaluation; the command.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { evaluateCommand } from '../../src/cli/evaluate-command.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { LOG_LOSS_EPSILON, type Evaluation } from '../../src/monitor/evaluate.js';
import { chooseScoreColumn, evaluateRun, evaluationUri, writeEvaluation, type EvaluationReport } from '../../src/monitor-io/evaluate-run.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { runJob } from '../../src/run/run-job.js';
import { demoModels, demoSpec, writeDemoDataset, writeTable } from '../support/dataset.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';
import { rng } from '../monitor/helpers.js';

const DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];
const ROWS = 2000;
const EXTRA_LABELS = 40; // label ids no prediction has

let dir: TmpDir;
let out: string;
let labelsDir: string;
let manifest: RunManifest;

/** Labels in two files of different layouts: int64 ids + int32 labels, int32 ids + boolean labels. */
async function writeLabels(): Promise<void> {
  const preds = await duckdbRows(`SELECT id, probability::DOUBLE AS p FROM read_parquet(${sqlString(join(out, '*', '*.parquet'))}) ORDER BY id`);
  const draw = rng(7);
  const a = { id: [] as bigint[], label: [] as (number | null)[], region: [] as string[] };
  const b = { id: [] as number[], label: [] as (boolean | null)[], region: [] as string[] };
  for (const [i, r] of preds.entries()) {
    if (draw() < 0.1) continue; // label not delivered
    const y = draw() < (r.p as number) ? 1 : 0;
    const unknown = draw() < 0.03; // delivered, value still null
    const region = Number(r.id) % 3 === 0 ? 'north' : 'south';
    if (i % 2 === 0) {
      a.id.push(r.id as bigint); a.label.push(unknown ? null : y); a.region.push(region);
    } else {
      b.id.push(Number(r.id)); b.label.push(unknown ? null : y === 1); b.region.push(region);
    }
  }
  for (let k = 0; k < EXTRA_LABELS; k++) {
    a.id.push(BigInt(1_000_000 + k)); a.label.push(k % 2); a.region.push('north');
  }
  await mkdir(labelsDir, { recursive: true });
  await writeTable(join(labelsDir, 'a.parquet'), {
    id: arrow.makeVector(BigInt64Array.from(a.id)),
    label: arrow.vectorFromArray(a.label, new arrow.Int32()),
    region: arrow.vectorFromArray(a.region, new arrow.Utf8()),
  });
  await writeTable(join(labelsDir, 'b.parquet'), {
    id: arrow.makeVector(Int32Array.from(b.id)),
    label: arrow.vectorFromArray(b.label, new arrow.Bool()),
    region: arrow.vectorFromArray(b.region, new arrow.Utf8()),
  });
}

/** Every label row, as DuckDB reads both files: id, label (0/1/null), region. */
const LABELS_SQL = () => `(SELECT id::BIGINT AS id, label::INTEGER AS label, region FROM read_parquet(${sqlString(join(labelsDir, 'a.parquet'))})
  UNION ALL SELECT id::BIGINT, label::INTEGER, region FROM read_parquet(${sqlString(join(labelsDir, 'b.parquet'))}))`;
const PREDS_SQL = () => `read_parquet(${sqlString(join(out, '*', '*.parquet'))})`;

/** Brute force over joined rows: AUC over every positive–negative pair (ties ½), log loss, Brier. */
function bruteForce(rows: readonly { s: number; y: number }[]): { rows: number; positives: number; auc: number; logLoss: number; brier: number } {
  const pos = rows.filter((r) => r.y === 1).map((r) => r.s);
  const neg = rows.filter((r) => r.y === 0).map((r) => r.s);
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
  let ll = 0, brier = 0;
  for (const { s, y } of rows) {
    ll -= Math.log(Math.max(LOG_LOSS_EPSILON, y === 1 ? s : 1 - s));
    brier += (s - y) ** 2;
  }
  return { rows: rows.length, positives: pos.length, auc: wins / (pos.length * neg.length), logLoss: ll / rows.length, brier: brier / rows.length };
}

function assertClose(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= 1e-9, `${what}: ${actual} vs brute force ${expected}`);
}

function assertMatches(e: Evaluation, rows: readonly { s: number; y: number }[], what: string): void {
  const b = bruteForce(rows);
  assert.equal(e.rows, b.rows, `${what} rows`);
  assert.equal(e.positives, b.positives, `${what} positives`);
  assertClose(e.auc, b.auc, `${what} AUC`);
  assertClose(e.logLoss, b.logLoss, `${what} log loss`);
  assertClose(e.brier, b.brier, `${what} Brier`);
}

before(async () => {
  dir = await tmpDir();
  const input = join(dir.path, 'in');
  out = join(dir.path, 'out');
  labelsDir = join(dir.path, 'labels');
  await writeDemoDataset(input, DATES, ROWS, 700);
  const modelPath = join(dir.path, 'logistic.onnx');
  await writeFile(modelPath, demoModels().logistic.bytes);
  ({ manifest } = await runJob(demoSpec(input, modelPath, out, { passthrough: ['id', 'segment'] }), { threads: 2 }));
  assert.equal(manifest.status, 'succeeded');
  await writeLabels();
});
after(() => dir.cleanup());

describe('evaluateRun', () => {
  let report: EvaluationReport;
  let joined: { s: number; y: number; segment: string; region: string }[];
  before(async () => {
    report = await evaluateRun(manifest, { labelsUri: labelsDir, idColumn: 'id', labelColumn: 'label', sliceBy: 'segment' });
    const rows = await duckdbRows(`SELECT p.probability::DOUBLE AS s, l.label AS y, p.segment::VARCHAR AS segment, l.region
      FROM ${PREDS_SQL()} p JOIN ${LABELS_SQL()} l ON p.id = l.id WHERE l.label IS NOT NULL AND NOT isnan(p.probability)`);
    joined = rows.map((r) => ({ s: r.s as number, y: r.y as number, segment: r.segment as string, region: r.region as string }));
  });

  test('overall AUC, log loss and Brier equal brute force over the DuckDB join', () => {
    assert.equal(report.scoreColumn, 'probability', 'the single float prediction column is the default');
    assertMatches(report.overall, joined, 'overall');
    assert.ok(report.overall.auc! > 0.7, `labels drawn from the model's probabilities: AUC ${report.overall.auc}`);
    assert.equal(report.overall.calibration.length, 10);
    assert.equal(report.overall.calibration.reduce((n, b) => n + b.count, 0), joined.length);
  });

  test('unmatched ids are counted on both sides', async () => {
    const [c] = await duckdbRows(`SELECT
        (SELECT count(*) FROM ${PREDS_SQL()}) AS preds,
        (SELECT count(*) FROM ${LABELS_SQL()}) AS labels,
        (SELECT count(*) FROM ${PREDS_SQL()} p JOIN ${LABELS_SQL()} l ON p.id = l.id) AS matched,
        (SELECT count(*) FROM ${PREDS_SQL()} p ANTI JOIN ${LABELS_SQL()} l ON p.id = l.id) AS no_label,
        (SELECT count(*) FROM ${LABELS_SQL()} l ANTI JOIN ${PREDS_SQL()} p ON p.id = l.id) AS no_pred`);
    const m = report.matching;
    assert.equal(m.predictionRows, DATES.length * ROWS);
    assert.equal(m.predictionRows, Number(c!.preds));
    assert.equal(m.labelRows, Number(c!.labels));
    assert.equal(m.matched, Number(c!.matched));
    assert.equal(m.predictionsWithoutLabel, Number(c!.no_label));
    assert.ok(m.predictionsWithoutLabel > 0);
    assert.equal(m.labelsWithoutPrediction, EXTRA_LABELS);
    assert.equal(m.labelsWithoutPrediction, Number(c!.no_pred));
    assert.deepEqual([m.duplicateLabelIds, m.repeatedPredictionIds, m.nullIds], [0, 0, { predictions: 0, labels: 0 }]);
    // Matched rows whose label is still null, or whose score is NaN (a null feature under
    // `nulls: nan`), are skipped, not dropped silently.
    const [k] = await duckdbRows(`SELECT count(*) FILTER (WHERE l.label IS NULL) AS unknown, count(*) FILTER (WHERE isnan(p.probability)) AS nan
      FROM ${PREDS_SQL()} p JOIN ${LABELS_SQL()} l ON p.id = l.id`);
    assert.ok(Number(k!.unknown) > 0 && Number(k!.nan) > 0);
    assert.equal(report.overall.skipped, m.matched - joined.length);
  });

  test('per-segment slices (from the outputs) equal brute force per segment', () => {
    assert.equal(report.sliceSource, 'predictions');
    const segments = [...new Set(joined.map((r) => r.segment))].sort();
    assert.deepEqual(report.slices.map((s) => s.value), segments);
    for (const s of report.slices) assertMatches(s.evaluation, joined.filter((r) => r.segment === s.value), `segment ${s.value}`);
  });

  test('a slice column only the labels have is taken from the labels', async () => {
    const byRegion = await evaluateRun(manifest, { labelsUri: labelsDir, idColumn: 'id', labelColumn: 'label', sliceBy: 'region', bins: 5 });
    assert.equal(byRegion.sliceSource, 'labels');
    assert.deepEqual(byRegion.slices.map((s) => s.value), ['north', 'south']);
    for (const s of byRegion.slices) assertMatches(s.evaluation, joined.filter((r) => r.region === s.value), `region ${s.value}`);
    assert.equal(byRegion.overall.calibration.length, 5);
  });

  test('the evaluation is stored next to the manifest', async () => {
    const uri = await writeEvaluation(manifest, report);
    assert.equal(uri, evaluationUri(manifest));
    const runs = join(out, '_runs');
    assert.deepEqual((await readdir(runs)).filter((f) => f.startsWith(manifest.runId) && f.endsWith('.json')).sort(), [`${manifest.runId}.evaluation.json`, `${manifest.runId}.json`]);
    assert.deepEqual(JSON.parse(await readFile(join(runs, `${manifest.runId}.evaluation.json`), 'utf8')), JSON.parse(JSON.stringify(report)));
  });
});

describe('evaluateRun refusals', () => {
  test('the score column: default, explicit, ambiguous, not a float', async () => {
    const schema = new arrow.Schema([
      new arrow.Field('id', new arrow.Int64()), new arrow.Field('p_0', new arrow.Float32()),
      new arrow.Field('p_1', new arrow.Float32()), new arrow.Field('label', new arrow.Int64()),
    ]);
    assert.equal(chooseScoreColumn(schema, ['id'], 'p_1'), 'p_1');
    assert.throws(() => chooseScoreColumn(schema, ['id']), /^Error: evaluate: the outputs have 2 float prediction columns \(p_0, p_1\); choose one with --score$/);
    assert.throws(() => chooseScoreColumn(schema, ['id'], 'label'), /score column "label" has type Int64, expected float32 or float64/);
    assert.throws(() => chooseScoreColumn(schema, ['id'], 'nope'), /score column "nope" is not in the outputs \(they have: id, p_0, p_1, label\)/);
  });

  test('bad labels and ids fail naming the file, column and value', async () => {
    const bad = join(dir.path, 'bad-labels');
    await mkdir(bad, { recursive: true });
    await writeTable(join(bad, 'two.parquet'), { id: arrow.makeVector(BigInt64Array.from([0n, 1n, 2n])), y: arrow.makeVector(Int32Array.from([0, 1, 2])) });
    await assert.rejects(evaluateRun(manifest, { labelsUri: join(bad, 'two.parquet'), idColumn: 'id', labelColumn: 'y' }), /^Error: evaluate: .*two\.parquet: label column "y" is 2 at row 2, expected 0 or 1$/);
    await writeTable(join(bad, 'strings.parquet'), { id: arrow.vectorFromArray(['0', '1']), y: arrow.makeVector(Int32Array.from([0, 1])) });
    await assert.rejects(evaluateRun(manifest, { labelsUri: join(bad, 'strings.parquet'), idColumn: 'id', labelColumn: 'y' }), /id column "id" is a string, the run's ids are integers/);
    await assert.rejects(evaluateRun(manifest, { labelsUri: join(bad, 'two.parquet'), idColumn: 'id', labelColumn: 'nope' }), /two\.parquet: column "nope" is missing/);
    await assert.rejects(evaluateRun(manifest, { labelsUri: join(bad, 'none'), idColumn: 'id', labelColumn: 'y' }), /^Error: evaluate: no Parquet files at ".*none"$/);
    await assert.rejects(evaluateRun(manifest, { labelsUri: labelsDir, idColumn: 'id', labelColumn: 'label', sliceBy: 'nope' }), /slice column "nope" is in neither/);
    await assert.rejects(evaluateRun(manifest, { labelsUri: labelsDir, idColumn: 'customer', labelColumn: 'label' }), /id column "customer" is not in the run's outputs \(they have: id, segment, probability\)/);
  });
});

describe('string ids', () => {
  test('string (and dictionary-encoded) ids join', async () => {
    const input = join(dir.path, 'in-str', 'dt=2026-11-01');
    await mkdir(input, { recursive: true });
    const n = 300, draw = rng(3);
    const cols: Record<string, arrow.Vector> = { id: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => `c-${i}`), new arrow.Utf8()) };
    for (let f = 0; f < 32; f++) cols[`f${f}`] = arrow.makeVector(Float32Array.from({ length: n }, () => draw() * 2 - 1));
    await writeTable(join(input, 'part-0.parquet'), cols);
    const { manifest: m } = await runJob(demoSpec(join(dir.path, 'in-str'), join(dir.path, 'logistic.onnx'), join(dir.path, 'out-str')), { threads: 1 });
    const ids = Array.from({ length: 200 }, (_, i) => `c-${i * 2}`); // every other id, some beyond n
    const labels = join(dir.path, 'labels-str.parquet');
    await writeTable(labels, {
      id: arrow.vectorFromArray(ids, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
      y: arrow.makeVector(Int8Array.from(ids, (_, i) => i % 2)),
    });
    const r = await evaluateRun(m, { labelsUri: labels, idColumn: 'id', labelColumn: 'y' });
    assert.deepEqual([r.matching.matched, r.matching.predictionsWithoutLabel, r.matching.labelsWithoutPrediction], [150, 150, 50]);
    assert.equal(r.overall.rows, 150);
  });
});

describe('evaluate command', () => {
  test('finds the run from --output, prints the tables and stores the JSON', async (t) => {
    const logs = t.mock.method(console, 'log', () => {});
    const code = await evaluateCommand([manifest.runId, '--output', out, '--labels', labelsDir, '--id', 'id', '--label', 'label', '--slice-by', 'segment']);
    assert.equal(code, 0);
    const text = logs.mock.calls.map((c) => String(c.arguments[0])).join('\n');
    assert.match(text, new RegExp(`^run ${manifest.runId}: 6,000 predictions, [\\d,]+ with a label`));
    assert.match(text, /segment +rows +positives +skipped +AUC +log loss +Brier +ECE/);
    for (const s of ['(overall)', 'consumer', 'enterprise', 'partner', 'public', 'smb']) assert.ok(text.includes(`\n${s} `), `row for ${s}`);
    assert.match(text, /calibration \(overall\):\nscore bin +rows +mean score +observed rate\n\[0\.00, 0\.10\)/);
    assert.match(text, /evaluation: file:\/\/.*_runs\/[0-9a-f-]{36}\.evaluation\.json$/);
    const stored = JSON.parse(await readFile(join(out, '_runs', `${manifest.runId}.evaluation.json`), 'utf8')) as EvaluationReport;
    assert.equal(stored.sliceBy, 'segment');
    assert.equal(stored.slices.length, 5);
  });

  test('a manifest path works too; --json prints the report', async (t) => {
    const logs = t.mock.method(console, 'log', () => {});
    const code = await evaluateCommand([join(out, '_runs', `${manifest.runId}.json`), '--labels', labelsDir, '--id', 'id', '--label', 'label', '--json']);
    assert.equal(code, 0);
    const printed = JSON.parse(String(logs.mock.calls[0]!.arguments[0])) as EvaluationReport;
    assert.equal(printed.runId, manifest.runId);
    assert.equal(printed.sliceBy, null);
  });

  test('no matched label fails; bad usage is a UsageError', async () => {
    const args = [manifest.runId, '--output', out, '--id', 'id', '--label', 'label'];
    await assert.rejects(evaluateCommand(args), /evaluate needs --labels/);
    await assert.rejects(evaluateCommand([...args, '--labels', labelsDir, '--bins', '0']), UsageError);
    await assert.rejects(evaluateCommand(['--labels', labelsDir]), UsageError);
    const other = join(dir.path, 'other-labels.parquet');
    await writeTable(other, { id: arrow.makeVector(BigInt64Array.from([99_000_000n])), label: arrow.makeVector(Int32Array.from([1])) });
    await assert.rejects(evaluateCommand([...args, '--labels', other]), /^Error: evaluate: no prediction matched a known label \(6000 predictions, 1 label rows, 0 matched ids\)/);
  });
});
