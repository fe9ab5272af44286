/**
 * Emitting: the JSON Lines file next to the manifest (file:// and s3://), POSTs to a local
 * OpenLineage endpoint (the Marquez path), retries, and failures that never throw.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { emitLineage, emitRunFinish, emitRunStart, lineageEndpoint, lineageKey, postLineageEvents, writeLineageFile } from '../../src/lineage/emit.js';
import { buildFinishEvents, buildStartEvent, type LineageOptions, type RunEvent } from '../../src/lineage/openlineage-events.js';
import { FileStore } from '../../src/storage/file-store.js';
import { closeCachedStores } from '../../src/storage/resolve.js';
import { s3StoreFor, startS3rver, S3RVER_CREDENTIALS, type S3rverHandle } from '../support/s3rver.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';
import { manifest, plan, RUN_ID, spec } from './fixtures.js';
import { OpenLineageValidator } from './openlineage-schema.js';

const validator = new OpenLineageValidator();
const OPTIONS: LineageOptions = { producer: 'https://github.com/batchscore/batchscore/tree/v0.1.0', engineVersion: '0.1.0' };
const NO_ENV: NodeJS.ProcessEnv = {};

/** A local HTTP server answering from a script of status codes (200 once the script runs out). */
interface Collector {
  url: string;
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: unknown }[];
  statuses: number[];
  close(): Promise<void>;
}

