/**
 * Ground truth for a finished run: labels arrive days after scoring, as Parquet keyed by the
 * same id the run passed through. This joins them with the run's published predictions and
 * computes AUC, log loss, Brier score and the reliability table (monitor/evaluate.ts),
 * overall and per slice, and counts the ids that matched nothing on either side.
 *
 * Memory: the labels are held as one Map from id to a small integer (label, matched flag,
 * slice code); the predictions stream through one row group at a time, and only the matched
 * rows' score, label and slice code are kept (the AUC sorts them all). Measured: 1 million
 * labels joined with 1 million predictions take ~160 MB of heap and ~5 s, so about 10
 * million per side fit a default Node heap. Beyond that, join in a warehouse and give
 * monitor/evaluate.ts the joined columns.
 */
import * as arrow from 'apache-arrow';
import { evaluate, type EvaluationResult } from '../monitor/evaluate.js';
import type { RunManifest } from '../run/manifest.js';
import { joinKey, resolveUri } from '../storage/resolve.js';
import { listParquetFiles, requireColumns, withParquetFile, type DatasetFile } from './profile-dataset.js';

/** Options of `evaluateRun`. */
export interface EvaluateRunOptions {
  /** Labels: one Parquet file or a folder/prefix of them (local, file://, s3://). */
  labelsUri: string;
  /** Id column, in both the labels and the run's outputs (a passthrough column). */
  idColumn: string;
  /** Label column of the labels: 0/1 integers, booleans or 0.0/1.0; null = not known yet. */
  labelColumn: string;
  /** Score column of the outputs. Default: the single float prediction column. */
  scoreColumn?: string | undefined;
  /** Segment column for per-slice metrics: from the outputs, else from the labels. */
  sliceBy?: string | undefined;
  /** Reliability bins. Default 10. */
  bins?: number | undefined;
}

/** How the two sides joined. Counts are rows unless they say ids. */
export interface MatchCounts {
  predictionRows: number;
  labelRows: number;
  /** Prediction rows whose id has a label row (known or not yet known). */
  matched: number;
  predictionsWithoutLabel: number;
  /** Distinct label ids no prediction row matched. */
  labelsWithoutPrediction: number;
  /** Label rows whose id an earlier label row already had (the later row wins). */
  duplicateLabelIds: number;
  /** Prediction rows matching a label an earlier prediction row already matched. */
  repeatedPredictionIds: number;
  /** Rows with a null id, left out of the join. */
  nullIds: { predictions: number; labels: number };
}

/** Stored as `<output>/_runs/<runId>.evaluation.json`; `overall`/`slices` as evaluate() gives them. */
export interface EvaluationReport extends EvaluationResult {
  version: 1;
  runId: string;
  job: string;
  model: { uri: string; sha256: string } | null;
  evaluatedAt: string;
  scoreColumn: string;
  idColumn: string;
  labelColumn: string;
  labels: { uri: string; files: number };
  predictions: { files: number };
  sliceBy: string | null;
  /** Which side the slice values came from. */
  sliceSource: 'predictions' | 'labels' | null;
  bins: number;
  matching: MatchCounts;
}

// ---- Column readers: Arrow chunks → per-row JS values, without Arrow's per-row get(). ----

/** Join key: integers as numbers while exact (else bigint), so int32 and int64 ids match. */
type IdKey = number | bigint | string;
type IdKind = 'integer' | 'string';

const decoder = new TextDecoder();
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

