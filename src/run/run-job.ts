/**
 * The in-process runner (the embedded default): plan, score every file on a pool of
 * threads, publish each partition whose files all succeeded, write the manifest last.
 */
import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import { ModelError, messageOf } from '../model/errors.js';
import { readSignature, type ModelSignature } from '../model/signature.js';
import { stripZipMap } from '../model/zipmap.js';
import { bindFeatures } from '../scoring/binding.js';
import type { JobSpec } from '../spec/job-spec.js';
import type { ObjectStore } from '../storage/object-store.js';
import { joinKey, resolveUri } from '../storage/resolve.js';
import { commitPartition, deleteStaged, stagingPrefix, type CommitFile } from './commit.js';
import type { FileResult, FileTask } from './file-task.js';
import { manifestKey, runStatus, runTotals, type ErrorRecord, type FileRecord, type ModelRecord, type PartitionRecord, type RunManifest } from './manifest.js';
import { planPartitions, PlanError, type ListedObject, type PartitionSelection, type PlannedPartition } from './plan.js';
import { runtimeInfo } from './runtime-info.js';
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
  /** Called after each file, for progress display. */
  onFile?: (event: { partition: string; file: FileRecord; filesDone: number; filesTotal: number; rowsDone: number }) => void;
  /** Called after each partition is published or failed. */
  onPartition?: (record: PartitionRecord) => void;
}

export interface RunResult {
  manifest: RunManifest;
  /** URI of the manifest written. */
  manifestUri: string;
}

function errorRecord(err: unknown): ErrorRecord {
  if (err instanceof ThreadTaskError) return { name: err.name, message: err.message, permanent: err.permanent };
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message, permanent: e.name !== 'Error' };
}

/** Fetch the model once, hash it, check the pin and that its inputs fit the features. */
export async function resolveModel(spec: JobSpec): Promise<ModelRecord> {
  const { store, key } = resolveUri(spec.model.uri);
  const bytes = await store.get(key);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (spec.model.sha256 && spec.model.sha256 !== sha256) {
    throw new ModelError('sha256-mismatch', `model: sha256 mismatch for ${spec.model.uri}: expected ${spec.model.sha256}, got ${sha256}`);
  }
  let source: ModelSignature;
  let signature: ModelSignature;
  try {
    source = readSignature(bytes);
    signature = source.hasZipMap ? readSignature(stripZipMap(bytes).bytes) : source;
  } catch (err) {
    throw new ModelError('invalid-model', `model: cannot load ${spec.model.uri}: ${messageOf(err).replace(/^model: /, '')}`);
  }
  bindFeatures(signature.inputs, spec.features);
  const summary = (t: { name: string; elemType: string; shape: readonly (number | string | null)[] }) => ({ name: t.name, elemType: t.elemType, shape: [...t.shape] });
  return {
    uri: store.uri(key),
    sha256,
    size: bytes.length,
    inputs: signature.inputs.map(summary),
    outputs: signature.outputs.filter((o) => o.kind === 'tensor').map(summary),
    notes: source.hasZipMap ? ['ZipMap removed: probabilities exposed as a float tensor'] : [],
  };
}

async function listAll(store: ObjectStore, prefix: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  for await (const obj of store.list(prefix)) out.push(obj);
  return out;
}

/**
 * Score the selected partitions of a job. Partitions whose files all succeed are published;
 * a failed file fails its partition, which publishes nothing. The manifest is written last.
 */
export async function runJob(spec: JobSpec, options: RunJobOptions = {}): Promise<RunResult> {
  const runId = options.runId ?? randomUUID();
  const startedAt = new Date();
  const selection = options.selection ?? { kind: 'all' };
  const maxFailed = options.maxFailedPartitions ?? spec.maxFailedPartitions;
  const threads = options.threads ?? Math.min(8, os.availableParallelism());
  const output = resolveUri(spec.output.uri);
  const outputRoot = output.key.replace(/\/+$/, '');
  let model: ModelRecord | null = null;
  let partitionRecords: PartitionRecord[] = [];
  const errors: ErrorRecord[] = [];
  try {
    model = await resolveModel(spec);
    partitionRecords = await scorePartitions(spec, model, runId, selection, threads, options);
  } catch (err) {
    // A run that cannot start (bad model, nothing to score) is still recorded.
    errors.push(errorRecord(err));
  }
  const finishedAt = new Date();
  errors.push(...partitionRecords.flatMap((p) => (p.error ? [{ ...p.error, message: `${p.dir || '(root)'}: ${p.error.message}` }] : [])));
  const manifest: RunManifest = {
    manifestVersion: 1,
    runId,
    job: { name: spec.name, namespace: spec.namespace },
    status: runStatus(partitionRecords, maxFailed),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    selection,
    spec,
    model,
    runtime: runtimeInfo(),
    settings: { threads, batchSize: spec.batchSize, maxFailedPartitions: maxFailed },
    partitions: partitionRecords,
    totals: runTotals(partitionRecords, finishedAt.getTime() - startedAt.getTime()),
    errors,
  };
  const key = manifestKey(outputRoot, runId);
  await output.store.put(key, JSON.stringify(manifest, null, 2), { contentType: 'application/json' });
  return { manifest, manifestUri: output.store.uri(key) };
}

