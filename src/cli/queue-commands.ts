/**
 * The distributed-mode commands: `worker`, `scheduler`, `backfill`, `status`. Redis comes
 * from REDIS_URL (see src/queue/connection.ts); credentials never reach logs (URLs redacted).
 */
import { parseArgs } from 'node:util';
import { createRedis, queueConfigFromEnv, redactUrl } from '../queue/connection.js';
import { getRunStatus } from '../queue/run-status.js';
import { startScheduler } from '../queue/scheduler.js';
import { startScoreWorker } from '../queue/score-worker.js';
import { submitRun } from '../queue/submit-run.js';
import { startMetricsServer } from '../queue/metrics-server.js';
import { createMonitorMetrics } from '../monitor/metrics.js';
import { loadSpecFile } from './run-command.js';
import { createReporter } from './progress.js';
import { selectionFromArgs } from './selection-args.js';
import { EXIT, UsageError } from './usage-error.js';

export const WORKER_HELP = `Usage: batchscore worker [--concurrency N] [--threads N]

Process scoring jobs from the queue (REDIS_URL, default redis://127.0.0.1:6379; queue
BATCHSCORE_QUEUE, default batchscore). Start any number, on any machines. SIGTERM/SIGINT:
stop taking jobs, finish the running ones, exit.

Options:
  --concurrency N     files scored at once, one thread each (default 1)
  --threads N         scoring threads, at least --concurrency; threads without a job of
                      their own help score a big file's row groups (default: the
                      machine's cores, at most 8)
  --lock-ms N         job lock duration (default 30000)
  --metrics-port N    serve Prometheus metrics at http://host:N/metrics`;

export const SCHEDULER_HELP = `Usage: batchscore scheduler <job.json>

Submit the job's run on its "schedule" (cron, tz, offsetDays, catchUp) and, on start,
catch up firings whose partition is not published yet.

Options:
  --metrics-port N    serve Prometheus metrics (queue depth, process) at /metrics`;

export const BACKFILL_HELP = `Usage: batchscore backfill <job.json> (--from D --to D | --partition V...) [--rerun] [--wait]

Enqueue one run over the partitions (one job per input file + a finalize job). Submitting
the same job and window while its run is active returns that run; --rerun forces a new one.
--wait blocks until the run's manifest is written and exits 0/1 by its status.`;

export const STATUS_HELP = `Usage: batchscore status <runId> [--json]

Partitions and files done/failed/pending, rows, rate; errors once finished.`;

function portArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--metrics-port expects a port from 0 to 65535, got ${JSON.stringify(value)}`);
  return n;
}

function int(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${option} expects a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Resolve when SIGTERM or SIGINT arrives. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

export async function workerCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { concurrency: { type: 'string' }, threads: { type: 'string' }, 'lock-ms': { type: 'string' }, 'metrics-port': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return console.log(WORKER_HELP), EXIT.ok;
  const config = queueConfigFromEnv();
  const reporter = createReporter();
  const redis = createRedis(config.redisUrl);
  const lockDuration = int(values['lock-ms'], '--lock-ms', Number(process.env.BATCHSCORE_LOCK_MS) || 30_000);
  const metrics = createMonitorMetrics();
  const server = values['metrics-port'] === undefined ? null : await startMetricsServer(metrics, portArg(values['metrics-port']), { redis, config });
  const worker = startScoreWorker(redis, config, {
    metrics,
    concurrency: int(values.concurrency, '--concurrency', 1),
    ...(values.threads !== undefined && { threads: int(values.threads, '--threads', 1) }),
    lockDuration,
    stalledInterval: Number(process.env.BATCHSCORE_STALLED_MS) || lockDuration,
    log: (level, msg, fields) => reporter.event(level, msg, fields),
  });
  reporter.event('info', 'worker started', { redis: redactUrl(config.redisUrl), queue: config.queueName, pid: process.pid, ...(server && { metrics: `http://127.0.0.1:${server.port}/metrics` }) });
  const signal = await untilSignal();
  reporter.event('info', `worker stopping (${signal}): finishing running jobs`);
  await worker.close();
  await server?.close();
  await redis.quit().catch(() => {});
  return EXIT.ok;
}

export async function schedulerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'metrics-port': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return console.log(SCHEDULER_HELP), EXIT.ok;
  if (positionals.length !== 1) throw new UsageError('scheduler expects one job spec file');
  const spec = await loadSpecFile(positionals[0]!);
  if (!spec.schedule) throw new UsageError(`${positionals[0]}: the spec has no "schedule"`);
  const config = queueConfigFromEnv();
  const reporter = createReporter();
  const redis = createRedis(config.redisUrl);
  const server = values['metrics-port'] === undefined ? null : await startMetricsServer(createMonitorMetrics(), portArg(values['metrics-port']), { redis, config });
  const scheduler = startScheduler(spec, redis, config, {
    onSubmit: (e) => reporter.event('info', `${e.catchUp ? 'catch-up: ' : ''}submitted ${spec.name} for ${e.partition}`, { runId: e.result.runId, created: e.result.created, partition: e.partition }),
    onError: (err) => reporter.event('error', err.message),
  });
  reporter.event('info', 'scheduler started', { job: spec.name, cron: spec.schedule.cron, tz: spec.schedule.tz });
  await untilSignal();
  scheduler.stop();
  await server?.close();
  await redis.quit().catch(() => {});
  return EXIT.ok;
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
  const config = queueConfigFromEnv();
  const redis = createRedis(config.redisUrl);
  try {
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
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await redis.quit().catch(() => {});
  }
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return console.log(STATUS_HELP), EXIT.ok;
  if (positionals.length !== 1) throw new UsageError('status expects one run id');
  const config = queueConfigFromEnv();
  const redis = createRedis(config.redisUrl);
  try {
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
  } finally {
    await redis.quit().catch(() => {});
  }
}