async function collector(statuses: number[] = [], handler?: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<Collector> {
  const requests: Collector['requests'] = [];
  const server: Server = createServer((req, res) => {
    if (handler?.(req, res)) return;
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: JSON.parse(text) as unknown });
      const status = statuses.shift() ?? 201;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 400 ? `rejected with ${status}` : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    statuses,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A URL nothing listens on: a port that was just bound and released. */
async function deadUrl(): Promise<string> {
  const c = await collector();
  await c.close();
  return c.url;
}

function lines(text: string): RunEvent[] {
  return text.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
}

describe('lineage file next to the manifest', () => {
  let dir: TmpDir;
  before(async () => {
    dir = await tmpDir('batchscore-lineage-');
  });
  after(() => dir.cleanup());

  it('START at planning, the rest at finalize; a repeated finalize replaces instead of duplicating', async () => {
    const out = `${dir.path}/scores`;
    const s = spec({ output: { uri: out } });
    const start = await emitRunStart(plan(s), '2026-11-04T02:00:01.000Z', { ...OPTIONS, env: NO_ENV });
    const path = lineageKey(out, RUN_ID);
    assert.equal(path, `${out}/_runs/${RUN_ID}.lineage.jsonl`);
    assert.deepEqual(start, { events: 1, fileUri: `file://${path}`, fileError: null, http: null });

    const m = { ...manifest(), spec: s };
    const first = await emitRunFinish(m, { ...OPTIONS, env: NO_ENV });
    assert.equal(first.fileError, null);
    assert.equal(first.events, 7);
    await emitRunFinish(m, { ...OPTIONS, env: NO_ENV }); // a retried finalize
    const events = lines(await readFile(path, 'utf8'));
    assert.deepEqual(events.map((e) => `${e.job.name}:${e.eventType}`), [
      'churn-nightly:START',
      ...Array.from({ length: 3 }, () => ['churn-nightly.partition:START', 'churn-nightly.partition:COMPLETE']).flat(),
      'churn-nightly:COMPLETE',
    ]);
    for (const e of events) assert.deepEqual(validator.errors(e), [], `${e.eventType} ${e.job.name}`);
    assert.equal(events[0]?.eventTime, '2026-11-04T02:00:01.000Z', 'the START of planning time is kept');
  });

  it('keeps lines it cannot parse, and a run that failed before planning gets START and FAIL', async () => {
    const store = new FileStore();
    const key = `${dir.path}/odd/_runs/x.lineage.jsonl`;
    await writeLineageFile(store, key, []);
    await writeFile(key, 'not json\n');
    const m = { ...manifest(), spec: spec({ output: { uri: `${dir.path}/odd` } }), status: 'failed' as const, partitions: [], model: null };
    const report = await emitRunFinish(m, { ...OPTIONS, env: NO_ENV, includeStart: true });
    assert.equal(report.events, 2);
    const text = await readFile(lineageKey(`${dir.path}/odd`, RUN_ID), 'utf8');
    assert.deepEqual(lines(text).map((e) => e.eventType), ['START', 'FAIL']);
    assert.equal((await readFile(key, 'utf8')).split('\n')[0], 'not json');
  });

  it('an unwritable output is reported, not thrown', async () => {
    await writeFile(`${dir.path}/a-file`, 'x');
    const s = spec({ output: { uri: `${dir.path}/a-file/scores` } });
    const report = await emitRunStart(plan(s), new Date('2026-11-04T02:00:01Z'), { ...OPTIONS, env: NO_ENV });
    assert.equal(report.fileUri, null);
    assert.match(report.fileError ?? '', /^lineage: cannot write .*a-file\/scores\/_runs\/.*\.lineage\.jsonl: storage: /);
  });
});

describe('lineage file on S3', () => {
  let server: S3rverHandle;
  before(async () => {
    server = await startS3rver();
  });
  after(async () => {
    closeCachedStores();
    await server.stop();
  });

  it('is written under the output prefix and names S3 datasets by bucket and key', async () => {
    const bucket = await server.bucket();
    const store = s3StoreFor(server.endpoint, bucket);
    try {
      const s = spec({ input: { uri: `s3://${bucket}/features/churn`, partitionKey: 'dt' }, output: { uri: `s3://${bucket}/scores/churn/` } });
      const events = [buildStartEvent(plan(s), '2026-11-04T02:00:01.000Z', OPTIONS), ...buildFinishEvents({ ...manifest(), spec: s }, OPTIONS)];
      const report = await emitLineage(events, { store, outputRoot: 'scores/churn', runId: RUN_ID }, { env: NO_ENV });
      assert.equal(report.fileUri, `s3://${bucket}/scores/churn/_runs/${RUN_ID}.lineage.jsonl`);
      const stored = lines(Buffer.from(await store.get(`scores/churn/_runs/${RUN_ID}.lineage.jsonl`)).toString('utf8'));
      assert.equal(stored.length, 8);
      assert.deepEqual([stored[0]?.inputs[0]?.namespace, stored[0]?.inputs[0]?.name], [`s3://${bucket}`, 'features/churn']);
      assert.deepEqual([stored[0]?.outputs[0]?.namespace, stored[0]?.outputs[0]?.name], [`s3://${bucket}`, 'scores/churn']);
      for (const e of stored) assert.deepEqual(validator.errors(e), []);
    } finally {
      store.close();
    }
  });

  it('emitRunStart resolves an s3:// output from the environment settings', async () => {
    const bucket = await server.bucket();
    const env = { BATCHSCORE_S3_ENDPOINT: server.endpoint, BATCHSCORE_S3_FORCE_PATH_STYLE: 'true', BATCHSCORE_S3_CONDITIONAL_WRITES: 'false', BATCHSCORE_S3_CHECKSUMS: 'when_required', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey };
    const saved = { ...process.env };
    Object.assign(process.env, env); // resolveUri reads process.env, as the pipeline does
    try {
      const report = await emitRunStart(plan(spec({ output: { uri: `s3://${bucket}/scores` } })), '2026-11-04T02:00:01.000Z', { ...OPTIONS, env: NO_ENV });
      assert.equal(report.fileError, null);
      assert.equal(report.fileUri, `s3://${bucket}/scores/_runs/${RUN_ID}.lineage.jsonl`);
    } finally {
      for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

describe('POST to an OpenLineage endpoint', () => {
  const events = () => [buildStartEvent(plan(), '2026-11-04T02:00:01.000Z', OPTIONS), ...buildFinishEvents(manifest(), OPTIONS)];

  it('sends every event, in order, as JSON to <OPENLINEAGE_URL>/api/v1/lineage with the API key', async () => {
    const c = await collector();
    const dir = await tmpDir('batchscore-lineage-post-');
    try {
      const sent = events();
      const env = { OPENLINEAGE_URL: `${c.url}/`, OPENLINEAGE_API_KEY: 'sekret' };
      const report = await emitLineage(sent, { store: new FileStore(), outputRoot: dir.path, runId: RUN_ID }, { env });
      assert.deepEqual(report.http, { url: `${c.url}/api/v1/lineage`, posted: sent.length, failed: [] });
      assert.equal(c.requests.length, sent.length);
      for (const r of c.requests) {
        assert.deepEqual([r.method, r.path, r.headers['content-type'], r.headers.authorization], ['POST', '/api/v1/lineage', 'application/json', 'Bearer sekret']);
        assert.deepEqual(validator.errors(r.body), []);
      }
      assert.deepEqual(c.requests.map((r) => (r.body as RunEvent).eventType), sent.map((e) => e.eventType));
      assert.deepEqual(c.requests[0]?.body, JSON.parse(JSON.stringify(sent[0])));
    } finally {
      await c.close();
      await dir.cleanup();
    }
  });

  it('retries 5xx and 429, does not retry other 4xx, and reports what failed', async () => {
    const c = await collector([503, 429, 201, 400]);
    try {
      const sent = events().slice(0, 3);
      const result = await postLineageEvents(sent, `${c.url}/api/v1/lineage`, { retryDelayMs: 1, env: NO_ENV });
      assert.equal(c.requests.length, 5, '3 attempts for the first event (503, 429, 201), 1 for the second (400), 1 for the third');
      assert.equal(result.posted, 2);
      assert.equal(result.failed.length, 1);
      assert.match(result.failed[0]?.error ?? '', /^lineage: POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/lineage failed after 1 attempt\(s\): HTTP 400: rejected with 400$/);
      assert.equal(result.failed[0]?.eventType, sent[1]?.eventType);
    } finally {
      await c.close();
    }
  });

  it('a dead endpoint does not throw and does not hold the run up', async () => {
    const url = await deadUrl();
    const dir = await tmpDir('batchscore-lineage-dead-');
    const warnings: string[] = [];
    try {
      const t0 = Date.now();
      const report = await emitLineage(events(), { store: new FileStore(), outputRoot: dir.path, runId: RUN_ID }, { url, retryDelayMs: 10, env: NO_ENV, log: (_l, msg) => warnings.push(msg) });
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
      assert.equal(report.fileError, null, 'the file is written regardless');
      assert.equal(report.http?.posted, 0);
      assert.equal(report.http?.failed.length, 8);
      assert.match(report.http?.failed[0]?.error ?? '', /failed after 3 attempt\(s\): ECONNREFUSED/);
      assert.match(report.http?.failed[1]?.error ?? '', /^lineage: not sent: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/lineage is unreachable/);
      // One warning for the whole emit, not one per event.
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /failed after 3 attempt\(s\): ECONNREFUSED; 7 more event\(s\) of this run not sent$/);
    } finally {
      await dir.cleanup();
    }
  });

  it('times out a silent endpoint', async () => {
    const c = await collector([], () => true); // accepts the request, never answers
    try {
      const result = await postLineageEvents(events().slice(0, 1), c.url, { timeoutMs: 200, retries: 0, env: NO_ENV });
      assert.match(result.failed[0]?.error ?? '', /no response within 200 ms/);
    } finally {
      await c.close();
    }
  });

  it('endpoint from options and environment; OPENLINEAGE_DISABLED turns HTTP off', () => {
    assert.equal(lineageEndpoint({ env: {} }), null);
    assert.equal(lineageEndpoint({ env: { OPENLINEAGE_URL: 'http://marquez:5000' } }), 'http://marquez:5000/api/v1/lineage');
    assert.equal(lineageEndpoint({ env: { OPENLINEAGE_URL: 'http://m/', OPENLINEAGE_ENDPOINT: '/custom/path' } }), 'http://m/custom/path');
    assert.equal(lineageEndpoint({ env: { OPENLINEAGE_URL: 'http://m', OPENLINEAGE_DISABLED: 'true' } }), null);
    assert.equal(lineageEndpoint({ url: 'http://explicit', env: { OPENLINEAGE_DISABLED: 'true' } }), 'http://explicit/api/v1/lineage');
  });
});
