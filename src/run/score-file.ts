import type * as A from 'apache-arrow';
import { arrow } from '../parquet/arrow.js';
import type { ParquetReader, RowGroupView } from '../parquet/parquet-reader.js';
import { checkSchema, featureColumn } from '../parquet/arrow-columns.js';
import type { FeatureBinding } from '../scoring/binding.js';
import { fillMatrix, FeatureValueError, type FillPolicy, type RowCopier } from '../scoring/feature-matrix.js';
import type { WasmRowCopier } from '../scoring/wasm-fill.js';
import { PredictionBuffer, type OutputTensor, type PredictionColumn } from '../scoring/predictions.js';
import type { FeatureColumn } from '../scoring/columns.js';
import { faultPoint } from './fault-point.js';
import { badRowLimit, BadRowTally, describeBadRow, fillTolerating, type BadRowCount } from '../scoring/bad-rows.js';
import { emptyDatasetProfile, profileBatch, type DatasetProfile } from '../monitor/profile-set.js';

/** One model input for one batch. */
export interface FeedTensor {
  readonly type: 'float32' | 'float64';
  readonly data: Float32Array | Float64Array;
  readonly dims: readonly number[];
}

/** Runs the model on one batch. The ONNX session lives behind this function. */
export type InferFn = (feeds: Record<string, FeedTensor>) => Promise<Record<string, OutputTensor>>;

/**
 * Receives each scored row group, in the order scored. The table's buffers are views (into
 * parquet-wasm memory and reused prediction buffers): the sink must read (copy) them
 * synchronously, before its first `await` (`ParquetStreamWriter.write` copies the table
 * first thing), and must not keep them: the row group is released as soon as the sink has
 * been called, before its promise settles, so that decoding and encoding never hold WASM
 * memory at the same time.
 */
export type RowGroupSink = (table: A.Table, rowGroup: number) => Promise<void>;

/**
 * Buffers reused from batch to batch, row group to row group and file to file (one set per
 * thread): fresh memory costs page faults here (~3 ms per MB).
 */
export class ScoreBuffers {
  private f32 = new Float32Array(0);
  private f64 = new Float64Array(0);
  private readonly perFeature: (Float32Array | Float64Array)[] = [];
  private readonly predictions = new Map<string, PredictionBuffer>();
  private wasm: WasmRowCopier | null = null;

  /**
   * Fill float32 matrices with `copier`'s SIMD kernel, in the WebAssembly memory the
   * decoded columns live in (see wasm-fill.ts): `matrix` then hands out views of that memory.
   */
  useWasmCopier(copier: WasmRowCopier | null): void {
    this.wasm = copier;
  }

  /** The faster row copy for `fillMatrix`, if there is one. */
  get copyRows(): RowCopier | undefined {
    return this.wasm?.copyRows;
  }

  /**
   * A float buffer of at least `n` values (the same memory on every call of one type). With a
   * WebAssembly copier, a float32 one is a view of that memory: take it again after anything
   * that may call into the decoder (an await), and before taking views of the columns.
   */
  matrix(type: 'float32' | 'float64', n: number): Float32Array | Float64Array {
    if (type === 'float64') {
      if (this.f64.length < n) this.f64 = new Float64Array(n);
      return this.f64;
    }
    const inHost = this.wasm?.matrix(n);
    if (inHost) return inHost;
    if (this.f32.length < n) this.f32 = new Float32Array(n);
    return this.f32;
  }

  /** Buffer `j` of a per-feature binding, at least `n` values. */
  feature(j: number, type: 'float32' | 'float64', n: number): Float32Array | Float64Array {
    let b = this.perFeature[j];
    if (!b || b.length < n || (type === 'float64') !== b instanceof Float64Array) {
      b = type === 'float64' ? new Float64Array(n) : new Float32Array(n);
      this.perFeature[j] = b;
    }
    return b;
  }

  /** A prediction buffer for `rows` rows of these outputs. */
  predictionBuffer(outputNames: readonly string[], rows: number): PredictionBuffer {
    const key = JSON.stringify(outputNames);
    let p = this.predictions.get(key);
    if (!p) {
      p = new PredictionBuffer(outputNames, rows);
      this.predictions.clear();
      this.predictions.set(key, p);
    } else {
      p.reset(rows);
    }
    return p;
  }
}

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
  /**
   * Which row groups to score: returns the next index, or undefined when done (e.g. from a
   * counter shared with other threads scoring the same file). Indices must increase from
   * call to call. Default: every row group in order.
   */
  readonly nextRowGroup?: () => number | undefined;
  /** Where scored row groups go. Absent: they are copied and returned as `table`. */
  readonly sink?: RowGroupSink;
  /** Buffers to reuse (one set per thread); absent: allocated for this call. */
  readonly buffers?: ScoreBuffers;
  /**
   * Share of the file's rows that may be refused by the policy (spec `maxBadRowsFraction`):
   * such rows get null predictions. Default 0: the first refused row fails the file.
   */
  readonly maxBadRowsFraction?: number;
}

