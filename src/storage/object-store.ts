/**
 * The one interface every byte of batchscore goes through. Implementations: the local
 * filesystem (`file-store.ts`, the embedded default) and S3 / S3-compatible stores
 * (`s3-store.ts`). Keys are `/`-separated paths inside the store (no leading slash for S3,
 * absolute paths for the filesystem store); `resolveUri()` turns a user URI into a store
 * and a key.
 */
export interface ObjectInfo {
  /** Key of the object inside its store. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** Entity tag (S3) or a `mtime-size` fingerprint (filesystem): changes when content changes. */
  etag: string;
  /** Last modification time. */
  mtime: Date;
}

/** Options for `put`. Conditions are honoured where the store supports them. */
export interface PutOptions {
  /** Fail with `PreconditionFailedError` if an object already exists at the key. */
  ifNoneMatch?: '*';
  /** Fail with `PreconditionFailedError` unless the current object has this etag. */
  ifMatch?: string;
  /** MIME type recorded with the object. */
  contentType?: string;
}

export interface ObjectStore {
  /** URI of the store root, e.g. `file:///` or `s3://bucket`, for messages and lineage. */
  readonly root: string;
  /** Whether `put` enforces `ifNoneMatch`/`ifMatch` (s3rver and many S3 clones do not). */
  readonly conditionalWrites: boolean;
  /** Every object whose key starts with `prefix`, in key order, paginated underneath. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Metadata of one object, or `undefined` if it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Whole object. Throws `NotFoundError` if missing. */
  get(key: string): Promise<Uint8Array>;
  /** Bytes `[start, end)` of an object (explicit range; never a suffix range). */
  getRange(key: string, start: number, end: number): Promise<Uint8Array>;
  /** Write a whole object (multipart underneath when large). Returns the new etag. */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }>;
  /** Upload a local file (streamed; multipart when large). Returns the new etag. */
  putFile(key: string, localPath: string, options?: PutOptions): Promise<{ etag: string }>;
  /** Download an object to a local file (streamed). */
  getFile(key: string, localPath: string): Promise<void>;
  /** Server-side copy (S3 CopyObject / filesystem copy). */
  copy(fromKey: string, toKey: string): Promise<{ etag: string }>;
  /** Delete one object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Delete every object under `prefix` (which must end with `/`); returns how many. On the
   * filesystem the emptied folders go too, as they would not exist on S3.
   */
  deletePrefix(prefix: string): Promise<number>;
  /** Full URI of a key, e.g. `s3://bucket/a/b.parquet`. */
  uri(key: string): string;
}

/** Thrown by `get`/`getRange`/`copy` when the key does not exist. */
export class NotFoundError extends Error {
  constructor(readonly uriOrKey: string) {
    super(`storage: object not found: ${uriOrKey}`);
    this.name = 'NotFoundError';
  }
}

/** Thrown by `put` when an `ifNoneMatch`/`ifMatch` condition does not hold. */
export class PreconditionFailedError extends Error {
  constructor(readonly uriOrKey: string, detail: string) {
    super(`storage: precondition failed for ${uriOrKey}: ${detail}`);
    this.name = 'PreconditionFailedError';
  }
}
