/**
 * A private redis-server with options `startOwnRedis` (redis.ts) does not offer: an
 * append-only file (so a `kill -9` and restart keeps the queue, as a production Redis
 * configured for BullMQ would) and `requirepass`. Started on a free port in its own data
 * directory; stopped only by the pid this module spawned.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { tmpDir, type TmpDir } from './tmp.js';

export interface RedisServerOptions {
  /** `appendonly yes` + `appendfsync always`: every write survives SIGKILL. Default false. */
  aof?: boolean;
  /** AUTH password (`--requirepass`). */
  password?: string;
}

export interface RedisServer {
  /** `redis://[:password@]127.0.0.1:<port>` */
  url: string;
  port: number;
  pid(): number | undefined;
  /** Stop the server (SIGKILL by default, like a crash) and wait for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port and data directory; resolves when it answers. */
  start(): Promise<void>;
  /** Kill it and remove its data directory. */
  stop(): Promise<void>;
}

async function ping(port: number, password: string | undefined): Promise<boolean> {
  const client = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    // While an AOF is being loaded Redis answers LOADING; wait for a real PONG.
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

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

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir: TmpDir = await tmpDir('batchscore-redis-');
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  let child: ChildProcess | undefined;
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir.path, '--save', '', '--daemonize', 'no'];
  if (options.aof) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  else args.push('--appendonly', 'no');
  if (options.password) args.push('--requirepass', options.password);

  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const proc = child;
    if (!proc || !alive()) return;
    const exited = once(proc, 'exit');
    proc.kill(signal);
    await exited;
  };
  const start = async () => {
    if (alive()) throw new Error('redis-server is already running');
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    child = proc;
    let spawnError: Error | undefined;
    proc.once('error', (err) => (spawnError = err));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`cannot start redis-server: ${spawnError.message}`);
      if (proc.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${proc.exitCode}`);
      if (await ping(port, options.password)) return;
      await sleep(30);
    }
    proc.kill('SIGKILL');
    throw new Error(`redis-server on port ${port} did not answer within 10 s`);
  };

  await start();
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    pid: () => child?.pid,
    kill,
    start,
    async stop() {
      await kill();
      process.removeListener('exit', onExit);
      await dir.cleanup();
    },
  };
}
