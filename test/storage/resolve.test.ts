/**
 * Locations → stores: parsing, error messages, env settings, caching, and joinKey. One test
 * resolves an s3:// URI configured only through the environment and uses it against s3rver.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FileStore } from '../../src/storage/file-store.js';
import { closeCachedStores, joinKey, parseUri, resolveUri, s3SettingsFromEnv } from '../../src/storage/resolve.js';
import { LazyS3Store } from '../../src/storage/lazy-s3-store.js';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverHandle } from '../support/s3rver.js';

describe('parseUri', () => {
  it('resolves local paths against cwd and keeps a trailing slash', () => {
    assert.deepEqual(parseUri('data/in.parquet', '/work'), { scheme: 'file', path: '/work/data/in.parquet' });
    assert.deepEqual(parseUri('./out/', '/work'), { scheme: 'file', path: '/work/out/' });
    assert.deepEqual(parseUri('../x', '/work/a'), { scheme: 'file', path: '/work/x' });
    assert.deepEqual(parseUri('/abs/../p q', '/ignored'), { scheme: 'file', path: '/p q' });
    assert.equal(parseUri('rel').scheme, 'file');
    assert.equal((parseUri('rel') as { path: string }).path, `${process.cwd()}/rel`);
    // A colon without `//` is part of a file name, not a scheme.
    assert.deepEqual(parseUri('c:d', '/w'), { scheme: 'file', path: '/w/c:d' });
  });

  it('decodes file:// URIs', () => {
    assert.deepEqual(parseUri('file:///data/a%20b/%C3%BC.parquet'), { scheme: 'file', path: '/data/a b/ü.parquet' });
    assert.deepEqual(parseUri('file://localhost/data/'), { scheme: 'file', path: '/data/' });
    assert.deepEqual(parseUri('FILE:///x'), { scheme: 'file', path: '/x' });
  });

  it('splits s3:// URIs into bucket and verbatim key', () => {
    assert.deepEqual(parseUri('s3://my-bucket/runs/2024 01/part=1/'), {
      scheme: 's3',
      bucket: 'my-bucket',
      key: 'runs/2024 01/part=1/',
    });
    assert.deepEqual(parseUri('s3://my-bucket'), { scheme: 's3', bucket: 'my-bucket', key: '' });
    assert.deepEqual(parseUri('s3://b.with.dots/'), { scheme: 's3', bucket: 'b.with.dots', key: '' });
  });

  it('rejects unsupported schemes and malformed URIs, quoting the value', () => {
    assert.throws(() => parseUri('gs://bucket/x'), /^Error: storage: unsupported location "gs:\/\/bucket\/x": scheme "gs:\/\/"/);
    assert.throws(() => parseUri('http://host/file.parquet'), /storage: unsupported location "http:\/\/host\/file.parquet"/);
    assert.throws(() => parseUri('s3://'), /storage: invalid S3 bucket name "" in "s3:\/\/"/);
    assert.throws(() => parseUri('s3://Bad_Bucket!/k'), /storage: invalid S3 bucket name "Bad_Bucket!"/);
    assert.throws(() => parseUri('file://remote-host/x'), /storage: invalid file URI "file:\/\/remote-host\/x"/);
    assert.throws(() => parseUri(''), /storage: empty location/);
  });
});

describe('s3SettingsFromEnv', () => {
  it('reads every BATCHSCORE_S3_* variable; options win field by field', () => {
    const env = {
      BATCHSCORE_S3_ENDPOINT: 'http://minio:9000',
      AWS_ENDPOINT_URL: 'http://ignored',
      BATCHSCORE_S3_FORCE_PATH_STYLE: 'true',
      BATCHSCORE_S3_CHECKSUMS: 'WHEN_REQUIRED',
      BATCHSCORE_S3_CONDITIONAL_WRITES: '0',
      BATCHSCORE_S3_SSE: 'aws:kms',
      BATCHSCORE_S3_SSE_KMS_KEY_ID: 'key-1',
      AWS_REGION: 'eu-west-3',
    };
    assert.deepEqual(s3SettingsFromEnv(env), {
      endpoint: 'http://minio:9000',
      region: 'eu-west-3',
      forcePathStyle: true,
      conditionalWrites: false,
      checksums: 'when_required',
      serverSideEncryption: 'aws:kms',
      sseKmsKeyId: 'key-1',
    });
    const merged = s3SettingsFromEnv(env, { conditionalWrites: true, endpoint: undefined });
    assert.equal(merged.conditionalWrites, true);
    assert.equal(merged.endpoint, 'http://minio:9000');
    assert.equal(s3SettingsFromEnv({ AWS_ENDPOINT_URL_S3: 'http://a', AWS_ENDPOINT_URL: 'http://b' }).endpoint, 'http://a');
    assert.deepEqual(s3SettingsFromEnv({}), {});
  });

  it('rejects bad values naming the variable and quoting the value', () => {
    assert.throws(() => s3SettingsFromEnv({ BATCHSCORE_S3_FORCE_PATH_STYLE: 'maybe' }), /BATCHSCORE_S3_FORCE_PATH_STYLE must be true or false, got "maybe"/);
    assert.throws(() => s3SettingsFromEnv({ BATCHSCORE_S3_CHECKSUMS: 'always' }), /BATCHSCORE_S3_CHECKSUMS must be one of when_required, when_supported, got "always"/);
    assert.throws(() => s3SettingsFromEnv({ BATCHSCORE_S3_SSE: 'des' }), /^Error: storage: BATCHSCORE_S3_SSE .* got "des"/);
  });
});

describe('resolveUri', () => {
  let server: S3rverHandle;
  before(async () => {
    server = await startS3rver();
  });
  after(async () => {
    closeCachedStores();
    await server.stop();
  });

  it('gives the one FileStore for local paths and file:// URIs', () => {
    const a = resolveUri('/tmp/a.parquet');
    const b = resolveUri('file:///tmp/b/');
    assert.ok(a.store instanceof FileStore);
    assert.equal(a.store, b.store);
    assert.equal(a.key, '/tmp/a.parquet');
    assert.equal(b.key, '/tmp/b/');
    assert.equal(resolveUri('x', { cwd: '/base' }).key, '/base/x');
  });

  it('builds an S3 store from the environment alone, caches it per bucket and settings', async () => {
    const bucket = await server.bucket();
    const env = {
      BATCHSCORE_S3_ENDPOINT: server.endpoint,
      BATCHSCORE_S3_FORCE_PATH_STYLE: 'yes',
      BATCHSCORE_S3_CHECKSUMS: 'when_required',
      BATCHSCORE_S3_CONDITIONAL_WRITES: 'false',
    };
    const s3 = { credentials: S3RVER_CREDENTIALS };
    const { store, key } = resolveUri(`s3://${bucket}/runs/r1/out.txt`, { env, s3 });
    assert.ok(store instanceof LazyS3Store);
    assert.equal(key, 'runs/r1/out.txt');
    assert.equal(store.conditionalWrites, false);
    assert.equal(store.uri(key), `s3://${bucket}/runs/r1/out.txt`);
    // It really talks to the configured endpoint with the configured addressing.
    await store.put(key, 'via env');
    assert.equal(Buffer.from(await store.get(key)).toString(), 'via env');

    assert.equal(resolveUri(`s3://${bucket}/other`, { env, s3 }).store, store);
    assert.notEqual(resolveUri(`s3://${bucket}/other`, { env: { ...env, BATCHSCORE_S3_CONDITIONAL_WRITES: 'true' }, s3 }).store, store);
    assert.notEqual(resolveUri(`s3://other-bucket/x`, { env, s3 }).store, store);
    const otherCredentials = { ...S3RVER_CREDENTIALS };
    assert.notEqual(resolveUri(`s3://${bucket}/other`, { env, s3: { credentials: otherCredentials } }).store, store);
    assert.throws(() => resolveUri('s3://bkt/x', { env: { BATCHSCORE_S3_CONDITIONAL_WRITES: 'nope' } }), /got "nope"/);
  });
});

describe('joinKey', () => {
  it('joins file and S3 keys with single slashes', () => {
    assert.equal(joinKey('/data/out', 'p=1', 'a.parquet'), '/data/out/p=1/a.parquet');
    assert.equal(joinKey('/data/out/', '/p=1/', 'a.parquet'), '/data/out/p=1/a.parquet');
    assert.equal(joinKey('runs/7/', 'x'), 'runs/7/x');
    assert.equal(joinKey('', 'runs', 'x'), 'runs/x');
    assert.equal(joinKey('/', 'x'), '/x');
    assert.equal(joinKey('runs', 'dir/'), 'runs/dir/');
    assert.equal(joinKey('runs', 'a/b', '', 'c'), 'runs/a/b/c');
  });

  it('refuses . and .. segments', () => {
    assert.throws(() => joinKey('/data', '../etc'), /storage: joinKey refuses "\.\." segments/);
    assert.throws(() => joinKey('runs', 'a/./b'), /storage: joinKey refuses "\."/);
  });
});
