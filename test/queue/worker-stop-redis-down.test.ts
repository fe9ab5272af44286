/**
 * Stopping workers while Redis is down: SIGTERM must end them within a bounded time (they
 * used to wait forever for a reconnect) and lose nothing: once Redis is back (append-only
 * file, as a production Redis for BullMQ is configured), a fresh worker re-runs whatever was
 * in flight and the run publishes exactly once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedis } from '../../src/queue/connection.js';
import { submitRun } from '../../src/queue/submit-run.js';
import { exitOf, waitForManifest, waitUntil } from '../support/queue-harness.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { ALL, assertExactlyOnce, DATES, Scenario, SUBMIT, useFaultSuite } from '../support/fault-suite.js';

useFaultSuite();

describe('SIGTERM to workers while Redis is down', () => {
  test('they exit within the grace period; after Redis returns, the run publishes exactly once', async () => {
    const server: RedisServer = await startRedisServer({ aof: true });
    const client = createRedis(server.url, {}, { log: () => {} });
    const s = new Scenario('stop-redis-down', server.url);
    try {
      const [a, b] = await Promise.all([s.worker(), s.worker()]);
      const run = await submitRun(s.spec, client, s.config, { selection: ALL, ...SUBMIT });
      const registryKey = `${s.config.prefix}:${s.config.queueName}:bs:run:${run.runId}`;
      // Mid-run: one file done, others taken or waiting.
      await waitUntil(async () => Number(await client.hget(registryKey, 'filesDone')) >= 1, 'a file done', 30_000, 2);
      await server.kill('SIGKILL');
      await Promise.all([a!.waitFor(/redis: cannot reach/), b!.waitFor(/redis: cannot reach/)]);

      const t0 = Date.now();
      a!.signal('SIGTERM');
      b!.signal('SIGTERM');
      const exits = await Promise.all([exitOf(a!, 20_000), exitOf(b!, 20_000)]);
      const ms = Date.now() - t0;
      for (const e of exits) assert.equal(e.signal, null, `exited by itself, not killed:\n${s.logs()}`);
      // 10 s of grace for Redis to come back, plus a moment to exit.
      assert.ok(ms < 15_000, `stopped after ${ms} ms`);
      for (const [i, w] of [a!, b!].entries()) {
        assert.match(w.output(), /worker stopping \(SIGTERM\)/);
        // It could not stop cleanly and says so, with exit code 1.
        assert.match(w.output(), /unreachable for 10 s while stopping/, w.output());
        assert.equal(exits[i]!.code, 1);
      }

      await server.start();
      await s.worker();
      const status = await waitForManifest(client, s.config, run.runId, 60_000, () => s.logs());
      await assertExactlyOnce(s.out, status.manifest!);
      assert.equal(status.record.filesDone, DATES.length);
    } finally {
      await s.close(client);
      await client.quit();
      await server.stop();
    }
  });
});
