/**
 * The error type of everything in `src/model/`. A model that fails its pin, cannot be
 * decoded or is refused by ONNX Runtime will fail the same way on every retry, so callers
 * (the runner, the queue worker) treat a ModelError as permanent: fail the task at once
 * instead of burning retries, and show the message to the user as is.
 */

/** What went wrong, for callers that branch on it (messages are for people). */
export type ModelErrorCode =
  /** The bytes do not hash to the pinned sha256. */
  | 'sha256-mismatch'
  /** The bytes are not a decodable ONNX ModelProto. */
  | 'invalid-model'
  /** The model is valid ONNX but uses something this loader refuses (e.g. external data). */
  | 'unsupported'
  /** ONNX Runtime refused to create a session. */
  | 'load-failed';

/** A permanent (non-retryable) problem with a model. Messages start with `model: `. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  /** Always true: retrying cannot help. Lets generic retry code check without importing this class. */
  readonly permanent = true;
  readonly code: ModelErrorCode;
  /** URI or label of the model the error is about, when known. */
  readonly source: string | undefined;

  constructor(code: ModelErrorCode, message: string, options: { source?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.source = options.source;
  }
}

/** The message of any thrown value, for wrapping errors from libraries into ours. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
