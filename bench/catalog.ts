/**
 * The workloads of the benchmark and how each one is measured: every sample is one fresh
 * child process (see child.ts).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunManifest } from '../src/run/manifest.js';
import { childResult, runChild, tail, type ChildRun } from './child.js';
import { logisticSql } from './duckdb-peer.js';
import type { BenchData, DemoModelName } from './data.js';
import type { DistributedBench, LatencyStats } from './distributed.js';
import { WORKER_NODE_FLAGS } from './worker-flags.js';

export type Group = 'end-to-end' | 'bound' | 'peer' | 'distributed';

/** One measurement of one workload. */
export interface Sample {
  rows: number;
  /** Whole child process, spawn to exit. */
  wallMs: number;
  /** The timed section inside the child (the whole run for end-to-end). */
  workMs: number;
  maxRssKB: number;
  cpuMs: number | null;
  /** Average cores other processes kept busy during the sample (null if unknown). */
  backgroundCores: number | null;
  extra: Record<string, unknown>;
  /** Latency workloads (dist-queue): the figure the row reports instead of rows/s. */
  latency?: LatencyStats;
}

export interface Workload {
  name: string;
  group: Group;
  description: string;
  /**
   * What rows/s is computed over: the whole process (as a user runs it), the timed work
   * section, or (distributed) submit → manifest visible, workers already running.
   */
  basis: 'process' | 'work' | 'run';
  model?: DemoModelName;
  threads: number;
  run(data: BenchData): Promise<Sample>;
}

const script = (name: string) => fileURLToPath(new URL(`./workloads/${name}.js`, import.meta.url));

function measured(run: ChildRun, rows: number, workMs: number, extra: Record<string, unknown>): Sample {
  if (run.maxRssKB === null) throw new Error(`child left no resource report (exit ${run.code ?? run.signal}): ${tail(run.stderr)}`);
  return { rows, wallMs: run.wallMs, workMs, maxRssKB: run.maxRssKB, cpuMs: run.cpuMs, backgroundCores: run.backgroundCores, extra };
}

