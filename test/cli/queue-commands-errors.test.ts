/**
 * The CLI when Redis cannot be reached, or the command line is wrong: one-shot commands fail
 * within seconds with an error naming Redis and the (redacted) URL; `worker` and `scheduler`
 * reject bad options before connecting (exit 2 at once), keep retrying an unreachable Redis
 * while reporting it (throttled), survive its restart, and stop promptly on SIGTERM even
 * while it is down. Real `batchscore` processes; "unreachable" is a closed port or a killed
 * redis-server, never a mock.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitOf, obliterateQueue, queueConfig, randomQueueName, spawnCli, workerEnv, type CliProcess } from '../support/queue-harness.js';
import { createRedis } from '../../src/queue/connection.js';
import { redisUrlForTests, startOwnRedis } from '../support/redis.js';
import { startRedisServer } from '../support/redis-server.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

/** Nothing listens on port 1 (privileged, unused): connecting is refused at once. */
const CLOSED = 'redis://127.0.0.1:1';
/** A hang check, not a performance check: the fixed code takes ~5 s at most. */
const HANG_BOUND_MS = 15_000;

/** A minimal environment (the harness replaces, not merges, the child's environment). */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return workerEnv(CLOSED, 'bs-test-unreachable', { BATCHSCORE_LOCK_MS: undefined, BATCHSCORE_STALLED_MS: undefined, ...extra });
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion; fails the test (and kills the process) past `boundMs`. */
async function runCli(args: string[], environment: NodeJS.ProcessEnv, boundMs = HANG_BOUND_MS): Promise<Finished> {
  const t0 = Date.now();
  const proc = spawnCli(args, environment);
  try {
    const { code, signal } = await exitOf(proc, boundMs);
    return { code, signal, ms: Date.now() - t0, stdout: proc.stdout(), stderr: proc.stderr() };
  } finally {
    proc.signal('SIGKILL');
  }
}

let dir: TmpDir;
let scheduledSpec: string;

before(async () => {
  dir = await tmpDir('batchscore-cli-redis-');
  // A spec with a schedule whose input does not exist: the scheduler only has to start.
  scheduledSpec = join(dir.path, 'scheduled.json');
  await writeFile(
    scheduledSpec,
    JSON.stringify({
      name: 'unreachable-redis',
      input: { uri: join(dir.path, 'input'), partitionKey: 'dt' },
      model: { uri: join(dir.path, 'model.onnx') },
      features: ['f0'],
      output: { uri: join(dir.path, 'out') },
      schedule: { cron: '0 2 * * *' },
    }),
  );
});

after(async () => {
  await dir.cleanup();
});

