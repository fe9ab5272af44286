/**
 * Monitoring inside runs: profiles computed while scoring, a baseline run as reference, a
 * synthetic shift raising alert for exactly the shifted feature (and slice), a webhook that
 * receives the alert, a dead webhook that does not fail the run, and the HTML report.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { runJob } from '../../src/run/run-job.js';
import type { RunManifest } from '../../src/run/manifest.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];
const STD = 2 / Math.sqrt(12); // features are uniform on [-1, 1)
let dir: TmpDir;
let base: string;
let modelPath: string;
let baseline: RunManifest;

/** Copy the base dataset, rewriting one partition with a SQL expression per column. */
async function shiftedCopy(name: string, date: string, replace: string): Promise<string> {
  const root = join(dir.path, name);
  for (const d of DATES) {
    await mkdir(join(root, `dt=${d}`), { recursive: true });
    const src = join(base, `dt=${d}`, 'part-0.parquet');
    const dst = join(root, `dt=${d}`, 'part-0.parquet');
    const select = d === date ? `SELECT * REPLACE (${replace}) FROM read_parquet(${sqlString(src)})` : `SELECT * FROM read_parquet(${sqlString(src)})`;
    await duckdbRows(`COPY (${select}) TO ${sqlString(dst)} (FORMAT parquet)`);
  }
  return root;
}

function spec(input: string, out: string, monitoring: Record<string, unknown>) {
  return demoSpec(input, modelPath, out, { passthrough: ['id', 'segment'], monitoring: { sliceBy: 'segment', ignore: ['id'], ...monitoring } });
}

before(async () => {
  dir = await tmpDir();
  base = join(dir.path, 'base');
  await writeDemoDataset(base, DATES, 4000);
  modelPath = join(dir.path, 'logistic.onnx');
  await writeFile(modelPath, demoModels().logistic.bytes);
  ({ manifest: baseline } = await runJob(spec(base, join(dir.path, 'out'), {}), { threads: 2 }));
  assert.equal(baseline.status, 'succeeded');
});
after(() => dir.cleanup());

test('the run profile equals DuckDB aggregates of the input', async () => {
  const profileUri = baseline.monitoring?.profileUri;
  assert.ok(profileUri);
  const profile = JSON.parse(await readFile(new URL(profileUri), 'utf8'));
  const f3 = profile.overall.columns.find((c: { name: string }) => c.name === 'f3').stats;
  const [ref] = await duckdbRows(`SELECT count(*) AS n, count(*) - count(f3) AS nulls, avg(f3) AS mean, stddev_samp(f3) AS sd, min(f3) AS lo, max(f3) AS hi FROM read_parquet(${sqlString(join(base, '*/*.parquet'))})`);
  assert.equal(f3.count, Number(ref!.n));
  assert.equal(f3.nulls, Number(ref!.nulls));
  assert.ok(Math.abs(f3.mean - (ref!.mean as number)) < 1e-9);
  assert.ok(Math.abs(f3.min - (ref!.lo as number)) < 1e-7 && Math.abs(f3.max - (ref!.hi as number)) < 1e-7);
  assert.equal(baseline.monitoring?.status, 'ok');
  assert.match(baseline.monitoring?.note ?? '', /no monitoring.reference/);
});

test('an unshifted copy raises no alert against the baseline', async () => {
  const input = await shiftedCopy('same', DATES[0]!, 'f0 AS f0');
  const { manifest } = await runJob(spec(input, join(dir.path, 'out-same'), { reference: baseline.runId }), { threads: 2 });
  // A different output root: point the reference at the baseline's profile file itself.
  assert.equal(manifest.monitoring?.status, 'warn', 'the baseline id resolves under this output root, where it does not exist');
  const { manifest: again } = await runJob(spec(input, join(dir.path, 'out-same'), { reference: baseline.monitoring!.profileUri }), { threads: 2 });
  assert.equal(again.monitoring?.status, 'ok', JSON.stringify(again.monitoring?.drift?.columns.slice(0, 3)));
  assert.ok(again.monitoring?.drift?.columns.every((c) => c.severity === 'ok'));
});

test('a 1-std shift of one feature in one partition alerts for exactly that feature, and the webhook gets it', async () => {
  const received: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    // One partition of three shifted by 1 std: the run-level mean moves by 1/3 std.
    const input = await shiftedCopy('shift', DATES[1]!, `CAST(f9 + ${3 * STD} AS FLOAT) AS f9`);
    const { manifest } = await runJob(spec(input, join(dir.path, 'out-shift'), { reference: baseline.monitoring!.profileUri, webhook: url }), { threads: 2 });
    assert.equal(manifest.status, 'succeeded');
    const m = manifest.monitoring!;
    assert.equal(m.status, 'alert');
    const features = m.drift!.columns.filter((c) => c.role === 'feature');
    assert.deepEqual(features.filter((c) => c.severity === 'alert').map((c) => c.column), ['f9']);
    assert.deepEqual(features.filter((c) => c.severity !== 'ok').map((c) => c.column), ['f9']);
    assert.equal(received.length, 1);
    const hook = received[0] as { runId: string; status: string; columns: { name: string; severity: string }[] };
    assert.equal(hook.runId, manifest.runId);
    assert.equal(hook.status, 'alert');
    assert.ok(hook.columns.some((c) => c.name === 'f9' && c.severity === 'alert'));
    const html = await readFile(new URL(m.reportUri!), 'utf8');
    assert.ok(html.includes('f9'));
    assert.ok(!/(src|href)=["']https?:/.test(html), 'no external assets');
    assert.ok(html.indexOf('f9') < html.indexOf('>f1<') || !html.includes('>f1<'), 'f9 listed before unshifted features');
  } finally {
    server.close();
  }
});

test('a shift in one segment alerts in that slice only; a dead webhook does not fail the run', async () => {
  const input = await shiftedCopy('slice', DATES[2]!, `CASE WHEN segment = 'smb' THEN CAST(f12 + ${3 * STD} AS FLOAT) ELSE f12 END AS f12`);
  const started = Date.now();
  const { manifest } = await runJob(spec(input, join(dir.path, 'out-slice'), { reference: baseline.monitoring!.profileUri, webhook: 'http://127.0.0.1:9/dead' }), { threads: 2 });
  assert.equal(manifest.status, 'succeeded');
  assert.ok(Date.now() - started < 60_000);
  const slices = manifest.monitoring!.drift!.slices;
  const alerted = slices.filter((s) => s.columns.some((c) => c.role === 'feature' && c.severity === 'alert'));
  assert.deepEqual(alerted.map((s) => s.value), ['smb']);
  const smb = alerted[0]!.columns.filter((c) => c.role === 'feature' && c.severity !== 'ok').map((c) => c.column);
  assert.deepEqual(smb, ['f12']);
});
