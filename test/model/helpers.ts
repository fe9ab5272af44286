/**
 * Shared test helpers for model tests: run a model once in onnxruntime-node and compare its
 * numbers with a reference. Kept tiny so each test reads as "build, run, compare".
 */
import assert from 'node:assert/strict';
// As the pipeline runs it: ONNX Runtime's telemetry off (see src/model/ort-env.ts).
import '../../src/model/ort-env.js';
import * as ort from 'onnxruntime-node';

/** Create a session, run it on float32 feeds, release it, return the outputs. */
export async function runOnce(
  bytes: Uint8Array,
  feeds: Record<string, { data: Float32Array; dims: readonly number[] }>,
): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    return await runSession(session, feeds);
  } finally {
    await session.release();
  }
}

/** Run an existing session on float32 feeds. */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, { data: Float32Array; dims: readonly number[] }>,
): Promise<ort.InferenceSession.ReturnType> {
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) tensors[name] = new ort.Tensor('float32', f.data, f.dims);
  return session.run(tensors);
}

/** Output tensor by name, failing the test if it is missing. */
export function output(result: ort.InferenceSession.ReturnType, name: string): ort.Tensor {
  const t = result[name];
  assert.ok(t, `missing output ${name}; got ${Object.keys(result).join(', ')}`);
  return t as ort.Tensor;
}

/** Row `r` of a row-major matrix with `cols` columns. */
export function row(x: Float32Array, r: number, cols: number): Float32Array {
  return x.subarray(r * cols, (r + 1) * cols);
}

/**
 * Assert |actual - expected| <= tol (absolute, for probabilities) or relative to
 * |expected| when that is larger than 1. NaN must match NaN.
 */
export function assertClose(actual: number, expected: number, tol: number, what: string): void {
  if (Number.isNaN(expected)) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  const scale = Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol * scale, `${what}: got ${actual}, expected ${expected} (tol ${tol})`);
}

/** Largest |a - b| over non-NaN pairs: reported in test names/logs as a measured fact. */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!Number.isNaN(d)) m = Math.max(m, d);
  }
  return m;
}
