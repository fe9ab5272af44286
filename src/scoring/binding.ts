/**
 * How feature columns feed a model: one `[N,F]` matrix input, or one `[N,1]` input per
 * feature (the sklearn-onnx convention). Decided once per job from the model signature and
 * the spec, so a mismatch is a clear error before any data is read.
 */

/** The parts of a model input the binding needs (matches `model/signature.ts`). */
export interface InputSignature {
  readonly name: string;
  readonly elemType: string;
  readonly shape: readonly (number | string | null)[];
}

export type TensorFloatType = 'float32' | 'float64';

export type FeatureBinding =
  | { readonly kind: 'matrix'; readonly input: string; readonly type: TensorFloatType; readonly features: readonly string[] }
  | { readonly kind: 'per-feature'; readonly inputs: readonly { name: string; type: TensorFloatType }[]; readonly features: readonly string[] };

/** The model cannot take the features as the spec maps them. */
export class BindingError extends Error {
  constructor(message: string) {
    super(`model binding: ${message}`);
    this.name = 'BindingError';
  }
}

function floatType(input: InputSignature): TensorFloatType {
  if (input.elemType === 'float32' || input.elemType === 'float64') return input.elemType;
  throw new BindingError(`input "${input.name}" has element type ${input.elemType}; only float32 and float64 inputs are supported`);
}

/**
 * Map spec features onto model inputs.
 * @param inputs the model's inputs, in order
 * @param features the spec's `features`, or undefined to use the model's per-feature input names
 */
export function bindFeatures(inputs: readonly InputSignature[], features: readonly string[] | undefined): FeatureBinding {
  if (inputs.length === 0) throw new BindingError('the model has no inputs');
  if (inputs.length === 1) {
    const input = inputs[0]!;
    const type = floatType(input);
    if (input.shape.length !== 2) {
      throw new BindingError(`input "${input.name}" has shape [${input.shape.join(',')}]; expected [N, features]`);
    }
    const width = input.shape[1];
    const cols = features ?? (width === 1 ? [input.name] : undefined);
    if (!cols) throw new BindingError(`input "${input.name}" takes a feature matrix; list its columns in the spec's "features"`);
    if (typeof width === 'number' && width !== cols.length) {
      throw new BindingError(`input "${input.name}" has shape [N,${width}] but the spec lists ${cols.length} features`);
    }
    return { kind: 'matrix', input: input.name, type, features: cols };
  }
  const typed = inputs.map((input) => {
    const width = input.shape[1];
    if (input.shape.length !== 2 || (typeof width === 'number' && width !== 1)) {
      throw new BindingError(`model has ${inputs.length} inputs; input "${input.name}" has shape [${input.shape.join(',')}], expected [N,1] per feature`);
    }
    return { name: input.name, type: floatType(input) };
  });
  const cols = features ?? inputs.map((i) => i.name);
  if (cols.length !== inputs.length) {
    throw new BindingError(`model has ${inputs.length} per-feature inputs but the spec lists ${cols.length} features`);
  }
  return { kind: 'per-feature', inputs: typed, features: cols };
}
