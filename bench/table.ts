/** Formatting the report: the console table and README-ready markdown. */
import { NOISY_CORES } from './cpu-load.js';
import type { ScoreCheck } from './duckdb-peer.js';
import type { Ratio } from './ratios.js';
import type { WorkloadResult } from './results.js';
import type { TargetResult } from './targets.js';

export interface Report {
  results: WorkloadResult[];
  ratios: Ratio[];
  targets: TargetResult[];
  check: ScoreCheck | null;
  environment: Record<string, string | number>;
}

const HEADERS = ['workload', 'rows/s', 'wall s', 'peak RSS MB', 'peer/bound', 'ratio', 'target', 'pass/fail'];

export function rate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e8 ? 0 : x >= 1e7 ? 1 : 2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(0)}k`;
  return x.toFixed(0);
}

function verdict(targets: readonly TargetResult[]): string {
  if (targets.length === 0) return '';
  if (targets.some((t) => t.pass === false)) return 'FAIL';
  if (targets.some((t) => t.pass === null)) return 'n/a';
  return 'PASS';
}

/** One row of cells per workload. */
function cells(report: Report): string[][] {
  return report.results.map((r) => {
    const primary = report.ratios.find((x) => x.subject === r.name && x.primary);
    const targets = report.targets.filter((t) => t.workload === r.name);
    if (r.error) return [r.name, 'ERROR', '', '', '', '', targets.map((t) => t.short).join(', '), targets.length ? 'FAIL' : 'ERROR'];
    if (r.latency) {
      return [
        r.name,
        '',
        r.wallSeconds!.toFixed(2),
        r.peakRssMB!.toFixed(0),
        'enqueue→start ms',
        `p50 ${fmtMs(r.latency.medianMs)} / p95 ${fmtMs(r.latency.p95Ms)}`,
        targets.map((t) => t.short).join(', '),
        verdict(targets),
      ];
    }
    return [
      r.name,
      `${rate(r.rowsPerSecond!)}${r.basis === 'work' ? '*' : r.basis === 'run' ? '†' : ''}`,
      r.wallSeconds!.toFixed(2),
      r.peakRssMB!.toFixed(0),
      primary?.reference ?? '',
      primary ? `${primary.value.toFixed(2)}×` : '',
      targets.map((t) => t.short).join(', '),
      verdict(targets),
    ];
  });
}

function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

function footnotes(report: Report): string[] {
  const dist = report.results.some((r) => r.group === 'distributed');
  return [
    '* rows/s over the timed work section (model loaded / files listed; Node start-up and imports excluded); ' +
      'other rows/s: whole-process wall time, cold one-shot, as a user runs it.',
    'wall s: whole child process, spawn to exit. peak RSS: getrusage maxRSS of that process (all threads).',
    ...(dist
      ? [
          '† distributed: rows/s and wall s over submitRun called → manifest visible (polled every 20 ms), worker processes ' +
            'already running (start-up not timed); peak RSS: the largest VmHWM among the worker processes. ' +
            'dist-queue: wall s is all its single-partition runs; p50/p95 of BullMQ job timestamp → processedOn.',
        ]
      : []),
  ];
}

type CpuCores = { workers: number | null; s3rver: number | null; redis: number | null; submitter: number; other: number | null };

/** The sample whose wall time is closest to the reported (median) one. */
function medianSample(r: WorkloadResult): WorkloadResult['samples'][number] | undefined {
  return [...r.samples].sort((a, b) => Math.abs(a.wallMs / 1000 - r.wallSeconds!) - Math.abs(b.wallMs / 1000 - r.wallSeconds!))[0];
}

/**
 * For dist-<N>w-<state>: the most N workers could gain over one if only CPU limited them:
 * min(N, cores ÷ cores busy during the 1-worker run for workers + s3rver + Redis + submitter).
 */
function ceiling(report: Report, r: WorkloadResult): string {
  const m = /^dist-(\d+)w-(cold|warm)$/.exec(r.name);
  if (!m || m[1] === '1') return '';
  const one = report.results.find((x) => x.name === `dist-1w-${m[2]}` && !x.error);
  const c = one && (medianSample(one)?.extra.cpuCores as CpuCores | undefined);
  if (!c || c.workers === null) return '';
  // A starved 1-worker run uses fewer cores than it would alone: no ceiling from it.
  if (c.other === null || c.other > NOISY_CORES) return `; no CPU ceiling (dist-1w-${m[2]} was NOISY)`;
  const busy = c.workers + (c.s3rver ?? 0) + (c.redis ?? 0) + c.submitter;
  const cpus = Number(report.environment.cpus);
  return `; CPU ceiling for ${m[1]} vs 1 worker: ${Math.min(Number(m[1]), cpus / busy).toFixed(2)}× (${cpus} cores ÷ ${busy.toFixed(2)} busy in dist-1w-${m[2]})`;
}

function sec(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function cores(x: number | null): string {
  return x === null ? '?' : x.toFixed(2);
}

/** Per distributed row: where the time went and who used the CPUs (from the sample's extra). */
function distributedLines(report: Report): string[] {
  const rows = report.results.filter((r) => r.group === 'distributed' && !r.error && r.samples.length > 0);
  if (rows.length === 0) return [];
  const out: string[] = [];
  let upload: unknown;
  for (const r of rows) {
    const s = medianSample(r)!;
    const x = s.extra as {
      workerPeakRssMB?: (number | null)[];
      workerStartupMs?: number;
      phases?: Record<string, number>;
      jobs?: { retries: number; dispatchGapMs: { medianMs: number; p95Ms: number } | null; inWorkerOverheadMs: { medianMs: number } | null };
      cpuCores?: CpuCores;
      workerThreadsCpuMs?: { mainMs: number; busiestMs: number; restMs: number };
      submitToStartMs?: { medianMs: number; p95Ms: number };
      finalizeWaitMs?: { medianMs: number; p95Ms: number };
      singleFileRunMs?: { medianMs: number; p95Ms: number };
      s3rverUploadMBps?: number;
    };
    upload ??= x.s3rverUploadMBps;
    const c = x.cpuCores;
    const cpu = c ? `CPU cores: workers ${cores(c.workers)}, s3rver ${cores(c.s3rver)}, redis ${cores(c.redis)}, submitter ${cores(c.submitter)}, other ${cores(c.other)}` : '';
    if (r.latency) {
      out.push(
        `${r.name}: ${r.latency.n} jobs, enqueue → start p50 ${fmtMs(r.latency.medianMs)} ms, p95 ${fmtMs(r.latency.p95Ms)} ms, max ${fmtMs(r.latency.maxMs)} ms; ` +
          (x.submitToStartMs ? `submitRun called → start p50 ${fmtMs(x.submitToStartMs.medianMs)} ms; ` : '') +
          (x.finalizeWaitMs ? `last file done → finalize start p50 ${fmtMs(x.finalizeWaitMs.medianMs)} ms; ` : '') +
          (x.singleFileRunMs ? `single-partition run p50 ${fmtMs(x.singleFileRunMs.medianMs)} ms; ` : '') +
          cpu,
      );
      continue;
    }
    const p = x.phases ?? {};
    const ms = (k: string) => (p[k] === undefined || Number.isNaN(p[k]) ? '?' : `${Math.round(p[k])}`);
    const gap = x.jobs?.dispatchGapMs;
    out.push(
      `${r.name}: submit ${ms('submitMs')} ms, first job start +${ms('firstStartMs')} ms, file jobs ${ms('filesMs')} ms, ` +
        `finalize wait ${ms('finalizeWaitMs')} + run ${ms('finalizeMs')} ms, manifest seen +${ms('manifestSeenMs')} ms` +
        (gap ? `; idle gap between file jobs p50 ${fmtMs(gap.medianMs)} ms, p95 ${fmtMs(gap.p95Ms)} ms` : '') +
        (x.jobs?.inWorkerOverheadMs ? `; job time outside scoring p50 ${fmtMs(x.jobs.inWorkerOverheadMs.medianMs)} ms` : '') +
        (x.jobs?.retries ? `; ${x.jobs.retries} RETRIES` : '') +
        `; ${cpu}` +
        (x.workerThreadsCpuMs ? `; worker CPU by thread: scoring ${sec(x.workerThreadsCpuMs.busiestMs)}, main ${sec(x.workerThreadsCpuMs.mainMs)}, other threads (V8 GC/compiler, libuv) ${sec(x.workerThreadsCpuMs.restMs)}` : '') +
        `; worker peak RSS ${(x.workerPeakRssMB ?? []).map((m) => m ?? '?').join(' / ')} MB` +
        (x.workerStartupMs !== undefined ? `; workers started in ${x.workerStartupMs} ms (not timed)` : '') +
        ceiling(report, r),
    );
  }
  const cpus = report.environment.cpus;
  out.push(
    `The submitter (this bench process: planning, flow add, status polling), s3rver (${upload ?? '?'} MB/s single-stream upload measured at set-up) ` +
      `and Redis share the machine's ${cpus} cores with the workers; their CPU is listed above and is not counted as noise.`,
  );
  return out;
}

