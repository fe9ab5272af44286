/**
 * Prometheus metrics of scoring runs, on a prom-client Registry with the process_* and
 * nodejs_* default metrics. Names follow the conventions: counters end in `_total`,
 * durations are `_seconds`, ratios `_ratio`; one registry per process, exposed by whoever
 * serves `/metrics` (or pushed to a Pushgateway by a batch job).
 *
 * Drift gauges carry `job`, `column` and `slice` labels (`(all)` for the whole data). Only
 * the most severe slices get series (`maxSliceSeries`), and a run's series replace the
 * previous run's, so a dropped column does not leave a stale gauge behind.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DriftReport } from './drift.js';
import { severityRank } from './thresholds.js';

/** Status of a finished run: its drift status, or failed. */
export type RunStatus = 'ok' | 'warn' | 'alert' | 'failed';

const RUN_STATUSES: readonly RunStatus[] = ['ok', 'warn', 'alert', 'failed'];
/** Label value of the whole data in drift gauges. */
export const ALL_SLICES = '(all)';

/** Options of `createMonitorMetrics`. */
export interface MonitorMetricsOptions {
  /** Registry to register on; default a new one. */
  registry?: Registry;
  /** Metric name prefix; default `batchscore_`. */
  prefix?: string;
  /** Register process_* and nodejs_* metrics; default true. */
  defaultMetrics?: boolean;
  /** Slices (most severe first) that get drift series; default 20. */
  maxSliceSeries?: number;
}

/** A finished run as the metrics see it. */
export interface RunRecord {
  status: RunStatus;
  rows: number;
  seconds: number;
  finishedAt: Date;
  drift?: DriftReport | null;
}

/** Recording functions over one registry. */
export interface MonitorMetrics {
  readonly registry: Registry;
  /** One input file scored (`outcome`: `ok` or `failed`). */
  recordFile(job: string, file: { rows: number; seconds: number; outcome: string }): void;
  /** One partition finished (`outcome`: e.g. `published`, `failed`, `skipped`). */
  recordPartition(job: string, partition: { outcome: string; seconds: number }): void;
  /** Current scoring throughput. */
  setRowsPerSecond(job: string, rowsPerSecond: number): void;
  /** Jobs per state of a queue (`waiting`, `active`, `delayed`, `failed`, …). */
  setQueueDepth(queue: string, depthByState: Readonly<Record<string, number>>): void;
  /** A run finished: status, size, duration and (when monitored) its drift figures. */
  recordRun(job: string, run: RunRecord): void;
  /** The exposition text. */
  metrics(): Promise<string>;
  /** Content-Type header of `metrics()`. */
  readonly contentType: string;
}

