/**
 * Redis connections (src/queue/connection.ts) against real servers: one-shot connections fail
 * fast and clearly, and report a connection lost for good; closing never hangs on a dead
 * Redis; long-lived connections report outages once per interval and recovery; repeated
 * warnings are throttled. "Down" is a closed port or a killed redis-server.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  closeRedis, connectRedis, connectTimeoutFromEnv, createRedis, queueConfigFromEnv, throttleRepeatedWarnings, withRedis,
  DEFAULT_CONNECT_TIMEOUT_MS, type LevelLog,
} from '../../src/queue/connection.js';
import { redisUrlForTests, startOwnRedis } from '../support/redis.js';

const CLOSED = 'redis://127.0.0.1:1';

/** How long `fn` takes, in ms. */
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = Date.now();
  const value = await fn();
  return { ms: Date.now() - t0, value };
}

describe('connectRedis (one-shot)', () => {
  test('connects to a running Redis and answers', async () => {
    const redis = await connectRedis(await redisUrlForTests());
    const ended = once(redis, 'end');
    try {
      assert.equal(redis.status, 'ready');
      assert.equal(await redis.ping(), 'PONG');
    } finally {
      await closeRedis(redis);
    }
    // QUIT was answered; the socket closes right after.
    await Promise.race([ended, sleep(2000).then(() => assert.fail(`not closed: ${redis.status}`))]);
  });

  test('a closed port: rejects after about the timeout, naming the URL and the cause', async () => {
    const { ms } = await timed(() =>
      assert.rejects(connectRedis(CLOSED, {}, { timeoutMs: 600 }), {
        message: 'redis: cannot connect to redis://127.0.0.1:1 (ECONNREFUSED); is Redis running? set REDIS_URL',
      }),
    );
    // It retried for the timeout (a Redis that is just starting would have been caught)...
    assert.ok(ms >= 500, `gave up after ${ms} ms`);
    // ...and not much longer.
    assert.ok(ms < 5000, `gave up after ${ms} ms`);
  });

  test('timeout from BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS; bad values are named', () => {
    assert.equal(connectTimeoutFromEnv({}), DEFAULT_CONNECT_TIMEOUT_MS);
    assert.equal(connectTimeoutFromEnv({ BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS: '' }), DEFAULT_CONNECT_TIMEOUT_MS);
    assert.equal(connectTimeoutFromEnv({ BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS: '1500' }), 1500);
    for (const bad of ['0', '-5', '1.5', 'abc', '10s']) {
      assert.throws(() => connectTimeoutFromEnv({ BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS: bad }), {
        message: `redis: BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS expects a positive integer (milliseconds), got ${JSON.stringify(bad)}`,
      });
    }
  });
});

describe('queueConfigFromEnv', () => {
  test('REDIS_URL must be a redis:// or rediss:// URL; a password in a bad value is masked', () => {
    assert.equal(queueConfigFromEnv({ REDIS_URL: 'rediss://u:p@h:6380' }).redisUrl, 'rediss://u:p@h:6380');
    assert.equal(queueConfigFromEnv({}).redisUrl, 'redis://127.0.0.1:6379');
    assert.throws(() => queueConfigFromEnv({ REDIS_URL: 'localhost:6379' }), { message: 'redis: REDIS_URL must start with redis:// or rediss://, got "localhost:6379"' });
    assert.throws(() => queueConfigFromEnv({ REDIS_URL: 'http://u:secret@h' }), { message: 'redis: REDIS_URL must start with redis:// or rediss://, got "***@h"' });
  });
});

describe('closeRedis', () => {
  test('returns at once for a connection whose Redis is gone (QUIT would wait for a reconnect), and stops retrying', async () => {
    let attempts = 0;
    const redis = createRedis(CLOSED, {}, { log: () => {} });
    redis.on('error', () => attempts++);
    await sleep(300);
    assert.notEqual(redis.status, 'ready');
    assert.ok(attempts >= 1);
    const { ms } = await timed(() => closeRedis(redis));
    assert.ok(ms < 500, `took ${ms} ms`);
    const before = attempts;
    // Retries come every 0.2-2 s: none after closing.
    await sleep(2500);
    assert.equal(attempts, before, 'no connection attempt after closeRedis');
  });
});

