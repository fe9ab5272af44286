/**
 * S3Store behaviour beyond the shared contract, seen on the wire: a recording proxy sits
 * between the store and a real S3 API (s3rver) and injects 503s, resets and cut bodies.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { NotFoundError, PreconditionFailedError } from '../../src/storage/object-store.js';
import { S3Store, type S3StoreOptions } from '../../src/storage/s3-store.js';
import { startHttpProxy, type HttpProxy, type RecordedRequest } from '../support/http-proxy.js';
import { s3StoreFor, startS3rver, type S3rverHandle } from '../support/s3rver.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const MiB = 1024 * 1024;

describe('S3Store on the wire', () => {
  let server: S3rverHandle;
  let proxy: HttpProxy;
  let local: TmpDir;
  let bucket: string;
  const stores: S3Store[] = [];
  const storeVia = (overrides: Partial<S3StoreOptions> = {}) => {
    const store = s3StoreFor(proxy.endpoint, bucket, overrides);
    stores.push(store);
    return store;
  };
  const path = (r: RecordedRequest) => decodeURIComponent(r.url.split('?')[0] ?? '');

  before(async () => {
    server = await startS3rver();
    bucket = await server.bucket();
    proxy = await startHttpProxy(server.endpoint);
    local = await tmpDir();
  });
  after(async () => {
    for (const s of stores) s.close();
    await proxy.stop();
    await server.stop();
    await local.cleanup();
  });
  beforeEach(() => {
    proxy.requests.length = 0;
    proxy.decide = () => 'forward';
  });

  it('sends SSE headers on every write, multipart only above the threshold', async () => {
    const store = storeVia({
      serverSideEncryption: 'aws:kms',
      sseKmsKeyId: 'test-key-1',
      multipartThresholdBytes: 6 * MiB,
      partSizeBytes: 5 * MiB,
    });
    const bigFile = join(local.path, 'big.bin');
    await writeFile(bigFile, randomBytes(11 * MiB));
    const smallFile = join(local.path, 'small.bin');
    await writeFile(smallFile, 'small');
    await store.put('sse/small', 'x');
    await store.put('sse/big', randomBytes(7 * MiB));
    await store.putFile('sse/small-file', smallFile);
    await store.putFile('sse/big-file', bigFile);
    await store.copy('sse/small', 'sse/copied');

    const writes = proxy.requests.filter(
      (r) => (r.method === 'PUT' && !r.url.includes('partNumber=')) || (r.method === 'POST' && r.url.includes('uploads')),
    );
    assert.deepEqual(writes.map(path).sort(), [
      `/${bucket}/sse/big`,
      `/${bucket}/sse/big-file`,
      `/${bucket}/sse/copied`,
      `/${bucket}/sse/small`,
      `/${bucket}/sse/small-file`,
    ]);
    for (const w of writes) {
      assert.equal(w.headers['x-amz-server-side-encryption'], 'aws:kms', w.url);
      assert.equal(w.headers['x-amz-server-side-encryption-aws-kms-key-id'], 'test-key-1', w.url);
    }
    const initiated = proxy.requests.filter((r) => r.method === 'POST' && r.url.includes('uploads'));
    assert.deepEqual(initiated.map(path).sort(), [`/${bucket}/sse/big`, `/${bucket}/sse/big-file`]);
    assert.equal(proxy.requests.filter((r) => r.url.includes('partNumber=')).length, 2 + 3);
  });

  it('asks for explicit byte ranges, never suffix ranges', async () => {
    const store = storeVia();
    await store.put('range/obj', randomBytes(100));
    await store.getRange('range/obj', 90, 100);
    await store.getRange('range/obj', 0, 1);
    const ranges = proxy.requests.filter((r) => r.method === 'GET').map((r) => r.headers.range);
    assert.deepEqual(ranges, ['bytes=90-99', 'bytes=0-0']);
  });

  it('retries 503s and connection resets, then succeeds', async () => {
    const store = storeVia();
    await store.put('retry/obj', 'payload');
    proxy.requests.length = 0;
    proxy.decide = (_req, i) => (i < 2 ? 503 : 'forward');
    assert.equal(Buffer.from(await store.get('retry/obj')).toString(), 'payload');
    assert.deepEqual(proxy.requests.map((r) => r.fate), [503, 503, 'forward']);

    proxy.requests.length = 0;
    proxy.decide = (_req, i) => (i === 0 ? 'reset' : 'forward');
    await store.put('retry/after-reset', 'ok');
    assert.equal(proxy.requests.length, 2);
    assert.equal((await store.head('retry/after-reset'))?.size, 2);
  });

  it('restarts a download whose body is cut mid-stream', async () => {
    const store = storeVia();
    const body = randomBytes(2 * MiB);
    await store.put('cut/obj', body);
    proxy.requests.length = 0;
    proxy.decide = (req, i) => (req.method === 'GET' && i === 0 ? 'cut' : 'forward');
    assert.ok(Buffer.from(await store.get('cut/obj')).equals(body));
    assert.deepEqual(proxy.requests.map((r) => r.fate), ['cut', 'forward']);
  });

  it('gives up after maxAttempts with a storage: error naming the URI and status', async () => {
    const store = storeVia({ maxAttempts: 2 });
    proxy.decide = () => 503;
    await assert.rejects(store.get('gone/obj'), (err: unknown) => {
      assert.ok(err instanceof Error && !(err instanceof NotFoundError));
      assert.match(err.message, new RegExp(`^storage: get s3://${bucket}/gone/obj failed: .*HTTP 503`));
      return true;
    });
    assert.equal(proxy.requests.length, 2);
  });

  it('with conditionalWrites, sends If-None-Match / If-Match and maps 412', async () => {
    const store = storeVia({ conditionalWrites: true, multipartThresholdBytes: 6 * MiB, partSizeBytes: 5 * MiB });
    assert.equal(store.conditionalWrites, true);
    await store.put('cond/a', 'x', { ifNoneMatch: '*' });
    await store.put('cond/a', 'y', { ifMatch: 'abc' }); // s3rver ignores the header
    await store.put('cond/big', randomBytes(7 * MiB), { ifNoneMatch: '*' });
    const puts = proxy.requests.filter((r) => r.method === 'PUT' && !r.url.includes('partNumber='));
    assert.equal(puts[0]?.headers['if-none-match'], '*');
    assert.equal(puts[1]?.headers['if-match'], '"abc"');
    const complete = proxy.requests.find((r) => r.method === 'POST' && r.url.includes('uploadId='));
    assert.equal(complete?.headers['if-none-match'], '*', 'CompleteMultipartUpload carries the condition');
    assert.equal(proxy.requests.filter((r) => r.method === 'HEAD').length, 0, 'no racy pre-check');

    proxy.decide = () => 412;
    await assert.rejects(store.put('cond/a', 'z', { ifNoneMatch: '*' }), (err: unknown) => {
      assert.ok(err instanceof PreconditionFailedError);
      assert.ok(err.message.includes(`s3://${bucket}/cond/a`));
      return true;
    });
  });

  it('without conditionalWrites, checks with HEAD first and sends no condition headers', async () => {
    const store = storeVia();
    assert.equal(store.conditionalWrites, false);
    await store.put('nocond/a', 'x', { ifNoneMatch: '*' });
    await assert.rejects(store.put('nocond/a', 'y', { ifNoneMatch: '*' }), PreconditionFailedError);
    assert.ok(proxy.requests.some((r) => r.method === 'HEAD'));
    assert.ok(proxy.requests.every((r) => r.headers['if-none-match'] === undefined));
  });

  it('fails loudly when the server lists keys out of S3 order (s3rver: a/x before a-b)', async () => {
    const store = storeVia();
    await store.put('order/a-b', '1');
    await store.put('order/a/x', '2');
    await assert.rejects(async () => {
      for await (const _ of store.list('order/')) {
        // drain
      }
    }, /^Error: storage: list s3:\/\/.*not in S3 key order/);
  });

  it('a missing bucket is a configuration error, not a missing object', async () => {
    const store = storeVia({ bucket: 'no-such-bucket-here' });
    await assert.rejects(store.get('k'), (err: unknown) => {
      assert.ok(err instanceof Error && !(err instanceof NotFoundError));
      assert.match(err.message, /^storage: get s3:\/\/no-such-bucket-here\/k failed: NoSuchBucket/);
      return true;
    });
  });

  it('validates its options', () => {
    assert.throws(() => new S3Store({ bucket: 'b', partSizeBytes: 1024 }), /storage: partSizeBytes must be at least 5 MiB/);
    assert.throws(() => new S3Store({ bucket: 'b', sseKmsKeyId: 'k' }), /storage: sseKmsKeyId needs/);
    assert.throws(() => new S3Store({ bucket: '' }), /storage: S3Store needs a bucket/);
  });
});
