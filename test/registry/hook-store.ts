/**
 * An ObjectStore wrapper for registry tests: delegates everything, can claim not to enforce
 * conditional writes, and runs hooks around `put`/`list` so a test can play the concurrent
 * writer (or the lagging listing) at an exact point instead of hoping for a race.
 */
import type { ObjectInfo, ObjectStore, PutOptions } from '../../src/storage/object-store.js';

export interface Hooks {
  /** Runs before the wrapped put; may write through `inner` to simulate a racing writer. */
  beforePut?: (key: string, options: PutOptions | undefined) => Promise<void>;
  /** Runs after the wrapped put succeeded. */
  afterPut?: (key: string) => Promise<void>;
  /** Replaces listing (e.g. a stale, empty listing). */
  list?: (prefix: string) => AsyncIterable<ObjectInfo>;
}

export class HookStore implements ObjectStore {
  readonly root: string;
  hooks: Hooks = {};

  constructor(readonly inner: ObjectStore, readonly conditionalWrites: boolean = inner.conditionalWrites) {
    this.root = inner.root;
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.hooks.list ? this.hooks.list(prefix) : this.inner.list(prefix);
  }
  head(key: string) {
    return this.inner.head(key);
  }
  get(key: string) {
    return this.inner.get(key);
  }
  getRange(key: string, start: number, end: number) {
    return this.inner.getRange(key, start, end);
  }
  async put(key: string, body: Uint8Array | string, options?: PutOptions) {
    await this.hooks.beforePut?.(key, options);
    const res = await this.inner.put(key, body, options);
    await this.hooks.afterPut?.(key);
    return res;
  }
  putFile(key: string, localPath: string, options?: PutOptions) {
    return this.inner.putFile(key, localPath, options);
  }
  getFile(key: string, localPath: string) {
    return this.inner.getFile(key, localPath);
  }
  copy(fromKey: string, toKey: string) {
    return this.inner.copy(fromKey, toKey);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  deletePrefix(prefix: string) {
    return this.inner.deletePrefix(prefix);
  }
  uri(key: string) {
    return this.inner.uri(key);
  }
}

/** An async iterable with nothing in it: a listing that has not caught up yet. */
export async function* emptyListing(): AsyncIterable<ObjectInfo> {}
