/**
 * Small demo-shaped datasets and job specs for tests, written by code.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { demoPartition } from '../../src/demo/demo-data.js';
import { makeDemoModels, type DemoModels } from '../../src/model/build/demo.js';
import { encodeParquet } from '../../src/parquet/parquet-writer.js';
import { parseJobSpec, type JobSpec } from '../../src/spec/job-spec.js';

let models: DemoModels | undefined;
/** The demo models (built once per test process). */
export function demoModels(): DemoModels {
  models ??= makeDemoModels(42);
  return models;
}

/** Write `dt=<date>/part-0.parquet` files with `rows` rows each; ids are unique across dates. */
export async function writeDemoDataset(root: string, dates: readonly string[], rows: number, rowGroupRows = Math.ceil(rows / 3)): Promise<void> {
  for (const [i, date] of dates.entries()) {
    const dir = join(root, `dt=${date}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'part-0.parquet'), await demoPartition(date, { rows, firstId: i * rows, rowGroupRows }));
  }
}

/** Write an Arrow table as a Parquet file (for hand-made bad inputs). */
export async function writeTable(path: string, columns: Record<string, arrow.Vector>): Promise<void> {
  await writeFile(path, await encodeParquet(new arrow.Table(columns), { uri: path }));
}

/** A job spec over the demo features and a model file, with overrides. */
export function demoSpec(input: string, modelUri: string, output: string, overrides: Record<string, unknown> = {}): JobSpec {
  return parseJobSpec({
    name: 'test-job',
    input: { uri: input, partitionKey: 'dt' },
    model: { uri: modelUri },
    features: Array.from({ length: 32 }, (_, i) => `f${i}`),
    passthrough: ['id'],
    nulls: 'nan',
    output: { uri: output },
    batchSize: 1000,
    ...overrides,
  });
}
