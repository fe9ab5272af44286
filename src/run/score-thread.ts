/**
 * Thread entry point: scores file tasks one at a time. Decoding runs here, not on the main
 * thread, for two reasons: a corrupt file can make parquet-wasm panic (a WASM `unreachable`
 * that kills its thread and poisons its module), and `session.run` is synchronous, so on
 * the main thread it would block queue lock renewal. The pool replaces a crashed thread.
 *
 * Memory per thread is bounded by one output row group, never by a file: columns are read
 * in place in WASM memory, scored row groups are encoded and appended to the output as soon
 * as an output row group is complete (see parquet/concat.ts), and the output spills to a
 * temporary file past 32 MiB.
 *
 * A file of several output row groups is shared with idle threads of the pool when there
 * are any (see file-parts.ts): a single big file still uses every core.
 */
// First: scoring-thread mode (apache-arrow's bundle, a shared parquet-wasm module).
import '../parquet/scoring-thread-mode.js';
import { statSync } from 'node:fs';
import type * as ort from 'onnxruntime-node';
import { ParquetPiece, ParquetConcatenator } from '../parquet/concat.js';
import { openParquet, ParquetError, type ParquetReader } from '../parquet/parquet-reader.js';
import { footerRows, ParquetStreamWriter, rowGroupUnits } from '../parquet/parquet-writer.js';
import { bindFeatures, type FeatureBinding, type InputSignature } from '../scoring/binding.js';
import { fillPolicy } from '../scoring/feature-matrix.js';
import { compileParquetWasm, initParquetWasm, parquetWasmHost, parquetWasmReady } from '../parquet/wasm.js';
import { createWasmRowCopier } from '../scoring/wasm-fill.js';
import { openRangeBlob } from '../storage/range-blob.js';
import { ReadBuffers } from '../storage/read-buffers.js';
import { resolveUri } from '../storage/resolve.js';
import { PERMANENT_ERRORS, type FileResult, type FileTask } from './file-task.js';
import { fileSource, isPartTask, removePart, UnitCounter, type PartResult, type PartTask } from './file-parts.js';
import { runBatchRows, type ModelKind } from './model-kind.js';
import { OutputFile } from './output-file.js';
import { BadRowError, scoreFile, ScoreBuffers, type ScoreFileResult } from './score-file.js';
import { badRowLimit, mergeBadRows } from '../scoring/bad-rows.js';
import { sessionInfer } from './session-infer.js';
import { serveThread, type ThreadContext } from './serve-thread.js';
import { faultPoint } from './fault-point.js';

interface LoadedModel {
  session: ort.InferenceSession;
  inputs: readonly InputSignature[];
  outputNames: readonly string[];
  bindings: Map<string, FeatureBinding>;
  kind: ModelKind;
}

// Sessions are kept per model hash: a thread scores many files of the same model.
const models = new Map<string, LoadedModel>();
// Buffers reused by every file this thread scores.
const buffers = new ScoreBuffers();
const readBuffers = new ReadBuffers();

async function model(task: FileTask): Promise<LoadedModel> {
  const cached = models.get(task.model.sha256);
  if (cached) return cached;
  const { store, key } = resolveUri(task.model.uri);
  const bytes = await store.get(key);
  const { loadThreadModel } = await import('./thread-model.js');
  const loaded = await loadThreadModel(bytes, { expectedSha256: task.model.sha256, source: task.model.uri, intraOpNumThreads: 1 });
  for (const [sha, old] of models) {
    models.delete(sha);
    await old.session.release();
  }
  const entry = { session: loaded.session, inputs: loaded.inputs, outputNames: loaded.outputNames, bindings: new Map(), kind: loaded.kind };
  models.set(task.model.sha256, entry);
  return entry;
}

/** A failure while scoring a given unit (the earliest unit's failure is the file's). */
interface UnitFailure {
  unit: number;
  error: Error;
}

/** What one thread scored of a file: its output (or part), its units and timings. */
interface Participation {
  out: OutputFile;
  units: { unit: number; rowGroups: number; rows: number }[];
  scored: ScoreFileResult;
  writeMs: number;
  failure: UnitFailure | null;
}

/**
 * Score the units this thread claims (all of them unless other threads claim some too),
 * ending an output row group at the end of each unit.
 */
