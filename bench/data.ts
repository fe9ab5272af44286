/**
 * The standard workload's data: the demo dataset, models and job specs, written once into
 * the bench data directory (reused while the row count is unchanged).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
}

/** Partitions of the demo dataset (one file each). */
const PARTITIONS = 8;

export async function prepareData(root: string, baseDir: string, requestedRows: number, log: (line: string) => void): Promise<BenchData> {
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
  });
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
  };
}
