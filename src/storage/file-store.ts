/**
 * The local-filesystem object store: the embedded default, and what tests and single-machine
 * runs use. Keys are absolute paths. Writes go to a temporary file in the destination
 * directory and are then renamed into place, so a reader sees either the old object or the
 * new one, never a half-written file.
 */
import type { BigIntStats } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import { copyFile, link, mkdir, open, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  NotFoundError,
  PreconditionFailedError,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from './object-store.js';
import { TEMP_FILE_PREFIX, walkFiles } from './file-walk.js';
import { sweepDeadTempFiles, tempFileName } from './temp-files.js';

export { TEMP_FILE_PREFIX };

/** Filesystem errors that mean "there is no object at this key". */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

function fingerprint(st: BigIntStats): string {
  // mtime and size alone collide when the same-sized object is rewritten within one mtime
  // tick (a few ms on Linux); every write renames a fresh file, so the inode breaks the tie.
  return `${st.mtimeNs}-${st.size}-${st.ino}`;
}

function toInfo(key: string, st: BigIntStats): ObjectInfo {
  return { key, size: Number(st.size), etag: fingerprint(st), mtime: new Date(Number(st.mtimeMs)) };
}

function toBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** `ObjectStore` over the local filesystem; keys are absolute paths. */
export class FileStore implements ObjectStore {
  readonly root = 'file:///';
  readonly conditionalWrites = true;

  uri(key: string): string {
    return pathToFileURL(key).href;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    this.checkKey(prefix);
    try {
      for await (const { path, stats } of walkFiles(prefix)) yield toInfo(path, stats);
    } catch (err) {
      throw this.fail('list', prefix, err);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.checkKey(key);
    try {
      const st = await stat(key, { bigint: true });
      return st.isFile() ? toInfo(key, st) : undefined;
    } catch (err) {
      if (MISSING.has(errorCode(err) ?? '')) return undefined;
      throw this.fail('head', key, err);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    this.checkKey(key);
    try {
      return await readFile(key);
    } catch (err) {
      throw this.fail('get', key, err);
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    this.checkKey(key);
    checkRange(this.uri(key), start, end);
    let handle;
    try {
      handle = await open(key, 'r');
    } catch (err) {
      throw this.fail('getRange', key, err);
    }
    try {
      return await readAt(handle, start, end - start);
    } catch (err) {
      throw this.fail('getRange', key, err);
    } finally {
      await handle.close();
    }
  }

  async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }> {
    this.checkKey(key);
    const bytes = toBytes(body);
    return this.writeVia(key, options, async (tmp) => {
      const handle = await open(tmp, 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
        return await handle.stat({ bigint: true });
      } finally {
        await handle.close();
      }
    });
  }

  async putFile(key: string, localPath: string, options?: PutOptions): Promise<{ etag: string }> {
    this.checkKey(key);
    // Copy, never move: the caller still owns `localPath` (it may be a cached download).
    return this.writeVia(key, options, async (tmp) => {
      try {
        return await copySynced(localPath, tmp);
      } catch (err) {
        if (MISSING.has(errorCode(err) ?? '')) {
          throw new Error(`storage: cannot upload "${localPath}" to ${this.uri(key)}: local file not found`, {
            cause: err,
          });
        }
        throw err;
      }
    });
  }

  async getFile(key: string, localPath: string): Promise<void> {
    this.checkKey(key);
    await this.writeVia(resolve(localPath), undefined, async (tmp) => {
      try {
        return await copySynced(key, tmp);
      } catch (err) {
        if (MISSING.has(errorCode(err) ?? '')) throw new NotFoundError(this.uri(key));
        throw err;
      }
    });
  }

  async copy(fromKey: string, toKey: string): Promise<{ etag: string }> {
    this.checkKey(fromKey);
    this.checkKey(toKey);
    // Publishing copies into the final folder: clear what a writer killed there left behind.
    sweepDeadTempFiles(dirname(toKey));
    return this.writeVia(toKey, undefined, async (tmp) => {
      try {
        return await linkOrCopy(fromKey, tmp);
      } catch (err) {
        if (MISSING.has(errorCode(err) ?? '')) throw new NotFoundError(this.uri(fromKey));
        throw err;
      }
    });
  }

  async delete(key: string): Promise<void> {
    this.checkKey(key);
    try {
      await unlink(key);
    } catch (err) {
      if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return;
      throw this.fail('delete', key, err);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (!prefix.endsWith('/')) throw new Error(`storage: deletePrefix needs a folder prefix ending in "/", got "${prefix}"`);
    this.checkKey(prefix.slice(0, -1));
    let count = 0;
    for await (const _ of this.list(prefix)) count++;
    await rm(prefix, { recursive: true, force: true });
    // The parent may now be an empty folder of ours (e.g. `_staging/`): S3 would not show it.
    await rmdir(dirname(prefix.slice(0, -1))).catch(() => {});
    return count;
  }

  /**
   * Write a temporary sibling of `key` with `fill` (which returns the temp file's stats),
   * then publish it under `key` honouring the conditions. The etag comes from the temp
   * file's stats: rename and link keep inode and mtime, and a concurrent writer may already
   * have replaced `key` by the time we could stat it again.
   */
  private async writeVia(
    key: string,
    options: PutOptions | undefined,
    fill: (tmp: string) => Promise<BigIntStats>,
  ): Promise<{ etag: string }> {
    const dir = dirname(key);
    const tmp = join(dir, tempFileName());
    try {
      await mkdir(dir, { recursive: true });
      const st = await fill(tmp);
      if (options?.ifNoneMatch === '*') {
        await this.publishIfAbsent(tmp, key);
      } else {
        if (options?.ifMatch !== undefined) {
          // Best effort: another writer can slip in between this check and the rename.
          // POSIX has no compare-and-swap rename; callers needing more must lock.
          const current = await this.head(key);
          if (current?.etag !== options.ifMatch) {
            const found = current ? `etag is ${current.etag}` : 'object does not exist';
            throw new PreconditionFailedError(this.uri(key), `expected etag ${options.ifMatch}, ${found}`);
          }
        }
        await rename(tmp, key);
      }
      return { etag: fingerprint(st) };
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof PreconditionFailedError) throw err;
      if (err instanceof Error && err.message.startsWith('storage:')) throw err;
      throw this.fail('write', key, err);
    } finally {
      // After a rename there is nothing left to remove; after a failure, do not let cleanup
      // trouble (e.g. ENOTDIR when the parent was never created) hide the real error.
      await rm(tmp, { force: true }).catch(() => {});
    }
  }

  /** Publish `tmp` at `key` only if nothing is there: `link` fails atomically on EEXIST. */
  private async publishIfAbsent(tmp: string, key: string): Promise<void> {
    try {
      await link(tmp, key);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'EEXIST') throw new PreconditionFailedError(this.uri(key), 'an object already exists');
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
      // Filesystems without hard links: exclusive create is still race-free, but a reader
      // may briefly see a partial file.
      try {
        await copyFile(tmp, key, fsConstants.COPYFILE_EXCL);
      } catch (copyErr) {
        if (errorCode(copyErr) === 'EEXIST') {
          throw new PreconditionFailedError(this.uri(key), 'an object already exists');
        }
        throw copyErr;
      }
    }
  }

  private checkKey(key: string): void {
    if (typeof key !== 'string' || !isAbsolute(key)) {
      throw new Error(`storage: file store keys must be absolute paths, got "${String(key)}"`);
    }
  }

  private fail(op: string, key: string, err: unknown): Error {
    // Only reads turn "missing" into NotFoundError; for writes ENOENT/ENOTDIR mean a bad
    // parent path, which deserves the filesystem's own message.
    if ((op === 'get' || op === 'getRange') && MISSING.has(errorCode(err) ?? '')) {
      return new NotFoundError(this.uri(key));
    }
    const detail = err instanceof Error ? err.message : String(err);
    return new Error(`storage: ${op} ${this.uri(key)} failed: ${detail}`, { cause: err });
  }
}

/** Throw unless `[start, end)` is a valid non-negative integer range. */
function checkRange(uri: string, start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new Error(`storage: invalid byte range [${start}, ${end}) for ${uri}`);
  }
}

/** Read up to `length` bytes at `position`; shorter only at end of file. */
async function readAt(
  handle: Awaited<ReturnType<typeof open>>,
  position: number,
  length: number,
): Promise<Uint8Array> {
  const buf = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buf, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buf : buf.subarray(0, filled);
}

/** Errors of `link` that mean "not on this filesystem": fall back to a copy. */
const NO_LINK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/**
 * `to` as a new name of `from`'s file (a hard link: no bytes copied, nothing to flush: the
 * source was flushed when written), or a copy where links are not possible. Sharing the
 * file is safe because this store never writes a file in place: every write makes a new
 * file and renames it, so neither name can change the other's bytes.
 */
async function linkOrCopy(from: string, to: string): Promise<BigIntStats> {
  try {
    await link(from, to);
    return await stat(to, { bigint: true });
  } catch (err) {
    if (!NO_LINK.has(errorCode(err) ?? '')) throw err;
    return copySynced(from, to);
  }
}

/** Copy `from` to the new file `to` (reflink where possible), flush it, return its stats. */
async function copySynced(from: string, to: string): Promise<BigIntStats> {
  await copyFile(from, to, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE);
  const handle = await open(to, 'r+');
  try {
    await handle.sync();
    return await handle.stat({ bigint: true });
  } finally {
    await handle.close();
  }
}
