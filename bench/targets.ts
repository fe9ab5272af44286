/**
 * The requirement's targets, checked here and only here (never in tests):
 * peak RSS of every end-to-end run ≤ 600 MB; logistic end to end ≥ 0.25× DuckDB SQL.
 */
import type { Ratio } from './ratios.js';
import type { WorkloadResult } from './results.js';

export const RSS_LIMIT_MB = 600;
export const LOGISTIC_VS_DUCKDB_MIN = 0.25;

export interface TargetResult {
  workload: string;
  target: string;
  /** Short form for the table. */
  short: string;
  value: number | null;
  /** null: not measured in this run (workload or reference not selected, or failed). */
  pass: boolean | null;
}

export function checkTargets(results: readonly WorkloadResult[], ratios: readonly Ratio[]): TargetResult[] {
  const out: TargetResult[] = [];
  for (const r of results.filter((x) => x.group === 'end-to-end')) {
    if (r.name === 'e2e-logistic') {
      const ratio = ratios.find((x) => x.subject === 'e2e-logistic' && x.reference === 'duckdb-sql');
      out.push({
        workload: r.name,
        target: `rows/s ≥ ${LOGISTIC_VS_DUCKDB_MIN}× duckdb-sql rows/s`,
        short: `≥${LOGISTIC_VS_DUCKDB_MIN}× peer`,
        value: ratio?.value ?? null,
        pass: ratio ? ratio.value >= LOGISTIC_VS_DUCKDB_MIN : null,
      });
    }
    out.push({
      workload: r.name,
      target: `peak RSS ≤ ${RSS_LIMIT_MB} MB`,
      short: `≤${RSS_LIMIT_MB} MB`,
      value: r.peakRssMB,
      pass: r.peakRssMB === null ? null : r.peakRssMB <= RSS_LIMIT_MB,
    });
  }
  return out;
}