function expectRows(name: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${name}: processed ${got} rows, expected ${want}`);
}

/** `batchscore run <demo job spec>`, exactly as a user runs it (default threads). */
function endToEnd(model: DemoModelName): Workload {
  return {
    name: `e2e-${model}`,
    group: 'end-to-end',
    description: `batchscore run of the demo ${model} job (read → score → write Parquet, commit, manifest)`,
    basis: 'process',
    model,
    threads: 0, // filled from the manifest
    async run(data) {
      const job = data.jobs[model];
      rmSync(job.outputDir, { recursive: true, force: true });
      const run = await runChild([data.cli, 'run', job.specPath], data.root);
      if (run.code !== 0) throw new Error(`batchscore run exited ${run.code ?? run.signal}: ${tail(run.stderr || run.stdout)}`);
      const manifest = onlyManifest(job.outputDir);
      expectRows(this.name, manifest.totals.rows, data.rows);
      const sum = (k: 'decodeMs' | 'inferMs' | 'writeMs') =>
        Math.round(manifest.partitions.flatMap((p) => p.files).reduce((n, f) => n + (f.timings?.[k] ?? 0), 0));
      this.threads = manifest.settings.threads;
      return measured(run, manifest.totals.rows, run.wallMs, {
        threads: manifest.settings.threads,
        runMs: manifest.totals.durationMs,
        outputBytes: manifest.totals.outputBytes,
        fileDecodeMs: sum('decodeMs'),
        fileInferMs: sum('inferMs'),
        fileWriteMs: sum('writeMs'),
      });
    },
  };
}

const DECODE_COLUMNS = ['id', ...Array.from({ length: 32 }, (_, i) => `f${i}`)];

const decode: Workload = {
  name: 'decode-1t',
  group: 'bound',
  description: `decode only: ${DECODE_COLUMNS.length} columns (id, f0..f31) of every file, row group by row group, one thread, pipeline read path`,
  basis: 'work',
  threads: 1,
  async run(data) {
    const run = await runChild([script('decode'), data.inputDir, DECODE_COLUMNS.join(',')], data.root);
    const r = childResult<{ rows: number; workMs: number; files: number; rowGroups: number; bytesRead: number }>(run);
    expectRows(this.name, r.rows, data.rows);
    return measured(run, r.rows, r.workMs, { files: r.files, rowGroups: r.rowGroups, bytesRead: r.bytesRead });
  },
};

function inference(model: DemoModelName, threads: number): Workload {
  return {
    name: `infer-${model}-${threads}t`,
    group: 'bound',
    description: `inference only (onnxruntime-node, pre-built float32 batches, ${threads === 1 ? 'one thread' : `${threads} worker threads, each half the rows`})`,
    basis: 'work',
    model,
    threads,
    async run(data) {
      const job = data.jobs[model];
      const run = await runChild([script('infer'), job.modelPath, String(job.batchSize), String(data.rows), String(threads)], data.root);
      const r = childResult<{ rows: number; workMs: number; batch: number; perThreadMs: number[] }>(run);
      expectRows(this.name, r.rows, data.rows);
      return measured(run, r.rows, r.workMs, { batch: r.batch, perThreadMs: r.perThreadMs.map(Math.round) });
    },
  };
}

/** Added to every request to s3rver in the s3-read workloads: a real object store's round trip. */
export const S3_LATENCY_MS = 20;
const S3_READ_COLUMNS = ['id', 'segment', ...Array.from({ length: 32 }, (_, i) => `f${i}`)];

/** Reading the job's columns of every file over the S3 API with S3-like latency, one thread. */
function s3Read(mode: 'ahead' | 'plain'): Workload {
  return {
    name: `s3-read-${mode}`,
    group: 'bound',
    description:
      `read only, over s3rver behind a proxy that adds ${S3_LATENCY_MS} ms to every request, one thread: ` +
      (mode === 'ahead' ? "the pipeline's reads (footer in one request, a row group's chunks fetched together)" : 'one request per parquet-wasm read, in turn (no tail read, no prefetch)'),
    basis: 'work',
    threads: 1,
    async run(data) {
      const run = await runChild([script('s3-read'), data.inputDir, S3_READ_COLUMNS.join(','), String(S3_LATENCY_MS), mode], data.root);
      const r = childResult<{ rows: number; workMs: number; requests: number; bytesRead: number }>(run);
      expectRows(this.name, r.rows, data.rows);
      return measured(run, r.rows, r.workMs, { requests: r.requests, bytesRead: r.bytesRead });
    },
  };
}

/** Threads DuckDB gets: the brief's "SET threads=2", i.e. both cores of the reference machine. */
export const DUCKDB_THREADS = 2;

function duckdb(passes: number): Workload {
  const warm = passes > 1;
  return {
    name: warm ? 'duckdb-sql-warm' : 'duckdb-sql',
    group: 'peer',
    description:
      `DuckDB SQL: read Parquet → the job's passthrough columns and 1/(1+exp(-(w·x+b))) as FLOAT with the demo logistic weights → write Parquet by dt, ${DUCKDB_THREADS} threads` +
      (warm ? `; warm: the same SQL run ${passes} times in one DuckDB process, the median of passes 2–${passes} timed` : ''),
    basis: warm ? 'work' : 'process',
    threads: DUCKDB_THREADS,
    async run(data) {
      rmSync(data.duckdbOutputDir, { recursive: true, force: true });
      mkdirSync(dirname(data.duckdbOutputDir), { recursive: true }); // DuckDB creates only the last level
      const sqlFile = join(data.dataDir, 'duckdb-logistic.sql');
      writeFileSync(
        sqlFile,
        logisticSql(data.logistic, {
          inputDir: data.inputDir,
          outputDir: data.duckdbOutputDir,
          features: data.features,
          threads: DUCKDB_THREADS,
          nullsAsNaN: data.jobs.logistic.nullsAsNaN,
          passthrough: data.jobs.logistic.passthrough,
        }),
      );
      const run = await runChild([script('duckdb'), sqlFile, String(passes)], data.root);
      const r = childResult<{ rows: number; workMs: number; passMs: number[] }>(run);
      expectRows(this.name, r.rows, data.rows);
      return measured(run, r.rows, warm ? r.workMs : run.wallMs, { sqlMs: Math.round(r.workMs), passMs: r.passMs, sqlFile });
    },
  };
}

/** Passes of the warm workloads: the first warms, the median of the others is timed. */
export const WARM_PASSES = 8;

