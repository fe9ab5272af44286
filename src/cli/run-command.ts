import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseJobSpec, SpecError, type JobSpec } from '../spec/job-spec.js';
import { runJob, type RunResult } from '../run/run-job.js';
import { limitWasmTierUpForColdRun } from '../parquet/wasm-tiering.js';
import type { PartitionSelection } from '../run/plan.js';
import { createReporter, type Reporter } from './progress.js';
import { formatCount } from './count-format.js';
import { selectionFromArgs } from './selection-args.js';
import { EXIT, UsageError } from './usage-error.js';

export const RUN_HELP = `Usage: batchscore run <job.json> [options]

Score the partitions of a job spec on this machine (no Redis needed).

Options:
  --from YYYY-MM-DD           first partition date (inclusive), with --to
  --to YYYY-MM-DD             last partition date (inclusive)
  --partition VALUE           a partition value; repeat for several
  --threads N                 scoring threads (default: CPU cores, at most 8)
  --max-failed-partitions N   partitions allowed to fail before the run fails
                              (default: the spec's maxFailedPartitions, 0)
  -h, --help                  show this help

Exit codes: 0 all partitions published, 1 some partitions or the run failed,
2 bad usage or job spec.`;

/** Read and validate a job spec file; errors name the file and the field. */
export async function loadSpecFile(path: string): Promise<JobSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read job spec ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`job spec ${path} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseJobSpec(raw);
  } catch (err) {
    if (err instanceof SpecError) throw new UsageError(`${path}: ${err.message}`);
    throw err;
  }
}

function positiveInt(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${option} expects a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Print what a finished run did: rows, rate, outputs, manifest, failures. */
export function reportRun(reporter: Reporter, result: RunResult, outputUri: string): number {
  const m = result.manifest;
  const t = m.totals;
  reporter.done();
  for (const e of m.errors) reporter.event('error', e.message, { error: e.name });
  reporter.summary(
    `run ${m.runId} ${m.status}: ${formatCount(t.rows)} rows in ${t.partitions - t.failedPartitions}/${t.partitions} partitions, ` +
      `${(t.durationMs / 1000).toFixed(2)} s, ${formatCount(t.rowsPerSecond)} rows/s`,
    { runId: m.runId, status: m.status, ...t },
  );
  if (t.badRows > 0) {
    reporter.summary(`bad rows: ${t.badRows.toLocaleString('en-US')} rows refused by nulls/nonFinite were published with null predictions (maxBadRowsFraction ${m.spec.maxBadRowsFraction}); the manifest lists the first of each file`);
  }
  reporter.summary(`outputs:  ${outputUri}`);
  reporter.summary(`manifest: ${result.manifestUri}`);
  return m.status === 'succeeded' ? EXIT.ok : EXIT.failed;
}

/** `batchscore run`: returns the exit code. */
export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      partition: { type: 'string', multiple: true },
      threads: { type: 'string' },
      'max-failed-partitions': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(RUN_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`run expects one job spec file, got ${positionals.length}`);
  const spec = await loadSpecFile(positionals[0]!);
  const selection: PartitionSelection = selectionFromArgs(values);
  const threads = positiveInt(values.threads, '--threads');
  if (threads === 0) throw new UsageError('--threads expects at least 1, got 0');
  const reporter = createReporter();
  // One run per process: optimize only what pays off in a short run (see wasm-tiering.ts).
  limitWasmTierUpForColdRun();
  const started = performance.now();
  const result = await runJob(spec, {
    selection,
    threads,
    maxFailedPartitions: positiveInt(values['max-failed-partitions'], '--max-failed-partitions'),
    // One run per process: the threads stop while the run is finalized instead of being
    // parked for a next run and torn down by the process exit, after everything else.
    keepThreadsWarm: false,
    onFile: (e) => {
      if (e.file.error) reporter.event('error', e.file.error.message, { partition: e.partition, file: e.file.input.uri });
      reporter.progress(e.filesDone, e.filesTotal, e.rowsDone, started);
    },
  });
  return reportRun(reporter, result, spec.output.uri);
}
