/**
 * End to end: the same job on file:// and on s3:// (s3rver over HTTP). Outputs are read back
 * with DuckDB (an independent reader) and scores are checked against plain-JS references
 * computed from the input rows DuckDB reads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runJob } from '../../src/run/run-job.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { closeCachedStores } from '../../src/storage/resolve.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { startS3rver, s3StoreFor, S3RVER_CREDENTIALS, type S3rverHandle } from '../support/s3rver.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';
import { downloadPrefix, uploadDir } from '../support/queue-harness.js';

const DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];
const ROWS = 3000;
const FEATURES = Array.from({ length: 32 }, (_, i) => `f${i}`);

/** Input rows as DuckDB reads them: id → features (null stays null). */
async function inputRows(glob: string): Promise<Map<bigint, (number | null)[]>> {
  const rows = await duckdbRows(`SELECT id, ${FEATURES.join(', ')} FROM read_parquet(${sqlString(glob)})`);
  return new Map(rows.map((r) => [r.id as bigint, FEATURES.map((f) => r[f] as number | null)]));
}

/** Output rows as DuckDB reads them, with hive partitions. */
async function outputRows(glob: string): Promise<Record<string, unknown>[]> {
  return duckdbRows(`SELECT * FROM read_parquet(${sqlString(glob)}, hive_partitioning = true) ORDER BY id`);
}

function close(actual: number, expected: number, what: string): void {
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  assert.ok(Math.abs(actual - expected) <= 1e-5, `${what}: ${actual} vs reference ${expected}`);
}

function checkManifest(m: RunManifest, files: number, rows: number): void {
  assert.deepEqual(m.errors, []);
  assert.equal(m.status, 'succeeded');
  assert.equal(m.totals.rows, rows);
  assert.equal(m.totals.files, files);
  assert.equal(m.model?.sha256.length, 64);
  assert.match(m.runId, /^[0-9a-f-]{36}$/);
  for (const p of m.partitions) {
    assert.equal(p.status, 'succeeded');
    assert.ok(p.success?.endsWith('_SUCCESS.json'));
    for (const f of p.files) {
      assert.equal(f.error, null);
      assert.equal(f.output?.rows, f.input.rows);
      assert.match(f.output?.sha256 ?? '', /^[0-9a-f]{64}$/);
    }
  }
}

describe('runJob on file://', () => {
  let dir: TmpDir;
  let input: string;
  let modelPath: string;
  before(async () => {
    dir = await tmpDir();
    input = join(dir.path, 'input');
    await writeDemoDataset(input, DATES, ROWS);
    modelPath = join(dir.path, 'logistic.onnx');
    await writeFile(modelPath, demoModels().logistic.bytes);
  });
  after(() => dir.cleanup());

  test('logistic scores equal the JS reference, NaN for null features; DuckDB sees every id once', async () => {
    const out = join(dir.path, 'out-nan');
    const { manifest, manifestUri } = await runJob(demoSpec(input, modelPath, out), { threads: 2 });
    checkManifest(manifest, DATES.length, DATES.length * ROWS);
    assert.deepEqual(JSON.parse(await readFile(new URL(manifestUri), 'utf8')), JSON.parse(JSON.stringify(manifest)));
    const inputs = await inputRows(join(input, '*/*.parquet'));
    const outputs = await outputRows(join(out, '*/*.parquet'));
    assert.equal(outputs.length, DATES.length * ROWS);
    assert.equal(new Set(outputs.map((r) => r.id)).size, outputs.length);
    const model = demoModels().logistic;
    let nulls = 0;
    for (const r of outputs) {
      const features = inputs.get(r.id as bigint);
      assert.ok(features, `id ${String(r.id)} not in the input`);
      if (features.includes(null)) nulls++;
      const expected = model.reference(features.map((v) => (v === null ? Number.NaN : v)));
      close(r.probability as number, expected, `id ${String(r.id)}`);
    }
    assert.ok(nulls > 0, 'the dataset has rows with null features');
    assert.deepEqual(Object.keys(outputs[0]!).sort(), ['dt', 'id', 'probability']);
  });

  test('imputed nulls and the MLP match the reference', async () => {
    const out = join(dir.path, 'out-mlp');
    const mlpPath = join(dir.path, 'mlp.onnx');
    await writeFile(mlpPath, demoModels().mlp.bytes);
    const impute = { f3: 0.25, f7: -0.5, f11: 0 };
    const spec = demoSpec(input, mlpPath, out, { nulls: { impute } });
    const { manifest } = await runJob(spec, { threads: 2, selection: { kind: 'values', values: ['2026-11-02'] } });
    checkManifest(manifest, 1, ROWS);
    const inputs = await inputRows(join(input, 'dt=2026-11-02/*.parquet'));
    const outputs = await outputRows(join(out, '*/*.parquet'));
    assert.equal(outputs.length, ROWS);
    const model = demoModels().mlp;
    for (const r of outputs) {
      const features = inputs.get(r.id as bigint)!;
      const row = features.map((v, j) => (v === null ? impute[FEATURES[j] as keyof typeof impute] : v));
      assert.ok(row.every((v) => typeof v === 'number' && Number.isFinite(v)), 'only f3/f7/f11 have nulls');
      close(r.probability as number, model.reference(row as number[]), `id ${String(r.id)}`);
    }
  });

  test('a partition is published as soon as its files are done, while later files are still scored', async () => {
    const out = join(dir.path, 'out-early');
    const events: string[] = [];
    // One thread scores the files in plan order: partition 1 is done long before file 3 is.
    const { manifest } = await runJob(demoSpec(input, modelPath, out), {
      threads: 1,
      onFile: (e) => events.push(`file ${e.partition}`),
      onPartition: (r) => events.push(`published ${r.dir}`),
    });
    checkManifest(manifest, DATES.length, DATES.length * ROWS);
    const [first, , last] = DATES.map((d) => `dt=${d}`);
    assert.ok(events.indexOf(`published ${first}`) >= 0 && events.indexOf(`published ${first}`) < events.indexOf(`file ${last}`), events.join(', '));
    // Every partition published exactly once, and the manifest lists them in plan order.
    assert.deepEqual(events.filter((e) => e.startsWith('published')).sort(), DATES.map((d) => `published dt=${d}`));
    assert.deepEqual(manifest.partitions.map((p) => p.dir), DATES.map((d) => `dt=${d}`));
    const outputs = await outputRows(join(out, '*/*.parquet'));
    assert.equal(outputs.length, DATES.length * ROWS);
  });

  test('re-scoring replaces files, removes stale ones and never duplicates rows', async () => {
    const out = join(dir.path, 'out-rerun');
    const spec = demoSpec(input, modelPath, out);
    await runJob(spec, { threads: 2 });
    const stale = join(out, 'dt=2026-11-01', 'part-stale.parquet');
    await writeFile(stale, await readFile(join(out, 'dt=2026-11-01', 'part-0.parquet')));
    const second = await runJob(spec, { threads: 1, selection: { kind: 'range', from: '2026-11-01', to: '2026-11-02' } });
    assert.equal(second.manifest.partitions.length, 2);
    const files = await readdir(join(out, 'dt=2026-11-01'));
    assert.deepEqual(files.sort(), ['_SUCCESS.json', 'part-0.parquet']);
    const rows = await duckdbRows(`SELECT count(*) AS n, count(DISTINCT id) AS u FROM read_parquet(${sqlString(join(out, '*/*.parquet'))})`);
    assert.equal(rows[0]!.n, BigInt(DATES.length * ROWS));
    assert.equal(rows[0]!.u, BigInt(DATES.length * ROWS));
    const marker = JSON.parse(await readFile(join(out, 'dt=2026-11-01', '_SUCCESS.json'), 'utf8'));
    assert.equal(marker.runId, second.manifest.runId);
    assert.equal(marker.rows, ROWS);
    assert.deepEqual(await readdir(out).then((d) => d.filter((n) => n.startsWith('_staging'))), []);
  });
});

