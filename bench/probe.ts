/**
 * Preloaded into every measured child (`node --import <this> ...`): when the process exits,
 * write its peak RSS to the file named by BENCH_PROBE_FILE. `process.resourceUsage()` is
 * getrusage(RUSAGE_SELF), so `maxRSS` covers every thread of the process, worker threads
 * and ONNX Runtime / DuckDB / WASM memory included. It also writes the CPU time of the
 * child processes it started and waited for (a workload's own s3rver), so that time is not
 * taken for other people's load.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.BENCH_PROBE_FILE;
if (file && isMainThread) {
  process.on('exit', (code) => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssKB: usage.maxRSS, userMs: usage.userCPUTime / 1000, systemMs: usage.systemCPUTime / 1000, childrenMs: childrenCpuMs(), code }));
  });
}

/** cutime + cstime of /proc/self/stat (reaped children), ms; 0 where /proc is missing. */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 (state) on.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // USER_HZ is 100 on every Linux architecture Node runs on.
    return (Number(rest[13]) + Number(rest[14])) * 10 || 0;
  } catch {
    return 0;
  }
}