export interface ScoreFileResult {
  /**
   * Without a sink: passthrough + prediction columns, one record batch per input row group;
   * null for a 0-row file. With a sink: null.
   */
  readonly table: A.Table | null;
  readonly rows: number;
  /** Row groups scored, in order (0-row groups are skipped). */
  readonly rowGroups: readonly number[];
  readonly decodeMs: number;
  readonly inferMs: number;
  /** Column profiles of this file when asked for. */
  readonly profile: DatasetProfile | null;
  /** Rows refused by the policy and written with null predictions (`maxBadRowsFraction`). */
  readonly badRows: BadRowCount;
}

/**
 * A feature value refused by the policy, located in its file; or, with `maxBadRowsFraction`,
 * more refused rows than the file may have.
 */
export class BadRowError extends Error {
  constructor(readonly uri: string, message: string) {
    super(`data: ${uri}: ${message}`);
    this.name = 'BadRowError';
  }

  /** The first refused value of a file that tolerates none. */
  static at(uri: string, feature: FeatureValueError, fileRow: number): BadRowError {
    return new BadRowError(uri, `column "${feature.column}" is ${feature.kind} at row ${fileRow} (${feature.hint})`);
  }

  /** More refused rows than `maxBadRowsFraction` allows (`counted`: so far, or in all parts). */
  static tooMany(uri: string, maxFraction: number, fileRows: number, counted: BadRowCount): BadRowError {
    const limit = badRowLimit(maxFraction, fileRows);
    return new BadRowError(
      uri,
      `more than ${limit} of ${fileRows} rows refused (maxBadRowsFraction ${maxFraction}; ${counted.count} found before stopping); first: ${counted.samples.map(describeBadRow).join(', ')}`,
    );
  }
}

/** A prediction column as an Arrow vector: a view of the buffer, or a copy. */
function predictionVector(col: PredictionColumn, copy: boolean): A.Vector {
  const v = col.values;
  const present = (i: number) => !col.validity || (col.validity[i >> 3]! & (1 << (i & 7))) !== 0;
  if (Array.isArray(v)) return arrow.vectorFromArray(v.map((x, i) => (present(i) ? x : null)), new arrow.Utf8());
  if (col.type === 'bool') return arrow.vectorFromArray(Array.from(v as Uint8Array, (x, i) => (present(i) ? x !== 0 : null)), new arrow.Bool());
  const values = copy ? (v as Float32Array).slice() : (v as Float32Array);
  if (!col.validity) return arrow.makeVector(values);
  const props = { length: values.length, nullCount: col.nullCount ?? 0, nullBitmap: copy ? col.validity.slice() : col.validity };
  switch (col.type) {
    case 'float32': return arrow.makeVector(arrow.makeData({ ...props, type: new arrow.Float32(), data: values }));
    case 'float64': return arrow.makeVector(arrow.makeData({ ...props, type: new arrow.Float64(), data: values as unknown as Float64Array }));
    case 'int32': return arrow.makeVector(arrow.makeData({ ...props, type: new arrow.Int32(), data: values as unknown as Int32Array }));
    case 'int64': return arrow.makeVector(arrow.makeData({ ...props, type: new arrow.Int64(), data: values as unknown as BigInt64Array }));
    default: throw new Error(`prediction column type ${col.type}: no nullable vector`);
  }
}

/** A row group read as a table (readers without `readRowGroupView`, e.g. wrappers). */
function tableView(index: number, table: A.Table, uri: string): RowGroupView {
  return {
    index,
    numRows: table.numRows,
    featureColumn: (name) => featureColumn(table, name, uri),
    table: () => table,
    vector: (name) => table.getChild(name)!,
    copyVector: (name) => table.getChild(name)!,
    release: () => {},
  };
}