describe('runJob on s3:// (s3rver over HTTP)', () => {
  let s3: S3rverHandle;
  let dir: TmpDir;
  const saved = { ...process.env };
  before(async () => {
    s3 = await startS3rver();
    dir = await tmpDir();
    Object.assign(process.env, {
      BATCHSCORE_S3_ENDPOINT: s3.endpoint,
      BATCHSCORE_S3_FORCE_PATH_STYLE: 'true',
      BATCHSCORE_S3_CHECKSUMS: 'when_required',
      BATCHSCORE_S3_CONDITIONAL_WRITES: 'false',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    });
  });
  after(async () => {
    process.env = saved;
    closeCachedStores();
    await dir.cleanup();
    await s3.stop();
  });

  test('same job, same scores as on file://', async () => {
    const bucket = await s3.bucket();
    const store = s3StoreFor(s3.endpoint, bucket);
    const local = join(dir.path, 'input');
    await writeDemoDataset(local, DATES, ROWS);
    await uploadDir(store, local, 'lake/features');
    await store.put('models/logistic.onnx', demoModels().logistic.bytes);
    const spec = demoSpec(`s3://${bucket}/lake/features`, `s3://${bucket}/models/logistic.onnx`, `s3://${bucket}/lake/scores`);
    const { manifest, manifestUri } = await runJob(spec, { threads: 2 });
    checkManifest(manifest, DATES.length, DATES.length * ROWS);
    assert.equal(manifestUri, `s3://${bucket}/lake/scores/_runs/${manifest.runId}.json`);
    assert.ok(manifest.partitions[0]!.files[0]!.input.uri.startsWith(`s3://${bucket}/lake/features/dt=`));

    const keys = await downloadPrefix(store, 'lake/scores/', join(dir.path, 'scores'));
    assert.ok(!keys.some((k) => k.includes('_staging')), `staging left behind: ${keys.join(', ')}`);
    const outputs = await outputRows(join(dir.path, 'scores', '*/*.parquet'));
    assert.equal(outputs.length, DATES.length * ROWS);
    const inputs = await inputRows(join(local, '*/*.parquet'));
    const model = demoModels().logistic;
    for (const r of outputs) {
      const features = inputs.get(r.id as bigint)!;
      close(r.probability as number, model.reference(features.map((v) => (v === null ? Number.NaN : v))), `id ${String(r.id)}`);
    }
  });
});
