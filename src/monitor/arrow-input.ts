/**
 * Views of the columns the score thread already holds (Arrow vectors of a row group,
 * feature columns, prediction columns) as monitor columns, without copying values: the
 * profile reads Arrow's own buffers. Only booleans are copied (bit-packed → one byte each).
 */
import * as arrow from 'apache-arrow';
import type { ColumnChunk, FeatureColumn, NumericValues } from '../scoring/columns.js';
import type { PredictionColumn } from '../scoring/predictions.js';
import type { ColumnRole, MonitorChunk, MonitorColumn } from './profile-set.js';

function isNumericArray(v: unknown): v is NumericValues {
  return v instanceof Float32Array || v instanceof Float64Array || v instanceof Int8Array || v instanceof Int16Array
    || v instanceof Int32Array || v instanceof Uint8Array || v instanceof Uint16Array || v instanceof Uint32Array
    || v instanceof BigInt64Array || v instanceof BigUint64Array;
}

function boolChunk(d: arrow.Data): ColumnChunk {
  const bits = d.values as Uint8Array;
  const values = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const bit = d.offset + i;
    values[i] = (bits[bit >> 3]! >> (bit & 7)) & 1;
  }
  return { values, nullBitmap: d.nullBitmap, offset: d.offset, length: d.length, nullCount: d.nullCount };
}

function dictionaryStrings(dictionary: arrow.Vector | undefined): (string | null)[] {
  if (!dictionary) return [];
  return Array.from(dictionary, (v: unknown) => (v === null || v === undefined ? null : String(v)));
}

// One Arrow Data chunk as a monitor chunk; null for types the monitor does not profile.
function chunkOf(d: arrow.Data): MonitorChunk | null {
  const type = d.type;
  if (arrow.DataType.isBool(type)) return { kind: 'numeric', chunk: boolChunk(d) };
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type)) {
    return {
      kind: 'utf8', data: d.values as Uint8Array, valueOffsets: d.valueOffsets as Int32Array | BigInt64Array,
      nullBitmap: d.nullBitmap, offset: d.offset, length: d.length, nullCount: d.nullCount,
    };
  }
  if (arrow.DataType.isDictionary(type)) {
    const indices: ColumnChunk = { values: d.values as NumericValues, nullBitmap: d.nullBitmap, offset: d.offset, length: d.length, nullCount: d.nullCount };
    return { kind: 'dictionary', indices, dictionary: dictionaryStrings(d.dictionary) };
  }
  if (arrow.DataType.isFloat(type) && type.precision === arrow.Precision.HALF) return null;
  const numeric = arrow.DataType.isFloat(type) || arrow.DataType.isInt(type)
    || arrow.DataType.isDate(type) || arrow.DataType.isTimestamp(type) || arrow.DataType.isTime(type);
  // Numeric-like types whose values are one element per row (not e.g. 64-bit as 2×int32).
  if (numeric && d.stride === 1 && isNumericArray(d.values) && d.values.length >= d.length) {
    return { kind: 'numeric', chunk: { values: d.values, nullBitmap: d.nullBitmap, offset: d.offset, length: d.length, nullCount: d.nullCount } };
  }
  return null;
}

/**
 * The type a schema check compares: dictionary encoding and large/small string offsets are
 * storage choices of the writer (arrow-rs keeps dictionaries, DuckDB does not), not changes.
 */
export function logicalType(type: arrow.DataType): string {
  if (arrow.DataType.isDictionary(type)) return logicalType(type.dictionary);
  if (arrow.DataType.isLargeUtf8(type)) return 'Utf8';
  return String(type);
}

/**
 * An Arrow vector (e.g. `table.getChild(name)` of a row group) as a monitor column; null
 * when its type is not profiled (structs, lists, binary, float16, decimals).
 */
export function monitorColumnFromVector(name: string, role: ColumnRole, vector: arrow.Vector): MonitorColumn | null {
  const chunks: MonitorChunk[] = [];
  for (const d of vector.data) {
    const c = chunkOf(d);
    if (!c) return null;
    chunks.push(c);
  }
  return { name, role, type: logicalType(vector.type), chunks };
}

/**
 * The named columns of an Arrow table as monitor columns, skipping absent and unprofiled
 * ones (their absence shows up as a schema change against the reference).
 */
export function monitorColumnsFromTable(table: arrow.Table, columns: ReadonlyArray<{ name: string; role: ColumnRole }>): MonitorColumn[] {
  const out: MonitorColumn[] = [];
  for (const { name, role } of columns) {
    const vector = table.getChild(name);
    const col = vector ? monitorColumnFromVector(name, role, vector) : null;
    if (col) out.push(col);
  }
  return out;
}

/** A feature column (scoring/columns.ts) as a numeric monitor column. */
export function monitorColumnFromFeature(column: FeatureColumn, type: string): MonitorColumn {
  return { name: column.name, role: 'feature', type, chunks: column.chunks.map((chunk) => ({ kind: 'numeric', chunk })) };
}

/**
 * A prediction column as a monitor column. `rows` limits it to its first rows (a
 * PredictionBuffer is allocated for a whole row group); strings become categories,
 * booleans 0/1 numbers.
 */
export function monitorColumnFromPrediction(column: PredictionColumn, rows = column.values.length): MonitorColumn {
  const v = column.values;
  const chunk: MonitorChunk = Array.isArray(v)
    ? { kind: 'strings', values: v.slice(0, rows) }
    : {
        kind: 'numeric',
        // Rows without a prediction (tolerated bad rows) are nulls, not the model's output on zeros.
        chunk: { values: (v as NumericValues).subarray(0, rows), nullBitmap: column.validity ?? null, offset: 0, length: rows, nullCount: column.nullCount ?? 0 },
      };
  return { name: column.name, role: 'prediction', type: column.type, chunks: [chunk] };
}

/**
 * Every column of one scored row group: features and passthrough columns from the decoded
 * Arrow table (a feature that is also passed through counts as a feature), and the
 * prediction columns of the same rows. `extra` names further table columns to profile, such
 * as a `sliceBy` column that is neither a feature nor passed through; `ignore` (the spec's
 * `monitoring.ignore`) names columns to leave out.
 */
export function monitorColumnsForRowGroup(
  table: arrow.Table,
  features: readonly string[],
  passthrough: readonly string[],
  predictions: readonly PredictionColumn[],
  options: { extra?: readonly string[]; ignore?: readonly string[] } = {},
): MonitorColumn[] {
  const roles = new Map<string, ColumnRole>();
  for (const name of [...(options.extra ?? []), ...passthrough]) roles.set(name, 'passthrough');
  for (const name of features) roles.set(name, 'feature');
  const ignore = new Set(options.ignore ?? []);
  const wanted = [...roles].filter(([name]) => !ignore.has(name)).map(([name, role]) => ({ name, role }));
  const columns = monitorColumnsFromTable(table, wanted);
  const scored = predictions.filter((p) => !ignore.has(p.name)).map((p) => monitorColumnFromPrediction(p, table.numRows));
  return [...columns, ...scored];
}
