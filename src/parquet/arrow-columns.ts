import type * as A from 'apache-arrow';
import { arrow } from './arrow.js';
import type { ColumnChunk, FeatureColumn } from '../scoring/columns.js';

/** A column that is missing or of a type the model cannot take. */
export class ColumnError extends Error {
  constructor(readonly uri: string, readonly column: string, message: string) {
    super(`schema: ${uri}: column "${column}" ${message}`);
    this.name = 'ColumnError';
  }
}

/** Whether an Arrow type can be a model feature (float32/64 and integers up to 64 bits). */
export function isNumericFeatureType(type: A.DataType): boolean {
  if (arrow.DataType.isFloat(type)) return type.precision !== arrow.Precision.HALF;
  return arrow.DataType.isInt(type);
}

/**
 * Check, before reading any data, that every feature column exists and is numeric and that
 * every passthrough column exists. One error names the first problem; the caller adds the
 * file.
 */
export function checkSchema(schema: A.Schema, uri: string, features: readonly string[], passthrough: readonly string[]): void {
  const byName = new Map(schema.fields.map((f) => [f.name, f]));
  // At most 20 names, and a count of the rest: a cut list must not read as the whole file.
  const available = () => {
    const names = [...byName.keys()];
    return names.slice(0, 20).join(', ') + (names.length > 20 ? `, … and ${names.length - 20} more` : '');
  };
  for (const name of features) {
    const field = byName.get(name);
    if (!field) throw new ColumnError(uri, name, `is missing (file has: ${available()})`);
    if (!isNumericFeatureType(field.type)) {
      throw new ColumnError(uri, name, `has type ${field.type}, a feature must be float32, float64 or an integer type`);
    }
  }
  for (const name of passthrough) {
    if (!byName.has(name)) throw new ColumnError(uri, name, `(passthrough) is missing (file has: ${available()})`);
  }
}

/** View an Arrow vector's chunks as a feature column (no copy). */
export function featureColumn(table: A.Table, name: string, uri: string): FeatureColumn {
  const vector = table.getChild(name);
  if (!vector) throw new ColumnError(uri, name, 'is missing');
  if (!isNumericFeatureType(vector.type)) throw new ColumnError(uri, name, `has type ${vector.type}, not numeric`);
  const chunks: ColumnChunk[] = vector.data.map((d) => ({
    values: d.values as ColumnChunk['values'],
    nullBitmap: d.nullBitmap,
    offset: d.offset,
    length: d.length,
    nullCount: d.nullCount,
  }));
  return { name, chunks };
}