function ratioLines(report: Report): string[] {
  return report.ratios.map((r) => `${r.subject} / ${r.reference} = ${r.value.toFixed(2)}×  (${r.meaning})`);
}

function targetLines(report: Report): string[] {
  return report.targets.map((t) => {
    const v = t.value === null ? 'not measured in this run' : `measured ${t.unit === 'MB' ? `${t.value.toFixed(0)} MB` : t.unit === 'ms' ? `${fmtMs(t.value)} ms` : `${t.value.toFixed(2)}×`}`;
    return `${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}  ${t.workload}: ${t.target} (${v})`;
  });
}

function noiseLines(report: Report): string[] {
  const noisy = report.results.filter((r) => r.backgroundCores !== null && r.backgroundCores > NOISY_CORES);
  if (noisy.length === 0) return [];
  return [
    `NOISY: other processes kept cores busy during ${noisy.map((r) => `${r.name} (${r.backgroundCores!.toFixed(2)} cores)`).join(', ')}: ` +
      'those figures are not comparable; rerun on a quiet machine.',
  ];
}

function checkLine(report: Report): string {
  if (!report.check) return 'n/a   correctness check skipped (needs e2e-logistic and duckdb-sql in the same run)';
  return `${report.check.pass ? 'PASS' : 'FAIL'}  ${report.check.message}`;
}

