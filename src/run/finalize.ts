/**
 * Finalize a run: from the plan and each file's outcome, publish every partition whose files
 * all succeeded (commit.ts), clean the run's staging keys, and write the manifest last.
 * Shared by the in-process runner and the queue's finalize job, and idempotent: running it
 * again with the same outcomes publishes the same files and rewrites the same manifest.
 */
import type { ObjectStore } from '../storage/object-store.js';
import { joinKey, parseUri, resolveUri } from '../storage/resolve.js';
import { commitPartition, deleteStaged, PUBLISH_CONCURRENCY, stagingPrefix, sweepFinishedStaging, type CommitFile } from './commit.js';
import type { FileResult } from './file-task.js';
import { manifestKey, runStatus, runTotals, type ErrorRecord, type FileRecord, type PartitionRecord, type RunManifest } from './manifest.js';
import type { RunPlan } from './run-plan.js';
import { runtimeInfo } from './runtime-info.js';
import { emitRunFinish } from '../lineage/emit.js';
import { faultPoint } from './fault-point.js';
import { Semaphore } from './semaphore.js';
import type { MonitoringRecord, MonitorResult } from './monitor-run.js';
import { severityRank, type Severity } from '../monitor/thresholds.js';
import { alertPayload, postAlert } from './alert-webhook.js';

/** What happened to one file: its result, or the error of its last attempt. */
export type FileOutcome = { ok: true; result: FileResult } | { ok: false; error: ErrorRecord };

