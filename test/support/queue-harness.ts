/**
 * Helpers for the distributed-mode tests: worker processes (`batchscore worker` as real child
 * processes, output captured), waiting for a run's manifest, reading published output back
 * with DuckDB, and isolated queue names. Everything is stopped by the pid this module spawned.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueConfig } from '../../src/queue/connection.js';
import { getRunStatus, type RunStatusReport } from '../../src/queue/run-status.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { duckdbRows, sqlString } from './duckdb.js';

/** Tests run from dist/test/support/: the project root is three levels up. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'batchscore.js');

/** A random, valid BullMQ queue name. */
export function randomQueueName(tag = 'q'): string {
  return `bs-test-${tag}-${randomBytes(5).toString('hex')}`;
}

/** Queue settings as the CLI would read them from its environment. */
export function queueConfig(redisUrl: string, queueName: string): QueueConfig {
  return { redisUrl, queueName, prefix: 'bull' };
}

/** A `batchscore` child process with its output captured. */
export interface CliProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Send a signal to this pid (only if it is still running). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM (graceful), SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves once `pattern` appears in stdout/stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Spawn `node bin/batchscore.js <args>` with `env` (replacing, not merging, the environment). */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv, nodeFlags: readonly string[] = []): CliProcess {
  const child = spawn(process.execPath, [...nodeFlags, BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const proc: CliProcess = {
    pid: child.pid!,
    child,
    output: () => out + err,
    stdout: () => out,
    stderr: () => err,
    exited,
    signal(sig) {
      if (alive()) child.kill(sig);
    },
    async stop(graceMs = 8000) {
      if (!alive()) return;
      child.kill('SIGCONT'); // in case a test left it stopped
      child.kill('SIGTERM');
      const timer = setTimeout(() => alive() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async waitFor(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out + err)) {
        if (!alive()) throw new Error(`process ${child.pid} exited before printing ${pattern}:\n${out}${err}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} from ${child.pid}:\n${out}${err}`);
        await sleep(25);
      }
    },
  };
  return proc;
}

/** Environment of a worker process: the queue, short locks, and whatever `extra` adds. */
export function workerEnv(redisUrl: string, queueName: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return {
    ...env,
    REDIS_URL: redisUrl,
    BATCHSCORE_QUEUE: queueName,
    BATCHSCORE_LOCK_MS: '2000',
    BATCHSCORE_STALLED_MS: '1000',
    ...extra,
  };
}

/** Start `batchscore worker --concurrency 1` and wait until it says it started. */
export async function startWorker(env: NodeJS.ProcessEnv, args: string[] = ['--concurrency', '1'], nodeFlags: readonly string[] = []): Promise<CliProcess> {
  const proc = spawnCli(['worker', ...args], env, nodeFlags);
  await proc.waitFor(/worker started/);
  return proc;
}

/** S3 env for a worker talking to `endpoint` (s3rver or a proxy in front of it). */
export function s3Env(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): NodeJS.ProcessEnv {
  return {
    BATCHSCORE_S3_ENDPOINT: endpoint,
    BATCHSCORE_S3_FORCE_PATH_STYLE: 'true',
    BATCHSCORE_S3_CHECKSUMS: 'when_required',
    BATCHSCORE_S3_CONDITIONAL_WRITES: 'false',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
  };
}

/** Poll the run's status until its manifest exists (or fail after `timeoutMs`). */
export async function waitForManifest(redis: Redis, config: QueueConfig, runId: string, timeoutMs = 60_000, describe?: () => string): Promise<RunStatusReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await getRunStatus(redis, config, runId);
    if (status?.manifest) return status;
    if (Date.now() > deadline) {
      throw new Error(`run ${runId} has no manifest after ${timeoutMs} ms; record: ${JSON.stringify(status?.record)}${describe ? `\n${describe()}` : ''}`);
    }
    await sleep(100);
  }
}

/** Poll until `check` returns a truthy value. */
export async function waitUntil<T>(check: () => Promise<T> | T, what: string, timeoutMs = 30_000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Remove every key of a queue (jobs, flows, run records, locks). */
export async function obliterateQueue(redis: Redis, config: QueueConfig): Promise<void> {
  const queue = new Queue(config.queueName, { connection: redis, prefix: config.prefix });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
  // Our own keys under the queue's namespace (run records, active windows, locks).
  const stream = redis.scanStream({ match: `${config.prefix}:${config.queueName}:*`, count: 500 });
  for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.del(...keys);
}

/** Every published output row as DuckDB reads the folder (hive partitions), by id. */
export async function publishedRows(outputDir: string): Promise<{ id: bigint; probability: number; dt: string }[]> {
  const files = await listFiles(outputDir);
  if (!files.some((f) => f.endsWith('.parquet') && !f.includes('_staging'))) return [];
  const rows = await duckdbRows(
    `SELECT id, probability, CAST(dt AS VARCHAR) AS dt FROM read_parquet(${sqlString(join(outputDir, '*/*.parquet'))}, hive_partitioning = true) ORDER BY id`,
  );
  return rows.map((r) => ({ id: r.id as bigint, probability: r.probability as number, dt: r.dt as string }));
}

/** Rows the manifest's `_SUCCESS.json` markers name, read by DuckDB from exactly those files. */
export async function manifestRows(files: string[]): Promise<{ id: bigint; probability: number }[]> {
  if (files.length === 0) return [];
  const list = files.map(sqlString).join(', ');
  const rows = await duckdbRows(`SELECT id, probability FROM read_parquet([${list}]) ORDER BY id`);
  return rows.map((r) => ({ id: r.id as bigint, probability: r.probability as number }));
}

/** Every file under `dir`, recursively, as absolute paths (empty if `dir` is missing). */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Upload a local folder under `prefix`. */
export async function uploadDir(store: ObjectStore, localRoot: string, prefix: string): Promise<void> {
  for (const path of await listFiles(localRoot)) await store.putFile(`${prefix}/${path.slice(localRoot.length + 1)}`, path);
}

/** Download every object under `prefix` into `localRoot`; returns the keys. */
export async function downloadPrefix(store: ObjectStore, prefix: string, localRoot: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const obj of store.list(prefix)) {
    keys.push(obj.key);
    const local = join(localRoot, obj.key.slice(prefix.length));
    await mkdir(join(local, '..'), { recursive: true });
    await store.getFile(obj.key, local);
  }
  return keys.sort();
}

/** Wait for a child process to exit (after a failpoint or a kill). */
export async function exitOf(proc: CliProcess, timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`process ${proc.pid} did not exit within ${timeoutMs} ms:\n${proc.output()}`)), timeoutMs);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
