/**
 * The package's public API: `import 'batchscore'` resolves (package.json `exports`, `main`
 * and `types` name files the build makes) to src/index.ts, and a job runs through it alone:
 * spec → runJob → verifyRun → reading the output back, predictions checked against the
 * model's plain-JS reference row by row.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as local from '../src/index.js';
import { demoModels, writeDemoDataset } from './support/dataset.js';
import { tmpDir, type TmpDir } from './support/tmp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// A variable, so the compiler does not resolve the package's own types before they are built.
const PACKAGE = 'batchscore';

describe('public API', () => {
  let dir: TmpDir;
  before(async () => {
    dir = await tmpDir();
  });
  after(() => dir.cleanup());

  it("import 'batchscore' is src/index.ts, and package.json names files that exist", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      name: string;
      main: string;
      types: string;
      exports: { '.': { types: string; default: string } };
    };
    assert.equal(pkg.name, PACKAGE);
    for (const file of [pkg.main, pkg.types, pkg.exports['.'].types, pkg.exports['.'].default]) {
      assert.ok(existsSync(join(ROOT, file)), `package.json names ${file}, which the build did not make`);
    }
    const api = (await import(PACKAGE)) as typeof local;
    assert.equal(api, local, 'the package name resolves to another module than dist/src/index.js');
    for (const name of ['runJob', 'parseJobSpec', 'verifyRun', 'submitRun', 'startScoreWorker', 'openRegistry', 'loadModel', 'openParquet']) {
      assert.equal(typeof (api as Record<string, unknown>)[name], 'function', `${name} is not exported`);
    }
  });

  it('a job runs, verifies and reads back through the public API only', async () => {
    const model = demoModels().logistic;
    const input = join(dir.path, 'input');
    await writeDemoDataset(input, ['2026-11-01', '2026-11-02'], 1500, 600);
    const modelPath = join(dir.path, 'logistic.onnx');
    writeFileSync(modelPath, model.bytes);
    const spec = local.parseJobSpec({
      name: 'api-job',
      input: { uri: input, partitionKey: 'dt' },
      model: { uri: modelPath },
      features: model.featureNames,
      passthrough: ['id'],
      nulls: 'nan',
      output: { uri: join(dir.path, 'out') },
    });
    assert.throws(() => local.parseJobSpec({ ...spec, batchSize: 0 }), local.SpecError);

    const { manifest, manifestUri } = await local.runJob(spec, { threads: 2, keepThreadsWarm: false });
    assert.equal(manifest.status, 'succeeded', JSON.stringify(manifest.errors));
    assert.equal(manifest.totals.rows, 3000);
    assert.match(manifestUri, /_runs\/.+\.json$/);
    const report = await local.verifyRun(manifest);
    assert.deepEqual(report.problems, []);
    assert.equal(report.filesChecked, 2);

    const store = new local.FileStore();
    let checked = 0;
    for (const file of manifest.partitions.flatMap((p) => p.files)) {
      const inputBlob = await local.openRangeBlob(store, fileURLToPath(file.input.uri));
      const outputBlob = await local.openRangeBlob(store, fileURLToPath(file.output!.uri));
      const inReader = await local.openParquet(inputBlob, file.input.uri);
      const outReader = await local.openParquet(outputBlob, file.output!.uri);
      try {
        const features = new Map<bigint, number[]>();
        for (let g = 0; g < inReader.rowGroupRows.length; g++) {
          const t = await inReader.readRowGroup(g, ['id', ...model.featureNames]);
          const ids = t.getChild('id')!.toArray() as BigInt64Array;
          const cols = model.featureNames.map((f) => t.getChild(f)!);
          // nulls: 'nan' scores a null feature as NaN.
          ids.forEach((id, i) => features.set(id, cols.map((c) => (c.isValid(i) ? (c.get(i) as number) : NaN))));
        }
        for (let g = 0; g < outReader.rowGroupRows.length; g++) {
          const t = await outReader.readRowGroup(g, ['id', 'probability']);
          const ids = t.getChild('id')!.toArray() as BigInt64Array;
          const p = t.getChild('probability')!.toArray() as Float32Array;
          ids.forEach((id, i) => {
            const row = features.get(id);
            assert.ok(row, `output id ${id} is not in the input`);
            const want = model.reference(row);
            const got = p[i]!;
            // NaN features (nulls: 'nan') give NaN in both.
            if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `id ${id}: ${got}, reference NaN`);
            else assert.ok(Math.abs(got - want) < 1e-5, `id ${id}: ${got}, reference ${want}`);
            checked++;
          });
        }
      } finally {
        inReader.close();
        outReader.close();
        await inputBlob.close();
        await outputBlob.close();
      }
    }
    assert.equal(checked, 3000);
  });
});
