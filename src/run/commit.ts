/**
 * Publishing a partition. Attempts write only under `_staging/`; a partition becomes visible
 * here, in this order:
 *   1. delete the partition's old `_SUCCESS.json` (readers that trust it stop trusting the folder),
 *   2. copy every staged file to its final, deterministic name (each copy is atomic per object),
 *   3. delete any other `.parquet` file in the folder (stale outputs of inputs that vanished),
 *   4. write the new `_SUCCESS.json` (files, rows, sha256, run id) last.
 * A reader globbing the folder sees each output file complete, never two versions of one
 * file's rows; a reader following `_SUCCESS.json` sees exactly one run's output.
 */
import type { ObjectStore } from '../storage/object-store.js';
import { joinKey } from '../storage/resolve.js';
import { faultPoint } from './fault-point.js';

/** Partitions published at once (finalizeRun, and runJob as their files finish): each commit is a chain of round trips. */
export const PUBLISH_CONCURRENCY = 4;

export interface CommitFile {
  /** Staging key written by the attempt. */
  staged: string;
  /** File name in the partition folder. */
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface SuccessMarker {
  runId: string;
  /** When the run was planned: a finalizer of an older run never replaces a newer run's output. */
  runCreatedAt: string;
  partition: string;
  committedAt: string;
  rows: number;
  files: { name: string; rows: number; bytes: number; sha256: string }[];
}

/** Staging prefix of one run's attempt outputs. */
export function stagingPrefix(outputRoot: string, runId: string): string {
  return joinKey(outputRoot, '_staging', runId) + '/';
}

/** Final folder of a partition (`outputRoot` itself when unpartitioned). */
export function partitionFolder(outputRoot: string, dir: string): string {
  return dir ? joinKey(outputRoot, dir) : outputRoot;
}

/** The partition's current `_SUCCESS.json`, if any (unreadable counts as none). */
export async function readSuccessMarker(store: ObjectStore, folder: string): Promise<SuccessMarker | null> {
  try {
    return JSON.parse(new TextDecoder().decode(await store.get(joinKey(folder, '_SUCCESS.json')))) as SuccessMarker;
  } catch {
    return null;
  }
}

/**
 * Publish one partition from its staged files (see the module comment for the order).
 * A run planned before the one that last published this partition does not publish (a
 * zombie finalizer of an old run must not roll a partition back): it returns `null`.
 * @returns the key of the `_SUCCESS.json` written, or null when superseded
 */
export async function commitPartition(
  store: ObjectStore,
  outputRoot: string,
  dir: string,
  run: { runId: string; createdAt: string },
  files: readonly CommitFile[],
): Promise<string | null> {
  const folder = partitionFolder(outputRoot, dir);
  const successKey = joinKey(folder, '_SUCCESS.json');
  const current = await readSuccessMarker(store, folder);
  // Already published by this run: a finalize that runs again (at-least-once) changes nothing,
  // even though the staged files may be gone by now.
  if (current && current.runId === run.runId) return successKey;
  if (current && current.runCreatedAt > run.createdAt) return null;
  await store.delete(successKey);
  for (const [i, f] of files.entries()) {
    try {
      await store.copy(f.staged, joinKey(folder, f.name));
    } catch (err) {
      // A concurrent finalizer of this same run (a zombie's twin) may have published the
      // partition and removed the staging meanwhile: then there is nothing left to do.
      if ((await readSuccessMarker(store, folder))?.runId === run.runId) return successKey;
      throw err;
    }
    if (i === 0) faultPoint('commit');
  }
  const keep = new Set(files.map((f) => joinKey(folder, f.name)));
  const prefix = folder.endsWith('/') ? folder : `${folder}/`;
  for await (const obj of store.list(prefix)) {
    const rest = obj.key.slice(prefix.length);
    // Only this folder's own output files: never nested partitions or side files.
    if (rest.includes('/') || !rest.endsWith('.parquet') || keep.has(obj.key)) continue;
    await store.delete(obj.key);
  }
  const marker: SuccessMarker = {
    runId: run.runId,
    runCreatedAt: run.createdAt,
    partition: dir,
    committedAt: new Date().toISOString(),
    rows: files.reduce((n, f) => n + f.rows, 0),
    files: files.map(({ name, rows, bytes, sha256 }) => ({ name, rows, bytes, sha256 })),
  };
  await store.put(successKey, JSON.stringify(marker, null, 2), { contentType: 'application/json' });
  return successKey;
}

/** Delete everything staged under `prefix` (after commit, or after failure). */
export async function deleteStaged(store: ObjectStore, prefix: string): Promise<void> {
  await store.deletePrefix(prefix);
}

/**
 * Delete staging files of runs that have finished (their manifest exists): what a zombie
 * attempt wrote after its run was finalized. Runs still in flight are left alone.
 * @returns the number of objects deleted
 */
export async function sweepFinishedStaging(store: ObjectStore, outputRoot: string): Promise<number> {
  const prefix = joinKey(outputRoot, '_staging') + '/';
  const finished = new Map<string, boolean>();
  let deleted = 0;
  for await (const obj of store.list(prefix)) {
    const runId = obj.key.slice(prefix.length).split('/')[0] ?? '';
    let done = finished.get(runId);
    if (done === undefined) {
      done = (await store.head(joinKey(outputRoot, '_runs', `${runId}.json`))) !== undefined;
      finished.set(runId, done);
    }
    if (done) {
      await store.delete(obj.key);
      deleted++;
    }
  }
  return deleted;
}
