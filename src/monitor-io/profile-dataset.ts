/**
 * Reference profile of a dataset nobody scored: training data, or any Parquet file or
 * folder/prefix (local, file://, s3://). Columns are profiled by the same code the score
 * thread uses on a run (monitorColumnFromVector → profileBatch), so the result is the
 * DatasetProfile JSON a run's drift is judged against (`monitoring.reference`).
 *
 * Memory is bounded by one row group of the projected columns plus the profiles: files are
 * read through range reads (footer, then only the column chunks asked for), one row group
 * at a time. Each file gets its own profile, merged into the total as it finishes — the way
 * a run's profile is built from its files — so profiling a folder equals merging the
 * profiles of its files.
 */
import * as arrow from 'apache-arrow';
import { monitorColumnFromVector } from '../monitor/arrow-input.js';
import {
  emptyDatasetProfile,
  mergeDatasetProfiles,
  profileBatch,
  type ColumnRole,
  type DatasetProfile,
  type MonitorColumn,
} from '../monitor/profile-set.js';
import { openParquet, type ParquetReader } from '../parquet/parquet-reader.js';
import type { ObjectStore } from '../storage/object-store.js';
import { openRangeBlob } from '../storage/range-blob.js';
import { resolveUri, type ResolveOptions } from '../storage/resolve.js';

/** One Parquet object of a dataset, with what is needed to range-read it. */
export interface DatasetFile {
  /** Full URI, for messages. */
  uri: string;
  store: ObjectStore;
  key: string;
  size: number;
}

/** Options of `profileDataset`. */
export interface ProfileDatasetOptions {
  /** Columns to profile. Default: every numeric (int, float, bool) and string column of the first file. */
  columns?: readonly string[] | undefined;
  /** Segment column to profile per value of (profiled itself too, as a passthrough column). */
  sliceBy?: string | undefined;
  /** Most slices kept (default 50, as for runs). */
  maxSlices?: number | undefined;
  /** Distinct values kept per string column (default: the monitor's). */
  categoryCap?: number | undefined;
  /** S3 settings / cwd for resolving the URI (default: the environment). */
  resolve?: ResolveOptions | undefined;
  /** Called after each file, for progress display. */
  onFile?: ((event: { uri: string; rows: number; filesDone: number; filesTotal: number }) => void) | undefined;
}

// Writers' side files and folders (_SUCCESS, _temporary/, .crc), skipped as the planner does.
function hidden(segment: string): boolean {
  return segment.startsWith('_') || segment.startsWith('.');
}

/**
 * The Parquet files at `uri`: the object itself when it exists, else every `.parquet` object
 * under it as a folder/prefix (hidden `_`/`.` files and folders skipped), in key order.
 * Empty when there are none; callers say what they were looking for.
 */
export async function listParquetFiles(uri: string, resolve?: ResolveOptions): Promise<DatasetFile[]> {
  const { store, key } = resolveUri(uri, resolve);
  if (key !== '' && !key.endsWith('/')) {
    const head = await store.head(key);
    // An object given by name is taken whatever its extension: the user pointed at it.
    if (head) return [{ uri: store.uri(key), store, key, size: head.size }];
  }
  const prefix = key === '' ? '' : `${key.replace(/\/+$/, '')}/`;
  const files: DatasetFile[] = [];
  for await (const obj of store.list(prefix)) {
    const rel = obj.key.slice(prefix.length);
    if (!rel.endsWith('.parquet') || rel.split('/').some(hidden)) continue;
    files.push({ uri: store.uri(obj.key), store, key: obj.key, size: obj.size });
  }
  return files;
}

/**
 * Whether a column is profiled when no columns are named: integers, floats (not half),
 * booleans, and strings (plain or dictionary-encoded). Timestamps and dates are left out
 * (they grow with time, so they always "drift"); name them with `columns` to include them.
 */
export function profiledByDefault(type: arrow.DataType): boolean {
  if (arrow.DataType.isInt(type) || arrow.DataType.isBool(type)) return true;
  if (arrow.DataType.isFloat(type)) return type.precision !== arrow.Precision.HALF;
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type)) return true;
  if (arrow.DataType.isDictionary(type)) {
    const values = type.dictionary;
    return arrow.DataType.isUtf8(values) || arrow.DataType.isLargeUtf8(values);
  }
  return false;
}

/**
 * Open a stored Parquet file for range reads, run `use`, and release both the reader and
 * the file handle whatever happens.
 */
