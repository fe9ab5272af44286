/**
 * The distributed workloads: the standard workload (demo logistic job, 8 files) submitted to
 * the BullMQ queue (Redis) and scored by `batchscore worker --concurrency 1` child processes
 * that read the input and write the output through the S3 API (s3rver, another process).
 *
 * - `dist-<N>w-cold`: N fresh worker processes (started, "worker started" printed, nothing
 *   scored yet); one run timed from `submitRun` to the manifest being visible in the run
 *   status (polled every POLL_MS). Worker start-up is reported, not timed.
 * - `dist-<N>w-warm`: the same, on worker processes that already scored the same run once.
 * - `dist-queue`: queue overhead per partition job on idle, warm workers: single-partition
 *   runs one after another, BullMQ job `timestamp` (enqueued) → `processedOn` (a worker
 *   started it).
 *
 * The submitter (this process), s3rver and Redis run on the same cores as the workers: every
 * run records how many cores each of them kept busy (from /proc), and what is left is
 * attributed to other processes (flagged NOISY as elsewhere in the bench).
 *
 * Heavy modules (BullMQ, AWS SDK, test support) are loaded only when a distributed workload
 * is selected: catalog.ts imports this module dynamically.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis, type QueueConfig } from '../src/queue/connection.js';
import { getRunStatus, type RunStatusReport } from '../src/queue/run-status.js';
import { fileJobId, submitRun } from '../src/queue/submit-run.js';
import type { PartitionSelection } from '../src/run/plan.js';
import { parseJobSpec, type JobSpec } from '../src/spec/job-spec.js';
import { closeCachedStores } from '../src/storage/resolve.js';
import type { S3Store } from '../src/storage/s3-store.js';
import {
  obliterateQueue, queueConfig, randomQueueName, s3Env, startWorker, uploadDir, workerEnv, type CliProcess,
} from '../test/support/queue-harness.js';
import { redisUrlForTests } from '../test/support/redis.js';
import { S3RVER_CREDENTIALS, s3StoreFor, startS3rver, type S3rverHandle } from '../test/support/s3rver.js';
import type { Sample } from './catalog.js';
import { busyCpuMs } from './cpu-load.js';
import type { BenchData } from './data.js';
import { median } from './results.js';
import { pinProcess, WORKER_NODE_FLAGS } from './worker-flags.js';
import { findRedisPid, findS3rverPid, procCpuMs, procPeakRssKB, threadCpuMs, threadSplit, type ThreadSplit } from './proc-usage.js';

/** How often the submitter polls the run status for the manifest. */
const POLL_MS = 20;
/** A run that takes longer than this is an error (the standard workload takes seconds). */
const RUN_TIMEOUT_MS = 180_000;
/** Single-partition runs per `dist-queue` sample: every partition this many times. */
const QUEUE_ROUNDS = 2;

