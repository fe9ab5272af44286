import { checkDate, PlanError, type PartitionSelection } from '../run/plan.js';
import type { JobSpec } from '../spec/job-spec.js';
import { UsageError } from './usage-error.js';

/** Partition selection from `--from/--to` (dates, inclusive) or repeated `--partition`. */
export function selectionFromArgs(values: { from?: string; to?: string; partition?: string[] }): PartitionSelection {
  const { from, to, partition } = values;
  if (partition && partition.length > 0) {
    if (from || to) throw new UsageError('use either --partition or --from/--to, not both');
    return { kind: 'values', values: partition };
  }
  if (!from && !to) return { kind: 'all' };
  if (!from || !to) throw new UsageError(`--from and --to go together (got ${from ? `--from ${from}` : `--to ${to}`})`);
  try {
    checkDate(from, '--from');
    checkDate(to, '--to');
  } catch (err) {
    if (err instanceof PlanError) throw new UsageError(err.message.replace(/^plan: /, ''));
    throw err;
  }
  if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  return { kind: 'range', from, to };
}

/**
 * A selection by partition needs partitions: refuse it (bad usage, exit 2) for a job whose
 * input has no `partitionKey` instead of failing the run it would start.
 */
export function checkSelectionFits(spec: JobSpec, selection: PartitionSelection): void {
  if (selection.kind === 'all' || spec.input.partitionKey !== undefined) return;
  const given = selection.kind === 'values' ? selection.values.map((v) => `--partition ${v}`).join(' ') : `--from ${selection.from} --to ${selection.to}`;
  throw new UsageError(
    `job "${spec.name}" has no input.partitionKey, so ${given} selects nothing: its whole input is one partition; run it without a selection, or set input.partitionKey`,
  );
}
