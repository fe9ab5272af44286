/**
 * A realistic run for lineage tests, typed with the pipeline's own types (RunPlan,
 * RunManifest) so that a change there that breaks the lineage input types fails to compile.
 */
import type { RunManifest, FileRecord, PartitionRecord, ModelRecord } from '../../src/run/manifest.js';
import type { RunPlan } from '../../src/run/run-plan.js';
import { parseJobSpec, type JobSpec } from '../../src/spec/job-spec.js';
import type { LineageModel } from '../../src/lineage/openlineage-events.js';

export const RUN_ID = '3f0c2a1e-8b7d-4c5e-9f60-1a2b3c4d5e6f';
export const SHA = 'a'.repeat(64);

export function spec(overrides: Record<string, unknown> = {}): JobSpec {
  return parseJobSpec({
    name: 'churn-nightly',
    namespace: 'scoring',
    input: { uri: 's3://lake/features/churn/', partitionKey: 'dt' },
    model: { uri: 's3://models/churn/versions/3/model.onnx', sha256: SHA },
    features: ['f0', 'f1'],
    passthrough: ['id'],
    output: { uri: 's3://lake/scores/churn' },
    ...overrides,
  });
}

/** The model record with registry coordinates, as the planner will record them. */
export function model(): ModelRecord & LineageModel {
  return {
    uri: 's3://models/churn/versions/3/model.onnx',
    sha256: SHA,
    size: 1234,
    inputs: [{ name: 'features', elemType: 'float32', shape: ['N', 2] }],
    outputs: [
      { name: 'probability', elemType: 'float32', shape: ['N', 1] },
      { name: 'probabilities', elemType: 'float32', shape: ['N', 2] },
    ],
    notes: [],
    registry: { name: 'churn', version: 3, alias: 'production', ref: 'churn@production' },
  };
}

const DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];

export function plan(s: JobSpec = spec()): RunPlan {
  return {
    runId: RUN_ID,
    createdAt: '2026-11-04T02:00:00.000Z',
    spec: s,
    selection: { kind: 'range', from: DATES[0]!, to: DATES[2]! },
    model: model(),
    outputRoot: 'lake/scores/churn',
    partitions: DATES.map((d) => ({
      value: d,
      dir: `dt=${d}`,
      files: [0, 1].map((i) => ({ key: `features/churn/dt=${d}/part-${i}.parquet`, size: 1000, etag: `e${i}`, mtime: '2026-11-03T00:00:00.000Z', outputName: `part-${i}.parquet` })),
    })),
  };
}

function file(d: string, i: number, ok: boolean): FileRecord {
  return {
    input: { uri: `s3://lake/features/churn/dt=${d}/part-${i}.parquet`, size: 1000, etag: `e${i}`, mtime: '2026-11-03T00:00:00.000Z', rows: ok ? 500 : null },
    output: ok ? { uri: `s3://lake/scores/churn/dt=${d}/part-${i}.parquet`, rows: 500, bytes: 800, sha256: SHA } : null,
    timings: null,
    error: ok ? null : { name: 'ParquetError', message: `parquet: cannot read s3://lake/features/churn/dt=${d}/part-${i}.parquet: bad magic`, permanent: true },
  };
}

/** A finished run; `statuses` gives each partition's outcome. */
export function manifest(statuses: PartitionRecord['status'][] = ['succeeded', 'succeeded', 'succeeded'], maxFailed = 0): RunManifest {
  const s = spec({ maxFailedPartitions: maxFailed });
  const partitions: PartitionRecord[] = statuses.map((status, p) => {
    const d = DATES[p]!;
    const files = [0, 1].map((i) => file(d, i, !(status === 'failed' && i === 1)));
    const error = status === 'failed' ? files[1]!.error : null;
    return { value: d, dir: `dt=${d}`, status, rows: files.reduce((n, f) => n + (f.input.rows ?? 0), 0), files, success: status === 'succeeded' ? `s3://lake/scores/churn/dt=${d}/_SUCCESS.json` : null, error };
  });
  const failed = partitions.filter((p) => p.status === 'failed').length;
  return {
    manifestVersion: 1,
    runId: RUN_ID,
    job: { name: s.name, namespace: s.namespace },
    status: failed === 0 ? 'succeeded' : failed <= maxFailed && failed < partitions.length ? 'partial' : 'failed',
    startedAt: '2026-11-04T02:00:00.000Z',
    finishedAt: '2026-11-04T02:05:00.000Z',
    selection: { kind: 'range', from: DATES[0]!, to: DATES[2]! },
    spec: s,
    model: model(),
    runtime: {
      package: { name: 'batchscore', version: '0.1.0' },
      gitCommit: null,
      node: process.version,
      onnxruntime: '1.30.0',
      libraries: {},
      host: { hostname: 'h', platform: 'linux', arch: 'x64', cpus: 2 },
    },
    settings: { threads: 2, batchSize: 8192, maxFailedPartitions: maxFailed },
    partitions,
    totals: { partitions: 3, failedPartitions: failed, files: 6, rows: 0, badRows: 0, outputBytes: 0, durationMs: 300000, rowsPerSecond: 0 },
    errors: partitions.flatMap((p) => (p.error ? [{ ...p.error, message: `${p.dir}: ${p.error.message}` }] : [])),
    monitoring: null,
  };
}

/** The manifest of a run that could not be planned (as `failedManifest` writes it). */
export function unplannedManifest(): RunManifest {
  const m = manifest();
  return {
    ...m,
    status: 'failed',
    model: null,
    partitions: [],
    errors: [{ name: 'RegistryError', message: 'registry: model "churn" has no alias "production" in s3://models (aliases: staging)', permanent: true }],
    monitoring: null,
  };
}