/** Latency figures of the `dist-queue` workload. */
export interface LatencyStats {
  label: string;
  n: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function stats(label: string, xs: readonly number[]): LatencyStats {
  const r = (x: number) => Math.round(x * 10) / 10;
  return { label, n: xs.length, medianMs: r(median(xs)), p95Ms: r(percentile(xs, 95)), maxMs: r(Math.max(...xs)) };
}

interface CpuSnapshot {
  at: number;
  busy: number | null;
  workers: (number | null)[];
  threads: Map<number, number>[];
  s3rver: number | null;
  redis: number | null;
  submitter: number;
}

/** Average cores each party kept busy between two snapshots. */
export interface CpuShare {
  workers: number | null;
  s3rver: number | null;
  redis: number | null;
  submitter: number;
  /** Everything else on the machine (other processes); null if unknown. */
  other: number | null;
}

// ---- one set of worker processes on its own queue ----

interface WorkerSet {
  n: number;
  /** Each worker process (all its threads) pinned to a core of its own: N workers on N cores. */
  pinned: boolean;
  config: QueueConfig;
  queue: Queue;
  workers: CliProcess[];
  /** Spawn → every worker printed "worker started", ms. */
  startupMs: number;
  /** Runs this set has scored (the next output prefix). */
  runs: number;
}

function setKey(n: number, pinned: boolean): string {
  return `${n}${pinned ? '-pinned' : ''}`;
}

/** One timed run through the queue. */
interface RunMeasure {
  runId: string;
  rows: number;
  /** submitRun called → manifest visible, ms. */
  ms: number;
  phases: Record<string, number>;
  jobs: { files: number; retries: number; dispatchGapMs: LatencyStats | null; fileJobMs: LatencyStats; inWorkerOverheadMs: LatencyStats | null };
  fileTimings: { decodeMs: number; inferMs: number; writeMs: number };
  cpu: CpuShare;
  cpuMs: number | null;
  workerThreadsCpuMs: ThreadSplit;
  peakRssKB: (number | null)[];
}

function jobsTimes(jobs: Job[]): { start: number; end: number }[] {
  return jobs.map((j) => ({ start: j.processedOn ?? NaN, end: j.finishedOn ?? NaN }));
}

/**
 * Idle time of a worker between finishing one file job and starting the next, in a busy run:
 * with N workers of concurrency 1 taking jobs as soon as they are free, the k-th start
 * (k ≥ N, in start order) follows the (k−N)-th finish (in finish order).
 */
function dispatchGaps(files: Job[], n: number): number[] {
  const t = jobsTimes(files);
  const starts = t.map((x) => x.start).sort((a, b) => a - b);
  const ends = t.map((x) => x.end).sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let k = n; k < starts.length; k++) gaps.push(starts[k]! - ends[k - n]!);
  return gaps;
}

export class DistributedBench {
  /** Worker sets by `setKey`. */
  private sets = new Map<string, WorkerSet>();
  private redis!: Redis;
  private redisUrl = '';
  private redisPid: number | null = null;
  private s3!: S3rverHandle;
  private s3rverPid: number | null = null;
  private store!: S3Store;
  private bucket = '';
  private spec!: JobSpec;
  private selection!: PartitionSelection;
  private dates: string[] = [];
  /** process.env before the S3 settings were added (null until then). */
  private savedEnv: NodeJS.ProcessEnv | null = null;
  /** Facts about the set-up, for the report. */
  readonly setup: Record<string, string | number> = {};

  private constructor(private readonly data: BenchData, private readonly log: (line: string) => void) {}

  /** Start s3rver, connect to Redis, upload the standard dataset and the model once. */
  static async start(data: BenchData, log: (line: string) => void): Promise<DistributedBench> {
    const d = new DistributedBench(data, log);
    try {
      await d.init();
    } catch (err) {
      await d.close();
      throw err;
    }
    return d;
  }