export interface FinalizeOptions {
  startedAt: Date;
  threads: number;
  maxFailedPartitions: number;
  /** Errors of the run itself (not of a partition). */
  runErrors?: ErrorRecord[];
  /** Serialises partition commits across processes (the queue passes a Redis lock). */
  withPartitionLock?: <T>(dir: string, fn: () => Promise<T>) => Promise<T>;
  onPartition?: (record: PartitionRecord) => void;
  /**
   * Partitions a runner already publishes (`publishPartition`, started as their files were
   * done), by plan index; the others are published here.
   */
  published?: ReadonlyMap<number, Promise<PartitionRecord>>;
  /**
   * Where monitoring warnings and alerts, undelivered webhooks and lineage delivery problems
   * are reported. Without it they are only in the manifest.
   */
  log?: (level: 'debug' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

/** Most findings a monitoring log line names; the manifest and the report have them all. */
const MONITORING_LOG_ITEMS = 8;

/**
 * The log line of a run whose monitoring is warn or alert, naming what made it so, worst
 * first: schema changes (a missing column is an alert whatever the figures say), then the
 * columns of the whole data (already most severe first), then columns of slices. Falls back
 * to the note (e.g. an unreadable reference), so the line never reads "alert: " alone.
 */
export function monitoringMessage(record: MonitoringRecord): string {
  const drift = record.drift;
  const items: { severity: Severity; text: string }[] = [];
  for (const s of drift?.schema ?? []) items.push({ severity: s.severity, text: `${s.column} ${s.change} (${s.severity})` });
  for (const c of drift?.columns ?? []) {
    if (c.severity !== 'ok') items.push({ severity: c.severity, text: `${c.column} (${c.severity}${c.findings.length ? `: ${c.findings.join(', ')}` : ''})` });
  }
  for (const sl of drift?.slices ?? []) {
    for (const c of sl.columns) {
      if (c.severity !== 'ok') items.push({ severity: c.severity, text: `${c.column} in ${drift?.sliceBy ?? 'slice'}=${sl.value} (${c.severity})` });
    }
  }
  // Stable sort: within a severity, the order above (schema, whole data, slices) is kept.
  items.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  const shown = items.slice(0, MONITORING_LOG_ITEMS).map((i) => i.text);
  if (items.length > shown.length) shown.push(`… and ${items.length - shown.length} more`);
  // The report's URI is a field of the log line and in the run's summary, not repeated here.
  return `monitoring ${record.status}: ${shown.join('; ') || record.note || 'see the report'}`;
}

/** The manifest of a run that could not even be planned. */
export function failedManifest(plan: Pick<RunPlan, 'runId' | 'spec' | 'selection'> & Partial<RunPlan>, error: ErrorRecord, startedAt: Date, threads: number, maxFailed: number): RunManifest {
  const finishedAt = new Date();
  return {
    manifestVersion: 1,
    runId: plan.runId,
    job: { name: plan.spec.name, namespace: plan.spec.namespace },
    status: 'failed',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    selection: plan.selection,
    spec: plan.spec,
    model: plan.model ?? null,
    runtime: runtimeInfo(),
    settings: { threads, batchSize: plan.spec.batchSize, maxFailedPartitions: maxFailed },
    partitions: [],
    totals: runTotals([], finishedAt.getTime() - startedAt.getTime()),
    errors: [error],
    monitoring: null,
  };
}

/** Write a manifest to `<output>/_runs/<runId>.json`; returns its URI. */
export async function writeManifest(manifest: RunManifest): Promise<string> {
  const output = resolveUri(manifest.spec.output.uri);
  const key = manifestKey(output.key.replace(/\/+$/, ''), manifest.runId);
  await output.store.put(key, JSON.stringify(manifest, null, 2), { contentType: 'application/json' });
  return output.store.uri(key);
}

function keyOf(store: ObjectStore, uri: string): string {
  const parsed = parseUri(uri);
  const key = parsed.scheme === 's3' ? parsed.key : parsed.path;
  if (store.uri(key) !== uri) throw new Error(`finalize: ${uri} is not in the output store ${store.root}`);
  return key;
}

/** What publishing a partition needs besides the plan and its files' outcomes. */
export type PublishOptions = Pick<FinalizeOptions, 'withPartitionLock' | 'onPartition'>;

/**
 * Publish partition `p` of the plan if all its files succeeded (commit.ts), and describe it
 * as the manifest records it. A failed commit is a failed partition, not an error. Partitions
 * are independent: a runner may publish each as soon as its files are done
 * (`FinalizeOptions.published`) and the result is the same as publishing them all at the end.
 */
export async function publishPartition(plan: RunPlan, p: number, fileOutcomes: readonly FileOutcome[], options: PublishOptions): Promise<PartitionRecord> {
  const store = resolveUri(plan.spec.output.uri).store;
  const withLock = options.withPartitionLock ?? (<T>(_dir: string, fn: () => Promise<T>) => fn());
  const partition = plan.partitions[p];
  if (!partition) throw new RangeError(`finalize: the plan has no partition ${p}`);
  const inputStore = resolveUri(plan.spec.input.uri).store;
  const files: FileRecord[] = partition.files.map((file, i) => {
    const outcome = fileOutcomes[i];
    const input = { uri: inputStore.uri(file.key), size: file.size, etag: file.etag, mtime: file.mtime, rows: null as number | null };
    if (!outcome) return { input, output: null, timings: null, error: { name: 'MissingResultError', message: `no result for ${input.uri}`, permanent: false } };
    if (!outcome.ok) return { input, output: null, timings: null, error: outcome.error };
    const r = outcome.result;
    const finalUri = store.uri(joinKey(plan.outputRoot, partition.dir, file.outputName));
    return {
      input: { ...input, rows: r.rows },
      output: r.output ? { uri: finalUri, rows: r.rows, bytes: r.output.bytes, sha256: r.output.sha256 } : null,
      timings: { decodeMs: r.decodeMs, inferMs: r.inferMs, writeMs: r.writeMs, totalMs: r.totalMs },
      error: null,
      // Results stored by workers of an earlier version have no badRows.
      ...(r.badRows?.count && { badRows: r.badRows }),
    };
  });
  const rows = files.reduce((n, f) => n + (f.input.rows ?? 0), 0);
  let error: ErrorRecord | null = files.find((f) => f.error)?.error ?? null;
  if (!error && rows === 0) {
    const names = files.map((f) => f.input.uri).join(', ');
    error = { name: 'EmptyPartitionError', message: `data: partition ${partition.dir || '(root)'} of ${plan.spec.input.uri} has no rows (files: ${names})`, permanent: true };
  }
  let success: string | null = null;
  let superseded = false;
  if (!error) {
    const commitFiles: CommitFile[] = partition.files.flatMap((file, i) => {
      const outcome = fileOutcomes[i];
      const out = outcome?.ok ? outcome.result.output : null;
      if (!outcome?.ok || !out) return []; // a 0-row file has nothing to publish
      return [{ staged: keyOf(store, out.uri), name: file.outputName, rows: outcome.result.rows, bytes: out.bytes, sha256: out.sha256 }];
    });
    try {
      const key = await withLock(partition.dir, () => commitPartition(store, plan.outputRoot, partition.dir, plan, commitFiles));
      if (key) success = store.uri(key);
      else superseded = true;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      error = { name: e.name, message: e.message, permanent: false };
    }
  }
  const record: PartitionRecord = { value: partition.value, dir: partition.dir, status: error ? 'failed' : superseded ? 'superseded' : 'succeeded', rows, files, success, error };
  options.onPartition?.(record);
  return record;
}

/**
 * Publish what succeeded and write the manifest.
 * @param outcomes per partition, per file, in plan order
 */
export async function finalizeRun(plan: RunPlan, outcomes: readonly (readonly FileOutcome[])[], options: FinalizeOptions): Promise<{ manifest: RunManifest; manifestUri: string }> {
  const output = resolveUri(plan.spec.output.uri);
  const store = output.store;
  // Partitions are independent: publish a few at once (each commit is a chain of round trips).
  const publishing = new Semaphore(PUBLISH_CONCURRENCY);
  const records = await Promise.all(
    plan.partitions.map((_, p) => options.published?.get(p) ?? publishing.run(() => publishPartition(plan, p, outcomes[p] ?? [], options))),
  );
  // Loaded only for runs that monitor: its profile, drift and report modules cost the main
  // thread of every other run ~20 ms of imports.
  const monitoring = plan.spec.monitoring ? await import('./monitor-run.js') : null;
  const monitored: MonitorResult | null = monitoring ? await monitoring.monitorRun(plan, outcomes, records) : null;
  const finishedAt = new Date();
  const errors = [
    ...(options.runErrors ?? []),
    ...records.flatMap((p) => (p.error ? [{ ...p.error, message: `${p.dir || '(root)'}: ${p.error.message}` }] : [])),
  ];
  const manifest: RunManifest = {
    manifestVersion: 1,
    runId: plan.runId,
    job: { name: plan.spec.name, namespace: plan.spec.namespace },
    status: runStatus(records, options.maxFailedPartitions),
    startedAt: options.startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    selection: plan.selection,
    spec: plan.spec,
    model: plan.model,
    runtime: runtimeInfo(),
    settings: { threads: options.threads, batchSize: plan.spec.batchSize, maxFailedPartitions: options.maxFailedPartitions },
    partitions: records,
    totals: runTotals(records, finishedAt.getTime() - options.startedAt.getTime()),
    errors,
    monitoring: monitored?.record ?? null,
  };
  if (monitoring && monitored) monitored.record.reportUri = await monitoring.writeRunReport(manifest, monitored);
  const manifestUri = await writeManifest(manifest);
  faultPoint('after-manifest');
  if (monitored && monitored.record.status !== 'ok') {
    options.log?.('warn', monitoringMessage(monitored.record), { runId: plan.runId, monitoring: monitored.record.status, report: monitored.record.reportUri });
    // Bounded retries and timeouts: a dead webhook delays the end of a run by seconds, never fails it.
    if (plan.spec.monitoring?.webhook) await postAlert(plan.spec.monitoring.webhook, alertPayload(manifest, manifestUri), options.log);
  }
  // Lineage never fails a run: emitRunFinish reports problems instead of throwing. It and
  // the clean-up below need only the manifest, not each other: they run together.
  const lineage = emitRunFinish(manifest, { log: options.log });
  try {
    // Staging goes only after the manifest: a finalize that dies before writing it runs again
    // from the same plan and staged files (both under the run's staging prefix). After the
    // manifest, this run's leftovers (and any older finished run's) are abandoned.
    await deleteStaged(store, stagingPrefix(plan.outputRoot, plan.runId));
    await sweepFinishedStaging(store, plan.outputRoot);
  } finally {
    await lineage;
  }
  return { manifest, manifestUri };
}
