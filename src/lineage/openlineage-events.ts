/**
 * OpenLineage RunEvents (spec 2-0-2) for a batchscore run, built from the run plan (START)
 * and the run manifest (COMPLETE / FAIL). Pure: no clock, no I/O; `emit.ts` writes and
 * sends them.
 *
 * Shape of a run in lineage:
 * - the run itself: job `<namespace>/<name>` from the spec, `runId` = the run's UUID,
 *   input = the input dataset root, output = the output dataset root;
 * - one child run per partition (job `<name>.partition`, parent facet → the run), with
 *   the partition's nominal time and its own statistics. Child run ids are UUID v5 of the
 *   partition folder under the run id, so rebuilding the events gives the same ids.
 *
 * A `partial` run (some partitions failed, within `maxFailedPartitions`) is COMPLETE with
 * an errorMessage facet listing what failed; a `failed` run is FAIL. A superseded partition
 * (a later run had already published it) ends its child run with ABORT.
 */
import { createHash } from 'node:crypto';
import { datasetOf, type DatasetId } from './dataset-naming.js';
import type {
  InputDataset,
  LineageEventType,
  LineageModel,
  LineageOptions,
  LineagePartitionRecord,
  LineageRunFinish,
  LineageRunStart,
  LineageSpec,
  LineageTensor,
  OutputDataset,
  RunEvent,
} from './event-types.js';
import { facet, MODEL_FACET_SCHEMA_URL, RUN_EVENT_SCHEMA_URL, type BatchscoreModelRunFacet, type RunFacets, type SchemaField } from './facets.js';
import { partitionWindow, runWindow, type TimeWindow } from './nominal-time.js';

export type {
  InputDataset,
  LineageEventType,
  LineageFileRecord,
  LineageModel,
  LineageOptions,
  LineagePartitionRecord,
  LineageRunFinish,
  LineageRunStart,
  LineageSpec,
  LineageTensor,
  OutputDataset,
  RunEvent,
} from './event-types.js';

/** Integration name reported in the jobType facet. */
export const INTEGRATION = 'BATCHSCORE';
/** Suffix of the per-partition child job name. */
export const PARTITION_JOB_SUFFIX = '.partition';
/** Longest errorMessage facet message; longer ones are cut (consumers store it in one column). */
const MAX_ERROR_MESSAGE = 16 * 1024;

