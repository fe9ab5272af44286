/**
 * The one place that imports `onnx-proto` (the ONNX protobuf schema compiled for protobufjs 6).
 *
 * The package is CommonJS with `module.exports = root`, which Node's ESM loader cannot split
 * into named exports: `import { onnx } from 'onnx-proto'` type-checks but fails at runtime.
 * Everything else in `src/model/` imports `onnx` from here instead.
 *
 * The schema is ONNX 1.10 (IR version 8). Decoding a newer model silently drops fields that
 * 1.10 does not know, so only re-encode a decoded model when it must change (see zipmap.ts).
 */
import onnxPkg from 'onnx-proto';

export import onnx = onnxPkg.onnx;

/** ONNX `TensorProto.DataType` codes used by the builders and the signature reader. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

/** A protobufjs 64-bit integer as decoded (a `Long` when the `long` package is present). */
export type Int64Like = number | { toNumber(): number } | null | undefined;

/**
 * int64 fields decode as `Long` objects (protobufjs 6 picks up the `long` package), but are
 * plain numbers when a message was built in JS: accept both. Values beyond 2^53 lose
 * precision, which is fine for the dims, versions and attribute ints read here.
 */
export function toNumber(v: Int64Like): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}