async function participate(
  task: FileTask,
  m: LoadedModel,
  reader: ParquetReader,
  units: readonly (readonly number[])[],
  claim: () => number | undefined,
  onClaim: () => void,
): Promise<Participation> {
  const bindingKey = JSON.stringify(task.features);
  let binding = m.bindings.get(bindingKey);
  if (!binding) {
    binding = bindFeatures(m.inputs, task.features ?? undefined);
    m.bindings.set(bindingKey, binding);
  }
  const out = new OutputFile();
  const writer = new ParquetStreamWriter(out, { uri: task.output.uri, compression: task.compression, deltaColumns: 'monotone' });
  const lastNonEmpty = units.map((rgs) => [...rgs].reverse().find((g) => (reader.rowGroupRows[g] ?? 0) > 0) ?? -1);
  const unitOf = new Map<number, number>();
  units.forEach((rgs, u) => rgs.forEach((g) => unitOf.set(g, u)));
  const done: Participation['units'] = [];
  let queue: number[] = [];
  let current = -1;
  let before = { groups: 0, rows: 0 };
  let writeMs = 0;
  const nextRowGroup = (): number | undefined => {
    while (queue.length === 0) {
      const u = claim();
      if (u === undefined) return undefined;
      current = u;
      before = { groups: writer.rowGroups, rows: writer.rows };
      if (lastNonEmpty[u]! < 0) {
        done.push({ unit: u, rowGroups: 0, rows: 0 });
        continue;
      }
      queue = [...units[u]!];
      onClaim();
    }
    return queue.shift();
  };
  let scored: ScoreFileResult;
  try {
    scored = await scoreFile({
      reader,
      binding,
      policy: fillPolicy(binding.features, task.nulls, task.nonFinite),
      passthrough: task.passthrough,
      outputNames: m.outputNames,
      batchSize: runBatchRows(m.kind, task.batchSize),
      infer: sessionInfer(m.session, m.outputNames),
      profile: task.profile,
      buffers,
      maxBadRowsFraction: task.maxBadRowsFraction ?? 0,
      nextRowGroup,
      sink: async (table, g) => {
        const w0 = performance.now();
        await writer.write(table);
        const u = unitOf.get(g)!;
        if (g === lastNonEmpty[u]) {
          await writer.endRowGroup();
          done.push({ unit: u, rowGroups: writer.rowGroups - before.groups, rows: writer.rows - before.rows });
        }
        writeMs += performance.now() - w0;
      },
    });
    if (writer.rows > 0) {
      const w0 = performance.now();
      await writer.finish();
      writeMs += performance.now() - w0;
    }
  } catch (err) {
    out.dispose();
    return { out, units: done, scored: emptyScore(), writeMs, failure: { unit: current, error: err instanceof Error ? err : new Error(String(err)) } };
  }
  return { out, units: done, scored, writeMs, failure: null };
}

/** A helper's part with no rows. */
function emptyPart(): PartResult {
  return { units: [], bytes: null, path: null, decodeMs: 0, inferMs: 0, writeMs: 0, badRows: { count: 0, samples: [] } };
}

function emptyScore(): ScoreFileResult {
  return { table: null, rows: 0, rowGroups: [], decodeMs: 0, inferMs: 0, profile: null, badRows: { count: 0, samples: [] } };
}

/**
 * Open the task's input; the caller closes both. Failed reads are reported to the pool
 * first: parquet-wasm traps on them and takes the thread down before any catch can run.
 */
async function openInput(task: FileTask, context: ThreadContext): Promise<{ reader: ParquetReader; close: () => Promise<void> }> {
  const { store, key } = resolveUri(task.input.uri);
  const blob = await openRangeBlob(store, key, { size: task.input.size, buffers: readBuffers, onError: (err) => context.readFailed(err) });
  try {
    const reader = await openParquet(blob, task.input.uri);
    return {
      reader,
      close: async () => {
        reader.close();
        await blob.close();
      },
    };
  } catch (err) {
    await blob.close();
    throw err;
  }
}

/** A helper's share of a file: score the units it can claim, hand back its part. */
async function scorePart(task: PartTask, context: ThreadContext): Promise<PartResult> {
  const m = await model(task);
  const counter = new UnitCounter(task.part.counter);
  const input = await openInput(task, context);
  try {
    const units = rowGroupUnits(input.reader.rowGroupRows);
    if (units.length !== task.part.units) throw new ParquetError(task.input.uri, 'the file changed while it was being scored');
    const p = await participate(task, m, input.reader, units, () => counter.claim(units.length), () => {});
    if (p.failure) {
      counter.abort();
      // Carried as a result, with its unit, so the owner can report the earliest failure.
      return { ...emptyPart(), units: [{ unit: p.failure.unit, rowGroups: 0, rows: 0 }], failure: { name: p.failure.error.name, message: p.failure.error.message } };
    }
    const handed = p.out.size > 0 ? p.out.release() : { bytes: null, path: null };
    return { units: p.units, bytes: handed.bytes, path: handed.path, decodeMs: p.scored.decodeMs, inferMs: p.scored.inferMs, writeMs: p.writeMs, badRows: p.scored.badRows };
  } finally {
    await input.close();
  }
}

