/**
 * A workload's samples reduced to the figures the report shows: the median of the --repeat
 * runs, taken over the quiet samples when there is at least one (a sample measured while
 * other processes kept cores busy is not comparable; see cpu-load.ts).
 */
import type { Group, Sample, Workload } from './catalog.js';
import { NOISY_CORES } from './cpu-load.js';
import type { LatencyStats } from './distributed.js';

export interface WorkloadResult {
  name: string;
  group: Group;
  description: string;
  basis: 'process' | 'work' | 'run';
  model: string | null;
  threads: number;
  rows: number | null;
  /**
   * rows / median(wall) for basis "process", rows / median(work section) for "work" and
   * "run"; null for latency workloads (see `latency`).
   */
  rowsPerSecond: number | null;
  /** Latency workloads: median over samples of each figure (n: all samples' jobs). */
  latency: LatencyStats | null;
  wallSeconds: number | null;
  workSeconds: number | null;
  peakRssMB: number | null;
  cpuSeconds: number | null;
  /** Most cores other processes kept busy during any sample (see cpu-load.ts). */
  backgroundCores: number | null;
  /** Every sample taken, including noisy ones left out of the figures. */
  samples: Sample[];
  /** How many samples the figures come from. */
  samplesUsed: number;
  error: string | null;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(w: Workload, all: Sample[], error: string | null): WorkloadResult {
  const quiet = all.filter((s) => s.backgroundCores !== null && s.backgroundCores <= NOISY_CORES);
  const samples = quiet.length > 0 ? quiet : all;
  const ok = samples.length > 0;
  const wallMs = median(samples.map((s) => s.wallMs));
  const workMs = median(samples.map((s) => s.workMs));
  const rows = ok ? samples[0]!.rows : null;
  const cpu = samples.map((s) => s.cpuMs).filter((x): x is number => x !== null);
  const background = samples.map((s) => s.backgroundCores).filter((x): x is number => x !== null);
  const lat = samples.map((s) => s.latency).filter((x): x is LatencyStats => x !== undefined);
  const latency: LatencyStats | null = lat.length
    ? {
        label: lat[0]!.label,
        n: lat.reduce((n, x) => n + x.n, 0),
        medianMs: median(lat.map((x) => x.medianMs)),
        p95Ms: median(lat.map((x) => x.p95Ms)),
        maxMs: Math.max(...lat.map((x) => x.maxMs)),
      }
    : null;
  return {
    name: w.name,
    group: w.group,
    description: w.description,
    basis: w.basis,
    model: w.model ?? null,
    threads: w.threads,
    rows,
    rowsPerSecond: ok && rows !== null && !latency ? rows / ((w.basis === 'process' ? wallMs : workMs) / 1000) : null,
    latency,
    wallSeconds: ok ? wallMs / 1000 : null,
    workSeconds: ok ? workMs / 1000 : null,
    peakRssMB: ok ? median(samples.map((s) => s.maxRssKB)) / 1024 : null,
    cpuSeconds: cpu.length ? median(cpu) / 1000 : null,
    backgroundCores: background.length ? Math.max(...background) : null,
    samples: all,
    samplesUsed: samples.length,
    error,
  };
}
