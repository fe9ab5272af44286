/**
 * The Redis test helpers themselves: a private server can be pinged, killed (and then is
 * really gone) and restarted on the same port; `redisUrlForTests` hands out a live URL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pingRedis, redisUrlForTests, startOwnRedis } from './redis.js';

describe('redis test support', () => {
  it('redisUrlForTests returns a Redis that answers PING', async () => {
    const url = await redisUrlForTests();
    assert.match(url, /^rediss?:\/\//);
    assert.equal(await pingRedis(url), true);
    assert.equal(await redisUrlForTests(), url, 'one answer per process');
  });

  it('startOwnRedis can be killed and restarted on the same port, empty', async () => {
    const own = await startOwnRedis();
    try {
      assert.equal(own.url, `redis://127.0.0.1:${own.port}`);
      const client = new Redis(own.url, { maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      try {
        await client.set('k', 'v');
        assert.equal(await client.get('k'), 'v');
      } finally {
        client.disconnect();
      }

      await own.kill();
      assert.equal(await pingRedis(own.url, 300), false, 'killed server must not answer');

      await own.restart();
      assert.equal(await pingRedis(own.url), true);
      const again = new Redis(own.url, { maxRetriesPerRequest: 1 });
      try {
        assert.equal(await again.get('k'), null, 'no persistence across restarts');
      } finally {
        again.disconnect();
      }
    } finally {
      await own.kill();
    }
  });
});
