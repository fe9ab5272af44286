/**
 * Thread entry point: scores file tasks one at a time. Decoding runs here, not on the main
 * thread, for two reasons: a corrupt file can make parquet-wasm panic (a WASM `unreachable`
 * that kills its thread and poisons its module), and `session.run` is synchronous, so on
 * the main thread it would block queue lock renewal. The pool replaces a crashed thread.
 */
import { createHash } from 'node:crypto';
import type * as ort from 'onnxruntime-node';
import { loadModel } from '../model/load-model.js';
import { openParquet } from '../parquet/parquet-reader.js';
import { encodeParquet } from '../parquet/parquet-writer.js';
import { bindFeatures, type FeatureBinding, type InputSignature } from '../scoring/binding.js';
import { fillPolicy } from '../scoring/feature-matrix.js';
import { openRangeBlob } from '../storage/range-blob.js';
import { resolveUri } from '../storage/resolve.js';
import { PERMANENT_ERRORS, type FileResult, type FileTask } from './file-task.js';
import { scoreFile } from './score-file.js';
import { sessionInfer } from './session-infer.js';
import { serveThread } from './serve-thread.js';
import { faultPoint } from './fault-point.js';

interface LoadedModel {
  session: ort.InferenceSession;
  inputs: readonly InputSignature[];
  outputNames: readonly string[];
  bindings: Map<string, FeatureBinding>;
}

// Sessions are kept per model hash: a thread scores many files of the same model.
const models = new Map<string, LoadedModel>();

async function model(task: FileTask): Promise<LoadedModel> {
  const cached = models.get(task.model.sha256);
  if (cached) return cached;
  const { store, key } = resolveUri(task.model.uri);
  const bytes = await store.get(key);
  const loaded = await loadModel(bytes, { expectedSha256: task.model.sha256, source: task.model.uri, intraOpNumThreads: 1 });
  for (const [sha, old] of models) {
    models.delete(sha);
    await old.session.release();
  }
  const outputNames = loaded.signature.outputs.filter((o) => o.kind === 'tensor').map((o) => o.name);
  const entry = { session: loaded.session, inputs: loaded.signature.inputs, outputNames, bindings: new Map() };
  models.set(task.model.sha256, entry);
  return entry;
}

async function scoreTask(task: FileTask): Promise<FileResult> {
  const t0 = performance.now();
  const m = await model(task);
  const bindingKey = JSON.stringify(task.features);
  let binding = m.bindings.get(bindingKey);
  if (!binding) {
    binding = bindFeatures(m.inputs, task.features ?? undefined);
    m.bindings.set(bindingKey, binding);
  }
  const infer = sessionInfer(m.session, m.outputNames);
  const { store, key } = resolveUri(task.input.uri);
  const blob = await openRangeBlob(store, key, { size: task.input.size });
  let scored;
  try {
    const reader = await openParquet(blob, task.input.uri);
    try {
      scored = await scoreFile({
        reader,
        binding,
        policy: fillPolicy(binding.features, task.nulls, task.nonFinite),
        passthrough: task.passthrough,
        outputNames: m.outputNames,
        batchSize: task.batchSize,
        infer,
        profile: task.profile,
      });
    } finally {
      reader.close();
    }
  } finally {
    await blob.close();
  }
  const w0 = performance.now();
  let output: FileResult['output'] = null;
  if (scored.table) {
    const bytes = await encodeParquet(scored.table, { uri: task.output.uri, compression: task.compression });
    const out = resolveUri(task.output.uri);
    faultPoint('upload');
    await out.store.put(out.key, bytes);
    output = { uri: task.output.uri, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  let profileUri: string | null = null;
  if (scored.profile) {
    profileUri = `${task.output.uri}.profile.json`;
    const loc = resolveUri(profileUri);
    await loc.store.put(loc.key, JSON.stringify(scored.profile), { contentType: 'application/json' });
  }
  const end = performance.now();
  return { rows: scored.rows, output, profileUri, decodeMs: scored.decodeMs, inferMs: scored.inferMs, writeMs: end - w0, totalMs: end - t0 };
}

serveThread(scoreTask, {
  isPermanent: (err) => PERMANENT_ERRORS.has(err.name),
  onClose: async () => {
    for (const m of models.values()) await m.session.release();
    models.clear();
  },
});
