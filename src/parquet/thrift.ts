/**
 * A lossless Thrift compact-protocol codec, for the few Parquet structures the stream
 * writer must edit (FileMetaData, OffsetIndex). It decodes into a generic tree that keeps
 * every field and its wire type, so re-encoding an unedited tree gives the same bytes and
 * fields this code knows nothing about (newer Parquet versions) survive untouched.
 */

import { Bytes } from './byte-buffer.js';

/** Compact-protocol wire types. */
export const enum CT {
  STOP = 0,
  TRUE = 1,
  FALSE = 2,
  BYTE = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  DOUBLE = 7,
  BINARY = 8,
  LIST = 9,
  SET = 10,
  MAP = 11,
  STRUCT = 12,
}

export type TValue =
  | { t: CT.TRUE | CT.FALSE; v: boolean }
  | { t: CT.BYTE | CT.I16 | CT.I32; v: number }
  | { t: CT.I64; v: bigint }
  | { t: CT.DOUBLE; v: number }
  | { t: CT.BINARY; v: Uint8Array }
  | { t: CT.LIST | CT.SET; et: number; v: TValue[] }
  | { t: CT.MAP; kt: number; vt: number; v: [TValue, TValue][] }
  | { t: CT.STRUCT; v: TField[] };

export interface TField {
  id: number;
  value: TValue;
}

/** Bytes that are not valid compact Thrift (truncated, unknown type, absurd sizes). */
export class ThriftError extends Error {
  constructor(message: string) {
    super(`thrift: ${message}`);
    this.name = 'ThriftError';
  }
}