/**
 * Score rows of one Parquet file, row group by row group, handing each scored row group to
 * the sink (or collecting them). Never materialises row objects: features go from the
 * decoded column buffers (read in place in WASM memory) to a row-major tensor directly.
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
  const buffers = options.buffers ?? new ScoreBuffers();
  const perFeature = binding.kind === 'per-feature' ? binding.inputs.map((input, j) => buffers.feature(j, input.type, batchSize)) : [];
  const firstRows: number[] = [];
  for (let g = 0, row = 0; g < reader.rowGroupRows.length; g++) {
    firstRows.push(row);
    row += reader.rowGroupRows[g]!;
  }
  const fileRows = reader.rowGroupRows.reduce((a, b) => a + b, 0);
  const tally = options.maxBadRowsFraction ? new BadRowTally(options.maxBadRowsFraction, fileRows) : null;
  // Failpoints (crash tests) are set before the process starts: look once, not per batch.
  const faults = process.env.BATCHSCORE_FAULT_POINT !== undefined;
  let nextInOrder = 0;
  const next = options.nextRowGroup ?? (() => (nextInOrder < reader.rowGroupRows.length ? nextInOrder++ : undefined));

  const batches: A.RecordBatch[] = [];
  const scored: number[] = [];
  let decodeMs = 0;
  let inferMs = 0;
  let rowsDone = 0;
  for (let g = next(); g !== undefined; g = next()) {
    const rows = reader.rowGroupRows[g];
    if (rows === undefined) throw new RangeError(`scoreFile: ${reader.uri} has no row group ${g}`);
    if (rows === 0) continue;
    let t0 = performance.now();
    const view = reader.readRowGroupView
      ? await reader.readRowGroupView(g, columnsToRead)
      : tableView(g, await reader.readRowGroup(g, columnsToRead), reader.uri);
    try {
      decodeMs += performance.now() - t0;
      if (faults) faultPoint('read');
      const predictions = buffers.predictionBuffer(options.outputNames, rows);
      for (let start = 0; start < rows; start += batchSize) {
        const n = Math.min(batchSize, rows - start);
        const feeds: Record<string, FeedTensor> = {};
        // The matrix and the columns are fetched again after every await, in this order: a
        // view is valid until the next call into parquet-wasm (which may grow its memory),
        // and taking a bigger matrix in that memory may grow it too.
        const matrix = binding.kind === 'matrix' ? buffers.matrix(binding.type, batchSize * width) : null;
        const cols: FeatureColumn[] = features.map((name) => view.featureColumn(name));
        // Rows [offset, offset + count) of this batch into the model's input buffers.
        const fill = (offset: number, count: number): void => {
          if (binding.kind === 'matrix') {
            fillMatrix(cols, start + offset, count, matrix!.subarray(offset * width, (offset + count) * width), policy, width, buffers.copyRows);
          } else {
            for (let j = 0; j < binding.inputs.length; j++) {
              fillMatrix([cols[j]!], start + offset, count, perFeature[j]!.subarray(offset, offset + count), { nullValue: [policy.nullValue[j]], nonFinite: policy.nonFinite, nulls: policy.nulls }, 1);
            }
          }
        };
        let badOffsets: number[] = [];
        try {
          fill(0, n);
        } catch (err) {
          if (!(err instanceof FeatureValueError)) throw err;
          if (!tally) throw BadRowError.at(reader.uri, err, firstRows[g]! + err.row);
          // Tolerated: this batch again row by row; refused rows get zeros in, nulls out.
          badOffsets = fillTolerating(fill, n, (i, e) => {
            if (binding.kind === 'matrix') matrix!.fill(0, i * width, (i + 1) * width);
            else for (const b of perFeature) b[i] = 0;
            if (!tally.add(firstRows[g]! + e.row, e)) throw BadRowError.tooMany(reader.uri, tally.maxFraction, fileRows, tally);
          });
        }
        if (binding.kind === 'matrix') {
          feeds[binding.input] = { type: binding.type, data: matrix!.subarray(0, n * width), dims: [n, width] };
        } else {
          binding.inputs.forEach((input, j) => {
            feeds[input.name] = { type: input.type, data: perFeature[j]!.subarray(0, n), dims: [n, 1] };
          });
        }
        t0 = performance.now();
        const results = await infer(feeds);
        inferMs += performance.now() - t0;
        predictions.write(start, n, results);
        for (const i of badOffsets) predictions.setNull(start + i);
        if (faults) faultPoint('score');
      }
      const predicted = predictions.columns();
      if (profile) {
        // Same batches, no second read: profiles come from the decoded columns and predictions.
        // Loaded on demand: it imports apache-arrow's ESM tree, which scoring threads avoid.
        const { monitorColumnsForRowGroup } = await import('../monitor/arrow-input.js');
        const extra = sliceBy ? [sliceBy] : [];
        profileBatch(profile, rows, monitorColumnsForRowGroup(view.table(), features, options.passthrough, predicted, { extra, ignore: options.profile!.ignore }));
      }
      const copy = options.sink === undefined;
      const children: Record<string, A.Vector> = {};
      for (const name of options.passthrough) children[name] = copy ? view.copyVector(name) : view.vector(name);
      for (const col of predicted) {
        if (col.name in children) throw new Error(`output column "${col.name}" collides with a passthrough column; rename it`);
        children[col.name] = predictionVector(col, copy);
      }
      const table = new arrow.Table(children);
      if (options.sink) {
        const written = options.sink(table, g);
        view.release();
        await written;
      } else {
        batches.push(...table.batches);
      }
    } finally {
      view.release();
    }
    scored.push(g);
    rowsDone += rows;
  }
  const badRows = tally ? { count: tally.count, samples: tally.samples } : { count: 0, samples: [] };
  return { table: batches.length ? new arrow.Table(batches) : null, rows: rowsDone, rowGroups: scored, decodeMs, inferMs, profile, badRows };
}
