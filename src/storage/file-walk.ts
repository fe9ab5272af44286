/**
 * Walking a directory tree the way S3 lists a bucket: every regular file whose path starts
 * with a string prefix, in UTF-8 byte order of the full path. `FileStore.list` is built on it.
 */
import type { BigIntStats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Name prefix of in-flight temporary files written by `FileStore`. The walk skips them: they
 * are not objects yet and vanish when their write commits, so a listing must not report them.
 */
export const TEMP_FILE_PREFIX = '.batchscore-tmp-';

/** One file found by `walkFiles`. */
export interface WalkedFile {
  /** Absolute path (through symlinks as found, not resolved). */
  path: string;
  /** Stats of the file (symlinks followed). */
  stats: BigIntStats;
}

/** Errors that mean the path is not there (any more): skipped, not thrown. */
const GONE = new Set(['ENOENT', 'ENOTDIR']);

function isGone(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && GONE.has(String(err.code));
}

/** Byte order, as S3 sorts keys (JS string order is UTF-16 order and differs above U+D7FF). */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Every regular file whose absolute path starts with `prefix`, in byte order. The prefix is a
 * string prefix, as on S3: `/d/part-` matches `/d/part-0.parquet`, and `/d/out` matches
 * `/d/out-old/x` as well as `/d/out/x`. Symlinks are followed (they are part of the data),
 * except one leading back to a directory already on the current path (a loop). Dangling
 * links, sockets, FIFOs and devices hold no object bytes and are skipped, as are files that
 * vanish during the walk. Other filesystem errors are thrown as they are.
 */
export async function* walkFiles(prefix: string): AsyncGenerator<WalkedFile> {
  // Walk from the deepest directory the prefix names.
  const start = prefix.endsWith('/') ? prefix.slice(0, -1) || '/' : dirname(prefix);
  let st: BigIntStats;
  try {
    st = await stat(start, { bigint: true });
  } catch (err) {
    if (isGone(err)) return;
    throw err;
  }
  if (!st.isDirectory()) return;
  yield* walk(start, prefix, [`${st.dev}:${st.ino}`]);
}

/** Depth-first walk of `dir`; `ancestors` holds dev:ino of the directories above it. */
async function* walk(dir: string, prefix: string, ancestors: string[]): AsyncGenerator<WalkedFile> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isGone(err)) return; // removed (or replaced by a file) since its parent was read
    throw err;
  }
  const children: { path: string; sortName: string; isDir: boolean }[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith(TEMP_FILE_PREFIX)) continue;
    const path = dir === '/' ? `/${entry.name}` : `${dir}/${entry.name}`;
    let isDir = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      try {
        isDir = (await stat(path)).isDirectory();
      } catch {
        continue; // dangling
      }
    } else if (!isDir && !entry.isFile()) {
      continue;
    }
    // Sorting a directory as `name/` puts its whole subtree where its keys belong in global
    // key order: `a-b` < `a/x` because '-' < '/'.
    children.push({ path, sortName: isDir ? `${entry.name}/` : entry.name, isDir });
  }
  children.sort((a, b) => compareBytes(a.sortName, b.sortName));

  for (const child of children) {
    if (child.isDir) {
      const asDir = `${child.path}/`;
      if (!asDir.startsWith(prefix) && !prefix.startsWith(asDir)) continue;
      let st: BigIntStats;
      try {
        st = await stat(child.path, { bigint: true });
      } catch (err) {
        if (isGone(err)) continue;
        throw err;
      }
      const id = `${st.dev}:${st.ino}`;
      if (ancestors.includes(id)) continue; // a symlink back up the tree: a loop
      yield* walk(child.path, prefix, [...ancestors, id]);
    } else if (child.path.startsWith(prefix)) {
      try {
        yield { path: child.path, stats: await stat(child.path, { bigint: true }) };
      } catch (err) {
        if (!isGone(err)) throw err;
      }
    }
  }
}
