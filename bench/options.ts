/** Command-line options of the benchmark. */
import { parseArgs } from 'node:util';

export const HELP = `Usage: npm run bench -- [options]      (or: node dist/bench/bench.js [options])

Benchmark batchscore on the standard workload (demo data: 2M rows, 32 float32 features,
8 files): end-to-end runs per model, decode-only and inference-only bounds, the DuckDB
SQL peer computing the same logistic score, and the logistic job through the queue (Redis
+ s3rver) on 1 and N worker processes, cold and warm, plus the queue overhead per job.
Every in-process measurement runs in a fresh process.

Options:
  --rows N          rows of the demo dataset (default 2000000)
  --big-rows N      rows of the single big input file of e2e-logistic-big-file (default
                    20000000; generated once, ~1.3 GB per 10M rows, kept in --dir)
  --only a,b        workloads or prefixes (e2e, e2e-mlp, e2e-logistic-warm, decode, s3-read, infer, trees-batch,
                    duckdb-sql, duckdb-sql-warm, e2e-logistic-big-file, dist, dist-1w,
                    dist-2w-warm, dist-queue)
  --workers N       distributed workloads: measure 1 and N worker processes (default 2)
  --repeat K        runs per workload; the report shows the median (default 1)
  --json FILE       also write the full report as JSON
  --markdown FILE   also write README-ready markdown
  --dir PATH        bench data directory (default .bench, under the project root)
  --settle S        before each measurement, wait up to S seconds for other processes
                    to leave the CPUs idle (default 0: do not wait; rows measured while
                    the machine was busy are flagged NOISY either way)
  -h, --help        show this help

Exit code 1 if a workload fails, a target is missed or DuckDB and the pipeline disagree.`;

export interface BenchOptions {
  rows: number;
  /** Rows of the one-file workload (e2e-logistic-big-file). */
  bigRows: number;
  only: string[] | null;
  repeat: number;
  json: string | null;
  markdown: string | null;
  dir: string;
  settle: number;
  /** Worker processes of the distributed comparison (1 vs this). */
  workers: number;
  help: boolean;
}

function positiveInt(value: string, name: string, max: number): number {
  const n = Number(value.replaceAll('_', '').replaceAll(',', ''));
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name} expects an integer from 1 to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

function workersOption(value: string): number {
  const n = positiveInt(value, '--workers', 16);
  if (n < 2) throw new Error('--workers expects 2 or more (1 worker is always measured as the reference)');
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '2000000' },
      'big-rows': { type: 'string', default: '20000000' },
      only: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      json: { type: 'string' },
      markdown: { type: 'string' },
      dir: { type: 'string', default: '.bench' },
      settle: { type: 'string', default: '0' },
      workers: { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const rows = positiveInt(values.rows, '--rows', 1e9);
  if (rows < 8) throw new Error('--rows must be at least 8 (one row per partition)');
  return {
    rows,
    bigRows: positiveInt(values['big-rows'], '--big-rows', 1e10),
    only: values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : null,
    repeat: positiveInt(values.repeat, '--repeat', 100),
    json: values.json ?? null,
    markdown: values.markdown ?? null,
    dir: values.dir,
    settle: values.settle === '0' ? 0 : positiveInt(values.settle, '--settle', 3600),
    workers: workersOption(values.workers),
    help: values.help,
  };
}
