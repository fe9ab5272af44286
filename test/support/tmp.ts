/**
 * Temporary directories for tests. Every test that touches the filesystem gets its own
 * directory under the OS temp dir, so tests can run in parallel and leave nothing behind.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory and the function that removes it (and everything in it). */
export interface TmpDir {
  /** Absolute path of the directory (no trailing slash). */
  path: string;
  /** Remove the directory recursively; safe to call twice. */
  cleanup(): Promise<void>;
}

/**
 * Create a fresh, empty temporary directory. `prefix` only makes leftovers recognisable
 * if a test process is killed before it can clean up.
 */
export async function tmpDir(prefix = 'batchscore-test-'): Promise<TmpDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    cleanup: () => rm(path, { recursive: true, force: true }),
  };
}

/**
 * Run `fn` with a fresh temporary directory and remove it afterwards, even if `fn` throws.
 */
export async function withTmpDir<T>(fn: (dir: string) => Promise<T>, prefix?: string): Promise<T> {
  const dir = await tmpDir(prefix);
  try {
    return await fn(dir.path);
  } finally {
    await dir.cleanup();
  }
}
