/**
 * The standard workload's data: the demo dataset, models and job specs, written once into
 * the bench data directory (reused while the row count is unchanged).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ensureDemoData, writeDemoModels } from '../src/cli/demo-command.js';
import { makeDemoModels } from '../src/model/build/demo.js';
import type { LogisticWeights } from './duckdb-peer.js';

export type DemoModelName = 'logistic' | 'mlp' | 'trees';

export interface BenchJob {
  /** Job spec file, as `batchscore run` takes it. */
  specPath: string;
  modelPath: string;
  outputDir: string;
  batchSize: number;
  /** The spec's `nulls` is `"nan"`. */
  nullsAsNaN: boolean;
  /** The spec's `passthrough` columns. */
  passthrough: string[];
}

export interface BenchData {
  /** Project root (children run here). */
  root: string;
  /** `bin/batchscore.js`. */
  cli: string;
  dataDir: string;
  inputDir: string;
  /** Rows in the dataset (the requested count rounded up to a multiple of 8 partitions). */
  rows: number;
  features: string[];
  logistic: LogisticWeights;
  jobs: Record<DemoModelName, BenchJob>;
  duckdbOutputDir: string;
  /** The one-big-file logistic job, its file written on first use (then kept). */
  bigFile(): Promise<BigFileJob>;
}

/** The logistic job over a single big input file. */
export interface BigFileJob {
  specPath: string;
  outputDir: string;
  rows: number;
  /** Size of the input file. */
  bytes: number;
}

/** Rows per row group of the big file (a few MB of each column: what Spark/pyarrow write). */
const BIG_ROW_GROUP_ROWS = 131_072;

/** Write (once) one demo-shaped file of `rows` rows and a logistic job spec reading it. */
async function prepareBigFile(dataDir: string, logisticSpec: string, rows: number, log: (line: string) => void): Promise<BigFileJob> {
  const dir = join(dataDir, `big-${rows}`);
  const file = join(dir, 'input', 'dt=2026-11-01', 'part-0.parquet');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    const t0 = performance.now();
    // Written row group by row group, like any big file from a warehouse; the writer is a
    // test fixture because it exists to produce test data, not to score it.
    const { writeBigFile } = await import('../test/run/fixtures/big-file.js');
    await writeBigFile(`${file}.tmp`, rows, { rowGroupRows: BIG_ROW_GROUP_ROWS });
    renameSync(`${file}.tmp`, file);
    log(`generated ${file} (${rows.toLocaleString('en-US')} rows, ${(statSync(file).size / 2 ** 20).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const raw = JSON.parse(readFileSync(logisticSpec, 'utf8')) as { name: string; input: { uri: string }; output: { uri: string } };
  const outputDir = join(dir, 'scores');
  const spec = { ...raw, name: `${raw.name}-big-file`, input: { ...raw.input, uri: join(dir, 'input') }, output: { ...raw.output, uri: outputDir } };
  const specPath = join(dir, 'job.json');
  writeFileSync(specPath, `${JSON.stringify(spec, null, 2)}\n`);
  return { specPath, outputDir, rows, bytes: statSync(file).size };
}

/** Partitions of the demo dataset (one file each). */
const PARTITIONS = 8;

export async function prepareData(root: string, baseDir: string, requestedRows: number, log: (line: string) => void, bigRows = 20_000_000): Promise<BenchData> {
  const dataDir = resolve(root, baseDir, `rows-${requestedRows}`);
  const inputDir = await ensureDemoData(dataDir, requestedRows, log);
  const specs = await writeDemoModels(dataDir);
  const models = makeDemoModels(42);
  // The SQL peer must use the very weights the pipeline's model holds.
  const onDisk = readFileSync(join(dataDir, 'models', 'logistic.onnx'));
  if (!onDisk.equals(Buffer.from(models.logistic.bytes))) {
    throw new Error('bench: models/logistic.onnx differs from makeDemoModels(42).logistic: writeDemoModels changed its seed?');
  }
  const job = (name: DemoModelName): BenchJob => ({
    specPath: join(dataDir, 'jobs', `${name}.json`),
    modelPath: join(dataDir, 'models', `${name}.onnx`),
    outputDir: specs[name].output.uri,
    batchSize: specs[name].batchSize,
    nullsAsNaN: specs[name].nulls === 'nan',
    passthrough: [...specs[name].passthrough],
  });
  let big: Promise<BigFileJob> | undefined;
  return {
    root,
    cli: join(root, 'bin', 'batchscore.js'),
    dataDir,
    inputDir,
    rows: Math.ceil(requestedRows / PARTITIONS) * PARTITIONS,
    features: [...models.logistic.featureNames],
    logistic: { weights: Array.from(models.logistic.params.weights), bias: models.logistic.params.bias },
    jobs: { logistic: job('logistic'), mlp: job('mlp'), trees: job('trees') },
    duckdbOutputDir: join(dataDir, 'duckdb', 'logistic'),
    bigFile: () => (big ??= prepareBigFile(resolve(root, baseDir), job('logistic').specPath, bigRows, log)),
  };
}
