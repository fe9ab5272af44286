/**
 * ONNX Runtime's telemetry is off unless the user turns it on (src/model/ort-env.ts): with a
 * private HOME, a `batchscore run` (scoring threads) and a model loaded on the main thread
 * leave no `.cache/Microsoft/DeveloperTools` behind; with ORT_DISABLE_TELEMETRY=0 set by the
 * user, ONNX Runtime does write its telemetry database there (so the check can fail).
 *
 * ONNX Runtime keeps telemetry off by itself on CI machines: it looks for the variables that CI
 * services set (CI, GITHUB_ACTIONS, JENKINS_URL...). The children here run without them, so
 * the test means the same on a laptop and in CI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const CLI = fileURLToPath(new URL('../../../bin/batchscore.js', import.meta.url));
const LOAD_MODEL = new URL('../../src/model/load-model.js', import.meta.url).href;

/** What onnxruntime 1.30 reads to tell a CI machine (the list is in libonnxruntime's strings). */
const CI_VARIABLES = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL',
  'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER'];

describe('ONNX Runtime telemetry', () => {
  let dir: TmpDir;
  let specPath: string;
  let model: string;
  let homes = 0;

  before(async () => {
    dir = await tmpDir();
    await writeDemoDataset(join(dir.path, 'input'), ['2026-11-01'], 2000);
    model = join(dir.path, 'model.onnx');
    writeFileSync(model, demoModels().logistic.bytes);
    specPath = join(dir.path, 'job.json');
    writeFileSync(specPath, JSON.stringify(demoSpec(join(dir.path, 'input'), model, join(dir.path, 'out'))));
  });
  after(() => dir.cleanup());

  /** A fresh HOME, and the environment of a child that uses it (no telemetry setting of ours, no CI markers). */
  function home(extra: Record<string, string> = {}): { path: string; env: NodeJS.ProcessEnv } {
    const path = join(dir.path, `home-${++homes}`);
    mkdirSync(path);
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: path, XDG_CACHE_HOME: join(path, '.cache'), ...extra };
    if (!('ORT_DISABLE_TELEMETRY' in extra)) delete env.ORT_DISABLE_TELEMETRY;
    for (const name of CI_VARIABLES) delete env[name];
    return { path, env };
  }

  const telemetryDir = (h: string) => join(h, '.cache', 'Microsoft', 'DeveloperTools');

  it('a batchscore run (scoring threads) leaves no telemetry database', () => {
    const h = home();
    const r = spawnSync(process.execPath, [CLI, 'run', specPath], { env: h.env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!existsSync(telemetryDir(h.path)), 'ONNX Runtime wrote telemetry during a run');
  });

  it('loading a model on the main thread leaves none either; a user who sets ORT_DISABLE_TELEMETRY=0 gets ONNX Runtime’s default', () => {
    const script = `const { loadModel } = await import(${JSON.stringify(LOAD_MODEL)});
      const { readFileSync } = await import('node:fs');
      const m = await loadModel(readFileSync(${JSON.stringify(model)}), { source: 'model.onnx' });
      await m.session.release();`;
    const off = home();
    const a = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: off.env, encoding: 'utf8' });
    assert.equal(a.status, 0, a.stderr);
    assert.ok(!existsSync(telemetryDir(off.path)), 'ONNX Runtime wrote telemetry after loadModel');
    const on = home({ ORT_DISABLE_TELEMETRY: '0' });
    const b = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: on.env, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
    assert.ok(existsSync(join(telemetryDir(on.path), '.onnxruntime', 'onnxruntime.db')), 'with telemetry left on, ONNX Runtime writes its database');
  });
});