export function renderText(report: Report): string {
  const rows = [HEADERS, ...cells(report)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const numeric = new Set([1, 2, 3, 5]);
  const line = (r: string[]) => r.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const errors = report.results.filter((r) => r.error).map((r) => `ERROR ${r.name}: ${r.error}`);
  return [
    line(HEADERS),
    rule,
    ...rows.slice(1).map(line),
    '',
    ...footnotes(report),
    ...(distributedLines(report).length ? ['', 'Distributed:', ...distributedLines(report).map((l) => `  ${l}`)] : []),
    '',
    'Ratios:',
    ...ratioLines(report).map((l) => `  ${l}`),
    '',
    'Targets and checks:',
    ...targetLines(report).map((l) => `  ${l}`),
    `  ${checkLine(report)}`,
    ...(errors.length ? ['', ...errors] : []),
    ...(noiseLines(report).length ? ['', ...noiseLines(report)] : []),
  ].join('\n');
}

export function renderMarkdown(report: Report): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const row = (r: string[]) => `| ${r.map(esc).join(' | ')} |`;
  const env = report.environment;
  return [
    '## Benchmark',
    '',
    `Standard workload: the demo dataset (${Number(env.rows).toLocaleString('en-US')} rows, 32 float32 features, 8 files). ` +
      `Measured ${env.date} on ${env.cpus} × ${env.cpuModel}, ${env.memoryGB} GB RAM, Node ${env.node}` +
      `${env.repeat !== 1 ? `, median of ${env.repeat} runs` : ', one run'} (\`npm run bench\`).`,
    '',
    row(HEADERS),
    row(HEADERS.map((_, i) => ([1, 2, 3, 5].includes(i) ? '---:' : '---'))),
    ...cells(report).map(row),
    '',
    ...footnotes(report).map((l) => `${l.replace(/^\* /, '\\* ')}`).flatMap((l) => [l, '']),
    ...(distributedLines(report).length ? ['**Distributed**', '', ...distributedLines(report).map((l) => `- ${l}`), ''] : []),
    '**Ratios**',
    '',
    ...ratioLines(report).map((l) => `- ${l}`),
    '',
    '**Targets and checks**',
    '',
    ...targetLines(report).map((l) => `- ${l}`),
    `- ${checkLine(report)}`,
    ...noiseLines(report).map((l) => `- ${l}`),
    '',
    '**Workloads**',
    '',
    ...report.results.map((r) => `- \`${r.name}\`: ${r.description}`),
    '',
  ].join('\n');
}
