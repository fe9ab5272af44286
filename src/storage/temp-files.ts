/**
 * Names of the temporary files `FileStore` writes before renaming them into place, and the
 * sweep of those a killed writer left behind. The name carries the writer's host and pid,
 * so a writer can tell a dead process's leftovers (safe to remove) from a live writer's
 * file in progress (never touched), also on a folder shared by several machines.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TEMP_FILE_PREFIX } from './file-walk.js';

const HOST = hostname().replace(/[^A-Za-z0-9.]/g, '_');
const TEMP_RE = /^\.batchscore-tmp-(?<host>.+)-(?<pid>\d+)-[0-9a-f]{16}$/;

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
 * Remove the files in `dir` whose name `pattern` matches and whose writer `isStale` says is
 * gone; the pattern captures the writer's pid as the group `pid`. Best effort: a file that cannot
 * be listed or removed is left. Synchronous: it also runs in 'exit' handlers. Returns the
 * names removed.
 */
export function sweepWriterFiles(dir: string, pattern: RegExp, isStale: (pid: number, match: RegExpExecArray) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m?.groups?.pid || !isStale(Number(m.groups.pid), m)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // removed meanwhile, or not ours to remove
    }
  }
  return removed;
}

/**
 * Remove the temporary files in `dir` written by processes of this host that no longer
 * exist (killed mid-write). Returns the names removed.
 */
export function sweepDeadTempFiles(dir: string, isDead: (pid: number) => boolean = (pid) => pid !== process.pid && !processAlive(pid)): string[] {
  return sweepWriterFiles(dir, TEMP_RE, (pid, m) => m.groups?.host === HOST && isDead(pid));
}
