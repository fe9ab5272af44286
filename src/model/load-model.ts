/**
 * Turn model bytes into a ready ONNX Runtime session, checking on the way that they are the
 * bytes the job pinned and that ORT can run them. I/O stays with the caller (object store,
 * cache): this takes bytes, so it works the same in a worker thread, a queue worker or a
 * test, and the pin is checked on exactly the bytes that get loaded.
 */
import { createHash } from 'node:crypto';
// First: ONNX Runtime's telemetry off before it loads (see ort-env.ts).
import './ort-env.js';
import { InferenceSession } from 'onnxruntime-node';
import { ModelError, messageOf } from './errors.js';
import { decodeModel, readSignature, type ModelSignature } from './signature.js';
import { stripZipMap } from './zipmap.js';

export { ModelError, type ModelErrorCode } from './errors.js';

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** URI or label of the model, used in every message (e.g. `s3://models/churn/3.onnx`). */
  source: string;
  /** Pin: lowercase or uppercase hex, optionally prefixed `sha256:`. Checked before anything else. */
  expectedSha256?: string;
  /** Threads ORT may use inside one operator. Default 1: the pipeline parallelises across files. */
  intraOpNumThreads?: number;
}

/** A loaded model. The caller owns the session and must `release()` it. */
export interface LoadedModel {
  session: InferenceSession;
  /** Lowercase hex sha256 of the bytes as given (before any ZipMap stripping). */
  sha256: string;
  /** Size in bytes of the bytes as given. */
  size: number;
  /**
   * Signature of the graph the session runs: after ZipMap stripping, so every output listed
   * here can be fetched. (`hasZipMap` is therefore false; see `sourceSignature`.)
   */
  signature: ModelSignature;
  /** Signature of the model as stored, ZipMap included. Same object as `signature` when nothing changed. */
  sourceSignature: ModelSignature;
  /** What was changed or is worth knowing, one line each (for logs and lineage). */
  notes: string[];
}

/** Hex sha256 of some bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function normalizePin(pin: string): string {
  return pin.trim().toLowerCase().replace(/^sha256:/, '');
}

/**
 * Verify, prepare and load a model.
 *
 * 1. sha256 of the original bytes; with `expectedSha256`, a mismatch throws
 *    `model: sha256 mismatch for <source>: expected X, got Y`.
 * 2. Decode and read the signature; bytes that are not ONNX throw `model: cannot load …`.
 * 3. Models with external data are refused: loaded from bytes, ORT would resolve their
 *    file names against the process's working directory.
 * 4. ZipMap nodes are stripped (see zipmap.ts) so that every output is a tensor.
 * 5. The session is created with sequential execution and full graph optimisation; ORT
 *    failures become `model: cannot load <source>: <ORT message>`.
 *
 * Every failure is a {@link ModelError} (permanent). Never throws anything else.
 */
export async function loadModel(bytes: Uint8Array, options: LoadModelOptions): Promise<LoadedModel> {
  const { source } = options;
  const sha256 = sha256Hex(bytes);
  if (options.expectedSha256 !== undefined && normalizePin(options.expectedSha256) !== sha256) {
    throw new ModelError(
      'sha256-mismatch',
      `model: sha256 mismatch for ${source}: expected ${options.expectedSha256}, got ${sha256}`,
      { source },
    );
  }

  let sourceSignature: ModelSignature;
  try {
    sourceSignature = readSignature(decodeModel(bytes));
  } catch (err) {
    throw new ModelError('invalid-model', `model: cannot load ${source}: ${messageOf(err).replace(/^model: /, '')}`, {
      source,
      cause: err,
    });
  }
  if (sourceSignature.externalData.length > 0) {
    throw new ModelError(
      'unsupported',
      `model: cannot load ${source}: it stores tensors in external files (${sourceSignature.externalData.join(', ')}), ` +
        'which loading from bytes does not support',
      { source },
    );
  }

  const notes: string[] = [];
  let runBytes = bytes;
  let signature = sourceSignature;
  if (sourceSignature.hasZipMap) {
    const stripped = stripZipMap(bytes);
    notes.push(...stripped.notes);
    if (stripped.changed) {
      runBytes = stripped.bytes;
      signature = readSignature(runBytes);
    }
  }
  for (const out of signature.outputs) {
    if (out.kind !== 'tensor') {
      // Not fatal: the caller may fetch only the tensor outputs. Fetching this one fails in ORT.
      notes.push(`output '${out.name}' is ${out.type}: onnxruntime-node cannot return it`);
    }
  }

  let session: InferenceSession;
  try {
    session = await InferenceSession.create(runBytes, {
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      intraOpNumThreads: options.intraOpNumThreads ?? 1,
      interOpNumThreads: 1,
    });
  } catch (err) {
    throw new ModelError('load-failed', `model: cannot load ${source}: ${messageOf(err)}`, { source, cause: err });
  }
  return { session, sha256, size: bytes.byteLength, signature, sourceSignature, notes };
}
