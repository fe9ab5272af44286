/**
 * `batchscore run`: numeric options refuse empty and non-numeric values, and a real run
 * (child process, as a user starts it) logs what the manifest alone used to hold: the drift
 * alert naming its columns, an undelivered webhook and undelivered lineage events. And the
 * README's setup (reference from `batchscore profile <training-data>`, `ignore: ["id"]`)
 * reports ok on data of the same distribution.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intOption, runCommand } from '../../src/cli/run-command.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { demoPartition } from '../../src/demo/demo-data.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const CLI = fileURLToPath(new URL('../../../bin/batchscore.js', import.meta.url));
const ROWS = 3000;

describe('run: numeric options', () => {
  test('empty, non-numeric, fractional and out-of-range values are refused, quoted as given', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--threads='], /^--threads expects a positive whole number, got ""$/],
      [['--threads', ' '], /^--threads expects a positive whole number, got " "$/],
      [['--threads=0'], /^--threads expects a positive whole number, got "0"$/],
      [['--threads=two'], /^--threads expects a positive whole number, got "two"$/],
      [['--threads=1.5'], /^--threads expects a positive whole number, got "1.5"$/],
      [['--threads=-2'], /^--threads expects a positive whole number, got "-2"$/],
      [['--max-failed-partitions='], /^--max-failed-partitions expects a whole number \(0 or more\), got ""$/],
      [['--max-failed-partitions=1e3'], /^--max-failed-partitions expects a whole number \(0 or more\), got "1e3"$/],
      [['--max-failed-partitions=0x10'], /^--max-failed-partitions expects a whole number \(0 or more\), got "0x10"$/],
      [['--max-failed-partitions=99999999999999999999'], /^--max-failed-partitions expects a whole number \(0 or more\), got "99999999999999999999"$/],
    ];
    for (const [args, message] of cases) {
      // The spec file does not exist: the option must be refused before it is read.
      await assert.rejects(runCommand(['/nonexistent/job.json', ...args]), (err: Error) => {
        assert.ok(err instanceof UsageError, `${args.join(' ')}: ${err.message}`);
        assert.match(err.message, message, args.join(' '));
        return true;
      });
    }
  });

  test('valid values pass through as numbers', () => {
    assert.equal(intOption(undefined, '--threads', 1), undefined);
    assert.equal(intOption('1', '--threads', 1), 1);
    assert.equal(intOption('08', '--threads', 1), 8);
    assert.equal(intOption('0', '--max-failed-partitions', 0), 0);
    assert.equal(intOption(String(Number.MAX_SAFE_INTEGER), '--max-failed-partitions', 0), Number.MAX_SAFE_INTEGER);
  });
});

describe('run: a partition selection on a job without input.partitionKey', () => {
  let dir: TmpDir;
  before(async () => {
    dir = await tmpDir();
  });
  after(() => dir.cleanup());

  test('is bad usage, refused before anything runs, naming the job and the options given', async () => {
    const specPath = join(dir.path, 'flat.json');
    const spec = { ...demoSpec(join(dir.path, 'in'), join(dir.path, 'model.onnx'), join(dir.path, 'out')), name: 'flat' };
    delete (spec.input as { partitionKey?: string }).partitionKey;
    await writeFile(specPath, JSON.stringify(spec));
    for (const [args, given] of [[['--partition', '2026-11-01'], '--partition 2026-11-01'], [['--from', '2026-11-01', '--to', '2026-11-02'], '--from 2026-11-01 --to 2026-11-02']] as const) {
      await assert.rejects(runCommand([specPath, ...args]), (err: Error) => {
        assert.ok(err instanceof UsageError, err.message);
        assert.equal(err.message, `job "flat" has no input.partitionKey, so ${given} selects nothing: its whole input is one partition; run it without a selection, or set input.partitionKey`);
        return true;
      });
    }
  });
});

interface Child { code: number | null; stdout: string; stderr: string }

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Child> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    if (!('OPENLINEAGE_URL' in env)) delete childEnv.OPENLINEAGE_URL;
    delete childEnv.OPENLINEAGE_DISABLED;
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A TCP port that was free a moment ago (nothing listens on it now). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** The pino lines of a non-TTY run (stdout is a pipe here). */
function logLines(stdout: string): Array<{ level: number; msg: string; [k: string]: unknown }> {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

const WARN = 40; // pino's warn level

describe('run: monitoring against a training-data reference, in a child process', () => {
  let dir: TmpDir;
  let model: string;
  let reference: string;

  before(async () => {
    dir = await tmpDir();
    model = join(dir.path, 'model.onnx');
    await writeFile(model, demoModels().logistic.bytes);
    // Training data: other days, so other rows of the same distribution as the scored data.
    await writeDemoDataset(join(dir.path, 'train'), ['2026-10-01', '2026-10-02'], ROWS);
    reference = join(dir.path, 'reference.profile.json');
    const profiled = await cli(['profile', join(dir.path, 'train'), '--out', reference]);
    assert.equal(profiled.code, 0, profiled.stderr);
  });
  after(() => dir.cleanup());

  async function writeSpec(name: string, input: string, monitoring: Record<string, unknown>): Promise<string> {
    const spec = demoSpec(input, model, join(dir.path, `out-${name}`), { passthrough: ['id', 'segment'], monitoring: { reference, ignore: ['id'], ...monitoring } });
    const path = join(dir.path, `${name}.json`);
    await writeFile(path, JSON.stringify(spec));
    return path;
  }

  async function manifestOf(stdout: string): Promise<RunManifest> {
    const uri = /manifest: (\S+)/.exec(logLines(stdout).map((l) => l.msg).join('\n'))?.[1];
    assert.ok(uri, stdout);
    return JSON.parse(await readFile(new URL(uri), 'utf8')) as RunManifest;
  }

  test('the README setup reports ok on data of the same distribution, and logs no warning', async () => {
    const input = join(dir.path, 'same');
    await writeDemoDataset(input, ['2026-11-01', '2026-11-02'], ROWS);
    const r = await cli(['run', await writeSpec('same', input, {})]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const manifest = await manifestOf(r.stdout);
    const m = manifest.monitoring!;
    assert.deepEqual(m.drift?.schema, [], 'neither the ignored id nor the prediction is a schema change');
    assert.equal(m.status, 'ok', JSON.stringify(m.drift?.columns.filter((c) => c.severity !== 'ok')));
    // Every feature was compared (the reference has them all), the prediction was not.
    const compared = new Set(m.drift!.columns.map((c) => c.column));
    for (let i = 0; i < 32; i++) assert.ok(compared.has(`f${i}`), `f${i}`);
    assert.ok(!m.drift!.columns.some((c) => c.role === 'prediction'));
    assert.deepEqual(logLines(r.stdout).filter((l) => l.level >= WARN), []);
    assert.ok(logLines(r.stdout).some((l) => l.msg.startsWith('monitoring: ok')), r.stdout);
  });

  test('an alert, a dead webhook and a dead lineage endpoint are all logged at warn level', async () => {
    // Scored data with 30% nulls in f3, f7 and f11 where training had 1%: missing-rate
    // change ≈ 0.29 ≥ the alert threshold 0.2 for exactly these three columns.
    const input = join(dir.path, 'nulls');
    for (const [i, date] of ['2026-11-01', '2026-11-02'].entries()) {
      await mkdir(join(input, `dt=${date}`), { recursive: true });
      await writeFile(join(input, `dt=${date}`, 'part-0.parquet'), await demoPartition(date, { rows: ROWS, firstId: i * ROWS, nullFraction: 0.3 }));
    }
    // A port nothing listens on (taken, then released): connections are refused. The
    // lineage endpoint is on port 1, which fetch refuses to connect to at all ("bad port").
    const port = await freePort();
    const specPath = await writeSpec('nulls', input, { webhook: `http://127.0.0.1:${port}/hook?token=secret` });
    const r = await cli(['run', specPath], { OPENLINEAGE_URL: 'http://127.0.0.1:1' });
    assert.equal(r.code, 0, 'a dead webhook or lineage endpoint does not fail the run\n' + r.stdout + r.stderr);
    const manifest = await manifestOf(r.stdout);
    assert.equal(manifest.status, 'succeeded');
    assert.equal(manifest.monitoring?.status, 'alert');

    // Independent check of the figure behind the alert: null rates counted by DuckDB.
    const rate = async (root: string) => {
      const [row] = await duckdbRows(`SELECT avg(CASE WHEN f3 IS NULL THEN 1 ELSE 0 END) AS r FROM read_parquet(${sqlString(join(root, '*/*.parquet'))})`);
      return Number(row!.r);
    };
    const f3 = manifest.monitoring!.drift!.columns.find((c) => c.column === 'f3')!;
    const expectedChange = (await rate(input)) - (await rate(join(dir.path, 'train')));
    assert.ok(Math.abs(f3.missingRate.change - expectedChange) < 1e-12, `${f3.missingRate.change} vs DuckDB ${expectedChange}`);
    assert.ok(expectedChange >= 0.2, `the data makes an alert: ${expectedChange}`);
    const alerted = manifest.monitoring!.drift!.columns.filter((c) => c.severity === 'alert').map((c) => c.column).sort();
    assert.deepEqual(alerted, ['f11', 'f3', 'f7']);

    const warns = logLines(r.stdout).filter((l) => l.level === WARN);
    const drift = warns.find((l) => l.msg.startsWith('monitoring alert: '));
    assert.ok(drift, `no drift warning in:\n${r.stdout}`);
    for (const c of alerted) assert.match(drift.msg, new RegExp(`\\b${c} \\(alert: [^)]*missing-rate change 0\\.2`), drift.msg);
    assert.equal(drift.runId, manifest.runId);
    assert.equal(drift.report, manifest.monitoring!.reportUri);
    assert.match(String(drift.report), /^file:\/\/\S+\.report\.html$/);

    const webhook = warns.find((l) => l.msg.startsWith('monitoring webhook'));
    assert.ok(webhook, `no webhook warning in:\n${r.stdout}`);
    assert.equal(webhook.msg, `monitoring webhook http://127.0.0.1:${port} not delivered after 3 attempt(s): ECONNREFUSED`);
    assert.ok(!r.stdout.includes('secret'), 'the webhook token is not logged');

    const lineage = warns.filter((l) => l.msg.startsWith('lineage: '));
    assert.ok(lineage.some((l) => /POST http:\/\/127\.0\.0\.1:1\/api\/v1\/lineage failed/.test(l.msg)), `no lineage warning in:\n${r.stdout}`);
    // The run's summary still comes last, after the warnings.
    const msgs = logLines(r.stdout).map((l) => l.msg);
    assert.ok(msgs.findIndex((m) => m.startsWith(`run ${manifest.runId} succeeded`)) > msgs.indexOf(drift.msg));
    assert.ok(msgs.some((m) => m.startsWith('monitoring: alert, report: ')), msgs.join('\n'));
  });
});
