/**
 * s3rver that also accepts a key pair of the test's choosing (besides its fixed
 * S3RVER/S3RVER), so a test can run real S3 traffic signed with a known fake secret and then
 * look for that secret everywhere. Run as a child process: this module is both the launcher
 * (`startKeyedS3rver`) and, when executed with S3RVER_KEYED_LAUNCH=1, the child's entry point.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { tmpDir, type TmpDir } from './tmp.js';

export interface KeyedS3rver {
  endpoint: string;
  /** s3rver's data directory (objects and their metadata as files). */
  dataDir: string;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

if (process.env.S3RVER_KEYED_LAUNCH === '1') {
  const account = require('s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };
  account.DUMMY_ACCOUNT.createKeyPair(process.env.S3RVER_KEYED_ID!, process.env.S3RVER_KEYED_SECRET!);
  // The key is registered; forget it before s3rver starts.
  delete process.env.S3RVER_KEYED_SECRET;
  require('s3rver/bin/s3rver.js');
}

/** Start s3rver accepting `credentials` on a free port, with a fresh data directory. */
export async function startKeyedS3rver(credentials: { accessKeyId: string; secretAccessKey: string }): Promise<KeyedS3rver> {
  const dir: TmpDir = await tmpDir('batchscore-s3rver-keyed-');
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', fileURLToPath(import.meta.url), '-d', dir.path, '-a', '127.0.0.1', '-p', '0', '--silent'],
    {
      env: { PATH: process.env.PATH, S3RVER_KEYED_LAUNCH: '1', S3RVER_KEYED_ID: credentials.accessKeyId, S3RVER_KEYED_SECRET: credentials.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 15 s\n${out}${err}`)), 15_000);
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on [^\s:]+:(\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited early (code ${code})\n${out}${err}`));
    });
  }).catch(async (e: Error) => {
    child.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    await dir.cleanup();
    throw e;
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    dataDir: dir.path,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await dir.cleanup();
    },
  };
}
