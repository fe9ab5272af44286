/**
 * Collects model outputs batch by batch into whole-file prediction columns. A `[N]` or
 * `[N,1]` output becomes one column named after the output; `[N,k]` becomes k columns
 * `name_0 .. name_{k-1}`. Integer labels stay integers (int64 stays BigInt64Array).
 */

/** The output tensor of one `session.run`, as ONNX Runtime hands it back. */
export interface OutputTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number | bigint | string | boolean> | Float32Array | Float64Array | BigInt64Array;
}

export type PredictionValues = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | string[];

/** One output column: name, ONNX element type and values for every row of the file. */
export interface PredictionColumn {
  readonly name: string;
  readonly type: 'float32' | 'float64' | 'int32' | 'int64' | 'bool' | 'string';
  readonly values: PredictionValues;
  /**
   * Arrow validity bitmap (bit set = value present) when some rows have no prediction
   * (refused rows tolerated by `maxBadRowsFraction`); absent when every row has one.
   */
  readonly validity?: Uint8Array;
  /** Rows without a prediction (0 when `validity` is absent). */
  readonly nullCount?: number;
}

/** A model output the pipeline cannot turn into columns. */
export class OutputShapeError extends Error {
  constructor(output: string, message: string) {
    super(`model output "${output}": ${message}`);
    this.name = 'OutputShapeError';
  }
}

function allocate(type: PredictionColumn['type'], rows: number): PredictionValues {
  switch (type) {
    case 'float32': return new Float32Array(rows);
    case 'float64': return new Float64Array(rows);
    case 'int32': return new Int32Array(rows);
    case 'int64': return new BigInt64Array(rows);
    case 'bool': return new Uint8Array(rows);
    case 'string': return new Array<string>(rows).fill('');
  }
}

function columnType(ortType: string, output: string): PredictionColumn['type'] {
  switch (ortType) {
    case 'float32': case 'float64': case 'int32': case 'int64': case 'bool': case 'string':
      return ortType;
    case 'float16': case 'int8': case 'uint8': case 'int16': case 'uint16':
      throw new OutputShapeError(output, `element type ${ortType} is not supported; cast it in the model`);
    default:
      throw new OutputShapeError(output, `element type ${ortType} is not supported`);
  }
}

/**
 * Accumulates outputs for `rows` rows. Columns are allocated on the first batch, when the
 * output width is known (ONNX shapes are often symbolic). `reset` reuses the columns for the
 * next row group (fresh memory costs page faults): rows not yet written then hold the
 * previous row group's values until overwritten.
 */
export class PredictionBuffer {
  private readonly columnsByOutput = new Map<string, PredictionColumn[]>();
  private capacity: number;
  private size: number;
  /** Shared by every column: a row is null in all of them or in none. */
  private validity: Uint8Array | null = null;
  private nulls = 0;
  /** No batch written since construction or `reset`: column shapes are not fixed yet. */
  private fresh = true;

  constructor(private readonly outputNames: readonly string[], rows: number) {
    this.capacity = rows;
    this.size = rows;
  }

  /** Rows this buffer holds now. */
  get rows(): number {
    return this.size;
  }

  /**
   * Start over for `rows` rows, keeping the allocated columns when they are large enough.
   * The next batch may have another element type or width (a thread's next file may be
   * scored by another model with the same output names): its columns are then replaced.
   */
  reset(rows: number): void {
    this.validity = null;
    this.nulls = 0;
    this.fresh = true;
    if (rows > this.capacity) {
      this.columnsByOutput.clear();
      this.capacity = rows;
    }
    this.size = rows;
  }

  /** Store one batch of outputs for rows `[rowStart, rowStart + batchRows)`. */
  write(rowStart: number, batchRows: number, results: Readonly<Record<string, OutputTensor>>): void {
    for (const name of this.outputNames) {
      const tensor = results[name];
      if (!tensor) throw new OutputShapeError(name, 'missing from the session results');
      const dims = tensor.dims;
      if (rowStart < 0 || rowStart + batchRows > this.size) {
        throw new RangeError(`PredictionBuffer: rows [${rowStart}, ${rowStart + batchRows}) outside [0, ${this.size})`);
      }
      if (dims[0] !== batchRows || dims.length > 2) {
        throw new OutputShapeError(name, `expected shape [${batchRows}] or [${batchRows},k], got [${dims.join(',')}]`);
      }
      const width = dims.length === 2 ? dims[1]! : 1;
      let cols = this.columnsByOutput.get(name);
      if (cols && this.fresh && (cols[0]!.type !== tensor.type || cols.length !== width || (width === 1) !== (cols[0]!.name === name))) cols = undefined;
      if (!cols) {
        const type = columnType(tensor.type, name);
        cols = width === 1 && dims.length <= 2
          ? [{ name, type, values: allocate(type, this.capacity) }]
          : Array.from({ length: width }, (_, k) => ({ name: `${name}_${k}`, type, values: allocate(type, this.capacity) }));
        this.columnsByOutput.set(name, cols);
      }
      if (cols[0]!.type !== tensor.type) {
        throw new OutputShapeError(name, `element type changed between batches: ${cols[0]!.type} then ${tensor.type}`);
      }
      if (cols.length !== width) {
        throw new OutputShapeError(name, `width changed between batches: ${cols.length} then ${width}`);
      }
      const data = tensor.data;
      if (width === 1) {
        const target = cols[0]!.values;
        if (Array.isArray(target)) for (let i = 0; i < batchRows; i++) target[rowStart + i] = String(data[i]);
        else (target as Float32Array).set(data as Float32Array, rowStart);
        continue;
      }
      // De-interleave row-major [N,k] into k columns.
      for (let k = 0; k < width; k++) {
        const target = cols[k]!.values;
        if (Array.isArray(target)) {
          for (let i = 0; i < batchRows; i++) target[rowStart + i] = String(data[i * width + k]);
        } else {
          const t = target as Float32Array;
          const d = data as Float32Array;
          for (let i = 0; i < batchRows; i++) t[rowStart + i] = d[i * width + k]!;
        }
      }
    }
    this.fresh = false;
  }

  /** Every prediction column, in model output order, `rows` values each (views, not copies). */
  columns(): PredictionColumn[] {
    const all = this.outputNames.flatMap((name) => this.columnsByOutput.get(name) ?? []);
    const nullable = this.validity ? { validity: this.validity.subarray(0, Math.ceil(this.size / 8)), nullCount: this.nulls } : {};
    if (this.size === this.capacity && !this.validity) return all;
    return all.map((c) => ({
      ...c,
      values: this.size === this.capacity ? c.values : Array.isArray(c.values) ? c.values.slice(0, this.size) : (c.values.subarray(0, this.size) as PredictionValues),
      ...nullable,
    }));
  }

  /** Mark `row` as having no prediction (its values are left as the model computed them). */
  setNull(row: number): void {
    if (row < 0 || row >= this.size) throw new RangeError(`PredictionBuffer: row ${row} outside [0, ${this.size})`);
    this.validity ??= new Uint8Array(Math.ceil(this.capacity / 8)).fill(0xff);
    const bit = 1 << (row & 7);
    if (this.validity[row >> 3]! & bit) {
      this.validity[row >> 3]! &= ~bit;
      this.nulls++;
    }
  }
}
