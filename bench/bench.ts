/**
 * `npm run bench`: measures the standard workload and prints one table (see options.ts).
 * Each measurement is a fresh child process (child.ts); this driver only prepares data,
 * spawns, checks correctness and reports.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allWorkloads, closeWorkloads, measurementSteps, selectWorkloads, type Sample, type Workload } from './catalog.js';
import { prepareData, type BenchData } from './data.js';
import { NOISY_CORES, waitQuiet } from './cpu-load.js';
import { compareScores, type ScoreCheck } from './duckdb-peer.js';
import { environment } from './environment.js';
import { HELP, parseOptions, type BenchOptions } from './options.js';
import { computeRatios } from './ratios.js';
import { summarize, type WorkloadResult } from './results.js';
import { renderMarkdown, renderText, rate, type Report } from './table.js';
import { checkTargets } from './targets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);

function write(path: string, text: string): void {
  const full = resolve(process.cwd(), path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, text);
  log(`wrote ${full}`);
}

/**
 * Run every workload `repeat` times, appending one summarized result per workload.
 * Interleaved workloads (see `measurementSteps`) take turns, one sample each per round.
 */
async function measure(workloads: readonly Workload[], data: BenchData, options: BenchOptions, results: WorkloadResult[]): Promise<void> {
  for (const step of measurementSteps(workloads)) {
    const samples = new Map<Workload, Sample[]>(step.map((w) => [w, []]));
    const errors = new Map<Workload, string>();
    for (let k = 0; k < options.repeat; k++) {
      for (const w of step) {
        if (errors.has(w)) continue;
        if (options.settle > 0) {
          const busy = await waitQuiet(options.settle);
          if (busy !== null && busy > NOISY_CORES) log(`bench: machine still busy (${busy.toFixed(2)} cores) after waiting ${options.settle} s; measuring anyway`);
        }
        try {
          const s = await w.run(data);
          samples.get(w)!.push(s);
          const basisMs = w.basis === 'process' ? s.wallMs : s.workMs;
          const figure = s.latency ? `enqueue → start p50 ${s.latency.medianMs} ms, p95 ${s.latency.p95Ms} ms (${s.latency.n} jobs)` : `${rate(s.rows / (basisMs / 1000))} rows/s`;
          log(`bench: ${w.name}${options.repeat > 1 ? ` #${k + 1}` : ''}: ${figure}, wall ${(s.wallMs / 1000).toFixed(2)} s, peak RSS ${(s.maxRssKB / 1024).toFixed(0)} MB` +
              (s.backgroundCores !== null && s.backgroundCores > NOISY_CORES ? `, NOISY: other processes used ${s.backgroundCores.toFixed(2)} cores` : ''));
        } catch (err) {
          errors.set(w, (err as Error).message);
          log(`bench: ${w.name}: ERROR ${(err as Error).message}`);
        }
      }
    }
    for (const w of step) {
      const error = errors.get(w) ?? null;
      results.push(summarize(w, error ? [] : samples.get(w)!, error));
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  const workloads = selectWorkloads(allWorkloads(options.workers), options.only);
  const started = performance.now();
  log(`bench: preparing data in ${resolve(ROOT, options.dir)} ...`);
  const data = await prepareData(ROOT, options.dir, options.rows, log, options.bigRows);

  const results: WorkloadResult[] = [];
  try {
    await measure(workloads, data, options, results);
  } finally {
    await closeWorkloads(); // distributed: worker processes, s3rver
  }


  let check: ScoreCheck | null = null;
  const ran = (name: string) => results.some((r) => r.name === name && !r.error);
  if (ran('e2e-logistic') && ran('duckdb-sql')) {
    check = await compareScores(data.jobs.logistic.outputDir, data.duckdbOutputDir);
  }

  const ratios = computeRatios(results);
  const report: Report = {
    results,
    ratios,
    targets: checkTargets(results, ratios),
    check,
    environment: environment(ROOT, data.rows, options.repeat),
  };
  console.log(renderText(report));
  const failed = results.some((r) => r.error) || report.targets.some((t) => t.pass === false) || (check !== null && !check.pass);
  log(`bench: ${failed ? 'FAILED' : 'ok'} in ${((performance.now() - started) / 1000).toFixed(0)} s`);

  if (options.json) {
    const json = {
      benchmark: 'batchscore standard workload',
      environment: report.environment,
      settings: { rows: data.rows, repeat: options.repeat, only: options.only, workers: options.workers, dataDir: data.dataDir },
      workloads: results,
      ratios,
      targets: report.targets,
      check,
      pass: !failed,
    };
    write(options.json, `${JSON.stringify(json, null, 2)}\n`);
  }
  if (options.markdown) write(options.markdown, renderMarkdown(report));
  return failed ? 1 : 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  log(`bench: ${(err as Error).message}`);
  process.exitCode = 2;
}
