/**
 * Loading a model in a scoring thread. When the model needs no rewriting (no ZipMap, no
 * external data, no local functions: checked by a protobuf scan), the session is created
 * straight from the bytes and the signature comes from ONNX Runtime's own metadata, so the
 * thread never loads `onnx-proto` (120–190 ms per thread on 2 busy cores). Anything else,
 * or any failure, goes through `loadModel`, which also gives the usual errors.
 */
import { createHash } from 'node:crypto';
// First: ONNX Runtime's telemetry off before it loads (see ort-env.ts).
import '../model/ort-env.js';
import { InferenceSession } from 'onnxruntime-node';
import type { InputSignature } from '../scoring/binding.js';
import { modelKindOf, type ModelKind } from './model-kind.js';
import { runsAsIs, scanModel, type ModelScan } from './model-scan.js';

export interface ThreadModel {
  session: InferenceSession;
  inputs: readonly InputSignature[];
  /** Tensor outputs, in model order. */
  outputNames: readonly string[];
  kind: ModelKind;
  /** Whether the quick path was taken (for tests). */
  quick: boolean;
}

/** Session options: the same as `loadModel`'s. */
function sessionOptions(intraOpNumThreads: number): InferenceSession.SessionOptions {
  return { executionMode: 'sequential', graphOptimizationLevel: 'all', intraOpNumThreads, interOpNumThreads: 1 };
}

/** A dimension as the signature reader reports it: a size, a symbolic name, or null. */
function dim(d: unknown): number | string | null {
  if (typeof d === 'number') return d >= 0 ? d : null;
  if (typeof d === 'string' && d !== '') return d;
  return null;
}

/**
 * Load `bytes` (already fetched) as a session for one thread.
 * @throws ModelError (from `loadModel`) when the pin does not match or the model cannot load
 */
export async function loadThreadModel(bytes: Uint8Array, options: { expectedSha256: string; source: string; intraOpNumThreads?: number }): Promise<ThreadModel> {
  const intra = options.intraOpNumThreads ?? 1;
  let scan: ModelScan | null = null;
  try {
    scan = scanModel(bytes);
  } catch {
    scan = null;
  }
  const kind: ModelKind = scan ? modelKindOf(scan) : 'other';
  const sha = createHash('sha256').update(bytes).digest('hex');
  const pin = options.expectedSha256.trim().toLowerCase().replace(/^sha256:/, '');
  if (sha === pin && runsAsIs(scan)) {
    let session: InferenceSession | undefined;
    try {
      session = await InferenceSession.create(bytes, sessionOptions(intra));
      const inputs: InputSignature[] = [];
      for (const m of session.inputMetadata) {
        if (!m.isTensor) throw new Error('non-tensor input');
        inputs.push({ name: m.name, elemType: m.type, shape: m.shape.map(dim) });
      }
      const outputNames = session.outputMetadata.filter((m) => m.isTensor).map((m) => m.name);
      return { session, inputs, outputNames, kind, quick: true };
    } catch {
      await session?.release().catch(() => {});
      // The full loader below reports the problem in its usual words.
    }
  }
  const { loadModel } = await import('../model/load-model.js');
  const loaded = await loadModel(bytes, { expectedSha256: options.expectedSha256, source: options.source, intraOpNumThreads: intra });
  return {
    session: loaded.session,
    inputs: loaded.signature.inputs,
    outputNames: loaded.signature.outputs.filter((o) => o.kind === 'tensor').map((o) => o.name),
    kind,
    quick: false,
  };
}
