import * as arrow from 'apache-arrow';
import type { ParquetReader } from '../parquet/parquet-reader.js';
import { checkSchema, featureColumn } from '../parquet/arrow-columns.js';
import type { FeatureBinding } from '../scoring/binding.js';
import { fillMatrix, FeatureValueError, type FillPolicy } from '../scoring/feature-matrix.js';
import { PredictionBuffer, type OutputTensor, type PredictionColumn } from '../scoring/predictions.js';
import type { FeatureColumn } from '../scoring/columns.js';
import { faultPoint } from './fault-point.js';
import { emptyDatasetProfile, profileBatch, type DatasetProfile } from '../monitor/profile-set.js';
import { monitorColumnsForRowGroup } from '../monitor/arrow-input.js';

/** One model input for one batch. */
export interface FeedTensor {
  readonly type: 'float32' | 'float64';
  readonly data: Float32Array | Float64Array;
  readonly dims: readonly number[];
}

/** Runs the model on one batch. The ONNX session lives behind this function. */
export type InferFn = (feeds: Record<string, FeedTensor>) => Promise<Record<string, OutputTensor>>;

export interface ScoreFileOptions {
  readonly reader: ParquetReader;
  readonly binding: FeatureBinding;
  readonly policy: FillPolicy;
  readonly passthrough: readonly string[];
  /** Model outputs to keep, in order. */
  readonly outputNames: readonly string[];
  /** Rows per `infer` call. */
  readonly batchSize: number;
  readonly infer: InferFn;
  /** Profile every column from the same batches (monitoring); absent: no profile. */
  readonly profile?: { sliceBy?: string; maxSlices: number; ignore: readonly string[] } | null;
}

export interface ScoreFileResult {
  /** Passthrough + prediction columns, one record batch per input row group; null for a 0-row file. */
  readonly table: arrow.Table | null;
  readonly rows: number;
  readonly decodeMs: number;
  readonly inferMs: number;
  /** Column profiles of this file when asked for. */
  readonly profile: DatasetProfile | null;
}

/** A feature value refused by the policy, located in its file. */
export class BadRowError extends Error {
  constructor(readonly uri: string, readonly feature: FeatureValueError, readonly fileRow: number) {
    super(`data: ${uri}: column "${feature.column}" is ${feature.kind} at row ${fileRow} (${feature.hint})`);
    this.name = 'BadRowError';
  }
}

function predictionVector(col: PredictionColumn): arrow.Vector {
  const v = col.values;
  if (Array.isArray(v)) return arrow.vectorFromArray(v, new arrow.Utf8());
  if (col.type === 'bool') return arrow.vectorFromArray(Array.from(v as Uint8Array, (x) => x !== 0), new arrow.Bool());
  return arrow.makeVector(v as Float32Array);
}

/**
 * Score every row of one Parquet file, row group by row group, and return the output
 * columns. Never materialises row objects: features go column → row-major tensor directly.
 */
export async function scoreFile(options: ScoreFileOptions): Promise<ScoreFileResult> {
  const { reader, binding, policy, batchSize, infer } = options;
  const features = binding.features;
  checkSchema(reader.schema, reader.uri, features, options.passthrough);
  const sliceBy = options.profile?.sliceBy;
  if (sliceBy) checkSchema(reader.schema, reader.uri, [], [sliceBy]);
  const columnsToRead = [...new Set([...options.passthrough, ...features, ...(sliceBy ? [sliceBy] : [])])];
  const profile = options.profile ? emptyDatasetProfile({ ...(sliceBy !== undefined && { sliceBy }), maxSlices: options.profile.maxSlices }) : null;
  const width = binding.kind === 'matrix' ? features.length : 1;
  const Float = binding.kind === 'matrix' ? (binding.type === 'float64' ? Float64Array : Float32Array) : Float32Array;
  // Buffers allocated once per file and reused by every batch (fresh memory costs page faults).
  const matrix = binding.kind === 'matrix' ? new Float(batchSize * width) : null;
  const perFeature = binding.kind === 'per-feature'
    ? binding.inputs.map((i) => (i.type === 'float64' ? new Float64Array(batchSize) : new Float32Array(batchSize)))
    : [];

  const batches: arrow.RecordBatch[] = [];
  let decodeMs = 0;
  let inferMs = 0;
  let fileRow = 0;
  for (let g = 0; g < reader.rowGroupRows.length; g++) {
    const rows = reader.rowGroupRows[g]!;
    if (rows === 0) continue;
    let t0 = performance.now();
    const table = await reader.readRowGroup(g, columnsToRead);
    decodeMs += performance.now() - t0;
    faultPoint('read');
    const cols: FeatureColumn[] = features.map((name) => featureColumn(table, name, reader.uri));
    const predictions = new PredictionBuffer(options.outputNames, rows);
    for (let start = 0; start < rows; start += batchSize) {
      const n = Math.min(batchSize, rows - start);
      const feeds: Record<string, FeedTensor> = {};
      try {
        if (binding.kind === 'matrix') {
          const data = matrix!.subarray(0, n * width);
          fillMatrix(cols, start, n, data, policy);
          feeds[binding.input] = { type: binding.type, data, dims: [n, width] };
        } else {
          binding.inputs.forEach((input, j) => {
            const data = perFeature[j]!.subarray(0, n);
            fillMatrix([cols[j]!], start, n, data, { nullValue: [policy.nullValue[j]], nonFinite: policy.nonFinite }, 1);
            feeds[input.name] = { type: input.type, data, dims: [n, 1] };
          });
        }
      } catch (err) {
        if (err instanceof FeatureValueError) throw new BadRowError(reader.uri, err, fileRow + err.row);
        throw err;
      }
      t0 = performance.now();
      const results = await infer(feeds);
      inferMs += performance.now() - t0;
      predictions.write(start, n, results);
      faultPoint('score');
    }
    if (profile) {
      // Same batches, no second read: profiles come from the decoded columns and predictions.
      const extra = sliceBy ? [sliceBy] : [];
      profileBatch(profile, rows, monitorColumnsForRowGroup(table, features, options.passthrough, predictions.columns(), { extra, ignore: options.profile!.ignore }));
    }
    const children: Record<string, arrow.Vector> = {};
    for (const name of options.passthrough) children[name] = table.getChild(name)!;
    for (const col of predictions.columns()) {
      if (col.name in children) throw new Error(`output column "${col.name}" collides with a passthrough column; rename it`);
      children[col.name] = predictionVector(col);
    }
    batches.push(...new arrow.Table(children).batches);
    fileRow += rows;
  }
  return { table: batches.length ? new arrow.Table(batches) : null, rows: fileRow, decodeMs, inferMs, profile };
}