  private async init(): Promise<void> {
    this.s3 = await startS3rver();
    this.s3rverPid = findS3rverPid();
    this.bucket = await this.s3.bucket('bench');
    this.store = s3StoreFor(this.s3.endpoint, this.bucket);
    // The submitter (this process) plans runs and reads manifests through the same S3 API.
    this.savedEnv = { ...process.env };
    Object.assign(process.env, s3Env(this.s3.endpoint, S3RVER_CREDENTIALS));
    this.redisUrl = await redisUrlForTests();
    this.redis = createRedis(this.redisUrl);
    this.redisPid = await findRedisPid(this.redis);

    this.dates = readdirSync(this.data.inputDir).filter((n) => n.startsWith('dt=')).map((n) => n.slice(3)).sort();
    const bytes = this.dates.reduce((n, d) => n + readdirSync(join(this.data.inputDir, `dt=${d}`)).reduce((m, f) => m + statSync(join(this.data.inputDir, `dt=${d}`, f)).size, 0), 0);
    const t0 = performance.now();
    await uploadDir(this.store, this.data.inputDir, 'input');
    await this.store.putFile('models/logistic.onnx', this.data.jobs.logistic.modelPath);
    const uploadMs = performance.now() - t0;
    this.setup.uploadMB = Math.round(bytes / 2 ** 20);
    this.setup.uploadMBps = Math.round(bytes / 2 ** 20 / (uploadMs / 1000));
    this.log(`bench: dist: s3rver ${this.s3.endpoint} (pid ${this.s3rverPid ?? '?'}), Redis pid ${this.redisPid ?? '? (not local)'}; ` +
      `uploaded ${this.setup.uploadMB} MB of input in ${(uploadMs / 1000).toFixed(1)} s (${this.setup.uploadMBps} MB/s, one object at a time)`);

    const raw = JSON.parse(readFileSync(this.data.jobs.logistic.specPath, 'utf8')) as { input: object; model: object; output: object };
    this.spec = parseJobSpec({
      ...raw,
      name: 'bench-dist-logistic',
      input: { ...raw.input, uri: `s3://${this.bucket}/input` },
      model: { uri: `s3://${this.bucket}/models/logistic.onnx` },
      output: { ...raw.output, uri: `s3://${this.bucket}/scores/unused` },
    });
    this.selection = { kind: 'range', from: this.dates[0]!, to: this.dates[this.dates.length - 1]! };
  }

  /** Stop every worker, drop the queues, stop s3rver, restore the environment. */
  async close(): Promise<void> {
    for (const set of [...this.sets.values()]) await this.stopSet(set).catch((e: Error) => this.log(`bench: dist: stopping workers: ${e.message}`));
    await this.redis?.quit().catch(() => {});
    closeCachedStores();
    this.store?.close();
    await this.s3?.stop().catch(() => {});
    const saved = this.savedEnv;
    if (saved) {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      this.savedEnv = null;
    }
  }

  // ---- worker sets ----

  private async startSet(n: number, pinned = false): Promise<WorkerSet> {
    // One set at a time: idle workers of another size would only hold memory.
    for (const other of [...this.sets.values()]) await this.stopSet(other);
    const config = queueConfig(this.redisUrl, randomQueueName(`bench${n}w`));
    const env = workerEnv(this.redisUrl, config.queueName, {
      ...s3Env(this.s3.endpoint, S3RVER_CREDENTIALS),
      // Production lock settings (the test harness shortens them).
      BATCHSCORE_LOCK_MS: '30000',
      BATCHSCORE_STALLED_MS: '30000',
    });
    const t0 = performance.now();
    const workers = await Promise.all(Array.from({ length: n }, () => startWorker(env, ['--concurrency', '1'], WORKER_NODE_FLAGS)));
    if (pinned) workers.forEach((w, i) => pinProcess(w.pid, i % availableParallelism()));
    const set: WorkerSet = {
      n,
      pinned,
      config,
      queue: new Queue(config.queueName, { connection: this.redis, prefix: config.prefix }),
      workers,
      startupMs: performance.now() - t0,
      runs: 0,
    };
    this.sets.set(setKey(n, pinned), set);
    return set;
  }

  private async stopSet(set: WorkerSet): Promise<void> {
    this.sets.delete(setKey(set.n, set.pinned));
    await Promise.all(set.workers.map((w) => w.stop(60_000)));
    await set.queue.close();
    await obliterateQueue(this.redis, set.config);
  }

  private workerLogs(set: WorkerSet): string {
    return set.workers.map((w) => `--- worker ${w.pid}\n${w.output().split('\n').slice(-8).join('\n')}`).join('\n');
  }

  private snapshot(set: WorkerSet): CpuSnapshot {
    const self = process.cpuUsage();
    return {
      at: performance.now(),
      busy: busyCpuMs(),
      workers: set.workers.map((w) => procCpuMs(w.pid)),
      threads: set.workers.map((w) => threadCpuMs(w.pid)),
      s3rver: procCpuMs(this.s3rverPid),
      redis: procCpuMs(this.redisPid),
      submitter: (self.user + self.system) / 1000,
    };
  }

