/**
 * ONNX tensor element types in onnxruntime-node's words. Its own module: the light model
 * scan (run/model-scan.ts) needs it without loading the protobuf schema (onnx-proto).
 */

/** Element type of a tensor, in onnxruntime-node's vocabulary (`float32`, not `float`). */
export type ElemType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'string'
  | 'complex64'
  | 'complex128'
  | 'unknown';

const ELEM_TYPES: Readonly<Record<number, ElemType>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

/** ElemType of an ONNX `TensorProto.DataType` code. */
export function elemTypeOf(code: number | null | undefined): ElemType {
  return ELEM_TYPES[code ?? 0] ?? 'unknown';
}
