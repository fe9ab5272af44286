/**
 * A minimal walk over ONNX protobuf bytes: the main graph's op types and whether any tensor
 * stores its data externally, without the full protobuf schema. Scoring threads use it to
 * skip `onnx-proto` (its generated code takes 120–190 ms to load per thread on 2 busy
 * cores) when a model needs no rewriting; anything unusual sends them to the full loader.
 *
 * Wire format: tag = (field << 3) | wire type; 0 varint, 1 fixed64, 2 length-delimited,
 * 5 fixed32. ModelProto.graph = 7, ModelProto.functions = 25; GraphProto.node = 1,
 * GraphProto.initializer = 5, GraphProto.sparse_initializer = 15; NodeProto.op_type = 4,
 * NodeProto.domain = 7; TensorProto.data_location = 14 (1 = EXTERNAL); GraphProto.input = 11,
 * GraphProto.output = 12.
 */

import { elemTypeOf, type ElemType } from '../model/elem-type.js';

/** A node of the main graph. */
export interface ScannedNode {
  /** `domain/op_type`, e.g. `ai.onnx.ml/TreeEnsembleRegressor`, `/MatMul`. */
  readonly op: string;
  readonly inputs: readonly string[];
  /** Integer attributes (e.g. Gemm's `transA`). */
  readonly ints: Readonly<Record<string, number>>;
}

export interface ModelScan {
  /** `domain/op_type` of every node of the main graph, e.g. `ai.onnx.ml/TreeEnsembleRegressor`, `/MatMul`. */
  readonly ops: readonly string[];
  readonly nodes: readonly ScannedNode[];
  /** The main graph's initializers (constant tensors): name → dims. */
  readonly initializers: ReadonlyMap<string, readonly number[]>;
  /** Whether an initializer of the main graph keeps its data in an external file. */
  readonly externalData: boolean;
  /** Whether the model has local functions (their bodies are not scanned). */
  readonly functions: boolean;
  /** Graph inputs (those that are also initializers left out, as ORT does) and outputs. */
  readonly inputs: readonly ScannedValue[];
  readonly outputs: readonly ScannedValue[];
}

/** A graph input or output as `readSignature` describes a tensor; `tensor` false for any other type. */
export interface ScannedValue {
  readonly name: string;
  readonly tensor: boolean;
  readonly elemType: ElemType;
  readonly shape: readonly (number | string | null)[];
}