async function scorePartitions(
  spec: JobSpec,
  model: ModelRecord,
  runId: string,
  selection: PartitionSelection,
  threads: number,
  options: RunJobOptions,
): Promise<PartitionRecord[]> {
  const input = resolveUri(spec.input.uri);
  const output = resolveUri(spec.output.uri);
  const inputRoot = input.key.replace(/\/+$/, '');
  const outputRoot = output.key.replace(/\/+$/, '');
  const partitions = planPartitions(await listAll(input.store, `${inputRoot}/`), inputRoot, spec.input.partitionKey, selection);
  if (partitions.length === 0) throw new PlanError(`no Parquet partitions under ${spec.input.uri} match ${JSON.stringify(selection)}`);
  const pool = new ThreadPool<FileTask, FileResult>({ script: new URL('./score-thread.js', import.meta.url), size: threads });
  const staging = stagingPrefix(outputRoot, runId);
  const filesTotal = partitions.reduce((n, p) => n + p.files.length, 0);
  let filesDone = 0;
  let rowsDone = 0;
  const scorePartition = async (partition: PlannedPartition): Promise<PartitionRecord> => {
    const records = await Promise.all(
      partition.files.map(async (file): Promise<FileRecord> => {
        const staged = joinKey(staging, partition.dir, file.outputName);
        const inputRecord = { uri: input.store.uri(file.key), size: file.size, etag: file.etag, mtime: file.mtime, rows: null as number | null };
        let record: FileRecord;
        try {
          const result = await pool.run({
            runId,
            input: { uri: input.store.uri(file.key), size: file.size },
            output: { uri: output.store.uri(staged) },
            model: { uri: model.uri, sha256: model.sha256 },
            features: spec.features ?? null,
            nulls: spec.nulls,
            nonFinite: spec.nonFinite,
            passthrough: spec.passthrough,
            batchSize: spec.batchSize,
            compression: spec.output.compression,
          });
          const finalUri = output.store.uri(joinKey(outputRoot, partition.dir, file.outputName));
          record = {
            input: { ...inputRecord, rows: result.rows },
            output: result.output ? { uri: finalUri, rows: result.rows, bytes: result.output.bytes, sha256: result.output.sha256 } : null,
            timings: { decodeMs: result.decodeMs, inferMs: result.inferMs, writeMs: result.writeMs, totalMs: result.totalMs },
            error: null,
          };
          rowsDone += result.rows;
        } catch (err) {
          record = { input: inputRecord, output: null, timings: null, error: errorRecord(err) };
        }
        filesDone++;
        options.onFile?.({ partition: partition.dir, file: record, filesDone, filesTotal, rowsDone });
        return record;
      }),
    );
    const rows = records.reduce((n, r) => n + (r.input.rows ?? 0), 0);
    const failedFile = records.find((r) => r.error);
    let error: ErrorRecord | null = failedFile?.error ?? null;
    if (!error && rows === 0) {
      error = { name: 'EmptyPartitionError', message: `data: partition ${partition.dir || '(root)'} of ${spec.input.uri} has no rows`, permanent: true };
    }
    let success: string | null = null;
    if (!error) {
      const commitFiles: CommitFile[] = partition.files.flatMap((file, i) => {
        const out = records[i]!.output;
        return out ? [{ staged: joinKey(staging, partition.dir, file.outputName), name: file.outputName, rows: out.rows, bytes: out.bytes, sha256: out.sha256 }] : [];
      });
      try {
        success = output.store.uri(await commitPartition(output.store, outputRoot, partition.dir, runId, commitFiles));
      } catch (err) {
        error = errorRecord(err);
      }
    }
    await deleteStaged(output.store, joinKey(staging, partition.dir) + '/');
    const record: PartitionRecord = { value: partition.value, dir: partition.dir, status: error ? 'failed' : 'succeeded', rows, files: records, success, error };
    options.onPartition?.(record);
    return record;
  };

  try {
    return await Promise.all(partitions.map(scorePartition));
  } finally {
    await pool.close();
    await deleteStaged(output.store, staging);
  }
}