/** Deterministic run id of a partition's child run: UUID v5 of `dir` in the run's namespace. */
export function partitionRunId(runId: string, dir: string): string {
  const ns = Buffer.from(runId.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`lineage: run id "${runId}" is not a UUID`);
  const h = createHash('sha1').update(ns).update(dir === '' ? '(root)' : dir, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** COMPLETE for succeeded and partial runs, FAIL for failed ones. */
export function finishEventType(status: LineageRunFinish['status']): 'COMPLETE' | 'FAIL' {
  return status === 'failed' ? 'FAIL' : 'COMPLETE';
}

function cut(text: string): string {
  return text.length > MAX_ERROR_MESSAGE ? `${text.slice(0, MAX_ERROR_MESSAGE - 15)}… (truncated)` : text;
}

/** Output columns of a model output: `[N]`/`[N,1]` → its name, `[N,k]` → `name_0 … name_{k-1}`. */
function predictionFields(out: LineageTensor): SchemaField[] {
  const width = out.shape.length >= 2 ? out.shape[1] : 1;
  if (width === 1 || out.shape.length < 2) return [{ name: out.name, type: out.elemType }];
  if (typeof width === 'number') return Array.from({ length: width }, (_, i) => ({ name: `${out.name}_${i}`, type: out.elemType }));
  return [{ name: `${out.name}_<i>`, type: out.elemType, description: `one column per element of model output "${out.name}" (width ${width ?? 'unknown'} until run time)` }];
}

/** Input and output columns as far as spec and model tell (Parquet types are not known here). */
export function deriveSchemas(spec: LineageSpec, model: LineageModel | null): { input: SchemaField[]; output: SchemaField[] } {
  const perFeature = model && (model.inputs.length > 1 || model.inputs[0]?.shape[1] === 1) ? model.inputs.map((i) => i.name) : [];
  const features = spec.features ? [...spec.features] : perFeature;
  const input: SchemaField[] = features.map((name) => ({ name, description: 'model feature' }));
  for (const name of spec.passthrough) if (!features.includes(name)) input.push({ name, description: 'passed through' });
  const output: SchemaField[] = spec.passthrough.map((name) => ({ name, description: 'passed through from the input' }));
  for (const out of model?.outputs ?? []) output.push(...predictionFields(out));
  return { input, output };
}

/** Everything the event builders share for one run. */
interface Context {
  options: LineageOptions;
  run: LineageRunStart;
  timeZone: string;
  input: DatasetId;
  output: DatasetId;
  schemas: { input: SchemaField[]; output: SchemaField[] };
}

function context(run: LineageRunStart, options: LineageOptions): Context {
  const derived = deriveSchemas(run.spec, run.model);
  return {
    options,
    run,
    timeZone: options.timeZone ?? run.spec.schedule?.tz ?? 'UTC',
    input: datasetOf(run.spec.input.uri, options.cwd),
    output: datasetOf(run.spec.output.uri, options.cwd),
    schemas: { input: options.schemas?.input ?? derived.input, output: options.schemas?.output ?? derived.output },
  };
}

function modelFacet(ctx: Context): BatchscoreModelRunFacet | undefined {
  const m = ctx.run.model;
  if (!m) return undefined;
  return {
    _producer: ctx.options.producer,
    _schemaURL: MODEL_FACET_SCHEMA_URL,
    ...(m.registry && { name: m.registry.name, version: m.registry.version }),
    ...(m.registry?.alias !== undefined && { alias: m.registry.alias }),
    ...(m.registry?.ref !== undefined && { ref: m.registry.ref }),
    sha256: m.sha256,
    ...(m.size !== undefined && { size: m.size }),
    uri: m.uri,
  };
}

function baseRunFacets(ctx: Context, window: TimeWindow | undefined): RunFacets {
  const p = ctx.options.producer;
  const model = modelFacet(ctx);
  return {
    ...(window && { nominalTime: facet(p, 'nominalTime', { nominalStartTime: window.start, nominalEndTime: window.end }) }),
    processing_engine: facet(p, 'processingEngine', { version: ctx.options.engineVersion, name: 'batchscore', openlineageAdapterVersion: ctx.options.engineVersion }),
    ...(model && { batchscore_model: model }),
  };
}

function stats(rowCount: number, size: number, fileCount: number) {
  return { rowCount, size, fileCount };
}

function inputDataset(ctx: Context, statistics?: ReturnType<typeof stats>): InputDataset {
  const p = ctx.options.producer;
  return {
    ...ctx.input,
    facets: { schema: facet(p, 'schema', { fields: ctx.schemas.input }) },
    ...(statistics && { inputFacets: { inputStatistics: facet(p, 'inputStatistics', statistics) } }),
  };
}

function outputDataset(ctx: Context, statistics?: ReturnType<typeof stats>): OutputDataset {
  const p = ctx.options.producer;
  return {
    ...ctx.output,
    facets: { schema: facet(p, 'schema', { fields: ctx.schemas.output }) },
    ...(statistics && { outputFacets: { outputStatistics: facet(p, 'outputStatistics', statistics) } }),
  };
}

function event(ctx: Context, eventType: LineageEventType, eventTime: string, runId: string, jobName: string, jobType: string, facets: RunFacets, inputs: InputDataset[], outputs: OutputDataset[]): RunEvent {
  const p = ctx.options.producer;
  return {
    eventType,
    eventTime,
    producer: p,
    schemaURL: RUN_EVENT_SCHEMA_URL,
    run: { runId, facets },
    job: { namespace: ctx.run.spec.namespace, name: jobName, facets: { jobType: facet(p, 'jobType', { processingType: 'BATCH' as const, integration: INTEGRATION, jobType }) } },
    inputs,
    outputs,
  };
}

function runWindowOf(ctx: Context): TimeWindow | undefined {
  return runWindow(ctx.run.partitions ?? [], ctx.run.selection, ctx.timeZone);
}

/** The START event of a run, at `eventTime` (when planning finished, or failed). */
export function buildStartEvent(run: LineageRunStart, eventTime: string, options: LineageOptions): RunEvent {
  const ctx = context(run, options);
  return event(ctx, 'START', eventTime, run.runId, run.spec.name, 'JOB', baseRunFacets(ctx, runWindowOf(ctx)), [inputDataset(ctx)], [outputDataset(ctx)]);
}

function partitionStats(p: LineagePartitionRecord) {
  let inRows = 0;
  let inBytes = 0;
  let outRows = 0;
  let outBytes = 0;
  let outFiles = 0;
  for (const f of p.files) {
    inRows += f.input.rows ?? 0;
    inBytes += f.input.size;
    if (p.status === 'succeeded' && f.output) {
      outRows += f.output.rows;
      outBytes += f.output.bytes;
      outFiles++;
    }
  }
  return { input: stats(inRows, inBytes, p.files.length), output: stats(outRows, outBytes, outFiles) };
}

function errorFacet(ctx: Context, message: string) {
  return facet(ctx.options.producer, 'errorMessage', { message: cut(message), programmingLanguage: 'JavaScript' });
}

/** Start and end events of one partition's child run. */
function partitionEvents(ctx: Context, run: LineageRunFinish, p: LineagePartitionRecord): RunEvent[] {
  const childId = partitionRunId(run.runId, p.dir);
  const jobName = `${run.spec.name}${PARTITION_JOB_SUFFIX}`;
  const parentJob = { namespace: run.spec.namespace, name: run.spec.name };
  const facets: RunFacets = {
    ...baseRunFacets(ctx, partitionWindow(p.value, ctx.timeZone)),
    parent: facet(ctx.options.producer, 'parent', { run: { runId: run.runId }, job: parentJob, root: { run: { runId: run.runId }, job: parentJob } }),
  };
  const s = partitionStats(p);
  const start = event(ctx, 'START', run.startedAt, childId, jobName, 'TASK', facets, [inputDataset(ctx)], [outputDataset(ctx)]);
  const endType: LineageEventType = p.status === 'succeeded' ? 'COMPLETE' : p.status === 'failed' ? 'FAIL' : 'ABORT';
  const endFacets: RunFacets = p.status === 'failed'
    ? { ...facets, errorMessage: errorFacet(ctx, p.error ? `${p.error.name}: ${p.error.message}` : `partition ${p.dir || '(root)'} failed`) }
    : facets;
  const outputs = p.status === 'succeeded' ? [outputDataset(ctx, s.output)] : [];
  const end = event(ctx, endType, run.finishedAt, childId, jobName, 'TASK', endFacets, [inputDataset(ctx, s.input)], outputs);
  return [start, end];
}

function runErrorMessage(run: LineageRunFinish): string | undefined {
  const failed = run.partitions.filter((p) => p.status === 'failed').length;
  const lines = run.errors.map((e) => `${e.name}: ${e.message}`);
  if (run.status === 'failed') {
    const head = run.partitions.length > 0 ? `${failed} of ${run.partitions.length} partitions failed` : 'the run failed before scoring';
    return [head, ...lines].join('\n');
  }
  if (run.status === 'partial') {
    const budget = run.settings ? ` (within maxFailedPartitions=${run.settings.maxFailedPartitions})` : '';
    return [`${failed} of ${run.partitions.length} partitions failed${budget}`, ...lines].join('\n');
  }
  return undefined;
}

/**
 * The events that close a run: START and end of every partition's child run, then the
 * run's COMPLETE or FAIL, with input/output statistics over the whole run (outputs count
 * only published partitions).
 */
export function buildFinishEvents(run: LineageRunFinish, options: LineageOptions): RunEvent[] {
  const ctx = context(run, options);
  const children = run.partitions.flatMap((p) => partitionEvents(ctx, run, p));
  const planned = run.partitions.length > 0;
  let inRows = 0, inBytes = 0, inFiles = 0, outRows = 0, outBytes = 0, outFiles = 0;
  for (const p of run.partitions) {
    const s = partitionStats(p);
    inRows += s.input.rowCount; inBytes += s.input.size; inFiles += s.input.fileCount;
    outRows += s.output.rowCount; outBytes += s.output.size; outFiles += s.output.fileCount;
  }
  const message = runErrorMessage(run);
  const facets: RunFacets = { ...baseRunFacets(ctx, runWindowOf(ctx)), ...(message !== undefined && { errorMessage: errorFacet(ctx, message) }) };
  const end = event(
    ctx,
    finishEventType(run.status),
    run.finishedAt,
    run.runId,
    run.spec.name,
    'JOB',
    facets,
    [inputDataset(ctx, planned ? stats(inRows, inBytes, inFiles) : undefined)],
    [outputDataset(ctx, planned ? stats(outRows, outBytes, outFiles) : undefined)],
  );
  return [...children, end];
}

/** Every event of a finished run, START included: for runs whose START was never emitted. */
export function buildRunEvents(run: LineageRunFinish, options: LineageOptions): RunEvent[] {
  return [buildStartEvent(run, run.startedAt, options), ...buildFinishEvents(run, options)];
}
