import { parseArgs } from 'node:util';
import type { Evaluation } from '../monitor/evaluate.js';
import { evaluateRun, writeEvaluation, type EvaluationReport } from '../monitor-io/evaluate-run.js';
import type { RunManifest } from '../run/manifest.js';
import { resolveUri } from '../storage/resolve.js';
import { EXIT, UsageError } from './usage-error.js';
import { findManifest } from './verify-command.js';

export const EVALUATE_HELP = `Usage: batchscore evaluate <runId | manifest-uri> --labels URI --id COL --label COL [options]

Join ground-truth labels that arrived after scoring with a run's predictions (by id) and
report AUC, log loss, Brier score and a calibration table, overall and per slice. The
result is stored next to the run as <output>/_runs/<runId>.evaluation.json.

Options:
  --labels URI       labels: a Parquet file or a folder/prefix of them (local, file://, s3://)
  --id COL           id column, in the labels and passed through to the run's outputs
  --label COL        label column of the labels: 0/1, true/false; null = not known yet
  --score COL        score column of the outputs (default: the single float prediction column)
  --slice-by COL     also evaluate per value of this column (from the outputs, else the labels)
  --bins N           calibration bins (default 10)
  --output URI       the job's output URI, to find the manifest of a run id
                     (default: the run's Redis record, REDIS_URL)
  --json             print the report as JSON instead of tables
  -h, --help         show this help

Exit codes: 0 evaluated, 1 failed (including: no prediction matched a known label), 2 bad usage.`;

// Same lookup as `verify`: a manifest path/URI, <output>/_runs/<runId>.json, or Redis.

const int = (n: number) => n.toLocaleString('en-US');
const fix = (x: number | null, digits = 4) => (x === null ? '-' : x.toFixed(digits));

function metricsRow(name: string, e: Evaluation): string[] {
  return [name, int(e.rows), int(e.positives), int(e.skipped), fix(e.auc), fix(e.logLoss), fix(e.brier), fix(e.ece)];
}

/** Columns padded to their widest cell; the first left-aligned, the rest right-aligned. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

/** The human summary of an evaluation: join counts, metrics per slice, overall calibration. */
export function formatEvaluation(r: EvaluationReport): string {
  const m = r.matching;
  const lines = [
    `run ${r.runId}: ${int(m.predictionRows)} predictions, ${int(m.matched)} with a label, ${int(m.predictionsWithoutLabel)} without; ` +
      `${int(m.labelsWithoutPrediction)} label ids without a prediction`,
    `score ${JSON.stringify(r.scoreColumn)}, label ${JSON.stringify(r.labelColumn)}, joined on ${JSON.stringify(r.idColumn)} ` +
      `(labels: ${r.labels.uri}, ${r.labels.files} file(s), ${int(m.labelRows)} rows)`,
  ];
  if (m.duplicateLabelIds) lines.push(`warning: ${int(m.duplicateLabelIds)} label rows repeat an id (the last one counts)`);
  if (m.repeatedPredictionIds) lines.push(`warning: ${int(m.repeatedPredictionIds)} prediction rows repeat an id`);
  if (m.nullIds.predictions || m.nullIds.labels) lines.push(`warning: null ids left out: ${int(m.nullIds.predictions)} predictions, ${int(m.nullIds.labels)} labels`);
  const header = [r.sliceBy === null ? '' : `${r.sliceBy}`, 'rows', 'positives', 'skipped', 'AUC', 'log loss', 'Brier', 'ECE'];
  lines.push('', table([header, metricsRow('(overall)', r.overall), ...r.slices.map((s) => metricsRow(s.value, s.evaluation))]));
  const bins = r.overall.calibration.map((b) => [`[${b.lo.toFixed(2)}, ${b.hi.toFixed(2)}${b.hi === 1 ? ']' : ')'}`, int(b.count), fix(b.meanScore), fix(b.observedRate)]);
  lines.push('', 'calibration (overall):', table([['score bin', 'rows', 'mean score', 'observed rate'], ...bins]));
  return lines.join('\n');
}

function optionValue(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`evaluate needs --${name}`);
  return v;
}

/** `batchscore evaluate`: returns the exit code. */
export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      labels: { type: 'string' },
      id: { type: 'string' },
      label: { type: 'string' },
      score: { type: 'string' },
      'slice-by': { type: 'string' },
      bins: { type: 'string' },
      output: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(EVALUATE_HELP), EXIT.ok;
  if (positionals.length !== 1) throw new UsageError(`evaluate expects one run id or manifest, got ${positionals.length}`);
  const labelsUri = optionValue(values, 'labels');
  const idColumn = optionValue(values, 'id');
  const labelColumn = optionValue(values, 'label');
  const bins = values.bins === undefined ? 10 : Number(values.bins);
  if (!Number.isInteger(bins) || bins < 1 || bins > 1000) throw new UsageError(`--bins expects an integer from 1 to 1000, got ${JSON.stringify(values.bins)}`);
  const uri = await findManifest(positionals[0]!, values.output);
  const { store, key } = resolveUri(uri);
  const manifest = JSON.parse(new TextDecoder().decode(await store.get(key))) as RunManifest;
  const report = await evaluateRun(manifest, { labelsUri, idColumn, labelColumn, scoreColumn: values.score, sliceBy: values['slice-by'], bins });
  if (report.overall.rows === 0) {
    // Storing an empty evaluation would replace a useful earlier one: fail instead.
    const m = report.matching;
    throw new Error(`evaluate: no prediction matched a known label (${m.predictionRows} predictions, ${m.labelRows} label rows, ${m.matched} matched ids); check --id, --label and --labels`);
  }
  const stored = await writeEvaluation(manifest, report);
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else console.log(`${formatEvaluation(report)}\n\nevaluation: ${stored}`);
  return EXIT.ok;
}
