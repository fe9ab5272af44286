/**
 * One input file scored by several threads at once: its row groups are grouped into units
 * (runs that make one output row group, see `rowGroupUnits`), every participating thread
 * claims units from a shared counter and writes the row groups of the units it scored to a
 * part of its own; the thread that owns the file then copies the parts' row groups, unit by
 * unit, into the one output file (no decoding: see parquet/concat.ts).
 */
import type { BadRowCount } from '../scoring/bad-rows.js';
import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import type { PieceSource } from '../parquet/concat.js';
import type { FileTask } from './file-task.js';

/** A helper's share of a file task: the same file, units claimed from `counter`. */
export interface PartTask extends FileTask {
  part: {
    /** Int32 [next unit to claim, abort flag]. */
    counter: SharedArrayBuffer;
    units: number;
  };
}

/** What a helper scored: its units (in claim order) and the Parquet part holding their row groups. */
export interface PartResult {
  units: { unit: number; rowGroups: number; rows: number }[];
  /** The part's bytes, or the temporary file holding them (the owner deletes it); null if no rows. */
  bytes: Uint8Array | null;
  path: string | null;
  decodeMs: number;
  inferMs: number;
  writeMs: number;
  /** Rows of this part refused by the policy and tolerated (`maxBadRowsFraction`). */
  badRows: BadRowCount;
  /** Set when the helper failed while scoring unit `units[0].unit`: the error to report. */
  failure?: { name: string; message: string };
}

export function isPartTask(task: FileTask | PartTask): task is PartTask {
  return (task as PartTask).part !== undefined;
}

/** Units claimed from a counter shared by every thread scoring one file. */
export class UnitCounter {
  private readonly cells: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.cells = new Int32Array(buffer);
  }

  /** The next unclaimed unit, or undefined when all are claimed or a thread failed. */
  claim(units: number): number | undefined {
    if (Atomics.load(this.cells, 1) !== 0) return undefined;
    const u = Atomics.add(this.cells, 0, 1);
    return u < units ? u : undefined;
  }

  /** Units not yet claimed. */
  remaining(units: number): number {
    return Math.max(0, units - Atomics.load(this.cells, 0));
  }

  /** Tell every thread to claim nothing more (one failed: the file fails). */
  abort(): void {
    Atomics.store(this.cells, 1, 1);
  }
}

/**
 * `ThreadPoolOptions.abandon` for scoring pools: a helper whose file's owner died claims no
 * more units (the owner's result is failed anyway; the helper's part is discarded).
 */
export function abandonPart(task: unknown): void {
  if (isPartTask(task as FileTask | PartTask)) new UnitCounter((task as PartTask).part.counter).abort();
}

/** A local file as a `PieceSource`. Close it when done. */
export function fileSource(path: string, size: number): PieceSource & { close(): void } {
  const fd = openSync(path, 'r');
  return {
    size,
    read(start, end) {
      const out = new Uint8Array(end - start);
      let filled = 0;
      while (filled < out.length) {
        const n = readSync(fd, out, filled, out.length - filled, start + filled);
        if (n === 0) throw new Error(`short read of ${path}`);
        filled += n;
      }
      return out;
    },
    close() {
      closeSync(fd);
    },
  };
}

/** Remove a helper's temporary part file (best effort). */
export function removePart(path: string | null): void {
  if (path === null) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** `ThreadPool` `discard`: delete the temporary file of a part whose owner thread died. */
export function discardPart(result: unknown): void {
  const path = (result as Partial<PartResult> | null)?.path;
  if (typeof path === 'string') removePart(path);
}
