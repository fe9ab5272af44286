/**
 * Reading Arrow data straight out of parquet-wasm's memory through the Arrow C data
 * interface (`Table.intoFFI()`), instead of serialising to IPC in WASM, copying the IPC
 * bytes out and parsing them again.
 *
 * Layout of the C structs in wasm32 (pointers are 4 bytes, int64 aligned to 8):
 *   ArrowSchema { format@0, name@4, metadata@8, flags@16 (i64), n_children@24 (i64),
 *                 children@32, dictionary@36, release@40, private_data@44 }
 *   ArrowArray  { length@0, null_count@8, offset@16, n_buffers@24, n_children@32 (all i64),
 *                 buffers@40, children@44, dictionary@48, release@52, private_data@56 }
 *
 * Views (`FFIColumn` accessors) point into WASM memory: they are valid only while the FFI
 * object is alive and until the next call into parquet-wasm (which may grow the memory and
 * detach its ArrayBuffer). `refresh` re-derives them; copies are always safe.
 */
import type * as A from 'apache-arrow';
import { arrow } from './arrow.js';
import type { ColumnChunk, NumericValues } from '../scoring/columns.js';

/** A column type this reader does not take out through FFI (the caller falls back to IPC). */
export class FFIUnsupportedError extends Error {
  constructor(format: string, name: string) {
    super(`ffi: column "${name}" has Arrow format "${format}", not read through FFI`);
    this.name = 'FFIUnsupportedError';
  }
}

/** One exported array (a column, a child or a dictionary) with its schema. */
export interface FFINode {
  readonly format: string;
  readonly name: string;
  readonly nullable: boolean;
  readonly length: number;
  readonly nullCount: number;
  readonly offset: number;
  /** Buffer addresses in WASM memory (0 for an absent validity buffer). */
  readonly buffers: readonly number[];
  readonly children: readonly FFINode[];
  readonly dictionary: FFINode | null;
}

function cString(mem: Uint8Array, ptr: number): string {
  if (ptr === 0) return '';
  let end = ptr;
  while (mem[end] !== 0) end++;
  let s = '';
  for (let i = ptr; i < end; i++) s += String.fromCharCode(mem[i]!);
  // Names may be UTF-8: decode properly when any byte is non-ASCII.
  return /[\u0080-\u00ff]/.test(s) ? new TextDecoder().decode(mem.subarray(ptr, end)) : s;
}

function int64(view: DataView, at: number): number {
  const v = view.getBigInt64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < 0n) throw new Error(`ffi: implausible int64 ${v} at ${at}`);
  return Number(v);
}

/** Parse the schema and array trees rooted at the given addresses. */
export function readNode(memory: ArrayBuffer, arrayAddr: number, schemaAddr: number, depth = 0): FFINode {
  if (depth > 16) throw new Error('ffi: nesting too deep');
  const view = new DataView(memory);
  const bytes = new Uint8Array(memory);
  const format = cString(bytes, view.getUint32(schemaAddr, true));
  const name = cString(bytes, view.getUint32(schemaAddr + 4, true));
  const flags = int64(view, schemaAddr + 16);
  const nSchemaChildren = int64(view, schemaAddr + 24);
  const schemaChildren = view.getUint32(schemaAddr + 32, true);
  const schemaDictionary = view.getUint32(schemaAddr + 36, true);

  const length = int64(view, arrayAddr);
  const nullCount = view.getBigInt64(arrayAddr + 8, true);
  const offset = int64(view, arrayAddr + 16);
  const nBuffers = int64(view, arrayAddr + 24);
  const nChildren = int64(view, arrayAddr + 32);
  const buffersAddr = view.getUint32(arrayAddr + 40, true);
  const childrenAddr = view.getUint32(arrayAddr + 44, true);
  const dictionaryAddr = view.getUint32(arrayAddr + 48, true);
  if (nChildren !== nSchemaChildren) throw new Error(`ffi: column "${name}": ${nChildren} array children, ${nSchemaChildren} schema children`);
  const buffers: number[] = [];
  for (let i = 0; i < nBuffers; i++) buffers.push(view.getUint32(buffersAddr + 4 * i, true));
  const children: FFINode[] = [];
  for (let i = 0; i < nChildren; i++) {
    children.push(readNode(memory, view.getUint32(childrenAddr + 4 * i, true), view.getUint32(schemaChildren + 4 * i, true), depth + 1));
  }
  const dictionary = dictionaryAddr !== 0 && schemaDictionary !== 0 ? readNode(memory, dictionaryAddr, schemaDictionary, depth + 1) : null;
  return {
    format,
    name,
    nullable: (flags & 2) !== 0,
    length,
    // -1 means "not computed": count it from the bitmap when needed.
    nullCount: nullCount < 0n ? -1 : Number(nullCount),
    offset,
    buffers,
    children,
    dictionary,
  };
}

