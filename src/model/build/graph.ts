/**
 * Small constructors for ONNX protobuf messages, shared by the model builders. They keep the
 * builders readable (one line per node) and put the protobuf details in one place: attribute
 * type codes, raw little-endian initializers, symbolic batch dimensions, opset imports.
 */
import { onnx, DataType } from '../onnx-proto.js';

/** ONNX domain of the traditional-ML operators (TreeEnsemble*, LinearClassifier, ZipMap). */
export const ML_DOMAIN = 'ai.onnx.ml';

/** Name of the symbolic batch dimension every builder declares. */
export const BATCH_DIM = 'N';

/** Version of this builder, written into `producer_version` for lineage. */
const PRODUCER_VERSION = '0.1.0';

/** A dimension: a fixed size, or a symbolic name such as `N` for the batch. */
export type Dim = number | string;

type Attr = onnx.IAttributeProto;
const AT = onnx.AttributeProto.AttributeType;
const utf8 = new TextEncoder();

/** Float attribute. */
export function attrFloat(name: string, f: number): Attr {
  return { name, type: AT.FLOAT, f };
}

/** Integer attribute. */
export function attrInt(name: string, i: number): Attr {
  return { name, type: AT.INT, i };
}

/** String attribute (UTF-8 bytes on the wire). */
export function attrString(name: string, s: string): Attr {
  return { name, type: AT.STRING, s: utf8.encode(s) };
}

/** Repeated float attribute; values are stored as float32 by the protobuf encoder. */
export function attrFloats(name: string, floats: ArrayLike<number>): Attr {
  return { name, type: AT.FLOATS, floats: Array.from(floats) };
}

/** Repeated integer attribute. */
export function attrInts(name: string, ints: ArrayLike<number>): Attr {
  return { name, type: AT.INTS, ints: Array.from(ints) };
}

/** Repeated string attribute. */
export function attrStrings(name: string, strings: readonly string[]): Attr {
  return { name, type: AT.STRINGS, strings: strings.map((s) => utf8.encode(s)) };
}

/** A graph node. Names are derived from the first output so error messages can point at it. */
export function node(
  opType: string,
  input: readonly string[],
  output: readonly string[],
  attribute: Attr[] = [],
  domain = '',
): onnx.INodeProto {
  return { opType, input: [...input], output: [...output], attribute, domain, name: `${opType}_${output[0] ?? ''}` };
}

/**
 * A float32 initializer. Stored as `raw_data` (little-endian bytes) rather than
 * `float_data`, as exporters do: protobufjs then copies one byte block instead of encoding
 * and decoding every float. The typed-array bytes are little-endian on every host Node
 * supports here (x64, arm64).
 */
export function floatInitializer(name: string, dims: readonly number[], data: ArrayLike<number>): onnx.ITensorProto {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new Error(`initializer ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
  }
  const f32 = Float32Array.from(data);
  return {
    name,
    dims: [...dims],
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength),
  };
}

/** Shape proto from dims; strings become symbolic (`dim_param`) dimensions. */
function shapeOf(dims: readonly Dim[]): onnx.ITensorShapeProto {
  return { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
}

/** A tensor-typed graph input or output. */
export function tensorValue(name: string, elemType: number, dims: readonly Dim[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: shapeOf(dims) } } };
}

/**
 * The output type ZipMap produces: a sequence of maps from class label to float score
 * (`seq(map(int64, float))` or `seq(map(string, float))`).
 */
export function zipMapValue(name: string, keyType: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      sequenceType: {
        elemType: { mapType: { keyType, valueType: { tensorType: { elemType: DataType.FLOAT } } } },
      },
    },
  };
}

/** Everything needed to assemble a model. */
export interface ModelParts {
  name: string;
  nodes: onnx.INodeProto[];
  inputs: onnx.IValueInfoProto[];
  outputs: onnx.IValueInfoProto[];
  initializers?: onnx.ITensorProto[];
  /** Opset per domain; the default domain is `''`. */
  opsets: Readonly<Record<string, number>>;
  docString?: string;
}

/**
 * Assemble and encode a model. IR version 8 is what the onnx-proto schema (ONNX 1.10)
 * describes, and onnxruntime-node 1.30 accepts it with any opset it implements.
 */
export function encodeModel(parts: ModelParts): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'batchscore',
    producerVersion: PRODUCER_VERSION,
    docString: parts.docString ?? '',
    opsetImport: Object.entries(parts.opsets).map(([domain, version]) => ({ domain, version })),
    graph: {
      name: parts.name,
      node: parts.nodes,
      input: parts.inputs,
      output: parts.outputs,
      initializer: parts.initializers ?? [],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}
