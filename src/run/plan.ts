/**
 * Planning: from a listing of the input dataset to partitions and per-file tasks. Pure: the
 * caller lists the store and passes the objects in.
 */

/** An input object as listed (what `ObjectStore.list` yields). */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly mtime: Date;
}

/** Which partitions a run covers. */
export type PartitionSelection =
  | { readonly kind: 'all' }
  | { readonly kind: 'range'; readonly from: string; readonly to: string }
  | { readonly kind: 'values'; readonly values: readonly string[] };

export interface PlannedFile {
  /** Input key in the input store. */
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly mtime: string;
  /** Output file name inside the partition folder: `part-<stem>.parquet` (`<stem>.parquet` if the stem already starts with `part-`). */
  readonly outputName: string;
}

export interface PlannedPartition {
  /** Decoded partition value (`2026-11-01`), or `null` for an unpartitioned dataset. */
  readonly value: string | null;
  /** Folder name relative to the dataset root (`dt=2026-11-01`), `''` when unpartitioned. */
  readonly dir: string;
  readonly files: readonly PlannedFile[];
}

/** The input dataset or the selection cannot be planned. */
export class PlanError extends Error {
  constructor(message: string) {
    super(`plan: ${message}`);
    this.name = 'PlanError';
  }
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Validate a `--from`/`--to` date (YYYY-MM-DD, a real calendar day). */
export function checkDate(value: string, option: string): string {
  const d = new Date(`${value}T00:00:00Z`);
  if (!DATE_RE.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new PlanError(`${option} expects a date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  return value;
}

function selected(value: string, selection: PartitionSelection): boolean {
  switch (selection.kind) {
    case 'all': return true;
    case 'values': return selection.values.includes(value);
    // Hive date partitions sort as strings; a value with a time part (2026-11-01T00) still
    // falls inside its day.
    case 'range': return value.slice(0, 10) >= selection.from && value.slice(0, 10) <= selection.to;
  }
}

/** A selection as the options that make it, for messages. */
function describeSelection(selection: PartitionSelection): string {
  switch (selection.kind) {
    case 'all': return 'all partitions';
    case 'values': return selection.values.map((v) => `--partition ${JSON.stringify(v)}`).join(' ');
    case 'range': return `--from ${selection.from} --to ${selection.to}`;
  }
}

function hidden(segment: string): boolean {
  return segment.startsWith('_') || segment.startsWith('.');
}

/**
 * Group listed objects into partitions and output names.
 * @param objects every object under the dataset root
 * @param root the dataset root key (prefix of every object key)
 * @param partitionKey the Hive partition column, or undefined for one unpartitioned dataset
 * @param selection must be `all` when `partitionKey` is undefined
 * @throws PlanError on a selection without a partition key, a `values` selection naming a
 *   partition without Parquet files, bad URL encoding, or two files with the same output name
 */
export function planPartitions(
  objects: readonly ListedObject[],
  root: string,
  partitionKey: string | undefined,
  selection: PartitionSelection,
): PlannedPartition[] {
  if (!partitionKey && selection.kind !== 'all') {
    // Without a key there are no partition values to compare, and ignoring the selection
    // would silently score the whole input.
    throw new PlanError(
      `the job has no input.partitionKey, so --partition/--from/--to cannot select partitions, got ${describeSelection(selection)}; ` +
        `without a key the whole input under ${root || '(bucket root)'} is one partition: run it without a selection, or set input.partitionKey`,
    );
  }
  // A dataset at the root of a bucket has root '' and no prefix at all.
  const prefix = root === '' || root.endsWith('/') ? root : `${root}/`;
  const byDir = new Map<string, { value: string | null; files: PlannedFile[] }>();
  for (const obj of objects) {
    if (!obj.key.startsWith(prefix) || !obj.key.endsWith('.parquet')) continue;
    const segments = obj.key.slice(prefix.length).split('/');
    if (segments.some(hidden)) continue; // _SUCCESS, _temporary/, .crc: writers' side files
    let dir = '';
    let value: string | null = null;
    let rest = segments;
    if (partitionKey) {
      const first = segments[0]!;
      if (segments.length < 2 || !first.startsWith(`${partitionKey}=`)) continue;
      dir = first;
      try {
        value = decodeURIComponent(first.slice(partitionKey.length + 1));
      } catch {
        throw new PlanError(`partition folder ${JSON.stringify(first)} under ${root || '(bucket root)'} is not valid URL encoding`);
      }
      rest = segments.slice(1);
      if (!selected(value, selection)) continue;
    }
    // Files in nested folders keep their folder in the output name so names stay unique.
    const stem = rest.join('-').replace(/\.parquet$/, '');
    const outputName = stem.startsWith('part-') ? `${stem}.parquet` : `part-${stem}.parquet`;
    const entry = byDir.get(dir) ?? { value, files: [] };
    entry.files.push({ key: obj.key, size: obj.size, etag: obj.etag, mtime: obj.mtime.toISOString(), outputName });
    byDir.set(dir, entry);
  }
  if (selection.kind === 'values') {
    const found = new Set([...byDir.values()].map((p) => p.value));
    const missing = selection.values.filter((v) => !found.has(v));
    if (missing.length) throw new PlanError(`no Parquet files for ${partitionKey}=${missing.join(', ')} under ${root}`);
  }
  const partitions = [...byDir.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([dir, p]) => {
      const files = p.files.sort((a, b) => (a.key < b.key ? -1 : 1));
      const names = new Set<string>();
      for (const f of files) {
        if (names.has(f.outputName)) throw new PlanError(`two input files map to ${dir}/${f.outputName}; rename one`);
        names.add(f.outputName);
      }
      return { value: p.value, dir, files };
    });
  return partitions;
}
