/**
 * Redis connections and queue naming for the distributed mode. Settings come from the
 * environment only, so credentials never travel in job payloads or specs:
 * `REDIS_URL` (`redis://` or `rediss://` for TLS, with `user:password@` for AUTH/ACL),
 * `BATCHSCORE_REDIS_TLS_CA` (PEM file of a private CA), `BATCHSCORE_QUEUE` (queue name,
 * default `batchscore`), `BATCHSCORE_QUEUE_PREFIX` (BullMQ key prefix, default `bull`),
 * `BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS` (how long a one-shot command waits for Redis,
 * default 5000).
 *
 * Two kinds of connection, because the two kinds of process want opposite things when
 * Redis cannot be reached:
 * - long-lived processes (worker, scheduler) use `createRedis`: it retries forever, so they
 *   ride out Redis restarts, and reports the outage (throttled) instead of going silent;
 * - one-shot commands (status, backfill, verify, ...) use `connectRedis`/`withRedis`: they
 *   give up after a few seconds with an error naming the (redacted) URL, instead of hanging.
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';

export interface QueueConfig {
  /** Redis URL; may hold a password, so never log it (see `redactUrl`). */
  redisUrl: string;
  /** BullMQ queue name shared by submitters and workers. */
  queueName: string;
  /** BullMQ key prefix. */
  prefix: string;
}

/** How long a one-shot command waits for Redis by default (`BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/**
 * How long a one-shot connection that was up keeps reconnecting before its commands fail.
 * Longer than the connect timeout: `backfill --wait` may poll for hours and should survive
 * a Redis restart, while a command that never reached Redis should fail fast.
 */
export const ONE_SHOT_RECONNECT_MS = 30_000;

/** A long-lived connection repeats that Redis is still unreachable at most this often. */
export const OUTAGE_LOG_INTERVAL_MS = 30_000;

/** A log function: the CLI's reporters' `event`, the worker's `log`. */
export type LevelLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** Queue settings from the environment, with defaults. */
export function queueConfigFromEnv(env: NodeJS.ProcessEnv = process.env): QueueConfig {
  const queueName = env.BATCHSCORE_QUEUE || 'batchscore';
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(queueName)) throw new Error(`queue: BATCHSCORE_QUEUE must be [A-Za-z0-9_.-], got "${queueName}"`);
  const redisUrl = env.REDIS_URL || 'redis://127.0.0.1:6379';
  // ioredis reads a string without a scheme as a Unix socket path, so "localhost:6379"
  // would fail later with a puzzling ENOENT. Mask anything before an '@': it may be a password.
  if (!/^rediss?:\/\//i.test(redisUrl)) throw new Error(`redis: REDIS_URL must start with redis:// or rediss://, got "${redisUrl.replace(/^.*@/, '***@')}"`);
  return { redisUrl, queueName, prefix: env.BATCHSCORE_QUEUE_PREFIX || 'bull' };
}

/** `BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS`, or the default; throws naming the variable if it is not a positive integer. */
export function connectTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return msFromEnv('BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS', DEFAULT_CONNECT_TIMEOUT_MS, env, 'redis: ');
}

/**
 * A positive integer of milliseconds from `env[name]`, or `fallback` when unset or empty.
 * Anything else throws naming the variable and its value (after `domain`): silently using
 * the default would hide a typo.
 */
