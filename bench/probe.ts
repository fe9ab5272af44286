/**
 * Preloaded into every measured child (`node --import <this> ...`): when the process exits,
 * write its peak RSS to the file named by BENCH_PROBE_FILE. `process.resourceUsage()` is
 * getrusage(RUSAGE_SELF), so `maxRSS` covers every thread of the process, worker threads
 * and ONNX Runtime / DuckDB / WASM memory included.
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.BENCH_PROBE_FILE;
if (file && isMainThread) {
  process.on('exit', (code) => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssKB: usage.maxRSS, userMs: usage.userCPUTime / 1000, systemMs: usage.systemCPUTime / 1000, code }));
  });
}
