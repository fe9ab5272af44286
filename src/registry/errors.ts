/**
 * The error type of everything in `src/registry/`. The CLI maps `code` to an exit status
 * (bad name or ref → usage error; not found, conflict → failure) and shows `message` as is.
 */

/** What went wrong, for callers that branch on it (messages are for people). */
export type RegistryErrorCode =
  /** A model name, alias, version or ref does not have the required form. */
  | 'invalid-name'
  /** Metrics, card or other registration metadata are malformed. */
  | 'invalid-metadata'
  /** The model bytes do not load, or need files the registry cannot carry. */
  | 'invalid-model'
  /** The model, version or alias does not exist. */
  | 'not-found'
  /** A concurrent writer got in the way and retrying did not (or must not) resolve it. */
  | 'conflict'
  /** A registry document exists but cannot be parsed or contradicts its object. */
  | 'corrupt'
  /** A rollback has nothing to go back to. */
  | 'no-history';

/** A registry operation failed. Messages start with `registry: ` and quote the bad value. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;
  /**
   * Whether retrying the same call cannot help. Only `conflict` is worth retrying; this
   * mirrors `ModelError.permanent` so generic retry code can treat both alike.
   */
  readonly permanent: boolean;

  constructor(code: RegistryErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.permanent = code !== 'conflict';
  }
}
