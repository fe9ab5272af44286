/**
 * Submitting a run to the queue: plan it once (model pinned by sha256, files listed), store
 * the plan next to the run's staging keys, and add one flow: a child job per input file and
 * a finalize job that runs after every child settled. Payloads carry ids and URIs only.
 */
import { createHash, randomUUID } from 'node:crypto';
import { FlowProducer, type FlowJob } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobSpec } from '../spec/job-spec.js';
import { joinKey, resolveUri } from '../storage/resolve.js';
import { withAbsolutePaths } from '../spec/absolute-paths.js';
import { stagingPrefix } from '../run/commit.js';
import { failedManifest, writeManifest } from '../run/finalize.js';
import { manifestKey } from '../run/manifest.js';
import type { PartitionSelection } from '../run/plan.js';
import { errorRecord } from '../run/run-job.js';
import { planRun, type RunPlan } from '../run/run-plan.js';
import type { QueueConfig } from './connection.js';
import { RunRegistry } from './run-registry.js';
import { emitRunFinish, emitRunStart } from '../lineage/emit.js';

/** Payload of a `file` job: which file of which plan. */
export interface FileJobData {
  runId: string;
  planUri: string;
  partition: number;
  file: number;
}

/** Payload of the `finalize` job. */
export interface FinalizeJobData {
  runId: string;
  planUri: string;
  window: string;
  /** Where the manifest goes: if it exists, an earlier execution of the job got that far. */
  manifestUri?: string;
}

export interface SubmitOptions {
  selection: PartitionSelection;
  /** Start a new run even if one is active for the same job and window. */
  rerun?: boolean;
  /** Attempts per file job for transient errors. Default 5. */
  attempts?: number;
  /** First retry delay in ms, doubled each attempt. Default 1000. */
  backoffMs?: number;
}

export interface SubmitResult {
  runId: string;
  /** False when an active run for the same job and window was returned instead. */
  created: boolean;
  files: number;
  /** Set when planning failed: the failed run's manifest. */
  manifestUri?: string;
}

/** Identity of "this job over this window": same spec name, output and selection. */
export function windowId(spec: JobSpec, selection: PartitionSelection): string {
  const text = JSON.stringify([spec.name, spec.output.uri, selection]);
  return `${spec.name}:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** Job ids: BullMQ refuses `:` in custom ids. */
export function fileJobId(runId: string, partition: number, file: number): string {
  return `f-${runId}-${partition}-${file}`;
}

/** The inverse of `fileJobId`, from a job id or a `prefix:queue:id` key. */
export function parseFileJobId(keyOrId: string): { runId: string; partition: number; file: number } | null {
  const m = /f-([0-9a-f-]{36})-(\d+)-(\d+)$/.exec(keyOrId);
  return m ? { runId: m[1]!, partition: Number(m[2]), file: Number(m[3]) } : null;
}

/** Where a run's plan is stored. */
export function planUriOf(plan: RunPlan): string {
  const out = resolveUri(plan.spec.output.uri);
  return out.store.uri(joinKey(stagingPrefix(plan.outputRoot, plan.runId), 'plan.json'));
}

/**
 * Submit a run. Idempotent per job and window while a run is active (`rerun` forces a new
 * one). A run that cannot be planned is recorded as a failed manifest and not enqueued.
 */
export async function submitRun(given: JobSpec, redis: Redis, config: QueueConfig, options: SubmitOptions): Promise<SubmitResult> {
  // Workers run in other directories (or on other machines): relative paths are this one's.
  const spec = withAbsolutePaths(given);
  const registry = new RunRegistry(redis, `${config.prefix}:${config.queueName}`);
  const window = windowId(spec, options.selection);
  const runId = randomUUID();
  if (!options.rerun) {
    const active = await registry.claimWindow(window, runId);
    if (active) {
      const existing = await registry.get(active);
      return { runId: active, created: false, files: existing?.files ?? 0 };
    }
  } else {
    await registry.releaseWindow(window, (await redis.get(`${config.prefix}:${config.queueName}:bs:active:${window}`)) ?? '');
    await registry.claimWindow(window, runId);
  }
  const startedAt = new Date();
  let plan: RunPlan;
  try {
    plan = await planRun(spec, options.selection, runId);
  } catch (err) {
    await registry.releaseWindow(window, runId);
    const manifest = failedManifest({ runId, spec, selection: options.selection }, errorRecord(err), startedAt, 0, spec.maxFailedPartitions);
    const manifestUri = await writeManifest(manifest);
    await emitRunFinish(manifest, { includeStart: true });
    return { runId, created: true, files: 0, manifestUri };
  }
  await emitRunStart(plan, startedAt);
  const planUri = planUriOf(plan);
  const { store, key } = resolveUri(planUri);
  await store.put(key, JSON.stringify(plan), { contentType: 'application/json' });
  const files = plan.partitions.reduce((n, p) => n + p.files.length, 0);
  await registry.create({
    runId,
    name: spec.name,
    planUri,
    outputUri: spec.output.uri,
    window,
    status: 'queued',
    files,
    createdAt: plan.createdAt,
  });
  const children: FlowJob[] = plan.partitions.flatMap((partition, p) =>
    partition.files.map((_, i) => ({
      name: 'file',
      queueName: config.queueName,
      data: { runId, planUri, partition: p, file: i } satisfies FileJobData,
      opts: {
        jobId: fileJobId(runId, p, i),
        attempts: options.attempts ?? 5,
        backoff: { type: 'exponential', delay: options.backoffMs ?? 1000 },
        ignoreDependencyOnFailure: true,
        removeOnComplete: false,
        removeOnFail: false,
      },
    })),
  );
  const flow = new FlowProducer({ connection: redis, prefix: config.prefix });
  try {
    await flow.add({
      name: 'finalize',
      queueName: config.queueName,
      data: { runId, planUri, window, manifestUri: store.uri(manifestKey(plan.outputRoot, runId)) } satisfies FinalizeJobData,
      opts: { jobId: `finalize-${runId}`, attempts: options.attempts ?? 5, backoff: { type: 'exponential', delay: options.backoffMs ?? 1000 } },
      children,
    });
  } finally {
    await flow.close();
  }
  return { runId, created: true, files };
}