/** Register the batchscore metrics (and the defaults) and return functions to record. */
export function createMonitorMetrics(options: MonitorMetricsOptions = {}): MonitorMetrics {
  const registry = options.registry ?? new Registry();
  const p = options.prefix ?? 'batchscore_';
  const maxSliceSeries = options.maxSliceSeries ?? 20;
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const rows = new Counter({ name: `${p}rows_scored_total`, help: 'Rows scored.', labelNames: ['job'], registers });
  const files = new Counter({ name: `${p}files_total`, help: 'Input files processed, by outcome.', labelNames: ['job', 'outcome'], registers });
  const partitions = new Counter({ name: `${p}partitions_total`, help: 'Partitions finished, by outcome.', labelNames: ['job', 'outcome'], registers });
  const fileDuration = new Histogram({
    name: `${p}file_duration_seconds`, help: 'Time to score one input file.', labelNames: ['job'], registers,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
  });
  const partitionDuration = new Histogram({
    name: `${p}partition_duration_seconds`, help: 'Time to score and publish one partition.', labelNames: ['job'], registers,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
  });
  const rate = new Gauge({ name: `${p}rows_per_second`, help: 'Scoring throughput in rows per second.', labelNames: ['job'], registers });
  const queueDepth = new Gauge({ name: `${p}queue_depth`, help: 'Jobs in the queue, by state.', labelNames: ['queue', 'state'], registers });
  const lastStatus = new Gauge({
    name: `${p}last_run_status`, help: 'Status of the last finished run: 1 for its status, 0 for the others.',
    labelNames: ['job', 'status'], registers,
  });
  const lastSeverity = new Gauge({ name: `${p}last_run_severity`, help: 'Drift severity of the last run: 0 ok, 1 warn, 2 alert.', labelNames: ['job'], registers });
  const lastRows = new Gauge({ name: `${p}last_run_rows`, help: 'Rows scored by the last finished run.', labelNames: ['job'], registers });
  const lastDuration = new Gauge({ name: `${p}last_run_duration_seconds`, help: 'Duration of the last finished run.', labelNames: ['job'], registers });
  const lastTime = new Gauge({ name: `${p}last_run_timestamp_seconds`, help: 'Unix time the last run finished.', labelNames: ['job'], registers });
  const driftLabels = ['job', 'column', 'slice'] as const;
  const drift = {
    psi: new Gauge({ name: `${p}drift_psi`, help: 'Population stability index vs the reference.', labelNames: driftLabels, registers }),
    ks: new Gauge({ name: `${p}drift_ks`, help: 'Kolmogorov-Smirnov statistic vs the reference.', labelNames: driftLabels, registers }),
    js: new Gauge({ name: `${p}drift_js_distance`, help: 'Jensen-Shannon distance (base 2) vs the reference.', labelNames: driftLabels, registers }),
    missing: new Gauge({ name: `${p}drift_missing_rate_change`, help: 'Missing-value rate minus the reference rate.', labelNames: driftLabels, registers }),
    range: new Gauge({ name: `${p}drift_out_of_range_ratio`, help: 'Share of values outside the reference range.', labelNames: driftLabels, registers }),
    severity: new Gauge({ name: `${p}drift_severity`, help: 'Column drift severity: 0 ok, 1 warn, 2 alert.', labelNames: driftLabels, registers }),
  };
  // Label sets of each job's drift series, removed when the job's next run replaces them.
  const driftSeries = new Map<string, Array<Record<(typeof driftLabels)[number], string>>>();

  const setDrift = (job: string, report: DriftReport): void => {
    for (const labels of driftSeries.get(job) ?? []) for (const g of Object.values(drift)) g.remove(labels);
    const series: Array<Record<(typeof driftLabels)[number], string>> = [];
    const put = (slice: string, columns: DriftReport['columns']) => {
      for (const c of columns) {
        const labels = { job, column: c.column, slice };
        series.push(labels);
        if (c.psi !== null) drift.psi.set(labels, c.psi);
        if (c.ks !== null) drift.ks.set(labels, c.ks);
        if (c.js !== null) drift.js.set(labels, c.js);
        drift.missing.set(labels, c.missingRate.change);
        if (c.outOfRange !== null) drift.range.set(labels, c.outOfRange);
        drift.severity.set(labels, severityRank(c.severity));
      }
    };
    put(ALL_SLICES, report.columns);
    for (const s of report.slices.slice(0, maxSliceSeries)) put(s.value, s.columns);
    driftSeries.set(job, series);
  };

  return {
    registry,
    contentType: registry.contentType,
    recordFile(job, file) {
      files.inc({ job, outcome: file.outcome });
      if (file.rows > 0) rows.inc({ job }, file.rows);
      fileDuration.observe({ job }, file.seconds);
    },
    recordPartition(job, partition) {
      partitions.inc({ job, outcome: partition.outcome });
      partitionDuration.observe({ job }, partition.seconds);
    },
    setRowsPerSecond(job, rowsPerSecond) {
      rate.set({ job }, rowsPerSecond);
    },
    setQueueDepth(queue, depthByState) {
      for (const [state, n] of Object.entries(depthByState)) queueDepth.set({ queue, state }, n);
    },
    recordRun(job, run) {
      for (const s of RUN_STATUSES) lastStatus.set({ job, status: s }, s === run.status ? 1 : 0);
      lastRows.set({ job }, run.rows);
      lastDuration.set({ job }, run.seconds);
      lastTime.set({ job }, run.finishedAt.getTime() / 1000);
      if (run.seconds > 0) rate.set({ job }, run.rows / run.seconds);
      if (run.drift) {
        lastSeverity.set({ job }, severityRank(run.drift.status));
        setDrift(job, run.drift);
      }
    },
    metrics: () => registry.metrics(),
  };
}
