/**
 * A run plan: everything decided once, before any file is scored — run id, resolved model
 * pin, partitions and their files, staging keys. It is plain JSON so that the in-process
 * runner and the queue's finalize step (any process, any time later) commit from the same
 * facts, and so that every file task is derived from it, never re-resolved.
 */
import { createHash } from 'node:crypto';
import type { JobSpec } from '../spec/job-spec.js';
import type { ObjectStore } from '../storage/object-store.js';
import { joinKey, resolveUri } from '../storage/resolve.js';
import { ModelError, messageOf } from '../model/errors.js';
import { runsAsIs, scanModel, type ScannedValue } from './model-scan.js';
import { bindFeatures, BindingError, type InputSignature } from '../scoring/binding.js';
import { stagingPrefix } from './commit.js';
import type { FileTask } from './file-task.js';
import type { ModelRecord } from './manifest.js';
import { planPartitions, PlanError, type ListedObject, type PartitionSelection, type PlannedPartition } from './plan.js';

export interface RunPlan {
  runId: string;
  createdAt: string;
  spec: JobSpec;
  selection: PartitionSelection;
  model: ModelRecord;
  /** Output root key inside the output store (no trailing slash). */
  outputRoot: string;
  partitions: PlannedPartition[];
}

/** What planning needs of a model's signature. */
interface PlanSignature {
  inputs: readonly InputSignature[];
  outputs: readonly (InputSignature & { kind: string })[];
  zipMapRemoved: boolean;
}

/**
 * The signature from the light protobuf scan (model-scan.ts), for a model that runs as it is
 * (`runsAsIs`) and has only plain tensor inputs and outputs: the main thread then never loads
 * `onnx-proto` (38–55 ms of a cold run, before any scoring thread starts). Null otherwise:
 * the full reader decides, and gives its errors.
 */
function quickSignature(bytes: Uint8Array): PlanSignature | null {
  let scan = null;
  try {
    scan = scanModel(bytes);
  } catch {
    return null;
  }
  const plain = (v: ScannedValue) => v.tensor && v.name !== '' && v.elemType !== 'unknown';
  if (!runsAsIs(scan) || scan.inputs.length === 0 || scan.outputs.length === 0 || !scan.inputs.every(plain) || !scan.outputs.every(plain)) return null;
  const spec = (v: ScannedValue) => ({ name: v.name, elemType: v.elemType, shape: [...v.shape], kind: 'tensor' });
  return { inputs: scan.inputs.map(spec), outputs: scan.outputs.map(spec), zipMapRemoved: false };
}

/** The signature from the ONNX schema, after ZipMap removal (as the threads will run it). */
async function fullSignature(bytes: Uint8Array, modelUri: string): Promise<PlanSignature> {
  // Loaded on demand: see quickSignature.
  const [{ readSignature }, { stripZipMap }] = await Promise.all([import('../model/signature.js'), import('../model/zipmap.js')]);
  try {
    const source = readSignature(bytes);
    const signature = source.hasZipMap ? readSignature(stripZipMap(bytes).bytes) : source;
    return { inputs: signature.inputs, outputs: signature.outputs, zipMapRemoved: source.hasZipMap };
  } catch (err) {
    throw new ModelError('invalid-model', `model: cannot load ${modelUri}: ${messageOf(err).replace(/^model: /, '')}`);
  }
}