function namedError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** A file's result, plus how many threads scored it (1 unless idle threads helped). */
export type ThreadFileResult = FileResult & { threads: number };

/** parquet-wasm, instantiated from the module the pool's threads share (see parquet/wasm.ts). */
async function ensureParquetWasm(context: ThreadContext): Promise<void> {
  if (parquetWasmReady()) return;
  initParquetWasm(await context.shared('parquet-wasm/esm/parquet_wasm_bg.wasm', compileParquetWasm));
  // Feature matrices are built in parquet-wasm's memory, next to the decoded columns, by a
  // SIMD kernel (JavaScript copies where WebAssembly SIMD is missing).
  const host = parquetWasmHost();
  if (host && process.env.BATCHSCORE_WASM_FILL !== 'off') buffers.useWasmCopier(createWasmRowCopier(host));
}

async function scoreTask(task: FileTask | PartTask, context: ThreadContext): Promise<ThreadFileResult | PartResult> {
  const t0 = performance.now();
  // A helper that came too late (every unit claimed) loads and reads nothing: a failure
  // there would fail a file that is scored already.
  if (isPartTask(task) && new UnitCounter(task.part.counter).remaining(task.part.units) === 0) {
    return emptyPart();
  }
  // The model session is created while parquet-wasm compiles (both mostly off this thread).
  const [m] = await Promise.all([model(task), ensureParquetWasm(context)]);
  if (isPartTask(task)) return scorePart(task, context);
  const input = await openInput(task, context);
  const units = rowGroupUnits(input.reader.rowGroupRows);
  const fileRows = input.reader.rowGroupRows.reduce((a, b) => a + b, 0);
  const counter = new UnitCounter();
  // Monitoring profiles are computed in one pass, in order: such files are not split.
  const canSplit = units.length >= 2 && !task.profile;
  const helpers: Promise<Promise<PartResult>[]>[] = [];
  let asking = false;
  const askForHelp = () => {
    if (!canSplit || asking || counter.remaining(units.length) === 0) return;
    asking = true;
    const want = Math.min(counter.remaining(units.length), 8);
    const ask = context.spawn<PartTask, PartResult>(Array.from({ length: want }, () => ({ ...task, part: { counter: counter.buffer, units: units.length } })));
    helpers.push(ask);
    // Ask again at the next unit only if nobody came: a thread may be idle by then.
    void ask.then((started) => {
      if (started.length === 0) asking = false;
    });
  };
  let own: Participation;
  try {
    own = await participate(task, m, input.reader, units, () => counter.claim(units.length), askForHelp);
  } finally {
    await input.close();
  }
  if (own.failure) counter.abort();
  const parts: PartResult[] = [];
  const failures: UnitFailure[] = own.failure ? [own.failure] : [];
  for (const started of await Promise.all(helpers)) {
    for (const result of await Promise.allSettled(started)) {
      if (result.status === 'rejected') {
        // The helper's thread died (or failed outside any unit): no unit to order it by.
        const e = result.reason as Error;
        failures.push({ unit: Number.POSITIVE_INFINITY, error: namedError(e.name, e.message) });
        continue;
      }
      const r = result.value;
      if (r.failure) failures.push({ unit: r.units[0]!.unit, error: namedError(r.failure.name, r.failure.message) });
      else parts.push(r);
    }
  }
  // A helper that failed outside any unit (its thread died, or its model or footer read
  // failed) matters only if some unit was then scored by nobody.
  const covered = new Set([...own.units, ...parts.flatMap((p) => p.units)].map((u) => u.unit));
  if (covered.size === units.length && failures.every((f) => f.unit === Number.POSITIVE_INFINITY)) failures.length = 0;
  let output = own.out;
  try {
    if (failures.length > 0) {
      failures.sort((a, b) => a.unit - b.unit);
      throw failures[0]!.error;
    }
    const helped = parts.filter((p) => p.units.length > 0);
    // Each part counted its own refused rows against the whole file's limit: check the sum.
    const badRows = mergeBadRows([own.scored.badRows, ...helped.map((p) => p.badRows)]);
    if (badRows.count > badRowLimit(task.maxBadRowsFraction ?? 0, fileRows)) throw BadRowError.tooMany(task.input.uri, task.maxBadRowsFraction ?? 0, fileRows, badRows);
    let rows = own.scored.rows;
    let decodeMs = own.scored.decodeMs;
    let inferMs = own.scored.inferMs;
    let writeMs = own.writeMs;
    const w0 = performance.now();
    if (helped.length > 0) {
      output = await mergeParts(task, units.length, own, helped);
      for (const p of helped) {
        rows += p.units.reduce((n, u) => n + u.rows, 0);
        decodeMs += p.decodeMs;
        inferMs += p.inferMs;
        writeMs += p.writeMs;
      }
    }
    let result: FileResult['output'] = null;
    if (rows > 0) {
      // The footer as an independent decoder (parquet-wasm) reads it: every row, no more.
      const check = await footerRows(output.source(), task.output.uri);
      if (check.numRows !== rows) throw new ParquetError(task.output.uri, `wrote ${check.numRows} rows, expected ${rows}`);
      const loc = resolveUri(task.output.uri);
      faultPoint('upload');
      await output.upload(loc.store, loc.key);
      result = { uri: task.output.uri, bytes: output.size, sha256: output.sha256() };
    }
    let profileUri: string | null = null;
    if (own.scored.profile) {
      profileUri = `${task.output.uri}.profile.json`;
      const loc = resolveUri(profileUri);
      await loc.store.put(loc.key, JSON.stringify(own.scored.profile), { contentType: 'application/json' });
    }
    const end = performance.now();
    writeMs += end - w0;
    return { rows, output: result, profileUri, badRows, decodeMs, inferMs, writeMs, totalMs: end - t0, threads: 1 + helped.length };
  } finally {
    own.out.dispose();
    output.dispose();
    for (const p of parts) removePart(p.path);
  }
}

