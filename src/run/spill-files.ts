/**
 * Spill files (output-file.ts: `batchscore-out-<pid>-t<thread>-<random>.parquet` in the OS
 * temp folder) are removed by their owner when a file is done or fails. A scoring thread
 * that crashes (a WASM trap) or a process that is killed leaves its own behind; three sweeps
 * remove them: a crashed thread's when the pool sees it die, this process's at exit, and
 * those of processes that no longer exist when a new process starts.
 */
import { tmpdir } from 'node:os';
import { processAlive, sweepWriterFiles } from '../storage/temp-files.js';

// Names without the thread part are those of earlier versions.
const SPILL_RE = /^batchscore-out-(?<pid>\d+)-(?:t(?<thread>\d+)-)?[0-9a-f]+\.parquet$/;

/** Remove the spill files in `dir` whose owner `isStale` says is gone. Returns the names removed. */
export function sweepSpillFiles(dir = tmpdir(), isStale: (pid: number) => boolean = (pid) => pid !== process.pid && !processAlive(pid)): string[] {
  return sweepWriterFiles(dir, SPILL_RE, isStale);
}

/** Remove this process's spill files of thread `threadId` (a thread that crashed). Returns the names removed. */
export function sweepThreadSpillFiles(threadId: number, dir = tmpdir()): string[] {
  return sweepWriterFiles(dir, SPILL_RE, (pid, m) => pid === process.pid && m.groups?.thread === String(threadId));
}

let installed = false;

/**
 * For a CLI process: sweep what dead processes left, and at exit what this process's
 * crashed threads left. Idempotent.
 */
export function installSpillCleanup(dir = tmpdir()): void {
  if (installed) return;
  installed = true;
  sweepSpillFiles(dir);
  process.on('exit', () => sweepSpillFiles(dir, (pid) => pid === process.pid));
}