  /** Thread split summed over the set's workers. */
  private static threads(set: WorkerSet, a: CpuSnapshot, b: CpuSnapshot): ThreadSplit {
    const sum: ThreadSplit = { mainMs: 0, busiestMs: 0, restMs: 0 };
    set.workers.forEach((w, i) => {
      const t = threadSplit(w.pid, a.threads[i] ?? new Map(), b.threads[i] ?? new Map());
      sum.mainMs += t.mainMs;
      sum.busiestMs += t.busiestMs;
      sum.restMs += t.restMs;
    });
    return sum;
  }

  private static share(a: CpuSnapshot, b: CpuSnapshot): { cpu: CpuShare; workersCpuMs: number | null } {
    const wall = b.at - a.at;
    const d = (x: number | null, y: number | null) => (x === null || y === null ? null : y - x);
    const workerDeltas = a.workers.map((x, i) => d(x, b.workers[i] ?? null));
    const workersCpuMs = workerDeltas.some((x) => x === null) ? null : workerDeltas.reduce((s: number, x) => s + x!, 0);
    const s3rver = d(a.s3rver, b.s3rver);
    const redis = d(a.redis, b.redis);
    const submitter = b.submitter - a.submitter;
    const busy = d(a.busy, b.busy);
    const other = busy === null || workersCpuMs === null ? null : Math.max(0, busy - workersCpuMs - (s3rver ?? 0) - (redis ?? 0) - submitter);
    const cores = (x: number | null) => (x === null ? null : Math.round((x / wall) * 100) / 100);
    return {
      cpu: { workers: cores(workersCpuMs), s3rver: cores(s3rver), redis: cores(redis), submitter: cores(submitter)!, other: cores(other) },
      workersCpuMs,
    };
  }

  private specFor(set: WorkerSet): { spec: JobSpec; outputPrefix: string } {
    const outputPrefix = `scores/${set.config.queueName}-${set.runs++}`;
    return { spec: { ...this.spec, output: { ...this.spec.output, uri: `s3://${this.bucket}/${outputPrefix}` } }, outputPrefix };
  }

  private async waitForManifest(set: WorkerSet, runId: string): Promise<RunStatusReport> {
    const deadline = performance.now() + RUN_TIMEOUT_MS;
    for (;;) {
      const status = await getRunStatus(this.redis, set.config, runId);
      if (status?.manifest) return status;
      const dead = set.workers.find((w) => w.child.exitCode !== null || w.child.signalCode !== null);
      if (dead) throw new Error(`worker ${dead.pid} exited during run ${runId}:\n${this.workerLogs(set)}`);
      if (performance.now() > deadline) throw new Error(`run ${runId}: no manifest after ${RUN_TIMEOUT_MS / 1000} s; record ${JSON.stringify(status?.record)}\n${this.workerLogs(set)}`);
      await sleep(POLL_MS);
    }
  }

