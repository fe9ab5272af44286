/**
 * What a model takes and gives, read from its bytes without ONNX Runtime: inputs, outputs,
 * opsets, producer, whether it ends in a ZipMap, and which external data files it needs.
 * The pipeline uses it to bind feature columns to inputs and to check a model before any
 * data is read; `model inspect`-style commands print it.
 */
import { onnx, toNumber } from './onnx-proto.js';
import { ModelError, messageOf } from './errors.js';
import { elemTypeOf, type ElemType } from './elem-type.js';

export { elemTypeOf, type ElemType };

/** The outer kind of a graph input or output. onnxruntime-node can only return `tensor`. */
export type ValueKind = 'tensor' | 'sequence' | 'map' | 'optional' | 'sparse_tensor' | 'unknown';

/** One graph input or output. */
export interface TensorSpec {
  name: string;
  /**
   * Element type of the tensor; for a sequence or optional, that of its element; for a map
   * (or a sequence of maps, as ZipMap gives), that of its values.
   */
  elemType: ElemType;
  /** Dimensions: a size, a symbolic name (`N`), or null when unnamed/unknown. Empty for non-tensors. */
  shape: (number | string | null)[];
  kind: ValueKind;
  /** Readable full type, e.g. `tensor(float32)[N,2]` or `seq(map(int64,float32))`. */
  type: string;
}

/** An operator set the model imports. The default ONNX domain is `''`. */
export interface OpsetSpec {
  domain: string;
  version: number;
}

/** Everything {@link readSignature} reports. */
export interface ModelSignature {
  /** Graph inputs that must be fed (initializers listed as inputs are left out, as ORT does). */
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  opsets: OpsetSpec[];
  /** `producer_name` / `producer_version`, e.g. `skl2onnx` / `1.17.0`; empty when unset. */
  producer: { name: string; version: string };
  irVersion: number;
  /** Whether the main graph contains an ai.onnx.ml ZipMap node (see zipmap.ts). */
  hasZipMap: boolean;
  /** `location` of every tensor stored in an external file, deduplicated, in graph order. */
  externalData: string[];
}

/**
 * Decode ONNX bytes. Throws a ModelError (code `invalid-model`) for bytes that are not a
 * ModelProto with a graph: protobufjs rejects most garbage, but an empty or unrelated
 * buffer can decode "successfully" into an empty message.
 */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ModelError('invalid-model', `model: not an ONNX model (protobuf decode failed: ${messageOf(err)})`, {
      cause: err,
    });
  }
  if (!model.graph || (model.graph.output ?? []).length === 0) {
    throw new ModelError('invalid-model', 'model: not an ONNX model (no graph or no graph outputs)');
  }
  return model;
}

interface TypeInfo {
  elemType: ElemType;
  shape: (number | string | null)[];
  kind: ValueKind;
  type: string;
}

/**
 * A dimension's size, name, or null when neither is set (ONNX's "unknown dimension", which
 * exporters use for the batch). An empty `dim_param` counts as unset, as in ONNX Runtime.
 */
function dimOf(d: onnx.TensorShapeProto.IDimension): number | string | null {
  if (d.dimParam) return d.dimParam;
  if (d.dimValue !== null && d.dimValue !== undefined) return toNumber(d.dimValue);
  return null;
}

