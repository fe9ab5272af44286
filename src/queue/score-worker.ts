/**
 * The queue worker: takes `file` jobs (score one file into an attempt-scoped staging key)
 * and `finalize` jobs (publish partitions, write the manifest). Scoring runs in threads, so
 * the event loop stays free to renew job locks however long a file takes.
 */
import { randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { resolveUri } from '../storage/resolve.js';
import { PERMANENT_ERRORS, taskError, type FileResult, type FileTask } from '../run/file-task.js';
import { scoringPoolOptions } from '../run/scoring-pool.js';
import { defaultThreads } from '../run/run-job.js';
import { faultPoint } from '../run/fault-point.js';
import { finalizeRun, type FileOutcome } from '../run/finalize.js';
import type { ErrorRecord, RunManifest } from '../run/manifest.js';
import { sweepFinishedStaging } from '../run/commit.js';
import { emitRunFinish, hasRunEndEvent } from '../lineage/emit.js';
import { fileTask, type RunPlan } from '../run/run-plan.js';
import { ThreadPool, ThreadTaskError } from '../run/thread-pool.js';
import { throttleRepeatedWarnings, type QueueConfig } from './connection.js';
import { RunRegistry } from './run-registry.js';
import type { MonitorMetrics } from '../monitor/metrics.js';
import { parseFileJobId, type FileJobData, type FinalizeJobData } from './submit-run.js';

/** Options of `startScoreWorker`. */
export interface ScoreWorkerOptions {
  /** Jobs processed at once, each on its own scoring thread. Default 1. */
  concurrency?: number;
  /**
   * Scoring threads, at least `concurrency`. Threads without a job of their own help score
   * a running job's big file (its row groups are shared), so one job still uses every
   * core. Default: the machine's cores (at most 8), or `concurrency` if more.
   */
  threads?: number;
  /** Lock duration in ms (a job whose worker stops renewing is re-run after it). Default 30,000. */
  lockDuration?: number;
  /** How often stalled jobs are checked, in ms. Default 30,000. */
  stalledInterval?: number;
  /** Times a job may stall before it fails. Default 2. */
  maxStalledCount?: number;
  /** Prometheus metrics to record files, partitions and runs in. */
  metrics?: MonitorMetrics;
  /** Structured log sink. */
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export interface ScoreWorker {
  worker: Worker;
  /** Stop taking jobs, let the running ones finish, stop the threads. */
  close(): Promise<void>;
}

// "ParquetError: parquet: …" → name and message, as the finalize step reads failed children.
function encodeError(e: { name: string; message: string }): string {
  return `${e.name}: ${e.message}`;
}

// A child also fails for good after its last attempt at a transient error ("Error: storage: …"):
// only the permanent error classes are recorded as permanent.
function decodeError(reason: string): ErrorRecord {
  const m = /^([A-Za-z]*Error): ([\s\S]*)$/.exec(reason);
  if (!m) return { name: 'Error', message: reason, permanent: false };
  const name = m[1]!;
  return { name, message: m[2]!, permanent: PERMANENT_ERRORS.has(name) || name === 'PlanError' || name === 'QueueError' };
}

/** The manifest at `uri`, or null if there is none yet. */
async function existingManifest(uri: string): Promise<RunManifest | null> {
  const { store, key } = resolveUri(uri);
  if (!(await store.head(key))) return null;
  return JSON.parse(new TextDecoder().decode(await store.get(key))) as RunManifest;
}

/** Start a worker on the queue. */
export function startScoreWorker(redis: Redis, config: QueueConfig, options: ScoreWorkerOptions = {}): ScoreWorker {
  const concurrency = options.concurrency ?? 1;
  const lockDuration = options.lockDuration ?? 30_000;
  const log = options.log ?? (() => {});
  const registry = new RunRegistry(redis, `${config.prefix}:${config.queueName}`);
  const threads = Math.max(concurrency, options.threads ?? defaultThreads());
  const pool = new ThreadPool<FileTask, FileResult>(scoringPoolOptions(threads));
  const plans = new Map<string, Promise<RunPlan>>();
  // Job names by run id, for metrics recorded in synchronous event handlers.
  const jobNames = new Map<string, string>();

  const loadPlan = (runId: string, planUri: string): Promise<RunPlan> => {
    let plan = plans.get(runId);
    if (!plan) {
      const { store, key } = resolveUri(planUri);
      plan = store.get(key).then((bytes) => {
        const loaded = JSON.parse(new TextDecoder().decode(bytes)) as RunPlan;
        jobNames.set(runId, loaded.spec.name);
        return loaded;
      });
      plan.catch(() => plans.delete(runId));
      plans.set(runId, plan);
      if (plans.size > 64) plans.delete(plans.keys().next().value!);
    }
    return plan;
  };

  const scoreFileJob = async (job: Job<FileJobData>): Promise<FileResult> => {
    const { runId, planUri, partition: p, file: i } = job.data;
    const plan = await loadPlan(runId, planUri);
    const partition = plan.partitions[p];
    if (!partition) throw new UnrecoverableError(`PlanError: plan ${planUri} has no partition ${p}`);
    // A fresh attempt id per execution: a retry or a zombie never touches another attempt's file.
    const attempt = `a${job.attemptsMade}-${randomUUID().slice(0, 8)}`;
    let result: FileResult;
    const task = fileTask(plan, partition, i, attempt);
    try {
      result = await pool.run(task);
    } catch (caught) {
      const err = taskError(caught, task);
      const e = err instanceof Error ? err : new Error(String(err));
      const permanent = err instanceof ThreadTaskError ? err.permanent : e.name === 'ThreadCrashError';
      log(permanent ? 'error' : 'warn', e.message, { runId, job: job.id, attempt: job.attemptsMade + 1, permanent });
      if (permanent) throw new UnrecoverableError(encodeError(e));
      throw new Error(encodeError(e));
    }
    faultPoint('after-upload');
    options.metrics?.recordFile(plan.spec.name, { rows: result.rows, seconds: result.totalMs / 1000, outcome: 'ok' });
    await registry.fileDone(runId, `${p}-${i}`, result.rows);
    return result;
  };

  const finalizeJob = async (job: Job<FinalizeJobData>) => {
    const { runId, planUri, window } = job.data;
    const done = job.data.manifestUri ? await existingManifest(job.data.manifestUri) : null;
    if (done) {
      // An earlier execution got as far as the manifest (then died or lost its lock): the run
      // is published, and its plan and staging may be gone. Only the bookkeeping is left.
      const out = resolveUri(done.spec.output.uri);
      const outputRoot = out.key.replace(/\/+$/, '');
      // The earlier execution may have died between the manifest and the lineage end event.
      if (!(await hasRunEndEvent(out.store, outputRoot, runId))) {
        await emitRunFinish(done, { log: (level, msg, fields) => level !== 'debug' && log(level, msg, fields) });
      }
      await sweepFinishedStaging(out.store, outputRoot);
      await registry.setStatus(runId, done.status, { manifestUri: job.data.manifestUri, finishedAt: done.finishedAt });
      await registry.releaseWindow(window, runId);
      log('info', `run ${runId} ${done.status} (finalized before)`, { runId, status: done.status, manifestUri: job.data.manifestUri });
      return { status: done.status, manifestUri: job.data.manifestUri };
    }
    const plan = await loadPlan(runId, planUri);
    await registry.setStatus(runId, 'finalizing');
    const outcomes: FileOutcome[][] = plan.partitions.map((p) => p.files.map(() => ({ ok: false, error: { name: 'MissingResultError', message: 'no result recorded', permanent: false } })));
    for (const [key, value] of Object.entries(await job.getChildrenValues<FileResult>())) {
      const id = parseFileJobId(key);
      if (id && outcomes[id.partition]) outcomes[id.partition]![id.file] = { ok: true, result: value };
    }
    for (const [key, reason] of Object.entries(await job.getIgnoredChildrenFailures())) {
      const id = parseFileJobId(key);
      if (id && outcomes[id.partition]) outcomes[id.partition]![id.file] = { ok: false, error: decodeError(reason) };
    }
    const out = resolveUri(plan.spec.output.uri);
    const { manifest, manifestUri } = await finalizeRun(plan, outcomes, {
      startedAt: new Date(plan.createdAt),
      threads: concurrency,
      maxFailedPartitions: plan.spec.maxFailedPartitions,
      // Renewed while held, so it expires soon after a killed finalizer (like a job lock).
      withPartitionLock: (dir, fn) => registry.withLock(`${out.store.uri(plan.outputRoot)}/${dir}`, fn, lockDuration),
      // Drift warnings/alerts and undelivered webhooks and lineage events go to the worker's
      // log; debug lines (events posted) would be noise on every run.
      log: (level, msg, fields) => level !== 'debug' && log(level, msg, fields),
    });
    faultPoint('after-finalize');
    await registry.setStatus(runId, manifest.status, { manifestUri, finishedAt: manifest.finishedAt });
    if (options.metrics) {
      const job = plan.spec.name;
      for (const p of manifest.partitions) {
        const seconds = p.files.reduce((s, f) => s + (f.timings?.totalMs ?? 0), 0) / 1000;
        options.metrics.recordPartition(job, { outcome: p.status, seconds });
      }
      const seconds = manifest.totals.durationMs / 1000;
      options.metrics.setRowsPerSecond(job, manifest.totals.rowsPerSecond);
      options.metrics.recordRun(job, {
        status: manifest.status === 'failed' ? 'failed' : manifest.monitoring?.status ?? 'ok',
        rows: manifest.totals.rows,
        seconds,
        finishedAt: new Date(manifest.finishedAt),
        drift: manifest.monitoring?.drift ?? null,
      });
    }
    await registry.releaseWindow(window, runId);
    log('info', `run ${runId} ${manifest.status}`, { runId, status: manifest.status, rows: manifest.totals.rows, manifestUri });
    return { status: manifest.status, manifestUri };
  };

  const worker = new Worker(
    config.queueName,
    async (job: Job) => {
      if (job.name === 'file') return scoreFileJob(job as Job<FileJobData>);
      if (job.name === 'finalize') return finalizeJob(job as Job<FinalizeJobData>);
      throw new UnrecoverableError(`QueueError: unknown job name "${job.name}"`);
    },
    {
      connection: redis,
      prefix: config.prefix,
      concurrency,
      lockDuration,
      stalledInterval: options.stalledInterval ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 2,
      autorun: true,
    },
  );
  worker.on('failed', (job, err) => {
    if (!job) return;
    void (async () => {
      // Only a job that failed for good: no attempt left, unrecoverable, or stalled too often
      // (a job that will be retried is 'delayed' or 'waiting' by now).
      if ((await job.getState()) !== 'failed') return;
      // Count a file once, when it has failed for good.
      if (job.name === 'file') await registry.fileFailed((job.data as FileJobData).runId);
      if (job.name === 'finalize') {
        // The run ends without a manifest: say so, and free its window, or every submission
        // of the same job and window would return this dead run until the claim expires.
        const { runId, window } = job.data as FinalizeJobData;
        log('error', `run ${runId} failed: finalize: ${err.message}`, { runId, job: job.id });
        await registry.setStatus(runId, 'failed', { finishedAt: new Date().toISOString() });
        await registry.releaseWindow(window, runId);
      }
    })().catch((e: Error) => log('warn', `worker: after a failed job: ${e.message}`));
  });
  // BullMQ reports each failed reconnect as an error (every ~2 s while Redis is down).
  const connectionWarning = throttleRepeatedWarnings(log);
  worker.on('error', (err) => connectionWarning('warn', `worker: ${err.message}`));
  return {
    worker,
    async close() {
      await worker.close();
      await pool.close();
    },
  };
}