const MAX_DEPTH = 64;

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.bytes.length) throw new ThriftError(`truncated at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new ThriftError(`varint too long at byte ${this.pos}`);
    }
  }

  /** A varint that fits a JS number (sizes, i32, i16). */
  smallVarint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new ThriftError(`32-bit varint too long at byte ${this.pos}`);
  }

  zigzag32(): number {
    const n = this.smallVarint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  zigzag64(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  size(what: string): number {
    const n = this.smallVarint();
    if (n > this.bytes.length - this.pos && n > this.bytes.length) throw new ThriftError(`${what} of ${n} exceeds the input`);
    return n;
  }

  value(type: number, depth: number): TValue {
    if (depth > MAX_DEPTH) throw new ThriftError('nesting too deep');
    switch (type) {
      case CT.TRUE: case CT.FALSE:
        // Inside a container a bool is a byte of its own: 1 true, else (0 or 2) false.
        return { t: type, v: type === CT.TRUE };
      case CT.BYTE: {
        const b = this.byte();
        return { t: CT.BYTE, v: b > 127 ? b - 256 : b };
      }
      case CT.I16: return { t: CT.I16, v: this.zigzag32() };
      case CT.I32: return { t: CT.I32, v: this.zigzag32() };
      case CT.I64: return { t: CT.I64, v: this.zigzag64() };
      case CT.DOUBLE: {
        if (this.pos + 8 > this.bytes.length) throw new ThriftError('truncated double');
        const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return { t: CT.DOUBLE, v };
      }
      case CT.BINARY: {
        const n = this.size('binary');
        if (this.pos + n > this.bytes.length) throw new ThriftError('truncated binary');
        const v = this.bytes.slice(this.pos, this.pos + n);
        this.pos += n;
        return { t: CT.BINARY, v };
      }
      case CT.LIST: case CT.SET: {
        const header = this.byte();
        const et = header & 0x0f;
        const n = (header >> 4) === 15 ? this.size('list') : header >> 4;
        const v: TValue[] = [];
        for (let i = 0; i < n; i++) {
          if (et === CT.TRUE || et === CT.FALSE) {
            const b = this.byte();
            v.push(b === 1 ? { t: CT.TRUE, v: true } : { t: CT.FALSE, v: false });
          } else {
            v.push(this.value(et, depth + 1));
          }
        }
        return { t: type, et, v };
      }
      case CT.MAP: {
        const n = this.size('map');
        if (n === 0) return { t: CT.MAP, kt: 0, vt: 0, v: [] };
        const kinds = this.byte();
        const kt = kinds >> 4;
        const vt = kinds & 0x0f;
        const v: [TValue, TValue][] = [];
        for (let i = 0; i < n; i++) v.push([this.value(kt, depth + 1), this.value(vt, depth + 1)]);
        return { t: CT.MAP, kt, vt, v };
      }
      case CT.STRUCT: return { t: CT.STRUCT, v: this.fields(depth + 1) };
      default:
        throw new ThriftError(`unknown type ${type} at byte ${this.pos}`);
    }
  }

  fields(depth: number): TField[] {
    const out: TField[] = [];
    let last = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === CT.STOP) return out;
      const delta = header >> 4;
      const id = delta === 0 ? this.zigzag32() : last + delta;
      last = id;
      out.push({ id, value: this.value(type, depth) });
    }
  }
}

class Writer extends Bytes {
  /** Unsigned LEB128 of a 64-bit value. */
  varint64(n: bigint): void {
    this.room(10);
    let x = BigInt.asUintN(64, n);
    while (x >= 0x80n) {
      this.buf[this.len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.len++] = Number(x);
  }

  zigzag32(n: number): void {
    this.varint(((n << 1) ^ (n >> 31)) >>> 0);
  }

  zigzag64(n: bigint): void {
    this.varint64((n << 1n) ^ (n >> 63n));
  }

  value(x: TValue): void {
    switch (x.t) {
      case CT.TRUE: case CT.FALSE: this.byte(x.v ? 1 : 2); return; // container element form
      case CT.BYTE: this.byte(x.v); return;
      case CT.I16: case CT.I32: this.zigzag32(x.v); return;
      case CT.I64: this.zigzag64(x.v); return;
      case CT.DOUBLE: {
        this.room(8);
        new DataView(this.buf.buffer, this.len, 8).setFloat64(0, x.v, true);
        this.len += 8;
        return;
      }
      case CT.BINARY: this.varint(x.v.length); this.bytes(x.v); return;
      case CT.LIST: case CT.SET: {
        const n = x.v.length;
        if (n < 15) this.byte((n << 4) | x.et);
        else {
          this.byte(0xf0 | x.et);
          this.varint(n);
        }
        for (const e of x.v) this.value(e);
        return;
      }
      case CT.MAP: {
        this.varint(x.v.length);
        if (x.v.length === 0) return;
        this.byte((x.kt << 4) | x.vt);
        for (const [k, v] of x.v) {
          this.value(k);
          this.value(v);
        }
        return;
      }
      case CT.STRUCT: this.fields(x.v); return;
    }
  }

  fields(fields: readonly TField[]): void {
    let last = 0;
    for (const f of fields) {
      // A field's bool lives in its type nibble.
      const type = f.value.t === CT.TRUE || f.value.t === CT.FALSE ? (f.value.v ? CT.TRUE : CT.FALSE) : f.value.t;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.zigzag32(f.id);
      }
      last = f.id;
      if (type !== CT.TRUE && type !== CT.FALSE) this.value(f.value);
    }
    this.byte(CT.STOP);
  }

}

/**
 * Decode one struct starting at `bytes[0]`.
 * @returns its fields and how many bytes it took
 * @throws ThriftError on malformed input
 */
export function decodeStruct(bytes: Uint8Array): { fields: TField[]; length: number } {
  const r = new Reader(bytes);
  const fields = r.fields(0);
  return { fields, length: r.pos };
}

/** Encode a struct's fields (in the order given; Parquet readers expect ascending ids). */
export function encodeStruct(fields: readonly TField[]): Uint8Array {
  const w = new Writer();
  w.fields(fields);
  return w.result();
}

/** The field `id` of a struct, if present. */
export function field(fields: readonly TField[], id: number): TValue | undefined {
  for (const f of fields) if (f.id === id) return f.value;
  return undefined;
}

/** Set (or add, keeping ids ascending) field `id`. */
export function setField(fields: TField[], id: number, value: TValue): void {
  const i = fields.findIndex((f) => f.id >= id);
  if (i < 0) fields.push({ id, value });
  else if (fields[i]!.id === id) fields[i] = { id, value };
  else fields.splice(i, 0, { id, value });
}

/** Remove field `id` if present. */
export function removeField(fields: TField[], id: number): void {
  const i = fields.findIndex((f) => f.id === id);
  if (i >= 0) fields.splice(i, 1);
}

/** Field `id` as an integer (i16/i32/i64/byte); `undefined` if absent or of another type. */
export function intField(fields: readonly TField[], id: number): number | undefined {
  const v = field(fields, id);
  if (!v) return undefined;
  if (v.t === CT.I64) return Number(v.v);
  if (v.t === CT.I32 || v.t === CT.I16 || v.t === CT.BYTE) return v.v;
  return undefined;
}

/** Field `id` as a struct's fields; `undefined` if absent or not a struct. */
export function structField(fields: readonly TField[], id: number): TField[] | undefined {
  const v = field(fields, id);
  return v?.t === CT.STRUCT ? v.v : undefined;
}

/** Field `id` as a list of structs; `undefined` if absent or not a list of structs. */
export function structListField(fields: readonly TField[], id: number): TField[][] | undefined {
  const v = field(fields, id);
  if (!v || (v.t !== CT.LIST && v.t !== CT.SET)) return undefined;
  const out: TField[][] = [];
  for (const e of v.v) {
    if (e.t !== CT.STRUCT) return undefined;
    out.push(e.v);
  }
  return out;
}

export const i64 = (v: number | bigint): TValue => ({ t: CT.I64, v: BigInt(v) });
export const i32 = (v: number): TValue => ({ t: CT.I32, v });
export const i16 = (v: number): TValue => ({ t: CT.I16, v });
export const struct = (v: TField[]): TValue => ({ t: CT.STRUCT, v });
export const structList = (items: TField[][]): TValue => ({ t: CT.LIST, et: CT.STRUCT, v: items.map(struct) });
export const bool = (v: boolean): TValue => (v ? { t: CT.TRUE, v: true } : { t: CT.FALSE, v: false });
export const binary = (v: Uint8Array): TValue => ({ t: CT.BINARY, v });
export const list = (et: number, v: TValue[]): TValue => ({ t: CT.LIST, et, v });