type NumericCtor =
  | Float32ArrayConstructor | Float64ArrayConstructor | Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor
  | Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

/** The typed array of a fixed-width format, or undefined. */
function numericCtor(format: string): NumericCtor | undefined {
  switch (format) {
    case 'c': return Int8Array;
    case 'C': return Uint8Array;
    case 's': return Int16Array;
    case 'S': return Uint16Array;
    case 'i': return Int32Array;
    case 'I': return Uint32Array;
    case 'l': return BigInt64Array;
    case 'L': return BigUint64Array;
    case 'f': return Float32Array;
    case 'g': return Float64Array;
    case 'tdD': case 'tts': case 'ttm': return Int32Array;
    case 'tdm': case 'ttu': case 'ttn': return BigInt64Array;
    default:
      if (/^ts[smun]:/.test(format)) return BigInt64Array;
      return undefined;
  }
}

/**
 * The Arrow JS type of an FFI node; throws FFIUnsupportedError for anything else. A
 * dictionary type gets `dictionaryId`: the same column must get the same id in every row
 * group, or Arrow JS sees two types (ids are part of a dictionary type's identity).
 */
function arrowType(node: FFINode, dictionaryId = 0): A.DataType {
  if (node.dictionary) {
    const indices = arrowType({ ...node, dictionary: null }) as A.Int;
    if (!arrow.DataType.isInt(indices)) throw new FFIUnsupportedError(node.format, node.name);
    return new arrow.Dictionary(arrowType(node.dictionary), indices as unknown as A.Int32, dictionaryId);
  }
  const f = node.format;
  switch (f) {
    case 'c': return new arrow.Int8();
    case 'C': return new arrow.Uint8();
    case 's': return new arrow.Int16();
    case 'S': return new arrow.Uint16();
    case 'i': return new arrow.Int32();
    case 'I': return new arrow.Uint32();
    case 'l': return new arrow.Int64();
    case 'L': return new arrow.Uint64();
    case 'f': return new arrow.Float32();
    case 'g': return new arrow.Float64();
    case 'b': return new arrow.Bool();
    case 'u': return new arrow.Utf8();
    case 'U': return new arrow.LargeUtf8();
    case 'z': return new arrow.Binary();
    case 'tdD': return new arrow.DateDay();
    case 'tdm': return new arrow.DateMillisecond();
    case 'tts': return new arrow.TimeSecond();
    case 'ttm': return new arrow.TimeMillisecond();
    case 'ttu': return new arrow.TimeMicrosecond();
    case 'ttn': return new arrow.TimeNanosecond();
  }
  const ts = /^ts([smun]):(.*)$/.exec(f);
  if (ts) {
    const tz = ts[2] === '' ? null : ts[2]!;
    const unit = { s: arrow.TimeUnit.SECOND, m: arrow.TimeUnit.MILLISECOND, u: arrow.TimeUnit.MICROSECOND, n: arrow.TimeUnit.NANOSECOND }[ts[1] as 's' | 'm' | 'u' | 'n'];
    return new arrow.Timestamp(unit, tz);
  }
  throw new FFIUnsupportedError(f, node.name);
}

/** Check that a node can be turned into Arrow JS data (throws FFIUnsupportedError). */
export function checkSupported(node: FFINode): void {
  arrowType(node);
}

/**
 * A byte view (or copy) of `[addr, addr + byteLength)` of WASM memory. Copies go to
 * 8-byte-aligned fresh buffers so typed arrays of any width can view them.
 */
function bytesAt(memory: ArrayBuffer, addr: number, byteLength: number, copy: boolean): Uint8Array {
  const view = new Uint8Array(memory, addr, byteLength);
  return copy ? view.slice() : view;
}

function typedAt(memory: ArrayBuffer, ctor: NumericCtor, addr: number, length: number, copy: boolean): NumericValues {
  if (length === 0) return new ctor(0);
  if (!copy && addr % ctor.BYTES_PER_ELEMENT === 0) return new ctor(memory, addr, length);
  const out = new ctor(length);
  new Uint8Array(out.buffer).set(new Uint8Array(memory, addr, length * ctor.BYTES_PER_ELEMENT));
  return out;
}

