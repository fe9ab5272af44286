/**
 * Child script: a long-lived process scoring the same job again. Runs `runJob` (the code
 * `batchscore run` and the queue worker use) `passes` times in one process and times each
 * pass; the first pass warms the process (modules, JIT, scoring threads and their model
 * sessions, kept by the thread pool between runs); the median of the others is the warm
 * figure (`warmFigure`).
 *
 *   node dist/bench/workloads/warm-run.js <job.json> <passes>
 */
import { readFileSync } from 'node:fs';
import { parseJobSpec } from '../../src/spec/job-spec.js';
import { runJob } from '../../src/run/run-job.js';
import { printResult, warmFigure } from '../child.js';

const [specPath, passesArg] = process.argv.slice(2);
if (!specPath) throw new Error('usage: warm-run.js <job.json> [passes]');
const passes = Number(passesArg ?? 2);
if (!Number.isInteger(passes) || passes < 2) throw new Error(`warm-run: passes must be an integer ≥ 2, got ${passesArg}`);
const spec = parseJobSpec(JSON.parse(readFileSync(specPath, 'utf8')));

const passMs: number[] = [];
let rows = 0;
let threads = 0;
for (let i = 0; i < passes; i++) {
  const t0 = performance.now();
  const { manifest } = await runJob(spec);
  passMs.push(performance.now() - t0);
  if (manifest.status !== 'succeeded') throw new Error(`warm-run: pass ${i + 1} ${manifest.status}: ${manifest.errors.map((e) => e.message).join('; ')}`);
  rows = manifest.totals.rows;
  threads = manifest.settings.threads;
}
printResult({ rows, workMs: warmFigure(passMs), passMs: passMs.map(Math.round), threads });
