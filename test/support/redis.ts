/**
 * Redis for tests: the one the environment names, the machine's default one, or a private
 * `redis-server` started on a free port. Tests that kill and restart Redis always get their
 * own server, so they never disturb a shared instance or another test's queues.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

const INSTALL_HINT = 'install redis-server (Debian/Ubuntu package "redis-server") or set REDIS_URL';

/** A redis-server this process started (and only this process stops). */
export interface OwnRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Stop the server (SIGKILL by default, like a crash) and wait for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port (empty: no persistence) and wait until it answers. */
  restart(): Promise<void>;
}

/** True if a Redis at `url` answers PING within `timeoutMs`. */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null, // one attempt: this is a probe
  });
  client.on('error', () => {}); // failures are the answer, not an unhandled event
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

let shared: Promise<string> | undefined;

/**
 * A Redis URL for tests: `REDIS_URL` if set, else `redis://127.0.0.1:6379` if it answers,
 * else a private redis-server (stopped when this process exits). Throws with an install
 * hint when none of these is possible. Use a random key prefix / queue name per test.
 */
export function redisUrlForTests(): Promise<string> {
  shared ??= (async () => {
    if (process.env.REDIS_URL) return process.env.REDIS_URL;
    const local = 'redis://127.0.0.1:6379';
    if (await pingRedis(local)) return local;
    // startOwnRedis already kills its server when this process exits.
    return (await startOwnRedis()).url;
  })();
  return shared;
}

/** Start a private, non-persistent redis-server on a free port. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);

  const start = async () => {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: 'ignore' },
    );
    child = proc;
    const spawnError = once(proc, 'error').then(([err]) => err as NodeJS.ErrnoException);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const failed = await Promise.race([spawnError, sleep(50).then(() => undefined)]);
      if (failed) {
        process.removeListener('exit', onExit);
        throw failed.code === 'ENOENT'
          ? new Error(`redis-server not found: ${INSTALL_HINT}`)
          : new Error(`cannot start redis-server: ${failed.message}`);
      }
      if (proc.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${proc.exitCode}`);
      if (await pingRedis(url, 500)) return;
    }
    proc.kill('SIGKILL');
    throw new Error(`redis-server on port ${port} did not answer within 10 s`);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill(signal); // only the pid we spawned
    await exited;
  };

  await start();
  return {
    url,
    port,
    kill,
    async restart() {
      await kill();
      await start();
    },
  };
}

/** A TCP port that was free a moment ago (the kernel's pick for port 0). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}
