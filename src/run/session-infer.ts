// First: ONNX Runtime's telemetry off before it loads (see ort-env.ts).
import '../model/ort-env.js';
import * as ort from 'onnxruntime-node';
import type { OutputTensor } from '../scoring/predictions.js';
import type { InferFn } from './score-file.js';

/** An `InferFn` over an ONNX Runtime session, fetching only `outputNames`. */
export function sessionInfer(session: ort.InferenceSession, outputNames: readonly string[]): InferFn {
  return async (feeds) => {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(f.type, f.data, f.dims);
    return (await session.run(ortFeeds, outputNames)) as unknown as Record<string, OutputTensor>;
  };
}
