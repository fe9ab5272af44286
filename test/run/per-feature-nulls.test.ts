/**
 * A model with one `[N,1]` input per feature (sklearn-onnx's convention) fills its inputs on
 * a path of its own: a null the spec's policy does not cover is refused there with the same
 * message as for `[N,F]` models, naming the policy the user set.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildLogisticModel } from '../../src/model/build/logistic.js';
import { runJob } from '../../src/run/run-job.js';
import { demoSpec, writeDemoDataset } from '../support/dataset.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

let dir: TmpDir;
before(async () => {
  dir = await tmpDir();
});
after(() => dir.cleanup());

test('per-feature inputs: a null in a feature nulls.impute leaves out names that policy', async () => {
  const features = Array.from({ length: 32 }, (_, i) => `f${i}`);
  await writeDemoDataset(join(dir.path, 'input'), ['2026-11-01'], 3000);
  const model = join(dir.path, 'per-feature.onnx');
  writeFileSync(model, buildLogisticModel({ weights: new Float32Array(32).fill(0.1), bias: 0, perFeatureInputs: features }));
  // The demo data has nulls in f3, f7 and f11; only f3 and f11 get a value.
  const spec = demoSpec(join(dir.path, 'input'), model, join(dir.path, 'out'), { nulls: { impute: { f3: 0, f11: 0 } } });
  const { manifest } = await runJob(spec, { threads: 1, keepThreadsWarm: false });
  assert.equal(manifest.status, 'failed');
  const error = manifest.partitions[0]?.files[0]?.error;
  assert.ok(error, 'the file failed');
  assert.match(error.message, /"f7"/);
  assert.match(error.message, /nulls: impute has no value for "f7"; add it to nulls\.impute or use "nan"/);
});
