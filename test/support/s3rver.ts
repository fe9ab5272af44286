/**
 * A real S3 API for tests: s3rver (an HTTP server speaking the S3 REST protocol, storing on
 * disk) in a child process. It runs in its own process because it needs
 * `--openssl-legacy-provider`: its ListObjectsV2 continuation tokens use DES, which Node 20's
 * OpenSSL refuses (paginated listing then fails with HTTP 500).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Store, type S3StoreOptions } from '../../src/storage/s3-store.js';
import { tmpDir } from './tmp.js';

/** s3rver accepts any well-formed signature made with these. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** A running s3rver child process. */
export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Create a bucket (a random `test-…` name unless given) and return its name. */
  bucket(name?: string): Promise<string>;
  /** Stop the server and delete its data directory. */
  stop(): Promise<void>;
}

/** Start s3rver on a free port (port 0: the kernel picks, no race) with a fresh data dir. */
export async function startS3rver(): Promise<S3rverHandle> {
  const dir = await tmpDir('batchscore-s3rver-');
  const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', bin, '-d', dir.path, '-a', '127.0.0.1', '-p', '0', '--silent'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // If the test process dies without calling stop(), do not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let port: number;
  try {
    port = await waitForPort(child);
  } catch (err) {
    child.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    await dir.cleanup();
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const admin = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });

  return {
    endpoint,
    async bucket(name = `test-${randomBytes(6).toString('hex')}`) {
      await admin.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async stop() {
      admin.destroy();
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await dir.cleanup();
    },
  };
}

/** Resolve with the port s3rver prints once listening; reject if it exits or stalls. */
function waitForPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error('s3rver did not start within 15 s')), 15_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(new Error(`${e.message}\nstdout: ${out}\nstderr: ${err}`));
    };
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on [^\s:]+:(\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`s3rver exited early (code ${code}, signal ${signal})`)));
  });
}

/**
 * An `S3Store` configured for s3rver: path-style addressing, its fixed credentials, checksums
 * only when required (otherwise streamed uploads are stored with aws-chunked framing inside),
 * and no conditional writes (s3rver ignores them).
 */
export function s3StoreFor(endpoint: string, bucket: string, overrides: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    bucket,
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    checksums: 'when_required',
    conditionalWrites: false,
    ...overrides,
  });
}
