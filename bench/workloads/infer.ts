/**
 * Child script: inference-only bound. Runs an ONNX model with onnxruntime-node over `rows`
 * rows of pre-built float32 batches (uniform in [-1, 1), like the demo features), with the
 * pipeline's session settings (loadModel: sequential, all optimisations, 1 intra-op thread).
 * With `threads` > 1, that many worker threads each run their share on their own session,
 * all cores busy. Timed section: from "all sessions ready" to "all rows scored".
 *
 *   node dist/bench/workloads/infer.js <model.onnx> <batch> <rows> <threads>
 */
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
// As the pipeline runs it: ONNX Runtime's telemetry off (see src/model/ort-env.ts).
import '../../src/model/ort-env.js';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../../src/model/load-model.js';
import { seededRandom } from '../../src/model/build/random.js';
import { printResult } from '../child.js';

interface Job {
  modelPath: string;
  batch: number;
  rows: number;
}

/** Distinct rows in the pre-built pool; batches cycle over it (values do not matter, shapes do). */
const POOL_ROWS = 65_536;

/** Uniform in [-1, 1), like the demo features. */
function seededUniform(seed: number): () => number {
  const rnd = seededRandom(seed);
  return () => rnd() * 2 - 1;
}

/** A loaded session and its pre-built input tensors; `run()` scores `rows` rows and returns ms. */
async function prepare(job: Job, seed: number) {
  const loaded = await loadModel(readFileSync(job.modelPath), { source: job.modelPath, intraOpNumThreads: 1 });
  const input = loaded.signature.inputs[0];
  if (!input || loaded.signature.inputs.length !== 1) throw new Error(`${job.modelPath}: expected one [N, F] input`);
  const width = Number(input.shape[1]);
  if (!Number.isInteger(width) || width < 1) throw new Error(`${job.modelPath}: input shape ${JSON.stringify(input.shape)} has no fixed width`);
  const outputs = loaded.signature.outputs.filter((o) => o.kind === 'tensor').map((o) => o.name);
  const rnd = seededUniform(seed);
  const nBatches = Math.max(1, Math.floor(Math.min(POOL_ROWS, job.rows) / job.batch));
  const pool: ort.Tensor[] = [];
  for (let b = 0; b < nBatches; b++) {
    const data = new Float32Array(job.batch * width);
    for (let i = 0; i < data.length; i++) data[i] = rnd();
    pool.push(new ort.Tensor('float32', data, [job.batch, width]));
  }
  const first = pool[0]!;
  const tail = job.rows % job.batch;
  const tailTensor = tail ? new ort.Tensor('float32', (first.data as Float32Array).subarray(0, tail * width), [tail, width]) : null;
  await loaded.session.run({ [input.name]: first }, outputs); // warm-up, untimed
  return {
    async run(): Promise<number> {
      const t0 = performance.now();
      const full = Math.floor(job.rows / job.batch);
      let checksum = 0;
      for (let b = 0; b < full; b++) {
        const out = await loaded.session.run({ [input.name]: pool[b % pool.length]! }, outputs);
        checksum += (out[outputs[0]!]!.data as Float32Array)[0]!;
      }
      if (tailTensor) await loaded.session.run({ [input.name]: tailTensor }, outputs);
      const ms = performance.now() - t0;
      if (!Number.isFinite(checksum)) throw new Error('model produced non-finite outputs on finite inputs');
      return ms;
    },
    release: () => loaded.session.release(),
  };
}

if (isMainThread) {
  const [modelPath, batchArg, rowsArg, threadsArg] = process.argv.slice(2);
  if (!modelPath || !batchArg || !rowsArg) throw new Error('usage: infer.js <model.onnx> <batch> <rows> [threads]');
  const batch = Number(batchArg);
  const rows = Number(rowsArg);
  const threads = Number(threadsArg ?? 1);
  if (threads === 1) {
    const runner = await prepare({ modelPath, batch, rows }, 1);
    const workMs = await runner.run();
    await runner.release();
    printResult({ rows, workMs, threads, batch, perThreadMs: [workMs] });
  } else {
    // Each worker: prepare, report ready, wait for "go", run its share, report its time.
    const shares = Array.from({ length: threads }, (_, i) => Math.floor(rows / threads) + (i < rows % threads ? 1 : 0));
    const workers = shares.map((share, i) => new Worker(new URL(import.meta.url), { workerData: { modelPath, batch, rows: share, seed: i + 1 } }));
    // Exit promises first: a worker may exit before the main thread gets around to waiting.
    const exited = workers.map((w) => new Promise((r) => w.once('exit', r)));
    const settle = (event: 'ready' | 'done') =>
      Promise.all(
        workers.map(
          (w) =>
            new Promise<number>((resolve, reject) => {
              const onMessage = (m: { event: string; ms?: number; error?: string }) => {
                if (m.error) reject(new Error(m.error));
                else if (m.event === event) {
                  w.off('message', onMessage);
                  resolve(m.ms ?? 0);
                }
              };
              w.on('message', onMessage);
              w.once('error', reject);
            }),
        ),
      );
    await settle('ready');
    const t0 = performance.now();
    const done = settle('done');
    for (const w of workers) w.postMessage('go');
    const perThreadMs = await done;
    const workMs = performance.now() - t0;
    // Workers release their sessions and exit by themselves: never terminate one mid-run.
    await Promise.all(exited);
    printResult({ rows, workMs, threads, batch, perThreadMs });
  }
} else {
  const job = workerData as Job & { seed: number };
  const port = parentPort!;
  try {
    const runner = await prepare(job, job.seed);
    port.once('message', async () => {
      try {
        const ms = await runner.run();
        await runner.release();
        port.postMessage({ event: 'done', ms });
      } catch (err) {
        port.postMessage({ error: String((err as Error).stack ?? err) });
      }
      port.close();
    });
    port.postMessage({ event: 'ready' });
  } catch (err) {
    port.postMessage({ error: String((err as Error).stack ?? err) });
    port.close();
  }
}