function validAt(d: arrow.Data, i: number): boolean {
  if (d.nullCount === 0 || !d.nullBitmap || d.nullBitmap.length === 0) return true;
  const bit = d.offset + i;
  return ((d.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

function isStringType(t: arrow.DataType): boolean {
  return arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t);
}

function idKindOf(t: arrow.DataType): IdKind | null {
  if (arrow.DataType.isInt(t)) return 'integer';
  if (isStringType(t) || (arrow.DataType.isDictionary(t) && isStringType(t.dictionary))) return 'string';
  return null;
}

/** Row values of an integer or string column (dictionary-encoded too); null for nulls. */
function readKeys(vector: arrow.Vector): (IdKey | null)[] {
  const out: (IdKey | null)[] = [];
  for (const d of vector.data) {
    const t = d.type;
    if (arrow.DataType.isInt(t)) {
      const values = d.values as ArrayLike<number | bigint>;
      for (let i = 0; i < d.length; i++) {
        const v = values[i]!;
        out.push(!validAt(d, i) ? null : typeof v === 'bigint' ? (v >= -MAX && v <= MAX ? Number(v) : v) : v);
      }
    } else if (isStringType(t)) {
      const offsets = d.valueOffsets as ArrayLike<number | bigint>, bytes = d.values as Uint8Array;
      for (let i = 0; i < d.length; i++) {
        out.push(validAt(d, i) ? decoder.decode(bytes.subarray(Number(offsets[i]), Number(offsets[i + 1]))) : null);
      }
    } else if (arrow.DataType.isDictionary(t)) {
      // Decode the dictionary once; rows are indices into it.
      const dict = Array.from(d.dictionary ?? [], (v: unknown) => (v === null || v === undefined ? null : String(v)));
      const indices = d.values as ArrayLike<number | bigint>;
      for (let i = 0; i < d.length; i++) out.push(validAt(d, i) ? dict[Number(indices[i])] ?? null : null);
    } else {
      // Other types (booleans, floats as segments): Arrow's own conversion, row by row.
      const v = arrow.makeVector(d);
      for (let i = 0; i < d.length; i++) {
        const x: unknown = v.get(i);
        out.push(x === null || x === undefined ? null : String(x));
      }
    }
  }
  return out;
}

/** Label per row: 0, 1 or NaN (null/NaN = not known yet). */
function readLabels(vector: arrow.Vector, uri: string, column: string, firstRow: number): Float64Array {
  const out = new Float64Array(vector.length);
  let row = 0;
  for (const d of vector.data) {
    const isBool = arrow.DataType.isBool(d.type);
    if (!isBool && !arrow.DataType.isInt(d.type) && !arrow.DataType.isFloat(d.type)) {
      throw new Error(`evaluate: ${uri}: label column ${JSON.stringify(column)} has type ${String(d.type)}, expected integers, booleans or floats`);
    }
    const values = d.values as ArrayLike<number | bigint>;
    for (let i = 0; i < d.length; i++, row++) {
      let y: number;
      if (!validAt(d, i)) y = NaN;
      else if (isBool) y = ((d.values as Uint8Array)[(d.offset + i) >> 3]! >> ((d.offset + i) & 7)) & 1;
      else y = Number(values[i]);
      if (y !== 0 && y !== 1 && !Number.isNaN(y)) {
        throw new Error(`evaluate: ${uri}: label column ${JSON.stringify(column)} is ${JSON.stringify(y)} at row ${firstRow + row}, expected 0 or 1`);
      }
      out[row] = y;
    }
  }
  return out;
}

/** Score per row (NaN for null), checked to be a probability. */
function readScores(vector: arrow.Vector, uri: string, column: string, firstRow: number): Float64Array {
  const out = new Float64Array(vector.length);
  let row = 0;
  for (const d of vector.data) {
    if (!arrow.DataType.isFloat(d.type) || d.type.precision === arrow.Precision.HALF) {
      throw new Error(`evaluate: ${uri}: score column ${JSON.stringify(column)} has type ${String(d.type)}, expected float32 or float64`);
    }
    const values = d.values as Float32Array | Float64Array;
    for (let i = 0; i < d.length; i++, row++) {
      const s = validAt(d, i) ? values[i]! : NaN;
      if (!(s >= 0 && s <= 1) && !Number.isNaN(s)) {
        throw new Error(`evaluate: ${uri}: score column ${JSON.stringify(column)} is ${s} at row ${firstRow + row}, expected a probability in [0, 1] (choose another with --score)`);
      }
      out[row] = s;
    }
  }
  return out;
}

// ---- The join. ----

// A label id's Map value packs: bits 0–1 the label (0, 1, 2 = unknown), bit 2 "matched",
// bits 3+ the slice code + 1 (0 = none). Small integers stay V8 Smis: no boxing per entry.
const UNKNOWN = 2, MATCHED = 4, SLICE_SHIFT = 3;

/** Interned slice values: rows keep a small code instead of a string each. */
class SliceCodes {
  readonly names: string[] = [];
  private readonly codes = new Map<string, number>();
  code(value: IdKey | null): number {
    if (value === null) return -1;
    const s = String(value);
    let c = this.codes.get(s);
    if (c === undefined) this.codes.set(s, (c = this.names.push(s) - 1));
    return c;
  }
}

/**
 * The score column: `requested` if given (must be a float column), else the one float
 * column that is not passed through.
 */
export function chooseScoreColumn(schema: arrow.Schema, passthrough: readonly string[], requested?: string): string {
  const isFloat = (t: arrow.DataType) => arrow.DataType.isFloat(t) && t.precision !== arrow.Precision.HALF;
  if (requested !== undefined) {
    const field = schema.fields.find((f) => f.name === requested);
    if (!field) throw new Error(`evaluate: score column ${JSON.stringify(requested)} is not in the outputs (they have: ${schema.fields.map((f) => f.name).join(', ')})`);
    if (!isFloat(field.type)) throw new Error(`evaluate: score column ${JSON.stringify(requested)} has type ${String(field.type)}, expected float32 or float64`);
    return requested;
  }
  const floats = schema.fields.filter((f) => !passthrough.includes(f.name) && isFloat(f.type)).map((f) => f.name);
  if (floats.length === 1) return floats[0]!;
  throw new Error(`evaluate: the outputs have ${floats.length} float prediction columns (${floats.join(', ') || 'none'}); choose one with --score`);
}

async function outputFiles(manifest: RunManifest): Promise<DatasetFile[]> {
  // Only published partitions: a failed one published nothing, a superseded one is another run's.
  const uris = manifest.partitions.filter((p) => p.status === 'succeeded').flatMap((p) => p.files.flatMap((f) => (f.output ? [f.output.uri] : [])));
  return Promise.all(uris.map(async (uri) => {
    const { store, key } = resolveUri(uri);
    const head = await store.head(key);
    if (!head) throw new Error(`evaluate: output file ${uri} of run ${manifest.runId} is missing`);
    return { uri, store, key, size: head.size };
  }));
}

async function schemaOf(file: DatasetFile): Promise<arrow.Schema> {
  return withParquetFile(file, async (reader) => reader.schema);
}

function checkIdType(schema: arrow.Schema, id: string, uri: string, expected: IdKind | null): IdKind {
  const type = schema.fields.find((f) => f.name === id)!.type;
  const kind = idKindOf(type);
  if (!kind) throw new Error(`evaluate: ${uri}: id column ${JSON.stringify(id)} has type ${String(type)}, expected an integer or string type`);
  // int vs string would silently match nothing: refuse it instead.
  if (expected && kind !== expected) throw new Error(`evaluate: ${uri}: id column ${JSON.stringify(id)} is ${kind === 'integer' ? 'an integer' : 'a string'}, the run's ids are ${expected === 'integer' ? 'integers' : 'strings'}`);
  return kind;
}

/** Read every file's row groups (the named columns) and hand them over with the file's row offset. */
async function eachRowGroup(file: DatasetFile, columns: readonly string[], use: (table: arrow.Table, firstRow: number) => void): Promise<void> {
  await withParquetFile(file, async (reader) => {
    requireColumns('evaluate', reader.schema, file.uri, columns);
    let firstRow = 0;
    for (const [g, n] of reader.rowGroupRows.entries()) {
      if (n > 0) use(await reader.readRowGroup(g, columns), firstRow);
      firstRow += n;
    }
  });
}

/**
 * Join a run's published predictions with labels by id and evaluate them.
 * @throws Error naming the file/column when the run published nothing, a column is missing
 *   or mistyped, a label is not 0/1, a score is not a probability, or ids differ in kind
 */
export async function evaluateRun(manifest: RunManifest, options: EvaluateRunOptions): Promise<EvaluationReport> {
  const { idColumn, labelColumn, sliceBy } = options;
  const bins = options.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`evaluate: bins must be a positive integer, got ${JSON.stringify(bins)}`);
  const outputs = await outputFiles(manifest);
  if (outputs.length === 0) throw new Error(`evaluate: run ${manifest.runId} published no output files (status ${JSON.stringify(manifest.status)})`);
  const labelFiles = await listParquetFiles(options.labelsUri);
  if (labelFiles.length === 0) throw new Error(`evaluate: no Parquet files at ${JSON.stringify(options.labelsUri)}`);

  const outSchema = await schemaOf(outputs[0]!);
  if (!outSchema.fields.some((f) => f.name === idColumn)) {
    throw new Error(`evaluate: id column ${JSON.stringify(idColumn)} is not in the run's outputs (they have: ${outSchema.fields.map((f) => f.name).join(', ')}); the job must pass it through`);
  }
  const idKind = checkIdType(outSchema, idColumn, outputs[0]!.uri, null);
  const scoreColumn = chooseScoreColumn(outSchema, manifest.spec.passthrough, options.scoreColumn);
  let sliceSource: EvaluationReport['sliceSource'] = null;
  if (sliceBy !== undefined) {
    if (outSchema.fields.some((f) => f.name === sliceBy)) sliceSource = 'predictions';
    else if ((await schemaOf(labelFiles[0]!)).fields.some((f) => f.name === sliceBy)) sliceSource = 'labels';
    else throw new Error(`evaluate: slice column ${JSON.stringify(sliceBy)} is in neither the run's outputs nor the labels`);
  }

  const m: MatchCounts = {
    predictionRows: 0, labelRows: 0, matched: 0, predictionsWithoutLabel: 0, labelsWithoutPrediction: 0,
    duplicateLabelIds: 0, repeatedPredictionIds: 0, nullIds: { predictions: 0, labels: 0 },
  };
  const slices = new SliceCodes();
  const labels = new Map<IdKey, number>();
  const labelColumns = [idColumn, labelColumn, ...(sliceSource === 'labels' ? [sliceBy!] : [])];
  for (const file of labelFiles) {
    await eachRowGroup(file, labelColumns, (table, firstRow) => {
      checkIdType(table.schema, idColumn, file.uri, idKind);
      const ids = readKeys(table.getChild(idColumn)!);
      const ys = readLabels(table.getChild(labelColumn)!, file.uri, labelColumn, firstRow);
      const segs = sliceSource === 'labels' ? readKeys(table.getChild(sliceBy!)!) : null;
      m.labelRows += ids.length;
      ids.forEach((id, i) => {
        if (id === null) return void m.nullIds.labels++;
        if (labels.has(id)) m.duplicateLabelIds++;
        const y = Number.isNaN(ys[i]!) ? UNKNOWN : ys[i]!;
        labels.set(id, y | ((segs ? slices.code(segs[i]!) + 1 : 0) << SLICE_SHIFT));
      });
    });
  }

  // Matched rows, in prediction order. Plain arrays of numbers are stored unboxed by V8.
  const scores: number[] = [], ys: number[] = [], codes: number[] = [];
  const predColumns = [idColumn, scoreColumn, ...(sliceSource === 'predictions' ? [sliceBy!] : [])];
  for (const file of outputs) {
    await eachRowGroup(file, predColumns, (table, firstRow) => {
      checkIdType(table.schema, idColumn, file.uri, idKind);
      const ids = readKeys(table.getChild(idColumn)!);
      const s = readScores(table.getChild(scoreColumn)!, file.uri, scoreColumn, firstRow);
      const segs = sliceSource === 'predictions' ? readKeys(table.getChild(sliceBy!)!) : null;
      m.predictionRows += ids.length;
      ids.forEach((id, i) => {
        if (id === null) return void m.nullIds.predictions++;
        const packed = labels.get(id);
        if (packed === undefined) return void m.predictionsWithoutLabel++;
        m.matched++;
        if (packed & MATCHED) m.repeatedPredictionIds++;
        else labels.set(id, packed | MATCHED);
        const y = packed & 3;
        scores.push(s[i]!);
        ys.push(y === UNKNOWN ? NaN : y);
        codes.push(segs ? slices.code(segs[i]!) : (packed >> SLICE_SHIFT) - 1);
      });
    });
  }
  for (const packed of labels.values()) if (!(packed & MATCHED)) m.labelsWithoutPrediction++;

  const result = evaluate(
    { scores, labels: ys, ...(sliceSource && { slices: codes.map((c) => (c < 0 ? null : slices.names[c]!)) }) },
    { bins },
  );
  return {
    version: 1,
    runId: manifest.runId,
    job: manifest.job.name,
    model: manifest.model ? { uri: manifest.model.uri, sha256: manifest.model.sha256 } : null,
    evaluatedAt: new Date().toISOString(),
    scoreColumn,
    idColumn,
    labelColumn,
    labels: { uri: options.labelsUri, files: labelFiles.length },
    predictions: { files: outputs.length },
    sliceBy: sliceBy ?? null,
    sliceSource,
    bins,
    matching: m,
    ...result,
  };
}

function evaluationLocation(manifest: RunManifest) {
  const out = resolveUri(manifest.spec.output.uri);
  return { store: out.store, key: joinKey(out.key.replace(/\/+$/, ''), '_runs', `${manifest.runId}.evaluation.json`) };
}

/** URI of a run's evaluation: `<output>/_runs/<runId>.evaluation.json`, next to its manifest. */
export function evaluationUri(manifest: RunManifest): string {
  const { store, key } = evaluationLocation(manifest);
  return store.uri(key);
}

/** Store the report next to the run's manifest (replacing an earlier evaluation); returns its URI. */
export async function writeEvaluation(manifest: RunManifest, report: EvaluationReport): Promise<string> {
  const { store, key } = evaluationLocation(manifest);
  await store.put(key, `${JSON.stringify(report, null, 2)}\n`, { contentType: 'application/json' });
  return store.uri(key);
}