export function msFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env, domain = ''): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${domain}${name} expects a positive integer (milliseconds), got ${JSON.stringify(value)}`);
  return n;
}

/** The URL without its password, for logs and status output. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable Redis URL)';
  }
}

/**
 * Why a connection attempt failed, short: the errno code for socket errors (the URL already
 * names host and port), else Redis's or TLS's message (WRONGPASS, NOAUTH, certificates).
 */
function connectionFailure(err: Error & { code?: unknown; syscall?: unknown }): string {
  if (typeof err.code === 'string' && typeof err.syscall === 'string') return err.code;
  const msg = err.message.split(/, |\n/)[0] ?? err.message;
  return msg.length > 120 ? `${msg.slice(0, 119)}…` : msg;
}

/** Whether retrying cannot help: Redis refused our credentials. */
function isAuthFailure(err: Error): boolean {
  return /^(WRONGPASS|NOAUTH|NOPERM)\b/.test(err.message);
}

/** What to tell the user to check, by cause. */
function hint(err: Error | undefined): string {
  return err && isAuthFailure(err) ? 'check the user and password in REDIS_URL' : 'is Redis running? set REDIS_URL';
}

/** Options shared by both kinds of connection (TLS CA from the environment). */
function baseOptions(url: string, env: NodeJS.ProcessEnv): RedisOptions {
  const options: RedisOptions = {
    enableReadyCheck: true,
    // After disconnect(), ioredis waits this long for a socket that is already gone (a
    // refused one, say) before letting go; its 2 s default kept failed commands alive.
    disconnectTimeout: 200,
  };
  const caFile = env.BATCHSCORE_REDIS_TLS_CA;
  if (url.toLowerCase().startsWith('rediss://') && caFile) {
    try {
      options.tls = { ca: readFileSync(caFile) };
    } catch (err) {
      throw new Error(`redis: cannot read BATCHSCORE_REDIS_TLS_CA ${JSON.stringify(caFile)}: ${(err as Error).message}`);
    }
  }
  return options;
}

/**
 * Report a long-lived connection's outages through `log`: the first failed attempt at once,
 * then at most one line per `intervalMs` while it lasts (ioredis fails an attempt every
 * ~2 s: one line each would bury everything else), and a line when Redis is back.
 */
function reportOutages(redis: Redis, url: string, log: LevelLog, intervalMs: number): void {
  const where = redactUrl(url);
  let downSince: number | undefined;
  let lastReport: number | undefined;
  let failures = 0;
  redis.on('error', (err: Error) => {
    const now = Date.now();
    downSince ??= now;
    failures += 1;
    if (lastReport !== undefined && now - lastReport < intervalMs) return;
    lastReport = now;
    const seconds = Math.round((now - downSince) / 1000);
    const lasting = failures > 1 ? `, ${failures} failed attempts in ${seconds} s` : '';
    log('warn', `redis: cannot reach ${where} (${connectionFailure(err)})${lasting}; still retrying; ${hint(err)}`, { redis: where, failures, downForMs: now - downSince });
  });
  redis.on('ready', () => {
    if (downSince !== undefined && lastReport !== undefined) {
      log('info', `redis: connected again to ${where} after ${Math.round((Date.now() - downSince) / 1000)} s`, { redis: where, failures });
    }
    downSince = undefined;
    lastReport = undefined;
    failures = 0;
  });
}

export interface CreateRedisOptions {
  /** Where outages are reported. Default: one line on stderr (never silent). */
  log?: LevelLog;
  /** Repeat an ongoing outage at most this often (default `OUTAGE_LOG_INTERVAL_MS`). */
  logIntervalMs?: number;
}

/**
 * A long-lived Redis connection for BullMQ workers and the scheduler: it never gives up.
 * `maxRetriesPerRequest: null` is what BullMQ workers need to ride out a Redis restart
 * (commands wait for the reconnect instead of failing). Outages are reported through
 * `options.log`, throttled. One-shot commands want `connectRedis` instead.
 */
export function createRedis(url: string, env: NodeJS.ProcessEnv = process.env, options: CreateRedisOptions = {}): Redis {
  const redis = new Redis(url, {
    ...baseOptions(url, env),
    maxRetriesPerRequest: null,
    // Back off up to 2 s between reconnects; never give up (a worker outlives Redis restarts).
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  });
  // The listener also keeps ioredis from printing "Unhandled error event" on every attempt.
  reportOutages(redis, url, options.log ?? ((_level, msg) => console.error(msg)), options.logIntervalMs ?? OUTAGE_LOG_INTERVAL_MS);
  return redis;
}

/** Why a one-shot connection ended by itself (it gave up reconnecting), if it did. */
const lostConnections = new WeakMap<Redis, string>();

export interface ConnectRedisOptions {
  /** Give up connecting after this long (default `BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS`, 5000). */
  timeoutMs?: number;
  /** Once connected, give up reconnecting after this long (default `ONE_SHOT_RECONNECT_MS`). */
  reconnectMs?: number;
}

/**
 * A connection for a one-shot command, ready when it resolves. Retries for up to
 * `timeoutMs` (a Redis that is just starting is fine), then rejects with
 * `redis: cannot connect to <url> (<cause>); <hint>`; wrong credentials reject at once.
 * Once up, a lost connection is retried for `reconnectMs`, then pending commands fail
 * (ioredis: "Connection is closed.") rather than waiting forever. Close it with `closeRedis`.
 */
export async function connectRedis(url: string, env: NodeJS.ProcessEnv = process.env, options: ConnectRedisOptions = {}): Promise<Redis> {
  const timeoutMs = options.timeoutMs ?? connectTimeoutFromEnv(env);
  const reconnectMs = options.reconnectMs ?? ONE_SHOT_RECONNECT_MS;
  const where = redactUrl(url);
  let everReady = false;
  let downSince: number | undefined;
  let lastError: Error | undefined;
  const redis = new Redis(url, {
    ...baseOptions(url, env),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    // Commands wait through a reconnect; the retry strategy below bounds that wait.
    maxRetriesPerRequest: null,
    retryStrategy: (times) => {
      const now = Date.now();
      downSince ??= now;
      if (lastError && isAuthFailure(lastError)) return null;
      if (now - downSince >= (everReady ? reconnectMs : timeoutMs)) return null;
      return Math.min(100 * 2 ** Math.min(times, 3), 1000);
    },
  });
  redis.on('error', (err: Error) => (lastError = err));
  redis.on('ready', () => {
    everReady = true;
    downSince = undefined;
    lastError = undefined;
  });
  redis.on('end', () => {
    // For withRedis, which looks before closing; a close of a healthy connection has no lastError.
    if (everReady && lastError) lostConnections.set(redis, `redis: lost the connection to ${where} (${connectionFailure(lastError)}) and could not reconnect within ${Math.round(reconnectMs / 1000)} s; ${hint(lastError)}`);
  });

  const failure = await new Promise<string | null>((resolve) => {
    // Also bounds a server that accepts the connection but never answers the ready check.
    const timer = setTimeout(() => done(lastError ? connectionFailure(lastError) : `no answer within ${timeoutMs} ms`), timeoutMs + 100);
    const onReady = () => done(null);
    const onEnd = () => done(lastError ? connectionFailure(lastError) : 'connection closed');
    const done = (why: string | null) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      resolve(why);
    };
    redis.once('ready', onReady);
    redis.once('end', onEnd);
    // The first failed attempt rejects this promise; the retries go on and end in the events above.
    redis.connect().catch(() => {});
  });
  if (failure !== null) {
    if (redis.status !== 'end') redis.disconnect();
    throw new Error(`redis: cannot connect to ${where} (${failure}); ${hint(lastError)}`);
  }
  return redis;
}

/**
 * Close a connection without hanging when Redis is gone: QUIT (pending replies arrive
 * first) if connected, waiting at most `graceMs`, then drop the socket and stop reconnecting.
 * Commands that were waiting for a reconnect are abandoned (ioredis never settles them); the
 * connection holds nothing that keeps the process alive afterwards.
 */
export async function closeRedis(redis: Redis, graceMs = 2000): Promise<void> {
  if (redis.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([redis.quit().then(() => {}, () => {}), gaveUp]);
    clearTimeout(timer);
  }
  // Not connected: QUIT would sit in the offline queue until Redis is back. Once 'end',
  // there is nothing left to drop (and disconnect() would arm a timer for a dead socket).
  if (redis.status !== 'end') redis.disconnect();
}

/**
 * Run `fn` with a one-shot connection (`connectRedis`), closed afterwards. If `fn` fails
 * because the connection was lost for good, the error says so (with the redacted URL)
 * instead of ioredis's bare "Connection is closed.".
 */
export async function withRedis<T>(url: string, fn: (redis: Redis) => Promise<T>, env: NodeJS.ProcessEnv = process.env, options: ConnectRedisOptions = {}): Promise<T> {
  const redis = await connectRedis(url, env, options);
  try {
    return await fn(redis);
  } catch (err) {
    const lost = lostConnections.get(redis);
    throw lost ? new Error(lost, { cause: err }) : err;
  } finally {
    await closeRedis(redis);
  }
}

/**
 * `log`, with a warning identical to one passed on less than `intervalMs` ago dropped; the
 * next one that passes carries `repeated: n`. For BullMQ, which re-emits each failed
 * reconnect of each of its connections as an 'error' (two lines every ~2 s during an outage).
 */
export function throttleRepeatedWarnings(log: LevelLog, intervalMs = OUTAGE_LOG_INTERVAL_MS): LevelLog {
  const seen = new Map<string, { at: number; dropped: number }>();
  return (level, msg, fields) => {
    if (level !== 'warn') return log(level, msg, fields);
    const now = Date.now();
    const last = seen.get(msg);
    if (last && now - last.at < intervalMs) {
      last.dropped += 1;
      return;
    }
    // Messages may carry ids: forget stale ones so the map stays small.
    if (seen.size > 100) for (const [m, e] of seen) if (now - e.at >= intervalMs) seen.delete(m);
    seen.set(msg, { at: now, dropped: 0 });
    log(level, msg, last?.dropped ? { ...fields, repeated: last.dropped } : fields);
  };
}
