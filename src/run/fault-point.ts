/**
 * Failpoints for crash tests: `BATCHSCORE_FAULT_POINT=<name>` makes the process SIGKILL
 * itself when it reaches that point, once per `BATCHSCORE_FAULT_ONCE_FILE` (created as the
 * process dies, so the retry passes). Unset in production: then this is a single env lookup.
 * Points: `read` (after the first row group), `score` (after the first batch), `upload`
 * (before the staged file is written), `after-upload` (file written, job not completed),
 * `commit` (in the middle of publishing a partition), `after-manifest` (the manifest written,
 * the run's lineage end event not yet), `after-finalize` (queue finalize job:
 * partitions published and manifest written, job not completed, so it runs again).
 */
import { closeSync, openSync } from 'node:fs';

export function faultPoint(name: string): void {
  if (process.env.BATCHSCORE_FAULT_POINT !== name) return;
  const once = process.env.BATCHSCORE_FAULT_ONCE_FILE;
  if (once) {
    try {
      closeSync(openSync(once, 'wx'));
    } catch {
      return; // already fired
    }
  }
  process.kill(process.pid, 'SIGKILL');
}
