/**
 * The distributed-mode commands: `worker`, `scheduler`, `backfill`, `status`. Redis comes
 * from REDIS_URL (see src/queue/connection.ts); credentials never reach logs (URLs redacted).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { closeRedis, createRedis, msFromEnv, redactUrl, withRedis, type QueueConfig } from '../queue/connection.js';
import { getRunStatus } from '../queue/run-status.js';
import { startScheduler } from '../queue/scheduler.js';
import { startScoreWorker } from '../queue/score-worker.js';
import { submitRun } from '../queue/submit-run.js';
import { startMetricsServer, type MetricsServer } from '../queue/metrics-server.js';
import { createMonitorMetrics, type MonitorMetrics } from '../monitor/metrics.js';
import { queueSettings } from './queue-env.js';
import { loadSpecFile } from './run-command.js';
import { createReporter, type Reporter } from './progress.js';
import { checkSelectionFits, selectionFromArgs } from './selection-args.js';
import { EXIT, UsageError } from './usage-error.js';

export const WORKER_HELP = `Usage: batchscore worker [--concurrency N] [--threads N]

Process scoring jobs from the queue (REDIS_URL, default redis://127.0.0.1:6379; queue
BATCHSCORE_QUEUE, default batchscore). Start any number, on any machines. While Redis
is unreachable it keeps retrying and logs so (at most every 30 s). SIGTERM/SIGINT: stop
taking jobs, finish the running ones, exit; if Redis stays unreachable for 10 s meanwhile,
exit anyway with code 1 (the running jobs are retried once their lock expires).

Options:
  --concurrency N     files scored at once, one thread each (default 1)
  --threads N         scoring threads, at least --concurrency; threads without a job of
                      their own help score a big file's row groups (default: the
                      machine's cores, at most 8)
  --lock-ms N         job lock duration in ms (default BATCHSCORE_LOCK_MS, else 30000)
  --metrics-port N    serve Prometheus metrics at http://host:N/metrics`;

export const SCHEDULER_HELP = `Usage: batchscore scheduler <job.json>

Submit the job's run on its "schedule" (cron, tz, offsetDays, catchUp) and, on start,
catch up firings whose partition is not published yet. While Redis is unreachable it
keeps retrying and logs so (at most every 30 s).

Options:
  --metrics-port N    serve Prometheus metrics (queue depth, process) at /metrics`;

export const BACKFILL_HELP = `Usage: batchscore backfill <job.json> (--from D --to D | --partition V...) [--rerun] [--wait]

Enqueue one run over the partitions (one job per input file + a finalize job). Submitting
the same job and window while its run is active returns that run; --rerun forces a new one.
--wait blocks until the run's manifest is written and exits 0/1 by its status.
Fails (exit 1) if Redis cannot be reached within BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS
(default 5000), or is lost for more than 30 s.`;

export const STATUS_HELP = `Usage: batchscore status <runId> [--json]

Partitions and files done/failed/pending, rows, rate; errors once finished. Fails (exit 1)
if Redis cannot be reached within BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS (default 5000).`;

/** `--metrics-port`: a TCP port (0 picks a free one). */
function portArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--metrics-port expects a port from 0 to 65535, got ${JSON.stringify(value)}`);
  return n;
}

/** A positive integer option, or `fallback` when absent. */
function int(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new UsageError(`${option} expects a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** `msFromEnv`, its error as bad usage (exit 2). */
function envMs(name: string, fallback: number): number {
  try {
    return msFromEnv(name, fallback);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Resolve when SIGTERM or SIGINT arrives. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

/**
 * How long a stopping worker or scheduler waits for an unreachable Redis before giving up
 * on a clean stop: long enough for a Redis restart, well inside the usual 30 s a process
 * manager (Kubernetes, systemd, Docker) allows between SIGTERM and SIGKILL.
 */
const STOP_REDIS_GRACE_MS = 10_000;

/**
 * Wait for `stopping`, unless Redis stays unreachable for `graceMs` meanwhile: with Redis
 * gone, finishing a job (or even QUIT) waits for a reconnect that may never come. Resolves
 * true if `stopping` finished, false if it gave up. Giving up is safe: a job whose lock is
 * not renewed is taken again by another worker, and its output is staged per attempt.
 */
async function stopUnlessRedisDown(stopping: Promise<unknown>, redis: Redis, graceMs = STOP_REDIS_GRACE_MS): Promise<boolean> {
  let finished = false;
  const done = stopping.then(
    () => void (finished = true),
    () => void (finished = true),
  );
  let downSince: number | undefined;
  while (!finished) {
    const now = Date.now();
    downSince = redis.status === 'ready' ? undefined : (downSince ?? now);
    if (downSince !== undefined && now - downSince >= graceMs) return false;
    await Promise.race([done, sleep(200)]);
  }
  return true;
}

/**
 * Exit even if something still holds the event loop (a BullMQ connection reconnecting, a
 * scoring thread mid-file) after a stop that gave up: the timer is unref'd, so a process
 * that drains by itself exits first, with the exit code the command returned.
 */
function exitSoon(code: number): void {
  setTimeout(() => process.exit(code), 1000).unref();
}

/**
 * The metrics server when a port was given. If it cannot start (the port is taken), the
 * connection is closed first: its reconnecting would otherwise keep the process alive.
 */
async function metricsServerFor(port: number | undefined, metrics: MonitorMetrics, redis: Redis, config: QueueConfig): Promise<MetricsServer | null> {
  if (port === undefined) return null;
  try {
    return await startMetricsServer(metrics, port, { redis, config });
  } catch (err) {
    await closeRedis(redis);
    throw err;
  }
}

/**
 * Stop (see `stopUnlessRedisDown`); when that gives up on an unreachable Redis, say so for
 * `who` (and what it leaves undone), drop the connection and exit soon with code 1.
 * Returns whether the stop was clean.
 */
async function stopOrGiveUp(stop: () => Promise<void>, redis: Redis, config: QueueConfig, reporter: Reporter, who: string, consequence = ''): Promise<boolean> {
  if (await stopUnlessRedisDown(stop(), redis)) return true;
  reporter.event('error', `${who}: Redis (${redactUrl(config.redisUrl)}) unreachable for ${STOP_REDIS_GRACE_MS / 1000} s while stopping; exiting${consequence}`);
  redis.disconnect();
  exitSoon(EXIT.failed);
  return false;
}

export async function workerCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { concurrency: { type: 'string' }, threads: { type: 'string' }, 'lock-ms': { type: 'string' }, 'metrics-port': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return console.log(WORKER_HELP), EXIT.ok;
  // Every option and setting is checked before connecting: a connection that retries
  // forever would keep a process with a usage error alive.
  const lockDuration = int(values['lock-ms'], '--lock-ms', envMs('BATCHSCORE_LOCK_MS', 30_000));
  const stalledInterval = envMs('BATCHSCORE_STALLED_MS', lockDuration);
  const concurrency = int(values.concurrency, '--concurrency', 1);
  const threads = values.threads === undefined ? undefined : int(values.threads, '--threads', 1);
  const metricsPort = values['metrics-port'] === undefined ? undefined : portArg(values['metrics-port']);
  const config = queueSettings();
  const reporter = createReporter();
  const redis = createRedis(config.redisUrl, process.env, { log: reporter.event });
  const metrics = createMonitorMetrics();
  const server = await metricsServerFor(metricsPort, metrics, redis, config);
  const worker = startScoreWorker(redis, config, {
    metrics,
    concurrency,
    ...(threads !== undefined && { threads }),
    lockDuration,
    stalledInterval,
    // startScoreWorker throttles BullMQ's connection errors itself; every other warning
    // (a run's drift alert, say, even if worded as another run's) is logged.
    log: (level, msg, fields) => reporter.event(level, msg, fields),
  });
  reporter.event('info', 'worker started', { redis: redactUrl(config.redisUrl), queue: config.queueName, pid: process.pid, ...(server && { metrics: `http://127.0.0.1:${server.port}/metrics` }) });
  const signal = await untilSignal();
  reporter.event('info', `worker stopping (${signal}): finishing running jobs`);
  const stop = async () => {
    await worker.close();
    await server?.close();
    await closeRedis(redis);
  };
  const left = ' without finishing the running jobs (they are retried once their lock expires)';
  return (await stopOrGiveUp(stop, redis, config, reporter, 'worker', left)) ? EXIT.ok : EXIT.failed;
}

export async function schedulerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'metrics-port': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return console.log(SCHEDULER_HELP), EXIT.ok;
  if (positionals.length !== 1) throw new UsageError('scheduler expects one job spec file');
  const metricsPort = values['metrics-port'] === undefined ? undefined : portArg(values['metrics-port']);
  const spec = await loadSpecFile(positionals[0]!);
  if (!spec.schedule) throw new UsageError(`${positionals[0]}: the spec has no "schedule"`);
  const config = queueSettings();
  const reporter = createReporter();
  const redis = createRedis(config.redisUrl, process.env, { log: reporter.event });
  const server = await metricsServerFor(metricsPort, createMonitorMetrics(), redis, config);
  const scheduler = startScheduler(spec, redis, config, {
    onSubmit: (e) => {
      const fields = { runId: e.result.runId, created: e.result.created, partition: e.partition };
      const what = `${e.catchUp ? 'catch-up: ' : ''}${spec.name} for ${e.partition}`;
      // A run that could not be planned (no files yet, a bad model) has a failed manifest already.
      if (e.result.manifestUri) reporter.event('error', `${what}: run ${e.result.runId} could not start; see ${e.result.manifestUri}`, fields);
      else reporter.event('info', `submitted ${what}`, fields);
    },
    onError: (err) => reporter.event('error', err.message),
  });
  reporter.event('info', 'scheduler started', { job: spec.name, cron: spec.schedule.cron, tz: spec.schedule.tz });
  // Until a signal, or until the scheduler stops itself (catch-up or arming failed: reported
  // through onError), which ends the process with exit code 1 rather than leaving it idle.
  const failed = await Promise.race([untilSignal().then(() => false), scheduler.done.then(() => false, () => true)]);
  scheduler.stop();
  // A submission in flight while Redis is down is abandoned; nothing is lost: submitting is
  // idempotent per window, and the next start catches up unpublished partitions.
  const stop = async () => {
    await server?.close();
    await closeRedis(redis);
  };
  return (await stopOrGiveUp(stop, redis, config, reporter, 'scheduler')) && !failed ? EXIT.ok : EXIT.failed;
}

export async function backfillCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' }, to: { type: 'string' }, partition: { type: 'string', multiple: true },
      rerun: { type: 'boolean' }, wait: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(BACKFILL_HELP), EXIT.ok;
  if (positionals.length !== 1) throw new UsageError('backfill expects one job spec file');
  const spec = await loadSpecFile(positionals[0]!);
  const selection = selectionFromArgs(values);
  if (selection.kind === 'all' && spec.input.partitionKey) throw new UsageError('backfill needs --from/--to or --partition');
  checkSelectionFits(spec, selection);
  const config = queueSettings();
  return withRedis(config.redisUrl, async (redis) => {
    const result = await submitRun(spec, redis, config, { selection, rerun: values.rerun ?? false });
    if (result.manifestUri) {
      console.error(`error: run ${result.runId} could not start; see ${result.manifestUri}`);
      return EXIT.failed;
    }
    console.log(`${result.created ? 'submitted' : 'already active'}: run ${result.runId} (${result.files} files)`);
    if (!values.wait) return EXIT.ok;
    for (;;) {
      const status = await getRunStatus(redis, config, result.runId);
      if (status?.manifest) {
        console.log(`run ${result.runId} ${status.manifest.status}: ${status.manifest.totals.rows} rows; manifest ${status.record.manifestUri}`);
        return status.manifest.status === 'succeeded' ? EXIT.ok : EXIT.failed;
      }
      // A run whose finalize failed for good ends without a manifest: do not wait forever.
      if (status && status.record.status === 'failed' && !status.record.manifestUri) {
        console.error(`error: run ${result.runId} failed before writing its manifest (see the workers' logs)`);
        return EXIT.failed;
      }
      await sleep(500);
    }
  });
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return console.log(STATUS_HELP), EXIT.ok;
  if (positionals.length !== 1) throw new UsageError('status expects one run id');
  const config = queueSettings();
  return withRedis(config.redisUrl, async (redis) => {
    const s = await getRunStatus(redis, config, positionals[0]!);
    if (!s) {
      console.error(`error: no record of run ${positionals[0]} in Redis (records last 30 days; the manifest is <output>/_runs/<runId>.json)`);
      return EXIT.failed;
    }
    if (values.json) {
      const { manifest, ...rest } = s;
      console.log(JSON.stringify({ ...rest, totals: manifest?.totals ?? null }, null, 2));
    } else {
      const r = s.record;
      console.log(`run ${r.runId} (${r.name}): ${r.status}`);
      console.log(`  files: ${r.filesDone} done, ${r.filesFailed} failed, ${s.pending} pending of ${r.files}`);
      console.log(`  rows: ${r.rows.toLocaleString('en-US')}, ${s.rowsPerSecond.toLocaleString('en-US')} rows/s`);
      if (s.manifest) {
        const t = s.manifest.totals;
        console.log(`  partitions: ${t.partitions - t.failedPartitions} published, ${t.failedPartitions} failed of ${t.partitions}`);
        for (const f of s.failedPartitions) console.log(`  failed ${f.partition}: ${f.error}`);
        console.log(`  manifest: ${r.manifestUri}`);
      }
    }
    return s.record.status === 'failed' || s.record.status === 'partial' ? EXIT.failed : EXIT.ok;
  });
}
