/**
 * Redis connections and queue naming for the distributed mode. Settings come from the
 * environment only, so credentials never travel in job payloads or specs:
 * `REDIS_URL` (`redis://` or `rediss://` for TLS, with `user:password@` for AUTH/ACL),
 * `BATCHSCORE_REDIS_TLS_CA` (PEM file of a private CA), `BATCHSCORE_QUEUE` (queue name,
 * default `batchscore`), `BATCHSCORE_QUEUE_PREFIX` (BullMQ key prefix, default `bull`).
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

/** Queue settings from the environment, with defaults. */
export function queueConfigFromEnv(env: NodeJS.ProcessEnv = process.env): QueueConfig {
  const queueName = env.BATCHSCORE_QUEUE || 'batchscore';
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(queueName)) throw new Error(`queue: BATCHSCORE_QUEUE must be [A-Za-z0-9_.-], got "${queueName}"`);
  return { redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379', queueName, prefix: env.BATCHSCORE_QUEUE_PREFIX || 'bull' };
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
 * A Redis connection for BullMQ. `maxRetriesPerRequest: null` is what BullMQ workers need
 * to ride out a Redis restart (commands wait for the reconnect instead of failing).
 */
export function createRedis(url: string, env: NodeJS.ProcessEnv = process.env): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Back off up to 2 s between reconnects; never give up (a worker outlives Redis restarts).
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  };
  if (url.startsWith('rediss://') && env.BATCHSCORE_REDIS_TLS_CA) {
    options.tls = { ca: readFileSync(env.BATCHSCORE_REDIS_TLS_CA) };
  }
  const redis = new Redis(url, options);
  // Connection errors are retried by ioredis; without a listener they would crash the process.
  redis.on('error', () => {});
  return redis;
}