/** A long-lived process scoring the logistic job again (runJob in a loop, as a worker does). */
const warmLogistic: Workload = {
  name: 'e2e-logistic-warm',
  group: 'end-to-end',
  description: `the demo logistic job run ${WARM_PASSES} times in one process (runJob, default threads: warm modules, JIT, threads and sessions; node ${WORKER_NODE_FLAGS.join(' ') || '(no flags)'}, as a worker process runs), the median of passes 2–${WARM_PASSES} timed`,
  basis: 'work',
  model: 'logistic',
  threads: 0,
  async run(data) {
    const run = await runChild([...WORKER_NODE_FLAGS, script('warm-run'), data.jobs.logistic.specPath, String(WARM_PASSES)], data.root);
    const r = childResult<{ rows: number; workMs: number; passMs: number[]; threads: number }>(run);
    expectRows(this.name, r.rows, data.rows);
    this.threads = r.threads;
    return measured(run, r.rows, r.workMs, { passMs: r.passMs, threads: r.threads });
  },
};

/** Batch sizes of the tree-ensemble sweep (rows per session.run). */
export const TREE_BATCHES = [64, 128, 1024, 8192];

/** Inference-only, one thread, trees at one batch size, over a quarter of the rows. */
function treeBatch(batch: number): Workload {
  return {
    name: `trees-batch-${batch}`,
    group: 'bound',
    description: `inference only, demo 100-tree ensemble, ${batch} rows per session.run, one thread, a quarter of the rows`,
    basis: 'work',
    model: 'trees',
    threads: 1,
    async run(data) {
      const rows = Math.floor(data.rows / 4);
      const run = await runChild([script('infer'), data.jobs.trees.modelPath, String(batch), String(rows), '1'], data.root);
      const r = childResult<{ rows: number; workMs: number }>(run);
      expectRows(this.name, r.rows, rows);
      return measured(run, r.rows, r.workMs, { batch });
    },
  };
}

/** `batchscore run` of the logistic job over one big file (bounded memory: row group by row group). */
const bigFile: Workload = {
  name: 'e2e-logistic-big-file',
  group: 'end-to-end',
  description: 'batchscore run of the demo logistic job over ONE input file of --big-rows rows (default 20M), cold, whole process',
  basis: 'process',
  model: 'logistic',
  threads: 0,
  async run(data) {
    const big = await data.bigFile();
    rmSync(big.outputDir, { recursive: true, force: true });
    const run = await runChild([data.cli, 'run', big.specPath], data.root);
    if (run.code !== 0) throw new Error(`batchscore run exited ${run.code ?? run.signal}: ${tail(run.stderr || run.stdout)}`);
    const manifest = onlyManifest(big.outputDir);
    expectRows(this.name, manifest.totals.rows, big.rows);
    this.threads = manifest.settings.threads;
    return measured(run, manifest.totals.rows, run.wallMs, { threads: manifest.settings.threads, inputBytes: big.bytes, runMs: manifest.totals.durationMs });
  },
};

function onlyManifest(outputDir: string): RunManifest {
  const runs = readdirSync(join(outputDir, '_runs')).filter((f) => f.endsWith('.json'));
  if (runs.length !== 1) throw new Error(`expected one manifest in ${outputDir}/_runs, found ${runs.length}`);
  const manifest = JSON.parse(readFileSync(join(outputDir, '_runs', runs[0]!), 'utf8')) as RunManifest;
  if (manifest.status !== 'succeeded') throw new Error(`run ${manifest.status}: ${manifest.errors.map((e) => e.message).join('; ')}`);
  return manifest;
}

// ---- distributed: the same logistic job through Redis (BullMQ) + the S3 API (s3rver) ----

let distributed: Promise<DistributedBench> | null = null;

/** The shared distributed set-up (s3rver, Redis, uploaded data), started by the first dist workload. */
function distributedBench(data: BenchData): Promise<DistributedBench> {
  distributed ??= import('./distributed.js').then((m) => m.DistributedBench.start(data, (line) => process.stderr.write(`${line}\n`)));
  return distributed;
}

/** Stop what the workloads left running (worker processes, s3rver). Safe to call twice. */
export async function closeWorkloads(): Promise<void> {
  const d = distributed;
  distributed = null;
  if (d) await (await d.catch(() => null))?.close();
}

