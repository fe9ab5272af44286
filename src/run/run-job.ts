/**
 * The in-process runner (the embedded default): plan, score every file on a pool of
 * threads, then finalize (publish partitions whose files all succeeded, manifest last).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { JobSpec } from '../spec/job-spec.js';
import { withAbsolutePaths } from '../spec/absolute-paths.js';
import { taskError, type FileResult, type FileTask } from './file-task.js';
import { scoringPoolOptions } from './scoring-pool.js';
import type { FileOutcome } from './finalize.js';
import type { ErrorRecord, FileRecord, PartitionRecord, RunManifest } from './manifest.js';
import { Semaphore } from './semaphore.js';
import { PUBLISH_CONCURRENCY } from './commit.js';
import type { PartitionSelection } from './plan.js';
import { fileTask, planRun } from './run-plan.js';
import { ThreadPool, ThreadTaskError } from './thread-pool.js';

/** Options of `runJob`. */
export interface RunJobOptions {
  /** Partitions to score. Default: all. */
  selection?: PartitionSelection;
  /** Scoring threads. Default: `os.availableParallelism()`, at most 8. */
  threads?: number;
  /** Run id (UUID). Default: a new random UUID. */
  runId?: string;
  /** Overrides the spec's `maxFailedPartitions`. */
  maxFailedPartitions?: number;
  /**
   * Keep the scoring threads after the run for a next run in this process (see
   * `ThreadPoolOptions.keepWarmMs`). False: stop them while the run is finalized (a one-shot
   * process). Default true.
   */
  keepThreadsWarm?: boolean;
  /** Called after each file, for progress display. */
  onFile?: (event: { partition: string; file: FileRecord; filesDone: number; filesTotal: number; rowsDone: number }) => void;
  /** Called after each partition is published or failed. */
  onPartition?: (record: PartitionRecord) => void;
  /** Where lineage delivery problems are reported (OPENLINEAGE_URL unreachable, …). */
  log?: (level: 'debug' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

export interface RunResult {
  manifest: RunManifest;
  /** URI of the manifest written. */
  manifestUri: string;
}

/** An error as the manifest records it. */
export function errorRecord(err: unknown): ErrorRecord {
  if (err instanceof ThreadTaskError) return { name: err.name, message: err.message, permanent: err.permanent };
  const e = err instanceof Error ? err : new Error(String(err));
  const permanent = (e as { permanent?: unknown }).permanent;
  return { name: e.name, message: e.message, permanent: typeof permanent === 'boolean' ? permanent : e.name !== 'Error' };
}

// Loaded when first needed, after the tasks are handed to the threads: in a fresh process
// every module the main thread loads before that delays the start of scoring (~10 ms here).
const finalizing = () => import('./finalize.js');
const lineage = () => import('../lineage/emit.js');

/** The default number of scoring threads: the cores, at most 8. */
export function defaultThreads(): number {
  return Math.min(8, os.availableParallelism());
}

/**
 * Score the selected partitions of a job. Partitions whose files all succeed are published;
 * a failed file fails its partition, which publishes nothing. The manifest is written last,
 * also for a run that cannot start (bad model, nothing to score).
 */
export async function runJob(given: JobSpec, options: RunJobOptions = {}): Promise<RunResult> {
  // The manifest records where things are, readable from any directory (`verify`, lineage).
  const spec = withAbsolutePaths(given);
  const runId = options.runId ?? randomUUID();
  const startedAt = new Date();
  const selection = options.selection ?? { kind: 'all' };
  const maxFailed = options.maxFailedPartitions ?? spec.maxFailedPartitions;
  const threads = options.threads ?? defaultThreads();
  let plan;
  try {
    plan = await planRun(spec, selection, runId);
  } catch (err) {
    const [{ failedManifest, writeManifest }, { emitRunFinish }] = await Promise.all([finalizing(), lineage()]);
    const manifest = failedManifest({ runId, spec, selection }, errorRecord(err), startedAt, threads, maxFailed);
    const manifestUri = await writeManifest(manifest);
    await emitRunFinish(manifest, { includeStart: true, log: options.log });
    return { manifest, manifestUri };
  }
  const pool = new ThreadPool<FileTask, FileResult>({ ...scoringPoolOptions(threads), ...(options.keepThreadsWarm === false && { keepWarmMs: 0 }) });
  const filesTotal = plan.partitions.reduce((n, p) => n + p.files.length, 0);
  let filesDone = 0;
  let rowsDone = 0;
  // A partition is published as soon as its files are done, while the threads score the
  // others (a few at a time, as finalizeRun does): the end of the run only has the last
  // partitions and the manifest left to write.
  const published = new Map<number, Promise<PartitionRecord>>();
  const publishing = new Semaphore(PUBLISH_CONCURRENCY);
  const publishOptions = { onPartition: options.onPartition };
  let outcomes: FileOutcome[][];
  // The tasks go to the threads first (in a fresh process they take ~100 ms to start); the
  // run's START lineage event is written meanwhile.
  const scoring = Promise.all(
    plan.partitions.map(async (partition, p) => {
      const fileOutcomes = await Promise.all(
        partition.files.map(async (file, i): Promise<FileOutcome> => {
          let outcome: FileOutcome;
          const task = fileTask(plan, partition, i, 'local');
          try {
            const result = await pool.run(task);
            rowsDone += result.rows;
            outcome = { ok: true, result };
          } catch (err) {
            outcome = { ok: false, error: errorRecord(taskError(err, task)) };
          }
          filesDone++;
          if (options.onFile) {
            const record: FileRecord = {
              input: { uri: task.input.uri, size: file.size, etag: file.etag, mtime: file.mtime, rows: outcome.ok ? outcome.result.rows : null },
              output: null,
              timings: null,
              error: outcome.ok ? null : outcome.error,
            };
            options.onFile({ partition: partition.dir, file: record, filesDone, filesTotal, rowsDone });
          }
          return outcome;
        }),
      );
      const record = publishing.run(async () => (await finalizing()).publishPartition(plan, p, fileOutcomes, publishOptions));
      // Awaited by finalizeRun; until then a rejection must not count as unhandled.
      record.catch(() => {});
      published.set(p, record);
      return fileOutcomes;
    }),
  );
  scoring.catch(() => {}); // awaited below; a failure of emitRunStart must not leave it unhandled
  try {
    await (await lineage()).emitRunStart(plan, startedAt, { log: options.log });
    outcomes = await scoring;
  } catch (err) {
    await pool.close();
    await Promise.allSettled(published.values());
    throw err;
  }
  // Every task has settled: threads that stop (keepThreadsWarm false) release their sessions
  // and exit while the run is finalized, rather than before it or during the process exit.
  const closing = pool.close();
  try {
    return await (await finalizing()).finalizeRun(plan, outcomes, { startedAt, threads, maxFailedPartitions: maxFailed, onPartition: options.onPartition, log: options.log, published });
  } finally {
    await closing;
  }
}