class Cursor {
  pos: number;
  constructor(readonly bytes: Uint8Array, readonly start: number, readonly end: number) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('protobuf: truncated varint');
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new Error('protobuf: varint too long');
  }

  /** Next field: number, wire type and (for length-delimited) its byte range. */
  next(): { field: number; wire: number; from: number; to: number; value: number } | null {
    if (this.pos >= this.end) return null;
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    let value = 0;
    let from = this.pos;
    switch (wire) {
      case 0: value = this.varint(); break;
      case 1: this.pos += 8; break;
      case 5: this.pos += 4; break;
      case 2: {
        const len = this.varint();
        from = this.pos;
        this.pos += len;
        break;
      }
      default: throw new Error(`protobuf: unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) throw new Error('protobuf: field runs past its message');
    return { field, wire, from, to: this.pos, value };
  }
}

const decoder = new TextDecoder();

/**
 * ValueInfoProto (name = 1, type = 2) → TypeProto.tensor_type = 1 → elem_type = 1, shape = 2
 * → TensorShapeProto.dim = 1 → Dimension (dim_value = 1, dim_param = 2). The dimension rules
 * are readSignature's: a non-empty dim_param, else dim_value, else null; no shape, [].
 */
function scanValue(bytes: Uint8Array, from: number, to: number): ScannedValue {
  let name = '';
  let tensor = false;
  let elemType: ElemType = 'unknown';
  const shape: (number | string | null)[] = [];
  const value = new Cursor(bytes, from, to);
  for (let v = value.next(); v; v = value.next()) {
    if (v.wire !== 2) continue;
    if (v.field === 1) name = decoder.decode(bytes.subarray(v.from, v.to));
    if (v.field !== 2) continue;
    const type = new Cursor(bytes, v.from, v.to);
    for (let t = type.next(); t; t = type.next()) {
      if (t.wire !== 2) continue;
      // sequence_type 4, map_type 5, sparse_tensor_type 8, optional_type 9 (denotation 6 is a tag).
      if (t.field === 4 || t.field === 5 || t.field === 8 || t.field === 9) return { name, tensor: false, elemType, shape: [] };
      if (t.field !== 1) continue;
      tensor = true;
      const tt = new Cursor(bytes, t.from, t.to);
      for (let f = tt.next(); f; f = tt.next()) {
        if (f.field === 1 && f.wire === 0) elemType = elemTypeOf(f.value);
        if (f.field !== 2 || f.wire !== 2) continue;
        const dims = new Cursor(bytes, f.from, f.to);
        for (let d = dims.next(); d; d = dims.next()) {
          if (d.field !== 1 || d.wire !== 2) continue;
          let size: number | null = null;
          let param = '';
          const dim = new Cursor(bytes, d.from, d.to);
          for (let x = dim.next(); x; x = dim.next()) {
            if (x.field === 1 && x.wire === 0) size = x.value;
            if (x.field === 2 && x.wire === 2) param = decoder.decode(bytes.subarray(x.from, x.to));
          }
          // Negative sizes come as 10-byte varints: not a real shape, let the full reader judge.
          if (size !== null && size > Number.MAX_SAFE_INTEGER) return { name, tensor: false, elemType, shape: [] };
          shape.push(param !== '' ? param : size);
        }
      }
    }
  }
  return { name, tensor, elemType, shape };
}

/**
 * Scan ONNX model bytes.
 * @throws Error when the bytes are not a well-formed protobuf message
 */
export function scanModel(bytes: Uint8Array): ModelScan {
  const ops: string[] = [];
  const nodes: ScannedNode[] = [];
  const initializers = new Map<string, number[]>();
  let externalData = false;
  let functions = false;
  const inputs: ScannedValue[] = [];
  const outputs: ScannedValue[] = [];
  const model = new Cursor(bytes, 0, bytes.length);
  for (let f = model.next(); f; f = model.next()) {
    if (f.field === 25 && f.wire === 2) functions = true;
    if (f.field !== 7 || f.wire !== 2) continue;
    const graph = new Cursor(bytes, f.from, f.to);
    for (let g = graph.next(); g; g = graph.next()) {
      if (g.wire !== 2) continue;
      if (g.field === 1) {
        let op = '';
        let domain = '';
        const inputs: string[] = [];
        const ints: Record<string, number> = {};
        const node = new Cursor(bytes, g.from, g.to);
        for (let n = node.next(); n; n = node.next()) {
          if (n.wire !== 2) continue;
          if (n.field === 4) op = decoder.decode(bytes.subarray(n.from, n.to));
          else if (n.field === 7) domain = decoder.decode(bytes.subarray(n.from, n.to));
          else if (n.field === 1) inputs.push(decoder.decode(bytes.subarray(n.from, n.to)));
          else if (n.field === 5) {
            // AttributeProto: name = 1, i = 3.
            let name = '';
            let value: number | undefined;
            const attr = new Cursor(bytes, n.from, n.to);
            for (let a = attr.next(); a; a = attr.next()) {
              if (a.field === 1 && a.wire === 2) name = decoder.decode(bytes.subarray(a.from, a.to));
              else if (a.field === 3 && a.wire === 0) value = a.value;
            }
            if (value !== undefined) ints[name] = value;
          }
        }
        ops.push(`${domain}/${op}`);
        nodes.push({ op: `${domain}/${op}`, inputs, ints });
      } else if (g.field === 11 || g.field === 12) {
        (g.field === 11 ? inputs : outputs).push(scanValue(bytes, g.from, g.to));
      } else if (g.field === 5 || g.field === 15) {
        // A sparse initializer holds TensorProtos (values = 1, indices = 2): scan those too.
        const tensors = g.field === 5 ? [[g.from, g.to] as const] : sparseParts(bytes, g.from, g.to);
        for (const [from, to] of tensors) {
          const tensor = new Cursor(bytes, from, to);
          let name: string | undefined;
          const dims: number[] = [];
          for (let t = tensor.next(); t; t = tensor.next()) {
            if (t.field === 14 && t.wire === 0 && t.value === 1) externalData = true;
            else if (t.field === 8 && t.wire === 2) name = decoder.decode(bytes.subarray(t.from, t.to));
            else if (t.field === 1 && t.wire === 0) dims.push(t.value);
            else if (t.field === 1 && t.wire === 2) {
              // Packed dims.
              const packed = new Cursor(bytes, t.from, t.to);
              while (packed.pos < packed.end) dims.push(packed.varint());
            }
          }
          if (g.field === 5 && name !== undefined) initializers.set(name, dims);
        }
      }
    }
  }
  return { ops, nodes, initializers, externalData, functions, inputs: inputs.filter((i) => !initializers.has(i.name)), outputs };
}

function sparseParts(bytes: Uint8Array, from: number, to: number): (readonly [number, number])[] {
  const out: (readonly [number, number])[] = [];
  const c = new Cursor(bytes, from, to);
  for (let f = c.next(); f; f = c.next()) if ((f.field === 1 || f.field === 2) && f.wire === 2) out.push([f.from, f.to] as const);
  return out;
}

/**
 * Whether a scanned model runs as it is: no ZipMap to strip, no external data, no local
 * functions, no control flow (subgraphs, not scanned). Such a model needs neither onnx-proto
 * nor a rewrite: scoring threads create their session straight from the bytes, and planning
 * reads its signature from the scan.
 */
export function runsAsIs(scan: ModelScan | null): scan is ModelScan {
  if (!scan || scan.externalData || scan.functions) return false;
  return !scan.ops.some((op) => op === 'ai.onnx.ml/ZipMap' || op === '/If' || op === '/Loop' || op === '/Scan');
}