function distributedRun(workers: number, state: 'cold' | 'warm', pinned = false): Workload {
  return {
    name: `dist-${workers}w-${state}${pinned ? '-pinned' : ''}`,
    group: 'distributed',
    description:
      `demo logistic job (8 file jobs + finalize) through the BullMQ queue on Redis, read from and written to s3rver, ` +
      `${workers} \`batchscore worker --concurrency 1\` process${workers > 1 ? 'es' : ''}` +
      (pinned ? ', each pinned (all its threads) to a core of its own (N workers on N cores; s3rver and Redis not pinned)' : '') +
      ', ' +
      (state === 'cold' ? 'cold: freshly started, nothing scored yet' : 'warm: the same processes scored the same run once before') +
      '; timed from submitRun to the manifest visible in the run status',
    basis: 'run',
    model: 'logistic',
    threads: workers,
    async run(data) {
      const d = await distributedBench(data);
      return state === 'cold' ? d.cold(workers, pinned) : d.warm(workers, pinned);
    },
  };
}

function queueOverhead(workers: number): Workload {
  return {
    name: 'dist-queue',
    group: 'distributed',
    description:
      `queue overhead per partition job: single-partition runs one after another on ${workers} idle, warm worker processes; ` +
      'BullMQ job timestamp (enqueued by the flow) → processedOn (taken by a worker)',
    basis: 'run',
    model: 'logistic',
    threads: workers,
    async run(data) {
      const { sample, latency } = await (await distributedBench(data)).queueOverhead(workers);
      return { ...sample, latency };
    },
  };
}

/** All workloads, in the order they run (the check needs e2e-logistic and duckdb-sql). */
export function allWorkloads(workers = 2): Workload[] {
  const models: DemoModelName[] = ['logistic', 'mlp', 'trees'];
  return [
    ...models.map(endToEnd),
    decode,
    s3Read('ahead'),
    s3Read('plain'),
    ...models.flatMap((m) => [inference(m, 1), inference(m, 2)]),
    ...TREE_BATCHES.map(treeBatch),
    duckdb(1),
    warmLogistic,
    duckdb(WARM_PASSES),
    bigFile,
    ...[1, workers].flatMap((n) => [distributedRun(n, 'cold'), distributedRun(n, 'warm')]),
    ...[1, workers].map((n) => distributedRun(n, 'warm', true)),
    queueOverhead(workers),
  ];
}

/**
 * Workloads whose ratio is a target, measured in turns (pipeline, peer, pipeline, peer …)
 * rather than one after the other: this shared VM's speed drifts by up to 30% within
 * minutes, and a ratio of figures taken minutes apart measured the drift as much as the
 * pipeline (cold logistic vs DuckDB swung 0.71–0.93× across runs of the same code).
 */
export const INTERLEAVED: readonly (readonly string[])[] = [
  ['e2e-logistic', 'duckdb-sql'],
  ['e2e-mlp', 'infer-mlp-2t'],
  ['e2e-logistic-warm', 'duckdb-sql-warm'],
  ['s3-read-ahead', 's3-read-plain'],
];

/**
 * The order of measurement: each step is one workload, or interleaved ones (INTERLEAVED, when
 * all of a group are selected) measured in turns. A group runs where its first member is.
 */
export function measurementSteps(workloads: readonly Workload[]): Workload[][] {
  const steps: Workload[][] = [];
  const placed = new Set<string>();
  for (const w of workloads) {
    if (placed.has(w.name)) continue;
    const group = INTERLEAVED.find((g) => g.includes(w.name) && g.every((n) => workloads.some((x) => x.name === n)));
    const step = group ? group.map((n) => workloads.find((x) => x.name === n)!) : [w];
    for (const x of step) placed.add(x.name);
    steps.push(step);
  }
  return steps;
}

/**
 * The workloads `--only` selects: each token is a workload name or a prefix ending at a
 * dash boundary (`e2e` → all e2e-*, `infer-mlp` → infer-mlp-1t and -2t).
 */
export function selectWorkloads(all: Workload[], only: readonly string[] | null): Workload[] {
  if (!only) return all;
  const matches = (w: Workload, t: string) => w.name === t || w.name.startsWith(`${t}-`);
  const unknown = only.filter((t) => !all.some((w) => matches(w, t)));
  if (unknown.length) throw new Error(`--only: unknown workload(s) ${unknown.join(', ')}; known: ${all.map((w) => w.name).join(', ')}`);
  return all.filter((w) => only.some((t) => matches(w, t)));
}