/** Fetch the model once, hash it, check the pin and that its inputs fit the features. */
export async function resolveModel(spec: JobSpec, env: NodeJS.ProcessEnv = process.env): Promise<ModelRecord> {
  let modelUri = spec.model.uri ?? '';
  let pin = spec.model.sha256;
  let registry: ModelRecord['registry'];
  if (spec.model.ref) {
    // Aliases are resolved once, here: the plan pins version and sha256 for every task.
    const root = spec.model.registry ?? env.BATCHSCORE_REGISTRY;
    if (!root) throw new ModelError('invalid-model', `model: ${spec.model.ref} is a registry ref but neither model.registry nor BATCHSCORE_REGISTRY is set`);
    // Loaded on demand: the registry validates models with ONNX Runtime, which a plain-URI run
    // never needs on the main thread.
    const { openRegistry } = await import('../registry/model-registry.js');
    const resolved = await openRegistry(root).resolveRef(spec.model.ref);
    if (pin && pin !== resolved.sha256) {
      throw new ModelError('sha256-mismatch', `model: sha256 mismatch for ${spec.model.ref} (version ${resolved.version}): expected ${pin}, got ${resolved.sha256}`);
    }
    modelUri = resolved.uri;
    pin = resolved.sha256;
    registry = { ref: resolved.ref, name: resolved.name, version: resolved.version, ...(resolved.alias !== undefined && { alias: resolved.alias }) };
  }
  const { store, key } = resolveUri(modelUri);
  const bytes = await store.get(key);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (pin && pin !== sha256) {
    throw new ModelError('sha256-mismatch', `model: sha256 mismatch for ${modelUri}: expected ${pin}, got ${sha256}`);
  }
  const signature = quickSignature(bytes) ?? (await fullSignature(bytes, modelUri));
  try {
    bindFeatures(signature.inputs, spec.features);
  } catch (err) {
    if (err instanceof BindingError) throw new BindingError(`${modelUri}: ${err.message.replace(/^model binding: /, '')}`);
    throw err;
  }
  const summary = (t: { name: string; elemType: string; shape: readonly (number | string | null)[] }) => ({ name: t.name, elemType: t.elemType, shape: [...t.shape] });
  return {
    uri: store.uri(key),
    sha256,
    size: bytes.length,
    inputs: signature.inputs.map(summary),
    outputs: signature.outputs.filter((o) => o.kind === 'tensor').map(summary),
    notes: signature.zipMapRemoved ? ['ZipMap removed: probabilities exposed as a float tensor'] : [],
    ...(registry && { registry }),
  };
}

async function listAll(store: ObjectStore, prefix: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  for await (const obj of store.list(prefix)) out.push(obj);
  return out;
}

/**
 * Resolve the model and list the input once; the result pins everything a run depends on.
 * @throws ModelError, BindingError, PlanError, storage errors
 */
export async function planRun(spec: JobSpec, selection: PartitionSelection, runId: string, model?: ModelRecord): Promise<RunPlan> {
  const resolvedModel = model ?? (await resolveModel(spec));
  const input = resolveUri(spec.input.uri);
  const output = resolveUri(spec.output.uri);
  const inputRoot = input.key.replace(/\/+$/, '');
  const partitions = planPartitions(await listAll(input.store, inputRoot === '' ? '' : `${inputRoot}/`), inputRoot, spec.input.partitionKey, selection);
  if (partitions.length === 0) throw new PlanError(`no Parquet partitions under ${spec.input.uri} match ${JSON.stringify(selection)}`);
  return {
    runId,
    createdAt: new Date().toISOString(),
    spec,
    selection,
    model: resolvedModel,
    outputRoot: output.key.replace(/\/+$/, ''),
    partitions,
  };
}

/**
 * The task that scores one planned file. `attempt` makes the staging key unique per
 * execution, so a retried or zombie attempt never overwrites another attempt's file.
 */
export function fileTask(plan: RunPlan, partition: PlannedPartition, fileIndex: number, attempt: string): FileTask {
  const file = partition.files[fileIndex];
  if (!file) throw new RangeError(`plan: partition ${partition.dir} has no file ${fileIndex}`);
  const input = resolveUri(plan.spec.input.uri);
  const output = resolveUri(plan.spec.output.uri);
  const staged = joinKey(stagingPrefix(plan.outputRoot, plan.runId), partition.dir, `${attempt}-${file.outputName}`);
  return {
    runId: plan.runId,
    input: { uri: input.store.uri(file.key), size: file.size },
    output: { uri: output.store.uri(staged) },
    model: { uri: plan.model.uri, sha256: plan.model.sha256 },
    features: plan.spec.features ?? null,
    nulls: plan.spec.nulls,
    nonFinite: plan.spec.nonFinite,
    passthrough: plan.spec.passthrough,
    batchSize: plan.spec.batchSize,
    compression: plan.spec.output.compression,
    profile: plan.spec.monitoring
      ? { ...(plan.spec.monitoring.sliceBy !== undefined && { sliceBy: plan.spec.monitoring.sliceBy }), maxSlices: plan.spec.monitoring.maxSlices, ignore: plan.spec.monitoring.ignore }
      : null,
    ...(plan.spec.maxBadRowsFraction !== undefined && { maxBadRowsFraction: plan.spec.maxBadRowsFraction }),
  };
}