describe('one-shot commands with Redis unreachable', () => {
  const commands: [string, string[]][] = [
    ['status', ['status', 'run-abc']],
    ['status --json', ['status', 'run-abc', '--json']],
    ['backfill', ['backfill', 'jobs/example.json', '--from', '2026-11-01', '--to', '2026-11-02']],
    ['backfill --wait', ['backfill', 'jobs/example.json', '--partition', '2026-11-01', '--wait']],
    ['verify (manifest from the Redis record)', ['verify', 'run-abc']],
    ['evaluate (manifest from the Redis record)', ['evaluate', 'run-abc', '--labels', 'labels.parquet', '--id', 'id', '--label', 'y']],
  ];
  // Side by side: each mostly waits out the connect timeout.
  describe('each command', { concurrency: true }, () => {
    for (const [name, args] of commands) {
      test(`${name}: exit 1 within seconds, naming Redis, the URL and the cause`, async () => {
        const r = await runCli(args, env());
        assert.equal(r.signal, null, r.stderr);
        assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
        assert.match(r.stderr, /^error: redis: cannot connect to redis:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\); is Redis running\? set REDIS_URL$/m);
        assert.ok(r.ms < HANG_BOUND_MS, `took ${r.ms} ms`);
        // The one error line, not a help text (this is not a usage error) or a stack.
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      });
    }
  });

  test('the password in REDIS_URL is redacted in the error', async () => {
    const password = 'pw-never-printed-7f3a';
    const r = await runCli(['status', 'run-abc'], env({ REDIS_URL: `redis://alice:${password}@127.0.0.1:1/0` }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /redis: cannot connect to redis:\/\/alice:\*\*\*@127\.0\.0\.1:1\/0 \(ECONNREFUSED\)/);
    assert.ok(!(r.stdout + r.stderr).includes(password), r.stderr);
  });

  test('BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS shortens the wait; a bad value is named', async () => {
    const quick = await runCli(['status', 'run-abc'], env({ BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS: '200' }));
    assert.equal(quick.code, 1);
    assert.match(quick.stderr, /redis: cannot connect to redis:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    // The default (5 s) of retrying alone would exceed this.
    assert.ok(quick.ms < 4500, `took ${quick.ms} ms with a 200 ms connect timeout`);

    const bad = await runCli(['status', 'run-abc'], env({ BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS: '5s' }));
    assert.equal(bad.code, 2, 'a bad setting is bad usage');
    assert.match(bad.stderr, /redis: BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS expects a positive integer \(milliseconds\), got "5s"/);
  });

  test('a server that accepts connections but never answers: "no answer", not a hang', async () => {
    const sockets = new Set<Socket>();
    const server: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      const r = await runCli(['status', 'run-abc'], env({ REDIS_URL: `redis://127.0.0.1:${port}`, BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS: '500' }));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`redis: cannot connect to redis://127\\.0\\.0\\.1:${port} \\(no answer within 500 ms\\)`));
      assert.ok(sockets.size >= 1, 'the CLI did reach the silent server');
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  test('a wrong password fails at once (no retrying), with a credentials hint and no password', async () => {
    const server = await startRedisServer({ password: 'right-pass-c0ffee' });
    try {
      const url = `redis://:wrong-pass-beef@127.0.0.1:${server.port}`;
      const r = await runCli(['status', 'run-abc'], env({ REDIS_URL: url }));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /redis: cannot connect to redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(WRONGPASS[^)]*\); check the user and password in REDIS_URL/);
      assert.ok(!r.stderr.includes('wrong-pass-beef'), r.stderr);
      // Retrying would take the whole 5 s connect timeout.
      assert.ok(r.ms < 4500, `took ${r.ms} ms`);
    } finally {
      await server.stop();
    }
  });

  test('a REDIS_URL without redis:// is rejected, masking what may be a password', async () => {
    const r = await runCli(['status', 'run-abc'], env({ REDIS_URL: 'bob:hunter2@localhost:6379' }));
    assert.equal(r.code, 2, 'a bad setting is bad usage');
    assert.match(r.stderr, /redis: REDIS_URL must start with redis:\/\/ or rediss:\/\/, got "\*\*\*@localhost:6379"/);
    assert.ok(!r.stderr.includes('hunter2'));
  });

  test('with Redis up, the same commands still work (status of an unknown run: exit 1, "no record")', async () => {
    const url = await redisUrlForTests();
    const r = await runCli(['status', 'run-that-does-not-exist'], env({ REDIS_URL: url, BATCHSCORE_QUEUE: 'bs-test-no-such-queue' }));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no record of run run-that-does-not-exist in Redis/);
    assert.ok(r.ms < HANG_BOUND_MS, `took ${r.ms} ms`);
  });
});

describe('worker and scheduler: bad options exit 2 before connecting', () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['worker', '--concurrency', '0'], {}, /--concurrency expects a positive integer, got "0"/],
    [['worker', '--concurrency', 'two'], {}, /--concurrency expects a positive integer, got "two"/],
    [['worker', '--lock-ms', '1.5'], {}, /--lock-ms expects a positive integer, got "1\.5"/],
    [['worker', '--threads='], {}, /--threads expects a positive integer, got ""/],
    [['worker', '--metrics-port', 'abc'], {}, /--metrics-port expects a port from 0 to 65535, got "abc"/],
    [['worker', '--metrics-port', '70000'], {}, /--metrics-port expects a port from 0 to 65535, got "70000"/],
    [['worker', '--metrics-port='], {}, /--metrics-port expects a port from 0 to 65535, got ""/],
    [['worker', '--no-such-option'], {}, /Unknown option '--no-such-option'/],
    [['worker'], { BATCHSCORE_LOCK_MS: 'abc' }, /BATCHSCORE_LOCK_MS expects a positive integer \(milliseconds\), got "abc"/],
    [['worker', '--lock-ms', '5000'], { BATCHSCORE_LOCK_MS: '30s' }, /BATCHSCORE_LOCK_MS expects a positive integer \(milliseconds\), got "30s"/],
    [['worker'], { BATCHSCORE_STALLED_MS: '-1' }, /BATCHSCORE_STALLED_MS expects a positive integer \(milliseconds\), got "-1"/],
    [['scheduler', 'jobs/example.json', '--metrics-port', 'abc'], {}, /--metrics-port expects a port from 0 to 65535, got "abc"/],
    [['scheduler'], {}, /scheduler expects one job spec file/],
  ];
  for (const [args, extra, message] of cases) {
    const label = `${args.join(' ')}${Object.entries(extra).map(([k, v]) => ` (${k}=${v})`).join('')}`;
    test(label, async () => {
      const r = await runCli(args, env(extra));
      assert.equal(r.signal, null, `ended by ${r.signal}: ${r.stderr}`);
      assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Usage: batchscore (worker|scheduler)/, 'the help follows a usage error');
      // Well under the connect timeout: it never tried to reach Redis.
      assert.ok(r.ms < HANG_BOUND_MS, `took ${r.ms} ms`);
      assert.doesNotMatch(r.stdout + r.stderr, /redis: cannot reach/);
    });
  }

  test('an empty BATCHSCORE_LOCK_MS means unset (the default), as with other variables', async () => {
    // Valid settings: it starts, so stop it; exit 0 is not the point, starting is.
    const proc = spawnCli(['worker'], env({ BATCHSCORE_LOCK_MS: '', BATCHSCORE_STALLED_MS: '', REDIS_URL: await redisUrlForTests() }));
    try {
      await proc.waitFor(/worker started/, HANG_BOUND_MS);
    } finally {
      await proc.stop();
    }
  });
});

