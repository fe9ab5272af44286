/**
 * `maxBadRowsFraction`: rows whose features the policy refuses are tolerated up to a share
 * of each file's rows. Tolerated rows are published with null predictions (no row lost),
 * counted in the manifest; past the limit the file fails and its partition publishes
 * nothing. DuckDB reads what was published; scores are checked against a JS reference.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { logisticReference } from '../../src/model/reference.js';
import { encodeParquet } from '../../src/parquet/parquet-writer.js';
import { runJob } from '../../src/run/run-job.js';
import { verifyRun } from '../../src/run/verify-run.js';
import { demoModels, demoSpec, writeTable } from '../support/dataset.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const ROWS = 4000;
const FEATURES = Array.from({ length: 32 }, (_, i) => `f${i}`);
/** The refused values: file row → [column, value]; null is a null. */
const BAD: ReadonlyMap<number, [string, number | null]> = new Map([
  [3, ['f5', null]],
  [1700, ['f5', null]],
  [2500, ['f6', Number.POSITIVE_INFINITY]],
  [3999, ['f31', Number.NaN]],
]);

function value(row: number, j: number): number {
  return Math.fround(Math.sin(row * 0.37 + j));
}

/** id = row, f0..f31 finite except the BAD cells; row groups of 500 rows. */
async function writeInput(path: string): Promise<void> {
  const ids = new BigInt64Array(ROWS);
  for (let i = 0; i < ROWS; i++) ids[i] = BigInt(i);
  const columns: Record<string, arrow.Vector> = { id: arrow.makeVector(ids) };
  for (const [j, name] of FEATURES.entries()) {
    const values = new Float32Array(ROWS);
    const bitmap = new Uint8Array(Math.ceil(ROWS / 8)).fill(0xff);
    let nulls = 0;
    for (let i = 0; i < ROWS; i++) {
      const bad = BAD.get(i);
      if (bad && bad[0] === name) {
        if (bad[1] === null) {
          bitmap[i >> 3]! &= ~(1 << (i & 7));
          nulls++;
        } else values[i] = bad[1];
      } else values[i] = value(i, j);
    }
    columns[name] = arrow.makeVector(arrow.makeData({ type: new arrow.Float32(), length: ROWS, nullCount: nulls, nullBitmap: bitmap, data: values }));
  }
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, await encodeParquet(new arrow.Table(columns), { uri: path, maxRowGroupRows: 500 }));
}

describe('maxBadRowsFraction', () => {
  let dir: TmpDir;
  let input: string;
  let modelPath: string;
  before(async () => {
    dir = await tmpDir();
    input = join(dir.path, 'input');
    await writeInput(join(input, 'dt=2026-11-01', 'part-0.parquet'));
    // A clean partition beside it, to show that one file over the limit fails only its own.
    const clean = join(input, 'dt=2026-11-02', 'part-0.parquet');
    await mkdir(join(clean, '..'), { recursive: true });
    const ids = new BigInt64Array(100).map((_, i) => BigInt(10_000 + i));
    const columns: Record<string, arrow.Vector> = { id: arrow.makeVector(ids) };
    for (const [j, name] of FEATURES.entries()) columns[name] = arrow.makeVector(Float32Array.from({ length: 100 }, (_, i) => value(10_000 + i, j)));
    await writeTable(clean, columns);
    modelPath = join(dir.path, 'logistic.onnx');
    await writeFile(modelPath, demoModels().logistic.bytes);
  });
  after(() => dir.cleanup());

  const spec = (out: string, fraction: number) =>
    demoSpec(input, modelPath, join(dir.path, out), { nulls: 'error', nonFinite: 'error', maxBadRowsFraction: fraction });

  test('within the limit: refused rows are published with null predictions and counted', async () => {
    const { manifest } = await runJob(spec('within', 0.002)); // limit 8 of 4000 rows
    assert.equal(manifest.status, 'succeeded', JSON.stringify(manifest.errors));
    assert.equal(manifest.totals.rows, ROWS + 100);
    assert.equal(manifest.totals.badRows, BAD.size);
    const file = manifest.partitions[0]!.files[0]!;
    assert.deepEqual(file.badRows, {
      count: BAD.size,
      samples: [
        { row: 3, column: 'f5', kind: 'null' },
        { row: 1700, column: 'f5', kind: 'null' },
        { row: 2500, column: 'f6', kind: 'Infinity' },
        { row: 3999, column: 'f31', kind: 'NaN' },
      ],
    });
    assert.equal(manifest.partitions[1]!.files[0]!.badRows, undefined, 'a clean file records none');

    const rows = await duckdbRows(`SELECT id, probability FROM read_parquet(${sqlString(join(dir.path, 'within', 'dt=2026-11-01', '*.parquet'))}) ORDER BY id`);
    assert.equal(rows.length, ROWS, 'every row published, the refused ones too');
    const params = demoModels().logistic.params;
    let maxDiff = 0;
    for (const r of rows) {
      const id = Number(r.id);
      if (BAD.has(id)) {
        assert.equal(r.probability, null, `row ${id} has no prediction`);
        continue;
      }
      const expected = logisticReference(params, FEATURES.map((_, j) => value(id, j)));
      maxDiff = Math.max(maxDiff, Math.abs(Number(r.probability) - expected));
    }
    assert.ok(maxDiff < 1e-6, `scores of the other rows match the reference (max |diff| ${maxDiff})`);

    // verify re-scores the first row group (rows 0..499, row 3 refused): nulls match nulls.
    const report = await verifyRun(manifest, { sampleRows: 4100 });
    assert.deepEqual(report.problems, []);
    assert.ok(report.rowsRescored >= 500, `rows re-scored: ${report.rowsRescored}`);
  });

  test('over the limit: the file fails with the count and the first refused rows; its partition publishes nothing', async () => {
    const { manifest } = await runJob(spec('over', 0.0005)); // limit 2 of 4000 rows
    assert.equal(manifest.status, 'failed');
    const [bad, clean] = manifest.partitions;
    assert.equal(bad!.status, 'failed');
    assert.equal(bad!.error!.name, 'BadRowError');
    assert.equal(bad!.error!.permanent, true);
    assert.match(bad!.error!.message, /dt=2026-11-01\/part-0\.parquet: more than 2 of 4000 rows refused \(maxBadRowsFraction 0\.0005/);
    assert.match(bad!.error!.message, /first: column "f5" is null at row 3, column "f5" is null at row 1700, column "f6" is Infinity at row 2500/);
    assert.equal(clean!.status, 'succeeded');
    assert.deepEqual(await readdir(join(dir.path, 'over')).then((d) => d.filter((n) => n.startsWith('dt=')).sort()), ['dt=2026-11-02']);
  });
});
