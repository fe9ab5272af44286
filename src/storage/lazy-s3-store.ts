/**
 * An S3 store that loads the AWS SDK on first use. Importing the SDK costs ~0.3 s and tens
 * of MB per thread; a local run (and every scoring thread of one) never needs it.
 */
import type { ObjectInfo, ObjectStore, PutOptions } from './object-store.js';
import type { S3Store, S3StoreOptions } from './s3-store.js';

export class LazyS3Store implements ObjectStore {
  readonly root: string;
  readonly conditionalWrites: boolean;
  readonly bucket: string;
  private loaded: S3Store | undefined;
  private loading: Promise<S3Store> | undefined;

  constructor(private readonly options: S3StoreOptions) {
    if (!options.bucket) throw new Error('storage: S3Store needs a bucket name');
    this.bucket = options.bucket;
    this.root = `s3://${options.bucket}`;
    this.conditionalWrites = options.conditionalWrites ?? true;
  }

  /** The real store (loads the SDK once). */
  store(): Promise<S3Store> {
    this.loading ??= import('./s3-store.js').then(({ S3Store: Impl }) => (this.loaded = new Impl(this.options)));
    return this.loading;
  }

  uri(key: string): string {
    return `${this.root}/${key}`;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    yield* (await this.store()).list(prefix);
  }
  async head(key: string): Promise<ObjectInfo | undefined> {
    return (await this.store()).head(key);
  }
  async get(key: string): Promise<Uint8Array> {
    return (await this.store()).get(key);
  }
  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    return (await this.store()).getRange(key, start, end);
  }
  async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }> {
    return (await this.store()).put(key, body, options);
  }
  async putFile(key: string, localPath: string, options?: PutOptions): Promise<{ etag: string }> {
    return (await this.store()).putFile(key, localPath, options);
  }
  async getFile(key: string, localPath: string): Promise<void> {
    return (await this.store()).getFile(key, localPath);
  }
  async copy(fromKey: string, toKey: string): Promise<{ etag: string }> {
    return (await this.store()).copy(fromKey, toKey);
  }
  async delete(key: string): Promise<void> {
    return (await this.store()).delete(key);
  }
  async deletePrefix(prefix: string): Promise<number> {
    return (await this.store()).deletePrefix(prefix);
  }
  /** Release the client's sockets, if the SDK was ever loaded. */
  close(): void {
    this.loaded?.close();
  }
}