/** Lines of a process's output that match `pattern`. */
function lines(proc: CliProcess, pattern: RegExp): string[] {
  return proc.output().split('\n').filter((l) => pattern.test(l));
}

describe('long-lived processes with Redis unreachable', () => {
  test('worker: keeps retrying, says so once (throttled), and stops within the grace period on SIGTERM', async () => {
    const proc = spawnCli(['worker'], env());
    try {
      await proc.waitFor(/redis: cannot reach redis:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/, HANG_BOUND_MS);
      // ioredis retries every ~2 s (and BullMQ's own connections too): still running, not repeating.
      await sleep(5000);
      assert.equal(proc.child.exitCode, null, `the worker keeps running: ${proc.output()}`);
      assert.equal(lines(proc, /redis: cannot reach/).length, 1, proc.output());
      assert.ok(lines(proc, /ECONNREFUSED/).length <= 2, `BullMQ's connection errors are throttled too:\n${proc.output()}`);

      const t0 = Date.now();
      proc.signal('SIGTERM');
      const { code, signal } = await exitOf(proc, HANG_BOUND_MS);
      const ms = Date.now() - t0;
      assert.equal(signal, null, 'it exited by itself, not by a signal');
      assert.equal(code, 1, 'a stop that could not finish cleanly says so');
      assert.ok(ms < HANG_BOUND_MS, `stopped after ${ms} ms`);
      assert.match(proc.output(), /worker stopping \(SIGTERM\)/);
      assert.match(proc.output(), /unreachable for 10 s while stopping; exiting without finishing the running jobs/);
    } finally {
      proc.signal('SIGKILL');
    }
  });

  test('scheduler: reports the outage and exits 0 promptly on SIGTERM', async () => {
    const proc = spawnCli(['scheduler', scheduledSpec], env());
    try {
      await proc.waitFor(/redis: cannot reach redis:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/, HANG_BOUND_MS);
      await proc.waitFor(/scheduler started/, HANG_BOUND_MS);
      const t0 = Date.now();
      proc.signal('SIGTERM');
      const { code, signal } = await exitOf(proc, HANG_BOUND_MS);
      assert.equal(signal, null);
      // Nothing of its own was in flight to lose: a clean stop.
      assert.equal(code, 0, proc.output());
      assert.ok(Date.now() - t0 < HANG_BOUND_MS);
    } finally {
      proc.signal('SIGKILL');
    }
  });

  test('scheduler: a catch-up run that cannot start (no files yet) is logged as an error with its manifest, not as submitted', async () => {
    const url = await redisUrlForTests();
    const config = queueConfig(url, randomQueueName('sched'));
    const proc = spawnCli(['scheduler', scheduledSpec], env({ REDIS_URL: url, BATCHSCORE_QUEUE: config.queueName }));
    try {
      // The input folder has no partitions: each caught-up firing's plan fails.
      await proc.waitFor(/unreachable-redis for \d{4}-\d\d-\d\d: run [0-9a-f-]+ could not start; see file:\/\/.+_runs\/[0-9a-f-]+\.json/, HANG_BOUND_MS);
      assert.doesNotMatch(proc.output(), /submitted unreachable-redis/);
      proc.signal('SIGTERM');
      const { code } = await exitOf(proc, HANG_BOUND_MS);
      assert.equal(code, 0, proc.output());
    } finally {
      proc.signal('SIGKILL');
      const redis = createRedis(url);
      await obliterateQueue(redis, config);
      await redis.quit();
    }
  });

  test('worker: survives a Redis restart, says when it is back, and then stops cleanly (exit 0)', async () => {
    const redis = await startOwnRedis();
    const proc = spawnCli(['worker'], env({ REDIS_URL: redis.url }));
    try {
      await proc.waitFor(/worker started/, HANG_BOUND_MS);
      await redis.kill();
      await proc.waitFor(/redis: cannot reach/, HANG_BOUND_MS);
      await redis.restart();
      await proc.waitFor(/redis: connected again to redis:\/\/127\.0\.0\.1:\d+ after \d+ s/, HANG_BOUND_MS);
      assert.equal(proc.child.exitCode, null, 'still running');
      // Give BullMQ's own connections a moment to be ready again too.
      await sleep(2500);
      proc.signal('SIGTERM');
      const { code } = await exitOf(proc, HANG_BOUND_MS);
      assert.equal(code, 0, proc.output());
      assert.doesNotMatch(proc.output(), /while stopping/);
    } finally {
      proc.signal('SIGKILL');
      await redis.kill();
    }
  });
});