  /** Submit the standard run to `set` and wait for its manifest; everything measured. */
  private async timedRun(set: WorkerSet, selection = this.selection): Promise<RunMeasure> {
    const { spec, outputPrefix } = this.specFor(set);
    const before = this.snapshot(set);
    const t0 = Date.now();
    const submitted = await submitRun(spec, this.redis, set.config, { selection });
    const tSubmitted = Date.now();
    if (submitted.manifestUri) throw new Error(`run ${submitted.runId} could not be planned; see ${submitted.manifestUri}`);
    const status = await this.waitForManifest(set, submitted.runId);
    const after = this.snapshot(set);
    const t1 = Date.now();
    const ms = after.at - before.at;
    const peakRssKB = set.workers.map((w) => procPeakRssKB(w.pid));

    const manifest = status.manifest!;
    if (manifest.status !== 'succeeded') throw new Error(`run ${submitted.runId} ${manifest.status}: ${manifest.errors.map((e) => e.message).join('; ')}`);
    // The manifest lists partitions and files in plan order, as the file job ids number them.
    const planned = manifest.partitions.flatMap((p, pi) => p.files.map((f, fi) => ({ id: fileJobId(submitted.runId, pi, fi), totalMs: f.timings?.totalMs })));
    const found = await Promise.all(planned.map((f) => Job.fromId(set.queue, f.id)));
    const files = found.filter((j): j is Job => j !== undefined);
    // Per file job: time the job was active minus the scoring thread's own time for the file
    // (plan lookup, thread hand-off, run-record update, BullMQ completion).
    const inWorker = planned.flatMap((f, i) => {
      const j = found[i];
      return j?.processedOn && j.finishedOn && f.totalMs !== undefined ? [j.finishedOn - j.processedOn - f.totalMs] : [];
    });
    const finalize = await Job.fromId(set.queue, `finalize-${submitted.runId}`);
    if (files.length !== submitted.files || !finalize) throw new Error(`run ${submitted.runId}: found ${files.length} of ${submitted.files} file jobs${finalize ? '' : ' and no finalize job'}`);
    const firstStart = Math.min(...files.map((j) => j.processedOn ?? Infinity));
    const lastEnd = Math.max(...files.map((j) => j.finishedOn ?? -Infinity));
    const sum = (k: 'decodeMs' | 'inferMs' | 'writeMs') =>
      Math.round(manifest.partitions.flatMap((p) => p.files).reduce((n, f) => n + (f.timings?.[k] ?? 0), 0));
    const gaps = dispatchGaps(files, set.n);
    const { cpu, workersCpuMs } = DistributedBench.share(before, after);

    // Outside the timed window: drop this run's output so s3rver's disk stays small.
    await this.store.deletePrefix(`${outputPrefix}/`).catch(() => 0);
    return {
      runId: submitted.runId,
      rows: manifest.totals.rows,
      ms,
      phases: {
        submitMs: tSubmitted - t0,
        firstStartMs: firstStart - t0,
        filesMs: lastEnd - firstStart,
        finalizeWaitMs: (finalize.processedOn ?? NaN) - lastEnd,
        finalizeMs: (finalize.finishedOn ?? NaN) - (finalize.processedOn ?? NaN),
        manifestSeenMs: t1 - (finalize.finishedOn ?? NaN),
      },
      jobs: {
        files: files.length,
        // BullMQ 6 counts a finished attempt in attemptsMade and a started one in attemptsStarted:
        // anything beyond one start per job is a retry or a stall.
        retries: [...files, finalize].reduce((n, j) => n + Math.max(0, (j.attemptsStarted || j.attemptsMade) - 1), 0),
        dispatchGapMs: gaps.length ? stats('idle gap between file jobs', gaps) : null,
        fileJobMs: stats('file job processedOn → finishedOn', jobsTimes(files).map((x) => x.end - x.start)),
        inWorkerOverheadMs: inWorker.length ? stats('file job active minus scoring-thread time', inWorker) : null,
      },
      fileTimings: { decodeMs: sum('decodeMs'), inferMs: sum('inferMs'), writeMs: sum('writeMs') },
      cpu,
      cpuMs: workersCpuMs,
      workerThreadsCpuMs: DistributedBench.threads(set, before, after),
      peakRssKB,
    };
  }

  private sample(set: WorkerSet, m: RunMeasure, extra: Record<string, unknown>): Sample {
    const rss = m.peakRssKB.filter((x): x is number => x !== null);
    if (m.rows !== this.data.rows) throw new Error(`run ${m.runId}: ${m.rows} rows, expected ${this.data.rows}`);
    return {
      rows: m.rows,
      wallMs: m.ms,
      workMs: m.ms,
      maxRssKB: rss.length ? Math.max(...rss) : 0,
      cpuMs: m.cpuMs,
      backgroundCores: m.cpu.other,
      extra: {
        workers: set.n,
        workerPids: set.workers.map((w) => w.pid),
        workerPeakRssMB: m.peakRssKB.map((x) => (x === null ? null : Math.round(x / 1024))),
        ...extra,
        phases: m.phases,
        jobs: m.jobs,
        fileTimings: m.fileTimings,
        cpuCores: m.cpu,
        workerThreadsCpuMs: m.workerThreadsCpuMs,
        s3rverUploadMBps: this.setup.uploadMBps,
      },
    };
  }

