/**
 * `model.json`: the immutable description written next to each registered version's
 * `model.onnx`. It is what `models list` shows and what a ref resolves to, so it carries
 * the pin (sha256, size), what the model takes and gives, and who registered it from where.
 * Pure: built from what `loadModel` read, parsed back with validation.
 */
import type { ModelSignature, OpsetSpec, TensorSpec } from '../model/signature.js';
import { RegistryError } from './errors.js';

/** Format tag written in every `model.json`, checked on read. */
export const MODEL_METADATA_FORMAT = 'batchscore.model/1';

/** A graph input or output as recorded (`TensorSpec` minus nothing: plain JSON already). */
export type RecordedTensor = TensorSpec;

/** The stored `model.json` of one version. */
export interface ModelMetadata {
  format: typeof MODEL_METADATA_FORMAT;
  name: string;
  version: number;
  /** Lowercase hex sha256 of `model.onnx`: the pin a run records. */
  sha256: string;
  /** Size of `model.onnx` in bytes. */
  size: number;
  /** ISO-8601 registration time. */
  createdAt: string;
  /** Who registered it (`user@host` unless given). */
  createdBy: string;
  /** Where the bytes came from (a path or URI as the registrant gave it), or null. */
  source: string | null;
  /** Random id of the registration; lets a writer without conditional writes detect a race. */
  registrationId: string;
  /** Graph inputs the caller feeds. */
  inputs: RecordedTensor[];
  /** Outputs the pipeline can fetch (after ZipMap removal, like the run manifest). */
  outputs: RecordedTensor[];
  /** Column names the model expects, in input order, or null when it takes an unnamed matrix. */
  featureNames: string[] | null;
  /** Version of the default ONNX domain (`ai.onnx`) opset, or null when the model imports none. */
  opset: number | null;
  /** Every opset import. */
  opsets: OpsetSpec[];
  producer: { name: string; version: string };
  irVersion: number;
  /** Metrics given at registration, name → value. */
  metrics: Record<string, number>;
  /** Model card (Markdown), or null. */
  card: string | null;
  /** What the loader changed or noticed (e.g. ZipMap removed). */
  notes: string[];
}

/** Everything `buildModelMetadata` needs. */
export interface ModelMetadataInput {
  name: string;
  version: number;
  sha256: string;
  size: number;
  createdAt: string;
  createdBy: string;
  source: string | null;
  registrationId: string;
  /** The signature of the model as stored (ZipMap included). */
  sourceSignature: ModelSignature;
  /** The signature the session runs (ZipMap removed): its inputs and tensor outputs are recorded. */
  signature: ModelSignature;
  /** Feature names given by the registrant; else derived from per-feature inputs. */
  featureNames?: readonly string[];
  metrics: Record<string, number>;
  card: string | null;
  notes: readonly string[];
}

/**
 * Feature names of a model: those given, else the input names when every input is one
 * `[N,1]` feature (the sklearn-onnx convention), else null (a `[N,F]` matrix: the job spec
 * must list its columns). Given names must match the model's width when it is known.
 */
export function featureNamesOf(signature: Pick<ModelSignature, 'inputs'>, given?: readonly string[]): string[] | null {
  const { inputs } = signature;
  const perFeature = inputs.length > 0 && inputs.every((i) => i.shape.length === 2 && (i.shape[1] === 1 || (inputs.length > 1 && typeof i.shape[1] !== 'number')));
  if (given !== undefined) {
    const names = [...given];
    if (names.length === 0 || names.some((n) => typeof n !== 'string' || n === '') || new Set(names).size !== names.length) {
      throw new RegistryError('invalid-metadata', `registry: feature names must be distinct non-empty strings, got ${JSON.stringify(given)}`);
    }
    const width = inputs.length === 1 ? inputs[0]!.shape[1] : inputs.length;
    if (typeof width === 'number' && width !== names.length) {
      throw new RegistryError('invalid-metadata', `registry: ${names.length} feature names given but the model takes ${width} features`);
    }
    return names;
  }
  return perFeature ? inputs.map((i) => i.name) : null;
}

function copyTensor(t: TensorSpec): RecordedTensor {
  return { name: t.name, elemType: t.elemType, shape: [...t.shape], kind: t.kind, type: t.type };
}

/** Assemble `model.json` for a version. */
export function buildModelMetadata(input: ModelMetadataInput): ModelMetadata {
  const opset = input.sourceSignature.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return {
    format: MODEL_METADATA_FORMAT,
    name: input.name,
    version: input.version,
    sha256: input.sha256,
    size: input.size,
    createdAt: input.createdAt,
    createdBy: input.createdBy,
    source: input.source,
    registrationId: input.registrationId,
    inputs: input.signature.inputs.map(copyTensor),
    outputs: input.signature.outputs.filter((o) => o.kind === 'tensor').map(copyTensor),
    featureNames: featureNamesOf(input.signature, input.featureNames),
    opset: opset?.version ?? null,
    opsets: input.sourceSignature.opsets.map((o) => ({ domain: o.domain, version: o.version })),
    producer: { ...input.sourceSignature.producer },
    irVersion: input.sourceSignature.irVersion,
    metrics: { ...input.metrics },
    card: input.card,
    notes: [...input.notes],
  };
}

/** The stored form (pretty JSON: it is read by people as often as by code). */
export function serializeModelMetadata(meta: ModelMetadata): string {
  return `${JSON.stringify(meta, null, 2)}\n`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parse and check a `model.json`: the fields a ref resolves to are validated strictly
 * (format, name, version, sha256, size); descriptive fields are taken as stored.
 * @param where URI of the document, for messages
 */
export function parseModelMetadata(text: string, where: string, expected: { name: string; version: number }): ModelMetadata {
  const bad = (detail: string) => new RegistryError('corrupt', `registry: model metadata ${where} is invalid: ${detail}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(raw)) throw bad('not a JSON object');
  if (raw.format !== MODEL_METADATA_FORMAT) throw bad(`format is ${JSON.stringify(raw.format)}, expected "${MODEL_METADATA_FORMAT}"`);
  if (raw.name !== expected.name || raw.version !== expected.version) {
    throw bad(`it describes ${JSON.stringify(raw.name)} version ${JSON.stringify(raw.version)}, expected "${expected.name}" version ${expected.version}`);
  }
  if (typeof raw.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(raw.sha256)) throw bad(`sha256 ${JSON.stringify(raw.sha256)} is not 64 lowercase hex digits`);
  if (typeof raw.size !== 'number' || !Number.isSafeInteger(raw.size) || raw.size <= 0) throw bad(`size ${JSON.stringify(raw.size)} is not a positive integer`);
  if (typeof raw.createdAt !== 'string' || Number.isNaN(Date.parse(raw.createdAt))) throw bad(`createdAt ${JSON.stringify(raw.createdAt)} is not a date`);
  if (!Array.isArray(raw.inputs) || !Array.isArray(raw.outputs)) throw bad('inputs and outputs must be arrays');
  return raw as unknown as ModelMetadata;
}
