/** A workload's samples reduced to the figures the report shows (median of --repeat runs). */
import type { Group, Sample, Workload } from './catalog.js';

export interface WorkloadResult {
  name: string;
  group: Group;
  description: string;
  basis: 'process' | 'work';
  model: string | null;
  threads: number;
  rows: number | null;
  /** rows / median(wall) for basis "process", rows / median(work section) for "work". */
  rowsPerSecond: number | null;
  wallSeconds: number | null;
  workSeconds: number | null;
  peakRssMB: number | null;
  cpuSeconds: number | null;
  /** Most cores other processes kept busy during any sample (see cpu-load.ts). */
  backgroundCores: number | null;
  samples: Sample[];
  error: string | null;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(w: Workload, samples: Sample[], error: string | null): WorkloadResult {
  const ok = samples.length > 0;
  const wallMs = median(samples.map((s) => s.wallMs));
  const workMs = median(samples.map((s) => s.workMs));
  const rows = ok ? samples[0]!.rows : null;
  const cpu = samples.map((s) => s.cpuMs).filter((x): x is number => x !== null);
  const background = samples.map((s) => s.backgroundCores).filter((x): x is number => x !== null);
  return {
    name: w.name,
    group: w.group,
    description: w.description,
    basis: w.basis,
    model: w.model ?? null,
    threads: w.threads,
    rows,
    rowsPerSecond: ok && rows !== null ? rows / ((w.basis === 'process' ? wallMs : workMs) / 1000) : null,
    wallSeconds: ok ? wallMs / 1000 : null,
    workSeconds: ok ? workMs / 1000 : null,
    peakRssMB: ok ? median(samples.map((s) => s.maxRssKB)) / 1024 : null,
    cpuSeconds: cpu.length ? median(cpu) / 1000 : null,
    backgroundCores: background.length ? Math.max(...background) : null,
    samples,
    error,
  };
}
