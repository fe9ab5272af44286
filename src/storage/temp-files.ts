/**
 * Names of the temporary files `FileStore` writes before renaming them into place, and the
 * sweep of those a killed writer left behind. The name carries the writer's host and pid,
 * so a writer can tell a dead process's leftovers (safe to remove) from a live writer's
 * file in progress (never touched), also on a folder shared by several machines.
 */
import { randomBytes } from 'node:crypto';
import { readdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TEMP_FILE_PREFIX } from './file-walk.js';

const HOST = hostname().replace(/[^A-Za-z0-9.]/g, '_');
const TEMP_RE = /^\.batchscore-tmp-(.+)-(\d+)-[0-9a-f]{16}$/;

/** A fresh temporary file name for this process: `.batchscore-tmp-<host>-<pid>-<random>`. */
export function tempFileName(): string {
  return `${TEMP_FILE_PREFIX}${HOST}-${process.pid}-${randomBytes(8).toString('hex')}`;
}

/** Whether a process with this pid exists on this machine (EPERM: it does, not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/**
 * Remove the temporary files in `dir` written by processes of this host that no longer
 * exist (killed mid-write). Best effort; returns the names removed.
 */
export async function sweepDeadTempFiles(dir: string, isDead: (pid: number) => boolean = (pid) => pid !== process.pid && !processAlive(pid)): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m || m[1] !== HOST || !isDead(Number(m[2]))) continue;
    try {
      await unlink(join(dir, name));
      removed.push(name);
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}
