/**
 * Registry → runs: each run pins the version its ref resolved to at planning time, scores
 * with exactly that model, refuses tampered bytes, and emits OpenLineage events that
 * validate against the spec's JSON Schemas.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJob } from '../../src/run/run-job.js';
import { openRegistry } from '../../src/registry/model-registry.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';
import { OpenLineageValidator } from '../lineage/openlineage-schema.js';

let dir: TmpDir;
let input: string;
let registryRoot: string;
const FEATURES = Array.from({ length: 32 }, (_, i) => `f${i}`);

before(async () => {
  dir = await tmpDir();
  input = join(dir.path, 'in');
  registryRoot = join(dir.path, 'registry');
  await writeDemoDataset(input, ['2026-11-01'], 1500);
  const registry = openRegistry(registryRoot);
  await registry.register('churn', demoModels().logistic.bytes, { metrics: { auc: 0.81 } });
  await registry.register('churn', demoModels().mlp.bytes, { metrics: { auc: 0.84 } });
});
after(() => dir.cleanup());

async function runRef(out: string): Promise<RunManifest> {
  const spec = demoSpec(input, 'unused', out, { model: { ref: 'churn@production', registry: registryRoot } });
  const { manifest } = await runJob(spec, { threads: 1 });
  return manifest;
}

/** Max |published - reference| over the run's output, with the reference computed in JS. */
async function maxError(out: string, reference: (row: number[]) => number): Promise<number> {
  const rows = await duckdbRows(
    `SELECT o.probability AS p, ${FEATURES.map((f) => `i.${f}`).join(', ')} FROM read_parquet(${sqlString(join(out, '*/*.parquet'))}) o ` +
      `JOIN read_parquet(${sqlString(join(input, '*/*.parquet'))}) i USING (id)`,
  );
  assert.equal(rows.length, 1500);
  let worst = 0;
  for (const r of rows) {
    // Rows with null features score NaN through the models ("nulls": "nan"); NaN through
    // relu is implementation-defined, so compare the complete rows only.
    if (FEATURES.some((f) => r[f] === null)) continue;
    const want = reference(FEATURES.map((f) => r[f] as number));
    worst = Math.max(worst, Math.abs((r.p as number) - want));
  }
  return worst;
}

test('register → promote → run → promote → run → rollback → run pins and uses the right version', async () => {
  const registry = openRegistry(registryRoot);
  const models = demoModels();
  await registry.promote('churn', 1, 'production');
  const first = await runRef(join(dir.path, 'out1'));
  assert.equal(first.status, 'succeeded', JSON.stringify(first.errors));
  assert.deepEqual(first.model?.registry, { ref: 'churn@production', name: 'churn', version: 1, alias: 'production' });
  assert.equal(first.model?.sha256, (await registry.get('churn', 1)).metadata.sha256);
  assert.ok((await maxError(join(dir.path, 'out1'), models.logistic.reference)) < 1e-5);

  await registry.promote('churn', 2, 'production');
  const second = await runRef(join(dir.path, 'out2'));
  assert.equal(second.model?.registry?.version, 2);
  assert.ok((await maxError(join(dir.path, 'out2'), models.mlp.reference)) < 1e-5);
  assert.ok((await maxError(join(dir.path, 'out2'), models.logistic.reference)) > 1e-3, 'v2 is not the logistic model');

  await registry.rollback('churn', 'production');
  const third = await runRef(join(dir.path, 'out3'));
  assert.equal(third.model?.registry?.version, 1);
  assert.equal(third.model?.sha256, first.model?.sha256);
  assert.ok((await maxError(join(dir.path, 'out3'), models.logistic.reference)) < 1e-5);
});

test('a model file tampered after registration is refused by the scoring thread', async () => {
  const registry = openRegistry(registryRoot);
  await registry.promote('churn', 1, 'production');
  const path = fileURLToPath((await registry.get('churn', 1)).uri);
  const original = await readFile(path);
  try {
    const flipped = Buffer.from(original);
    flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 0x01;
    await writeFile(path, flipped);
    const out = join(dir.path, 'out-tampered');
    const manifest = await runRef(out);
    assert.equal(manifest.status, 'failed');
    assert.match(manifest.errors[0]?.message ?? '', /sha256 mismatch/);
    assert.equal(manifest.partitions.filter((p) => p.status === 'succeeded').length, 0);
  } finally {
    await writeFile(path, original);
  }
});

test("every run's OpenLineage events validate against the 2-0-2 schemas", async () => {
  const validator = new OpenLineageValidator();
  const out = join(dir.path, 'out1');
  const manifests = JSON.parse(JSON.stringify(await runRef(join(dir.path, 'out-lineage')))) as RunManifest;
  for (const runDir of [out, join(dir.path, 'out-lineage')]) {
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(join(runDir, '_runs'))).filter((f) => f.endsWith('.lineage.jsonl'));
    assert.ok(files.length >= 1);
    for (const f of files) {
      const events = (await readFile(join(runDir, '_runs', f), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { eventType: string; run: { runId: string } });
      const types = events.map((e) => e.eventType);
      assert.ok(types.includes('START'), `START in ${types.join(',')}`);
      assert.ok(types.includes('COMPLETE') || types.includes('FAIL'));
      for (const e of events) assert.deepEqual(validator.errors(e), [], `${f} ${e.eventType}`);
    }
  }
  const events = (await readFile(join(dir.path, 'out-lineage', '_runs', `${manifests.runId}.lineage.jsonl`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { eventType: string; run: { runId: string; facets?: Record<string, unknown> } });
  const runEvents = events.filter((e) => e.run.runId === manifests.runId);
  assert.deepEqual(runEvents.map((e) => e.eventType).sort(), ['COMPLETE', 'START']);
});