  /** `dist-<n>w-cold`: fresh worker processes, one timed run. They stay as the warm set. */
  async cold(n: number, pinned = false): Promise<Sample> {
    const existing = this.sets.get(setKey(n, pinned));
    if (existing) await this.stopSet(existing);
    const set = await this.startSet(n, pinned);
    const m = await this.timedRun(set);
    return this.sample(set, m, { workerStartupMs: Math.round(set.startupMs) });
  }

  /** `dist-<n>w-warm`: workers that scored the same run before (one untimed run if new). */
  async warm(n: number, pinned = false): Promise<Sample> {
    let set = this.sets.get(setKey(n, pinned));
    let warmUp: number | null = null;
    if (!set || set.runs === 0) {
      set ??= await this.startSet(n, pinned);
      warmUp = Math.round((await this.timedRun(set)).ms);
    }
    const m = await this.timedRun(set);
    return this.sample(set, m, { runsBefore: set.runs - 1, ...(warmUp !== null && { warmUpRunMs: warmUp }) });
  }

  /**
   * `dist-queue`: enqueue → start of partition jobs on idle, warm workers. Single-partition
   * runs, one after another (QUEUE_ROUNDS × every partition), on the warm set of `n` workers.
   */
  async queueOverhead(n: number): Promise<{ sample: Sample; latency: LatencyStats }> {
    let set = this.sets.get(setKey(n, false)) ?? [...this.sets.values()][0];
    if (!set || set.runs === 0) {
      set ??= await this.startSet(n);
      await this.timedRun(set);
    }
    const enqueueToStart: number[] = [];
    const submitToStart: number[] = [];
    const finalizeWait: number[] = [];
    const runMs: number[] = [];
    let rows = 0;
    const before = this.snapshot(set);
    let peak: (number | null)[] = [];
    for (let round = 0; round < QUEUE_ROUNDS; round++) {
      for (const date of this.dates) {
        const m = await this.timedRun(set, { kind: 'values', values: [date] });
        // One file job per run: firstStartMs is submit → start; the job's own enqueue → start:
        const job = await Job.fromId(set.queue, fileJobId(m.runId, 0, 0));
        if (!job?.processedOn) throw new Error(`run ${m.runId}: file job not found`);
        enqueueToStart.push(job.processedOn - job.timestamp);
        submitToStart.push(m.phases.firstStartMs!);
        finalizeWait.push(m.phases.finalizeWaitMs!);
        runMs.push(m.ms);
        rows += m.rows;
        peak = m.peakRssKB;
      }
    }
    const after = this.snapshot(set);
    const { cpu, workersCpuMs } = DistributedBench.share(before, after);
    const latency = stats('file job enqueued (timestamp) → started (processedOn)', enqueueToStart);
    const rss = peak.filter((x): x is number => x !== null);
    return {
      latency,
      sample: {
        rows,
        wallMs: after.at - before.at,
        workMs: after.at - before.at,
        maxRssKB: rss.length ? Math.max(...rss) : 0,
        cpuMs: workersCpuMs,
        backgroundCores: cpu.other,
        extra: {
          workers: set.n,
          runs: runMs.length,
          enqueueToStartMs: latency,
          submitToStartMs: stats('submitRun called (plan: list + model hash + plan upload + flow add) → file job started', submitToStart),
          finalizeWaitMs: stats('last file job finished → finalize job started (flow parent released)', finalizeWait),
          singleFileRunMs: stats('single-partition run, submit → manifest', runMs),
          cpuCores: cpu,
        },
      },
    };
  }
}