/** Copy every unit's row groups, in unit order, from the parts into one output file. */
async function mergeParts(task: FileTask, unitCount: number, own: Participation, helped: readonly PartResult[]): Promise<OutputFile> {
  const sources: { piece: ParquetPiece; units: Participation['units']; close: () => void }[] = [];
  try {
    if (own.out.size > 0) sources.push({ piece: await ParquetPiece.open(own.out.source(), task.output.uri), units: own.units, close: () => {} });
    for (const p of helped) {
      if (p.bytes) sources.push({ piece: await ParquetPiece.open(p.bytes, task.output.uri), units: p.units, close: () => {} });
      else if (p.path) {
        const src = fileSource(p.path, statSync(p.path).size);
        sources.push({ piece: await ParquetPiece.open(src, task.output.uri), units: p.units, close: () => src.close() });
      }
    }
    // Where each unit's row groups are: the part, the first row group, how many, their rows.
    const where = new Map<number, { piece: ParquetPiece; first: number; count: number; rows: number }>();
    for (const s of sources) {
      let first = 0;
      for (const u of s.units) {
        where.set(u.unit, { piece: s.piece, first, count: u.rowGroups, rows: u.rows });
        first += u.rowGroups;
      }
    }
    const merged = new OutputFile();
    const concat = new ParquetConcatenator(merged, task.output.uri);
    for (let u = 0; u < unitCount; u++) {
      const w = where.get(u);
      if (!w) {
        // A unit with only empty row groups has no part; any other missing unit is a bug.
        if (own.units.some((x) => x.unit === u) || helped.some((p) => p.units.some((x) => x.unit === u))) continue;
        throw new ParquetError(task.output.uri, `unit ${u} of ${unitCount} was scored by no thread`);
      }
      if (w.count > 0) await concat.appendGroups(w.piece, w.first, w.count, w.rows);
    }
    await concat.finish();
    return merged;
  } finally {
    for (const s of sources) s.close();
  }
}

serveThread<FileTask | PartTask, ThreadFileResult | PartResult>(scoreTask, {
  isPermanent: (err) => PERMANENT_ERRORS.has(err.name),
  transfer: (result) => ('bytes' in result && result.bytes ? [result.bytes.buffer as ArrayBuffer] : []),
  onClose: async () => {
    for (const m of models.values()) await m.session.release();
    models.clear();
  },
});