export async function withParquetFile<T>(file: DatasetFile, use: (reader: ParquetReader) => Promise<T>): Promise<T> {
  const blob = await openRangeBlob(file.store, file.key, { size: file.size });
  try {
    const reader = await openParquet(blob, file.uri);
    try {
      return await use(reader);
    } finally {
      reader.close();
    }
  } finally {
    await blob.close();
  }
}

/** Check that every named column is in the file; the message lists what the file has. */
export function requireColumns(domain: string, schema: arrow.Schema, uri: string, columns: readonly string[]): void {
  const names = new Set(schema.fields.map((f) => f.name));
  for (const c of columns) {
    if (!names.has(c)) {
      // At most 20 names, and a count of the rest: a cut list must not read as the whole file.
      const has = [...names].slice(0, 20).join(', ') + (names.size > 20 ? `, … and ${names.size - 20} more` : '');
      throw new Error(`${domain}: ${uri}: column ${JSON.stringify(c)} is missing (file has: ${has})`);
    }
  }
}

/**
 * Profile of one file's columns (`columns`, default: the file's numeric and string ones,
 * plus the slice column), row group by row group. Returns the columns it profiled.
 */
async function profileFile(
  file: DatasetFile,
  columns: readonly string[] | undefined,
  options: ProfileDatasetOptions,
): Promise<{ profile: DatasetProfile; rows: number; columns: readonly string[] }> {
  const sliceBy = options.sliceBy;
  const profile = emptyDatasetProfile({ sliceBy: sliceBy ?? null, maxSlices: options.maxSlices, categoryCap: options.categoryCap });
  // The slice column is a segment, not a model input: it gets the role a run gives it.
  const roleOf = (name: string): ColumnRole => (name === sliceBy ? 'passthrough' : 'feature');
  let rows = 0;
  let profiled: readonly string[] = [];
  await withParquetFile(file, async (reader) => {
    profiled = columns ?? reader.schema.fields.filter((f) => profiledByDefault(f.type)).map((f) => f.name);
    if (profiled.length === 0) throw new Error(`profile: ${file.uri} has no numeric or string columns; name the columns to profile`);
    const read = [...new Set([...profiled, ...(sliceBy === undefined ? [] : [sliceBy])])];
    requireColumns('profile', reader.schema, file.uri, read);
    for (const [g, n] of reader.rowGroupRows.entries()) {
      if (n === 0) continue;
      const table = await reader.readRowGroup(g, read);
      const batch: MonitorColumn[] = read.map((name) => {
        const vector = table.getChild(name)!;
        const column = monitorColumnFromVector(name, roleOf(name), vector);
        if (!column) throw new Error(`profile: ${file.uri}: column ${JSON.stringify(name)} has type ${String(vector.type)}, which the monitor cannot profile`);
        return column;
      });
      profileBatch(profile, n, batch);
      rows += n;
    }
  });
  return { profile, rows, columns: profiled };
}

/**
 * Profile a Parquet file, or every Parquet file under a folder/prefix, into one
 * DatasetProfile (overall, and per `sliceBy` value when given).
 * @param uri local path, `file://` or `s3://` URI of a file or a folder/prefix
 * @throws Error naming the URI when there are no Parquet files, a column is missing from a
 *   file or has a type the monitor cannot profile; ParquetError for unreadable files
 */
export async function profileDataset(uri: string, options: ProfileDatasetOptions = {}): Promise<DatasetProfile> {
  if (options.columns?.length === 0) throw new Error('profile: columns is empty; omit it to profile every numeric and string column');
  const files = await listParquetFiles(uri, options.resolve);
  if (files.length === 0) throw new Error(`profile: no Parquet files at ${JSON.stringify(uri)}`);
  let columns = options.columns;
  let total = emptyDatasetProfile({ sliceBy: options.sliceBy ?? null, maxSlices: options.maxSlices, categoryCap: options.categoryCap });
  for (const [i, file] of files.entries()) {
    // Default columns come from the first file; every later file must have them too, so a
    // missing column fails loudly instead of leaving a reference with holes.
    const { profile, rows, columns: profiled } = await profileFile(file, columns, options);
    columns = profiled;
    total = mergeDatasetProfiles(total, profile);
    options.onFile?.({ uri: file.uri, rows, filesDone: i + 1, filesTotal: files.length });
  }
  return total;
}
