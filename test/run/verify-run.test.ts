import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { runJob } from '../../src/run/run-job.js';
import { verifyRun } from '../../src/run/verify-run.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { encodeParquet } from '../../src/parquet/parquet-writer.js';
import { openParquet } from '../../src/parquet/parquet-reader.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

let dir: TmpDir;
let manifest: RunManifest;

before(async () => {
  dir = await tmpDir();
  await writeDemoDataset(join(dir.path, 'in'), ['2026-11-01', '2026-11-02'], 2000);
  await writeFile(join(dir.path, 'm.onnx'), demoModels().logistic.bytes);
  ({ manifest } = await runJob(demoSpec(join(dir.path, 'in'), join(dir.path, 'm.onnx'), join(dir.path, 'out')), { threads: 1 }));
  assert.equal(manifest.status, 'succeeded');
});
after(() => dir.cleanup());

test('an untouched run verifies', async () => {
  const report = await verifyRun(manifest, { sampleRows: 200 });
  assert.deepEqual(report.problems, []);
  assert.equal(report.filesChecked, 2);
  assert.ok(report.rowsRescored >= 200);
});

test('a modified output file fails on its sha256', async () => {
  const path = join(dir.path, 'out', 'dt=2026-11-01', 'part-0.parquet');
  const original = await readFile(path);
  try {
    const bytes = Buffer.from(original);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    await writeFile(path, bytes);
    const report = await verifyRun(manifest, { sampleRows: 100 });
    assert.equal(report.problems.length, 1);
    assert.match(report.problems[0]!, /dt=2026-11-01\/part-0\.parquet: sha256 [0-9a-f]{64} differs/);
  } finally {
    await writeFile(path, original);
  }
});

test('changed predictions with a matching manifest hash fail the re-score', async () => {
  const path = join(dir.path, 'out', 'dt=2026-11-02', 'part-0.parquet');
  const original = await readFile(path);
  try {
    const reader = await openParquet(new Blob([original]), path);
    const table = await reader.readRowGroup(0, ['id', 'probability']);
    reader.close();
    const p = Float32Array.from(table.getChild('probability')!.toArray() as Float32Array, (v) => v + 0.01);
    const forged = await encodeParquet(new arrow.Table({ id: table.getChild('id')!, probability: arrow.makeVector(p) }), { uri: path });
    await writeFile(path, forged);
    const tampered = structuredClone(manifest);
    const file = tampered.partitions.find((x) => x.dir === 'dt=2026-11-02')!.files[0]!;
    file.output!.sha256 = createHash('sha256').update(forged).digest('hex');
    const report = await verifyRun(tampered, { sampleRows: 100 });
    assert.equal(report.problems.length, 1, report.problems.join('\n'));
    assert.match(report.problems[0]!, /row \d+ column "probability": published .* re-scored/);
  } finally {
    await writeFile(path, original);
  }
});
