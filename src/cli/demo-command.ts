import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { demoDates, demoPartition } from '../demo/demo-data.js';
import { makeDemoModels } from '../model/build/demo.js';
import { limitWasmTierUpForColdRun } from '../parquet/wasm-tiering.js';
import { runJob } from '../run/run-job.js';
import { parseJobSpec, type JobSpec } from '../spec/job-spec.js';
import { createReporter } from './progress.js';
import { reportRun } from './run-command.js';
import { EXIT, UsageError } from './usage-error.js';

export const DEMO_HELP = `Usage: batchscore demo [options]

Generate a sample dataset (8 daily partitions dt=YYYY-MM-DD, an int64 id, a string
segment, a timestamp and 32 float32 features with ~1% nulls in f3, f7, f11; snappy)
and three models built from code (logistic regression, MLP 32-256-256-1, 100-tree
ensemble), then score the dataset on this machine. No Redis, no S3.

Options:
  --dir PATH        where data, models, job specs and scores go (default: demo-data)
  --rows N          rows in all, split over 8 partitions (default: 2000000)
  --model NAME      logistic, mlp, trees or all (default: logistic)
  --threads N       scoring threads (default: CPU cores, at most 8)
  -h, --help        show this help`;

const MODELS = ['logistic', 'mlp', 'trees'] as const;
type DemoModelName = (typeof MODELS)[number];

/** Write the demo dataset unless the same one is already there. */
export async function ensureDemoData(dir: string, rows: number, log: (line: string) => void): Promise<string> {
  const inputDir = join(dir, 'input');
  const markerPath = join(inputDir, '_demo.json');
  const dates = demoDates();
  const marker = JSON.stringify({ rows, dates, version: 1 });
  const existing = await readFile(markerPath, 'utf8').catch(() => '');
  if (existing === marker) return inputDir;
  await rm(inputDir, { recursive: true, force: true });
  const perPartition = Math.ceil(rows / dates.length);
  for (const [i, date] of dates.entries()) {
    const bytes = await demoPartition(date, { rows: perPartition, firstId: i * perPartition });
    const part = join(inputDir, `dt=${date}`);
    await mkdir(part, { recursive: true });
    await writeFile(join(part, 'part-0.parquet'), bytes);
    log(`generated ${join(part, 'part-0.parquet')} (${perPartition.toLocaleString('en-US')} rows)`);
  }
  await writeFile(markerPath, marker);
  return inputDir;
}

/** Write the demo models and one job spec per model; returns the specs. */
export async function writeDemoModels(dir: string): Promise<Record<DemoModelName, JobSpec>> {
  const models = makeDemoModels(42);
  await mkdir(join(dir, 'models'), { recursive: true });
  await mkdir(join(dir, 'jobs'), { recursive: true });
  const specs = {} as Record<DemoModelName, JobSpec>;
  for (const name of MODELS) {
    const m = models[name];
    const modelPath = join(dir, 'models', `${name}.onnx`);
    await writeFile(modelPath, m.bytes);
    const raw = {
      name: `demo-${name}`,
      input: { uri: join(dir, 'input'), partitionKey: 'dt' },
      model: { uri: modelPath },
      features: [...m.featureNames],
      passthrough: ['id', 'segment'],
      nulls: 'nan',
      output: { uri: join(dir, 'scores', name) },
      batchSize: name === 'trees' ? 128 : 8192,
    };
    await writeFile(join(dir, 'jobs', `${name}.json`), `${JSON.stringify(raw, null, 2)}\n`);
    specs[name] = parseJobSpec(raw);
  }
  return specs;
}

/** `batchscore demo`: returns the exit code. */
export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string', default: 'demo-data' },
      rows: { type: 'string', default: '2000000' },
      model: { type: 'string', default: 'logistic' },
      threads: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(DEMO_HELP);
    return EXIT.ok;
  }
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 8 || rows > 1e9) throw new UsageError(`--rows expects an integer from 8 to 1e9, got ${JSON.stringify(values.rows)}`);
  const chosen = values.model === 'all' ? [...MODELS] : [values.model as DemoModelName];
  if (!chosen.every((m) => MODELS.includes(m))) throw new UsageError(`--model expects logistic, mlp, trees or all, got ${JSON.stringify(values.model)}`);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new UsageError(`--threads expects a positive integer, got ${JSON.stringify(values.threads)}`);

  const dir = resolve(values.dir);
  const reporter = createReporter();
  await ensureDemoData(dir, rows, (line) => reporter.summary(line));
  const specs = await writeDemoModels(dir);
  // A one-shot process: optimize only what pays off in a short run (after the data, which the
  // main thread writes with parquet-wasm itself).
  limitWasmTierUpForColdRun();
  let code: number = EXIT.ok;
  for (const name of chosen) {
    reporter.summary(`scoring with ${name} (${join(dir, 'models', `${name}.onnx`)}) ...`);
    const started = performance.now();
    const result = await runJob(specs[name], {
      threads,
      onFile: (e) => reporter.progress(e.filesDone, e.filesTotal, e.rowsDone, started),
    });
    code = Math.max(code, reportRun(reporter, result, specs[name].output.uri));
  }
  reporter.summary(`job specs to rerun or copy: ${join(dir, 'jobs')}/*.json (e.g. batchscore run ${join(values.dir, 'jobs', 'mlp.json')})`);
  return code;
}
