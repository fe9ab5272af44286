/**
 * Ratios between workloads: each end-to-end run against its bounds (decode-only, inference-
 * only) and, for logistic, against the DuckDB SQL peer; inference scaling from 1 to 2
 * threads. A ratio is subject rows/s ÷ reference rows/s.
 */
import type { WorkloadResult } from './results.js';
import { TREE_BATCH_ROWS } from '../src/run/model-kind.js';
import { TREE_BATCHES } from './catalog.js';

export interface Ratio {
  subject: string;
  reference: string;
  value: number;
  /** The one ratio the table shows for this subject. */
  primary: boolean;
  meaning: string;
}

interface RatioSpec {
  subject: string;
  reference: string;
  primary: boolean;
  meaning: string;
}

/** Scaling and warm-up ratios of the distributed workloads present (dist-<N>w-cold/-warm). */
function distributedSpecs(names: readonly string[]): RatioSpec[] {
  const counts = [...new Set(names.map((n) => /^dist-(\d+)w-(?:cold|warm)(?:-pinned)?$/.exec(n)?.[1]).filter((x) => x !== undefined).map(Number))].sort((a, b) => a - b);
  const out: RatioSpec[] = [
    { subject: 'dist-1w-cold', reference: 'e2e-logistic', primary: true, meaning: 'one queue worker through Redis + S3 API (submit → manifest, process already running) vs in-process run on local files (whole process, default threads)' },
    { subject: 'dist-1w-warm', reference: 'dist-1w-cold', primary: true, meaning: 'one worker, warm vs cold' },
  ];
  for (const n of counts.filter((c) => c > 1)) {
    out.push(
      { subject: `dist-${n}w-warm-pinned`, reference: 'dist-1w-warm-pinned', primary: true, meaning: `scaling from 1 to ${n} worker processes, warm, each pinned to a core of its own (N workers on N cores)` },
      { subject: `dist-${n}w-cold`, reference: 'dist-1w-cold', primary: true, meaning: `scaling from 1 to ${n} worker processes, cold (fresh processes)` },
      { subject: `dist-${n}w-warm`, reference: 'dist-1w-warm', primary: true, meaning: `scaling from 1 to ${n} worker processes, warm (processes that scored the run before)` },
      { subject: `dist-${n}w-warm`, reference: `dist-${n}w-cold`, primary: false, meaning: `${n} workers, warm vs cold` },
    );
  }
  return out;
}

function specs(): RatioSpec[] {
  const out: RatioSpec[] = [
    { subject: 'e2e-logistic', reference: 'duckdb-sql', primary: true, meaning: 'pipeline vs DuckDB SQL, same logistic score, both cold whole-process' },
  ];
  for (const m of ['logistic', 'mlp', 'trees']) {
    out.push(
      { subject: `e2e-${m}`, reference: `infer-${m}-2t`, primary: m !== 'logistic', meaning: 'share of the both-cores inference bound reached end to end' },
      { subject: `e2e-${m}`, reference: `infer-${m}-1t`, primary: false, meaning: 'vs one-thread inference bound' },
      { subject: `e2e-${m}`, reference: 'decode-1t', primary: false, meaning: 'vs one-thread decode bound (the pipeline decodes on 2 threads, so this may exceed 1)' },
      { subject: `infer-${m}-2t`, reference: `infer-${m}-1t`, primary: true, meaning: 'inference scaling from 1 to 2 threads' },
    );
  }
  out.push(
    { subject: 'duckdb-sql', reference: 'decode-1t', primary: true, meaning: "DuckDB's whole job vs our decode alone (1 thread)" },
    { subject: 'e2e-logistic-warm', reference: 'duckdb-sql-warm', primary: true, meaning: 'long-lived process vs DuckDB SQL repeated in one DuckDB process, both warm (median of passes 2–8)' },
    { subject: 'e2e-logistic-warm', reference: 'e2e-logistic', primary: false, meaning: 'warm pass vs cold one-shot process' },
    { subject: 'duckdb-sql-warm', reference: 'duckdb-sql', primary: true, meaning: 'DuckDB warm pass vs cold one-shot process' },
    { subject: 'e2e-logistic-big-file', reference: 'e2e-logistic', primary: true, meaning: 'one big file vs 8 files of the standard workload' },
    { subject: 's3-read-ahead', reference: 's3-read-plain', primary: true, meaning: 'reading over S3 with a round trip per request: footer in one request and chunks fetched together vs one request at a time' },
  );
  // Tree batch sweep: each size against the one the pipeline picks for tree ensembles.
  for (const b of TREE_BATCHES.filter((x) => x !== TREE_BATCH_ROWS)) {
    out.push({ subject: `trees-batch-${b}`, reference: `trees-batch-${TREE_BATCH_ROWS}`, primary: true, meaning: `trees at ${b} rows per run vs ${TREE_BATCH_ROWS} (the pipeline's choice for tree ensembles)` });
  }
  return out;
}

export function computeRatios(results: readonly WorkloadResult[]): Ratio[] {
  const rate = new Map(results.filter((r) => r.rowsPerSecond !== null).map((r) => [r.name, r.rowsPerSecond!]));
  const out: Ratio[] = [];
  for (const s of [...specs(), ...distributedSpecs(results.map((r) => r.name))]) {
    const a = rate.get(s.subject);
    const b = rate.get(s.reference);
    if (a !== undefined && b !== undefined && b > 0) out.push({ ...s, value: a / b });
  }
  // When the primary reference is missing (e.g. --only), show the first ratio that exists.
  for (const subject of new Set(out.map((r) => r.subject))) {
    const mine = out.filter((r) => r.subject === subject);
    if (!mine.some((r) => r.primary)) mine[0]!.primary = true;
  }
  return out;
}
