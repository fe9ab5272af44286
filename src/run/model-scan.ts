/**
 * A minimal walk over ONNX protobuf bytes: the main graph's op types and whether any tensor
 * stores its data externally, without the full protobuf schema. Scoring threads use it to
 * skip `onnx-proto` (its generated code takes 120–190 ms to load per thread on 2 busy
 * cores) when a model needs no rewriting; anything unusual sends them to the full loader.
 *
 * Wire format: tag = (field << 3) | wire type; 0 varint, 1 fixed64, 2 length-delimited,
 * 5 fixed32. ModelProto.graph = 7, ModelProto.functions = 25; GraphProto.node = 1,
 * GraphProto.initializer = 5, GraphProto.sparse_initializer = 15; NodeProto.op_type = 4,
 * NodeProto.domain = 7; TensorProto.data_location = 14 (1 = EXTERNAL).
 */

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
 * Scan ONNX model bytes.
 * @throws Error when the bytes are not a well-formed protobuf message
 */
export function scanModel(bytes: Uint8Array): ModelScan {
  const ops: string[] = [];
  const nodes: ScannedNode[] = [];
  const initializers = new Map<string, number[]>();
  let externalData = false;
  let functions = false;
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
  return { ops, nodes, initializers, externalData, functions };
}

function sparseParts(bytes: Uint8Array, from: number, to: number): (readonly [number, number])[] {
  const out: (readonly [number, number])[] = [];
  const c = new Cursor(bytes, from, to);
  for (let f = c.next(); f; f = c.next()) if ((f.field === 1 || f.field === 2) && f.wire === 2) out.push([f.from, f.to] as const);
  return out;
}