function validity(memory: ArrayBuffer, node: FFINode, copy: boolean): Uint8Array | null {
  const addr = node.buffers[0] ?? 0;
  if (addr === 0 || node.nullCount === 0) return null;
  return bytesAt(memory, addr, Math.ceil((node.offset + node.length) / 8), copy);
}

/**
 * A numeric column as a `ColumnChunk` (what `fillMatrix` reads): views into WASM memory
 * (`copy` false) or copies. Only fixed-width numeric formats.
 */
export function numericChunk(memory: ArrayBuffer, node: FFINode, copy: boolean): ColumnChunk {
  const ctor = numericCtor(node.format);
  if (!ctor || node.dictionary) throw new FFIUnsupportedError(node.format, node.name);
  // Values cover rows [0, offset + length): `offset` stays a row offset into them.
  const all = typedAt(memory, ctor, node.buffers[1]!, node.offset + node.length, copy);
  const values = node.offset === 0 ? all : (all.subarray(node.offset) as NumericValues);
  const bitmap = validity(memory, node, copy);
  return { values, nullBitmap: bitmap, offset: node.offset, length: node.length, nullCount: nullCountOf(node, bitmap) };
}

function nullCountOf(node: FFINode, bitmap: Uint8Array | null): number {
  if (node.nullCount >= 0) return node.nullCount;
  if (!bitmap) return 0;
  let valid = 0;
  for (let i = 0; i < node.length; i++) {
    const b = node.offset + i;
    valid += (bitmap[b >> 3]! >> (b & 7)) & 1;
  }
  return node.length - valid;
}

/**
 * Arrow JS data of a node: views into WASM memory (`copy` false) or copies. `dictionaryId`:
 * see `arrowType` (use the column's position). As Arrow JS slices data: values and value
 * offsets start at the first row; the validity bitmap (and a boolean's bits) keep `offset`.
 */
export function arrowData(memory: ArrayBuffer, node: FFINode, copy: boolean, dictionaryId = 0): A.Data {
  const type = arrowType(node, dictionaryId);
  const n = node.offset + node.length;
  const nullBitmap = validity(memory, node, copy);
  const nullCount = nullCountOf(node, nullBitmap);
  const common = { offset: node.offset, length: node.length, nullCount, nullBitmap: nullBitmap ?? undefined };
  if (node.dictionary) {
    const ctor = numericCtor(node.format)!;
    const indices = typedAt(memory, ctor, node.buffers[1]! + node.offset * ctor.BYTES_PER_ELEMENT, node.length, copy);
    const dictionary = arrow.makeVector(arrowData(memory, node.dictionary, copy));
    return arrow.makeData({ ...common, type: type as A.Dictionary, data: indices as A.Dictionary['TArray'], dictionary });
  }
  const f = node.format;
  if (f === 'b') {
    const bits = bytesAt(memory, node.buffers[1]!, Math.ceil(n / 8), copy);
    return arrow.makeData({ ...common, type: type as A.Bool, data: bits });
  }
  if (f === 'u' || f === 'z' || f === 'U') {
    const large = f === 'U';
    const width = large ? 8 : 4;
    const offsets = typedAt(memory, large ? BigInt64Array : Int32Array, node.buffers[1]! + node.offset * width, node.length + 1, copy) as Int32Array | BigInt64Array;
    const end = Number(offsets[node.length] ?? 0);
    const data = bytesAt(memory, node.buffers[2]!, end, copy);
    if (large) return arrow.makeData({ ...common, type: type as A.LargeUtf8, data, valueOffsets: offsets as BigInt64Array });
    if (f === 'u') return arrow.makeData({ ...common, type: type as A.Utf8, data, valueOffsets: offsets as Int32Array });
    return arrow.makeData({ ...common, type: type as A.Binary, data, valueOffsets: offsets as Int32Array });
  }
  const ctor = numericCtor(f);
  if (!ctor) throw new FFIUnsupportedError(f, node.name);
  const values = typedAt(memory, ctor, node.buffers[1]! + node.offset * ctor.BYTES_PER_ELEMENT, node.length, copy);
  // Arrow JS keeps 64-bit dates/times/timestamps as BigInt64Array like int64.
  return arrow.makeData({ ...common, type: type as A.Int, data: values as A.Int['TArray'] });
}
