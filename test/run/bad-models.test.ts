/**
 * Bad models (missing, tampered, unloadable, not fitting the features) fail the whole run
 * before any file is scored, with the manifest saying why; `batchscore inspect` (a child
 * process) reads every file of parquet-testing's data and bad_data without crashing and names
 * the bad ones. Set-up shared with bad-input.test.ts (support/bad-input-suite.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunManifest } from '../../src/run/manifest.js';
import { demoSpec } from '../support/dataset.js';
import { BAD_DATA, DATA, FEATURES, filesUnder, newCase, ROOT, ROWS, run, state, useBadInputSuite } from '../support/bad-input-suite.js';

useBadInputSuite();

describe('bad models fail the whole run before scoring', () => {
  async function checkNothingPublished(out: string, manifest: RunManifest): Promise<void> {
    assert.equal(manifest.status, 'failed');
    assert.deepEqual(manifest.partitions, []);
    assert.equal(manifest.totals.partitions, 0);
    const files = await filesUnder(out);
    assert.deepEqual(files.map((f) => f.slice(out.length + 1)), [`_runs/${manifest.runId}.json`, `_runs/${manifest.runId}.lineage.jsonl`].sort(), 'only the manifest and its lineage events are written');
  }

  test('a model whose sha256 does not match the pin', async () => {
    const c = await newCase('sha-mismatch');
    const out = c.out('strict');
    const pin = 'ab'.repeat(32);
    // Allowing failed partitions changes nothing: the run cannot start.
    const { manifest } = await run(demoSpec(c.input, state.modelPath, out, { model: { uri: state.modelPath, sha256: pin } }), 5);
    await checkNothingPublished(out, manifest);
    assert.equal(manifest.model, null);
    assert.equal(manifest.errors.length, 1);
    const e = manifest.errors[0]!;
    assert.equal(e.name, 'ModelError');
    assert.equal(e.permanent, true);
    assert.ok(e.message.includes(state.modelPath), e.message);
    assert.ok(e.message.includes(pin), e.message);
    assert.ok(e.message.includes(state.modelSha), e.message);
    assert.match(e.message, /sha256 mismatch/);
  });

  const widthErrors: string[] = [];
  test('a model whose input width does not fit the features (31 listed, model takes 32)', async () => {
    const c = await newCase('width');
    const out = c.out('strict');
    const { manifest } = await run(demoSpec(c.input, state.modelPath, out, { features: FEATURES.slice(0, 31) }), 5);
    await checkNothingPublished(out, manifest);
    assert.equal(manifest.errors.length, 1);
    const e = manifest.errors[0]!;
    assert.equal(e.name, 'BindingError');
    assert.equal(e.permanent, true);
    assert.match(e.message, /\[N,32\]/);
    assert.match(e.message, /31 features/);
    widthErrors.push(e.message);
  });

  test('a model width error names the model', () => {
    assert.equal(widthErrors.length, 1);
    assert.ok(widthErrors[0]!.includes(state.modelPath), widthErrors[0]);
  });
});

describe('batchscore inspect (child process)', () => {
  interface InspectEntry {
    uri: string;
    rows?: number;
    columns?: { name: string; type: string }[];
    error?: string;
  }

  function inspect(files: readonly string[]): { status: number | null; signal: string | null; entries: InspectEntry[]; stderr: string } {
    const res = spawnSync(process.execPath, [join(ROOT, 'bin', 'batchscore.js'), 'inspect', '--json', ...files], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(res.error, undefined, `spawn failed: ${String(res.error)}`);
    let entries: InspectEntry[];
    try {
      entries = JSON.parse(res.stdout) as InspectEntry[];
    } catch {
      assert.fail(`stdout is not JSON (status ${res.status}, signal ${res.signal}):\n${res.stdout.slice(0, 2000)}\n${res.stderr.slice(0, 2000)}`);
    }
    return { status: res.status, signal: res.signal, entries, stderr: res.stderr };
  }

  function checkEntries(files: readonly string[], result: ReturnType<typeof inspect>): InspectEntry[] {
    assert.equal(result.signal, null, `inspect was killed by ${result.signal}: ${result.stderr}`);
    assert.ok(result.status === 0 || result.status === 1, `exit status ${result.status}: ${result.stderr}`);
    assert.deepEqual(result.entries.map((e) => e.uri), [...files], 'one entry per file, in order');
    const failed: InspectEntry[] = [];
    for (const e of result.entries) {
      if (e.error !== undefined) {
        assert.ok(e.error.includes(e.uri), `error names the file: ${e.error}`);
        failed.push(e);
      } else {
        assert.ok(Number.isInteger(e.rows) && e.rows! >= 0, `${e.uri}: rows`);
        assert.ok(Array.isArray(e.columns) && e.columns.length > 0, `${e.uri}: columns`);
      }
    }
    assert.equal(result.status, failed.length > 0 ? 1 : 0, 'exit 1 exactly when some file could not be read');
    return failed;
  }

  test('reads every file of parquet-testing/data without crashing', async () => {
    const files = (await readdir(DATA)).filter((f) => f.endsWith('.parquet')).sort().map((f) => join(DATA, f));
    assert.ok(files.length >= 60, `data has ${files.length} files`);
    const failed = checkEntries(files, inspect(files));
    // Nearly every file is readable; a few exotic ones may be refused with a clear message.
    assert.ok(failed.length <= 3, `unreadable: ${failed.map((f) => f.error).join('\n')}`);
    const one = [join(DATA, 'alltypes_plain.parquet')];
    const plain = inspect(one);
    assert.deepEqual(checkEntries(one, plain), [], plain.stderr);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.entries[0]!.rows, 8);
  });

  test('bad_data, truncated and empty files: clear errors, exit 1, no crash', async () => {
    const root = join(state.dir.path, 'inspect');
    await mkdir(root, { recursive: true });
    const good = join(state.goodRoot, 'dt=2026-11-01', 'part-0.parquet');
    const half = join(root, 'half.parquet');
    await copyFile(good, half);
    await truncate(half, Math.floor((await stat(good)).size / 2));
    const empty = join(root, 'empty.parquet');
    await writeFile(empty, new Uint8Array(0));
    const badFiles = (await readdir(BAD_DATA)).filter((f) => f.endsWith('.parquet')).sort().map((f) => join(BAD_DATA, f));
    const files = [good, ...badFiles, half, empty, join(root, 'missing.parquet')];
    const result = inspect(files);
    const failed = checkEntries(files, result);
    assert.equal(result.status, 1);
    const errorOf = (f: string) => failed.find((e) => e.uri === f)?.error ?? '';
    assert.match(errorOf(half), /truncated/);
    assert.match(errorOf(empty), /0 bytes/);
    assert.match(errorOf(join(root, 'missing.parquet')), /not found|no such|does not exist/i);
    assert.equal(result.entries[0]!.rows, ROWS);
  });
});
