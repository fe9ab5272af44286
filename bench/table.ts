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
    return [
      r.name,
      `${rate(r.rowsPerSecond!)}${r.basis === 'work' ? '*' : ''}`,
      r.wallSeconds!.toFixed(2),
      r.peakRssMB!.toFixed(0),
      primary?.reference ?? '',
      primary ? `${primary.value.toFixed(2)}×` : '',
      targets.map((t) => t.short).join(', '),
      verdict(targets),
    ];
  });
}

function footnotes(): string[] {
  return [
    '* rows/s over the timed work section (model loaded / files listed; Node start-up and imports excluded); ' +
      'other rows/s: whole-process wall time, cold one-shot, as a user runs it.',
    'wall s: whole child process, spawn to exit. peak RSS: getrusage maxRSS of that process (all threads).',
  ];
}

function ratioLines(report: Report): string[] {
  return report.ratios.map((r) => `${r.subject} / ${r.reference} = ${r.value.toFixed(2)}×  (${r.meaning})`);
}

function targetLines(report: Report): string[] {
  return report.targets.map((t) => {
    const v = t.value === null ? 'not measured in this run' : `measured ${t.target.startsWith('peak') ? `${t.value.toFixed(0)} MB` : `${t.value.toFixed(2)}×`}`;
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
    ...footnotes(),
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
    ...footnotes().map((l) => `${l.replace(/^\* /, '\\* ')}`).flatMap((l) => [l, '']),
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
