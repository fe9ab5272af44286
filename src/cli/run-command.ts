import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseJobSpec, SpecError, type JobSpec } from '../spec/job-spec.js';
import { runJob, type RunJobOptions, type RunResult } from '../run/run-job.js';
import { limitWasmTierUpForColdRun } from '../parquet/wasm-tiering.js';
import type { PartitionSelection } from '../run/plan.js';
import { createReporter, type Reporter } from './progress.js';
import { formatCount } from './count-format.js';
import { checkSelectionFits, selectionFromArgs } from './selection-args.js';
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

/**
 * A whole-number option: undefined when absent, else at least `min`. The value must be
 * digits only: `Number('')` is 0 and `Number(' 2 ')` is 2, so `--threads=` would otherwise
 * pass as 0. Messages name the option and quote the exact value given.
 * @throws UsageError for an empty, non-numeric, fractional, too large or too small value
 */
export function intOption(value: string | undefined, option: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    const expects = min === 0 ? 'a whole number (0 or more)' : min === 1 ? 'a positive whole number' : `a whole number of at least ${min}`;
    throw new UsageError(`${option} expects ${expects}, got ${JSON.stringify(value)}`);
  }
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
  const mon = m.monitoring;
  if (mon) {
    // The figures are in the manifest and the report; the line says whether to look.
    const where = mon.reportUri ? `, report: ${mon.reportUri}` : '';
    reporter.summary(`monitoring: ${mon.status}${mon.note ? ` (${mon.note})` : ''}${where}`, { monitoring: mon.status });
  }
  reporter.summary(`outputs:  ${outputUri}`);
  reporter.summary(`manifest: ${result.manifestUri}`);
  return m.status === 'succeeded' ? EXIT.ok : EXIT.failed;
}

/**
 * The run's log (drift warnings and alerts, undelivered webhooks and lineage events) as
 * reporter events: warnings on stderr on a TTY, JSON log lines otherwise. Debug lines (e.g.
 * "lineage: posted 3 events") are left out: the reporter has no level below info, and
 * they would be noise on every healthy run.
 */
export function runLog(reporter: Reporter): NonNullable<RunJobOptions['log']> {
  return (level, msg, fields) => {
    if (level !== 'debug') reporter.event(level, msg, fields);
  };
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
  // Options are checked before the spec is read: a typo is reported as such, not after.
  const threads = intOption(values.threads, '--threads', 1);
  const maxFailedPartitions = intOption(values['max-failed-partitions'], '--max-failed-partitions', 0);
  const selection: PartitionSelection = selectionFromArgs(values);
  const spec = await loadSpecFile(positionals[0]!);
  checkSelectionFits(spec, selection);
  const reporter = createReporter();
  // One run per process: optimize only what pays off in a short run (see wasm-tiering.ts).
  limitWasmTierUpForColdRun();
  const started = performance.now();
  const result = await runJob(spec, {
    selection,
    threads,
    maxFailedPartitions,
    // One run per process: the threads stop while the run is finalized instead of being
    // parked for a next run and torn down by the process exit, after everything else.
    keepThreadsWarm: false,
    onFile: (e) => {
      if (e.file.error) reporter.event('error', e.file.error.message, { partition: e.partition, file: e.file.input.uri });
      reporter.progress(e.filesDone, e.filesTotal, e.rowsDone, started);
    },
    log: runLog(reporter),
  });
  return reportRun(reporter, result, spec.output.uri);
}
