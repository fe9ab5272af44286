/**
 * The scoring thread's code cache (thread-loader.cts), through `batchscore run` in child
 * processes with a private XDG_CACHE_HOME: written once, then used (not rewritten) with the
 * same outputs; a corrupt cache is replaced; an unsafe folder or BATCHSCORE_CODE_CACHE=off
 * means no cache, and the run still succeeds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { RunManifest } from '../../src/run/manifest.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const CLI = fileURLToPath(new URL('../../../bin/batchscore.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../thread/score-thread.cjs', import.meta.url));

describe('scoring thread code cache', () => {
  let dir: TmpDir;
  let specPath: string;
  let runs = 0;

  before(async () => {
    dir = await tmpDir();
    await writeDemoDataset(join(dir.path, 'input'), ['2026-11-01', '2026-11-02'], 3000);
    const model = join(dir.path, 'model.onnx');
    writeFileSync(model, demoModels().logistic.bytes);
    specPath = join(dir.path, 'job.json');
    writeFileSync(specPath, JSON.stringify(demoSpec(join(dir.path, 'input'), model, join(dir.path, 'out'))));
  });
  after(() => dir.cleanup());

  /** Run the job in a fresh process with `env`; the sha256 of each output file. */
  function run(env: Record<string, string>): string[] {
    const r = spawnSync(process.execPath, [CLI, 'run', specPath], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.equal(r.status, 0, `run ${++runs} failed: ${r.stderr}`);
    const runsDir = join(dir.path, 'out', '_runs');
    const latest = readdirSync(runsDir).filter((f) => f.endsWith('.json')).map((f) => join(runsDir, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;
    const manifest = JSON.parse(readFileSync(latest, 'utf8')) as RunManifest;
    assert.equal(manifest.status, 'succeeded');
    return manifest.partitions.flatMap((p) => p.files.map((f) => f.output?.sha256 ?? 'none'));
  }

  const cacheFiles = (home: string) => (existsSync(join(home, 'batchscore')) ? readdirSync(join(home, 'batchscore')).filter((f) => f.endsWith('.v8cache')) : []);

  it('is built with the project (the thread runs the bundle)', () => {
    assert.ok(existsSync(BUNDLE), `${BUNDLE} missing: npm run build bundles the scoring thread`);
  });

  it('is written once, then used as it is, with the same outputs', () => {
    const home = join(dir.path, 'cache-a');
    const first = run({ XDG_CACHE_HOME: home });
    const files = cacheFiles(home);
    assert.equal(files.length, 1, `one cache file, got ${files.join(', ')}`);
    const path = join(home, 'batchscore', files[0]!);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'batchscore')).mode & 0o777, 0o700);
    const bytes = readFileSync(path);
    assert.ok(bytes.length > 10_000, `cache of ${bytes.length} bytes`);
    const inode = statSync(path).ino;
    const second = run({ XDG_CACHE_HOME: home });
    assert.deepEqual(second, first, 'same outputs with the cache');
    // A rewrite would rename a new file over it (a new inode).
    assert.equal(statSync(path).ino, inode, 'a valid cache is used, not rewritten');
    assert.ok(readFileSync(path).equals(bytes));
  });

  it('replaces a corrupt cache file', () => {
    const home = join(dir.path, 'cache-b');
    run({ XDG_CACHE_HOME: home });
    const path = join(home, 'batchscore', cacheFiles(home)[0]!);
    const garbage = Buffer.alloc(5000, 7);
    writeFileSync(path, garbage, { mode: 0o600 });
    run({ XDG_CACHE_HOME: home });
    const now = readFileSync(path);
    assert.ok(!now.equals(garbage), 'the corrupt cache was replaced');
    assert.ok(now.length > 10_000);
  });

  it('keeps one cache per V8 tiering setting: a run with default tiering neither rejects nor rewrites the one-shot cache', () => {
    const home = join(dir.path, 'cache-t');
    const limited = run({ XDG_CACHE_HOME: home });
    const [oneShot] = cacheFiles(home);
    assert.ok(oneShot, 'the one-shot run wrote its cache');
    const inode = statSync(join(home, 'batchscore', oneShot)).ino;
    const full = run({ XDG_CACHE_HOME: home, BATCHSCORE_WASM_TIERING: 'full' });
    assert.deepEqual(full, limited, 'the same outputs whatever V8 optimizes');
    assert.equal(cacheFiles(home).length, 2, 'a second cache, keyed by the other flags');
    run({ XDG_CACHE_HOME: home });
    assert.equal(statSync(join(home, 'batchscore', oneShot)).ino, inode, 'the one-shot cache is still valid and used');
  });

  it('removes cache files of other builds (and crashed writes) not written for a month', () => {
    const home = join(dir.path, 'cache-p');
    const folder = join(home, 'batchscore');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const old = join(folder, `score-thread-${'a'.repeat(24)}.v8cache`);
    const oldTemp = join(folder, `score-thread-${'b'.repeat(24)}.v8cache.123.x1y2`);
    const recent = join(folder, `score-thread-${'c'.repeat(24)}.v8cache`);
    const other = join(folder, 'notes.txt');
    for (const f of [old, oldTemp, recent, other]) writeFileSync(f, 'x', { mode: 0o600 });
    const longAgo = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    for (const f of [old, oldTemp, other]) utimesSync(f, longAgo, longAgo);
    run({ XDG_CACHE_HOME: home });
    assert.ok(!existsSync(old) && !existsSync(oldTemp), 'month-old cache files are gone');
    assert.ok(existsSync(recent), 'a recent cache of another build stays');
    assert.ok(existsSync(other), 'files that are not caches stay');
    assert.equal(cacheFiles(home).length, 2, 'this build wrote its own');
  });

  it('uses no cache in a folder others can write, nor when switched off', () => {
    const open = join(dir.path, 'cache-c');
    mkdirSync(join(open, 'batchscore'), { recursive: true });
    chmodSync(join(open, 'batchscore'), 0o777);
    run({ XDG_CACHE_HOME: open });
    assert.deepEqual(cacheFiles(open), []);
    const off = join(dir.path, 'cache-d');
    run({ XDG_CACHE_HOME: off, BATCHSCORE_CODE_CACHE: 'off' });
    assert.deepEqual(cacheFiles(off), []);
  });
});