function describeType(t: onnx.ITypeProto | null | undefined): TypeInfo {
  if (t?.tensorType) {
    const elemType = elemTypeOf(t.tensorType.elemType);
    // A missing shape means "any rank"; an empty dim list means a scalar. Both become [].
    const shape = (t.tensorType.shape?.dim ?? []).map(dimOf);
    return { elemType, shape, kind: 'tensor', type: `tensor(${elemType})[${shape.map((d) => d ?? '?').join(',')}]` };
  }
  if (t?.sequenceType) {
    const inner = describeType(t.sequenceType.elemType);
    return { elemType: inner.elemType, shape: [], kind: 'sequence', type: `seq(${inner.type})` };
  }
  if (t?.mapType) {
    const value = describeType(t.mapType.valueType);
    const key = elemTypeOf(t.mapType.keyType);
    return { elemType: value.elemType, shape: [], kind: 'map', type: `map(${key},${value.elemType})` };
  }
  if (t?.optionalType) {
    const inner = describeType(t.optionalType.elemType);
    return { elemType: inner.elemType, shape: [], kind: 'optional', type: `optional(${inner.type})` };
  }
  if (t?.sparseTensorType) {
    const elemType = elemTypeOf(t.sparseTensorType.elemType);
    return { elemType, shape: [], kind: 'sparse_tensor', type: `sparse_tensor(${elemType})` };
  }
  return { elemType: 'unknown', shape: [], kind: 'unknown', type: 'unknown' };
}

/** TensorSpec of one graph input or output. */
export function tensorSpecOf(v: onnx.IValueInfoProto): TensorSpec {
  return { name: v.name ?? '', ...describeType(v.type) };
}

/**
 * Collect external-data locations from every tensor the model carries: initializers,
 * sparse initializers, and tensors inside node attributes, recursing into subgraphs
 * (If/Loop/Scan bodies) and local functions. Constant nodes are attributes too, and ORT
 * resolves their external data the same way, so skipping them would leave a hole.
 */
function collectExternalData(model: onnx.IModelProto): string[] {
  const found = new Set<string>();
  const visitTensor = (t: onnx.ITensorProto | null | undefined): void => {
    if (!t || t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return;
    const loc = (t.externalData ?? []).find((e) => e.key === 'location');
    found.add(loc?.value ?? '');
  };
  const visitSparse = (s: onnx.ISparseTensorProto | null | undefined): void => {
    visitTensor(s?.values);
    visitTensor(s?.indices);
  };
  const visitNodes = (nodes: onnx.INodeProto[] | null | undefined): void => {
    for (const n of nodes ?? []) {
      for (const a of n.attribute ?? []) {
        visitTensor(a.t);
        (a.tensors ?? []).forEach(visitTensor);
        visitSparse(a.sparseTensor);
        (a.sparseTensors ?? []).forEach(visitSparse);
        if (a.g) visitGraph(a.g);
        (a.graphs ?? []).forEach(visitGraph);
      }
    }
  };
  const visitGraph = (g: onnx.IGraphProto): void => {
    (g.initializer ?? []).forEach(visitTensor);
    (g.sparseInitializer ?? []).forEach(visitSparse);
    visitNodes(g.node);
  };
  if (model.graph) visitGraph(model.graph);
  for (const f of model.functions ?? []) visitNodes(f.node);
  return [...found];
}

/** Whether the main graph has a ZipMap node (the only place sklearn-onnx puts one). */
export function hasZipMapNode(graph: onnx.IGraphProto): boolean {
  return (graph.node ?? []).some((n) => n.opType === 'ZipMap' && n.domain === 'ai.onnx.ml');
}

/**
 * Read a model's signature from its bytes (or an already decoded ModelProto). Throws a
 * ModelError (`invalid-model`) for bytes that are not an ONNX model. Does not validate the
 * graph: that is ONNX Runtime's job when the session is created.
 */
export function readSignature(model: Uint8Array | onnx.ModelProto): ModelSignature {
  const m = model instanceof Uint8Array ? decodeModel(model) : model;
  const graph = m.graph ?? {};
  // Before IR 4, every initializer also had to be listed as a graph input; those are weights,
  // not things the caller feeds.
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  return {
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(tensorSpecOf),
    outputs: (graph.output ?? []).map(tensorSpecOf),
    opsets: (m.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: toNumber(o.version) })),
    producer: { name: m.producerName ?? '', version: m.producerVersion ?? '' },
    irVersion: toNumber(m.irVersion),
    hasZipMap: hasZipMapNode(graph),
    externalData: collectExternalData(m),
  };
}