describe('withRedis', () => {
  test('a connection lost for good fails the work with a redis: error, not "Connection is closed."', async () => {
    const server = await startOwnRedis();
    try {
      const { ms } = await timed(() =>
        assert.rejects(
          withRedis(
            server.url,
            async (redis) => {
              await redis.set('k', '1');
              await server.kill();
              return redis.get('k'); // waits for a reconnect that never succeeds
            },
            {},
            { reconnectMs: 800 },
          ),
          (err: Error) => {
            assert.match(err.message, new RegExp(`^redis: lost the connection to redis://127\\.0\\.0\\.1:${server.port} \\(ECONNREFUSED\\) and could not reconnect within 1 s; is Redis running\\? set REDIS_URL$`));
            assert.match(String((err.cause as Error | undefined)?.message), /Connection is closed/);
            return true;
          },
        ),
      );
      assert.ok(ms < 10_000, `took ${ms} ms`);
    } finally {
      await server.kill();
    }
  });

  test('other errors pass through unchanged, and the connection is closed either way', async () => {
    let seen: import('ioredis').Redis | undefined;
    await assert.rejects(
      withRedis(await redisUrlForTests(), async (redis) => {
        seen = redis;
        throw new Error('plan: something else');
      }),
      { message: 'plan: something else' },
    );
    assert.ok(seen);
    // Closed: a command now fails instead of being queued.
    await sleep(100);
    await assert.rejects(seen.ping(), /Connection is closed/);
  });
});

describe('createRedis (long-lived)', () => {
  test('reports an outage at once, then at most once per interval, and the recovery', async () => {
    const server = await startOwnRedis();
    const logged: { level: string; msg: string }[] = [];
    const redis = createRedis(server.url, {}, { log: (level, msg) => logged.push({ level, msg }), logIntervalMs: 1500 });
    try {
      await redis.ping();
      assert.equal(logged.length, 0, 'nothing to report while Redis is up');
      await server.kill();
      // ioredis retries every 0.2-2 s: in 2.5 s, several failures, but at most 2 lines.
      await sleep(2500);
      const outage = logged.filter((l) => l.level === 'warn');
      assert.ok(outage.length >= 1 && outage.length <= 2, JSON.stringify(logged));
      assert.match(outage[0]!.msg, new RegExp(`^redis: cannot reach redis://127\\.0\\.0\\.1:${server.port} \\((ECONNREFUSED|ECONNRESET)\\)`));
      assert.equal(redis.status === 'ready', false);
      // A command waits for the reconnect (what BullMQ workers need), then succeeds.
      const pong = redis.ping();
      await server.restart();
      assert.equal(await pong, 'PONG');
      assert.match(logged.at(-1)!.msg, new RegExp(`^redis: connected again to redis://127\\.0\\.0\\.1:${server.port} after \\d+ s$`));
      assert.equal(logged.at(-1)!.level, 'info');
    } finally {
      await closeRedis(redis);
      await server.kill();
    }
  });
});

describe('throttleRepeatedWarnings', () => {
  test('drops a warning repeated within the interval, counts it, and lets other lines through', async () => {
    const out: [string, string, Record<string, unknown> | undefined][] = [];
    const log: LevelLog = (level, msg, fields) => out.push([level, msg, fields]);
    const throttled = throttleRepeatedWarnings(log, 200);
    throttled('warn', 'worker: connect ECONNREFUSED');
    throttled('warn', 'worker: connect ECONNREFUSED');
    throttled('warn', 'worker: connect ECONNREFUSED');
    throttled('warn', 'worker: something else');
    throttled('error', 'run r1 failed');
    throttled('error', 'run r1 failed');
    throttled('info', 'progress');
    throttled('info', 'progress');
    await sleep(250);
    throttled('warn', 'worker: connect ECONNREFUSED', { a: 1 });
    assert.deepEqual(out, [
      ['warn', 'worker: connect ECONNREFUSED', undefined],
      ['warn', 'worker: something else', undefined],
      ['error', 'run r1 failed', undefined],
      ['error', 'run r1 failed', undefined],
      ['info', 'progress', undefined],
      ['info', 'progress', undefined],
      ['warn', 'worker: connect ECONNREFUSED', { a: 1, repeated: 2 }],
    ]);
  });
});
