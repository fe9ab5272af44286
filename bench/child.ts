/**
 * Spawning one measured child process: a fresh Node process per measurement, so peak RSS
 * and cold-start costs belong to that workload alone. Wall time is spawn → exit as seen by
 * the parent (Node start-up and module loading included, as a user would experience it).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backgroundCores, busyCpuMs } from './cpu-load.js';

export interface ChildRun {
  code: number | null;
  signal: string | null;
  /** Parent-observed wall time, spawn to exit. */
  wallMs: number;
  /** Peak RSS of the child in KiB, from the preloaded probe; null if it died without exiting normally. */
  maxRssKB: number | null;
  /** CPU time of the child (user + system), ms; null like maxRssKB. */
  cpuMs: number | null;
  /** Average cores other processes kept busy meanwhile (see cpu-load.ts); null if unknown. */
  backgroundCores: number | null;
  stdout: string;
  stderr: string;
}

const PROBE = new URL('./probe.js', import.meta.url).href;

/** Run `node --import probe <args>` in `cwd` and collect its output and resource usage. */
export function runChild(args: readonly string[], cwd: string): Promise<ChildRun> {
  const probeFile = join(tmpdir(), `batchscore-bench-${randomUUID()}.json`);
  return new Promise((resolve, reject) => {
    const busyBefore = busyCpuMs();
    const started = performance.now();
    let exitedAt = 0;
    const child = spawn(process.execPath, ['--import', PROBE, ...args], {
      cwd,
      env: { ...process.env, BENCH_PROBE_FILE: probeFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    let busyAfter: number | null = null;
    child.on('exit', () => {
      exitedAt = performance.now();
      busyAfter = busyCpuMs();
    });
    child.on('close', (code, signal) => {
      let maxRssKB: number | null = null;
      let cpuMs: number | null = null;
      let childrenMs = 0;
      try {
        const probe = JSON.parse(readFileSync(probeFile, 'utf8')) as { maxRssKB: number; userMs: number; systemMs: number; childrenMs?: number };
        maxRssKB = probe.maxRssKB;
        cpuMs = probe.userMs + probe.systemMs;
        childrenMs = probe.childrenMs ?? 0;
      } catch {
        // No probe file: the child was killed or aborted before its exit handlers ran.
      }
      rmSync(probeFile, { force: true });
      const wallMs = (exitedAt || performance.now()) - started;
      resolve({
        code,
        signal,
        wallMs,
        maxRssKB,
        cpuMs,
        // The child's own child processes (a workload's s3rver) are its load, not background.
        backgroundCores: backgroundCores(busyBefore, busyAfter ?? busyCpuMs(), cpuMs === null ? null : cpuMs + childrenMs, wallMs),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** Marker key of the one JSON line a bench child script prints with its measurements. */
export const RESULT_KEY = 'benchResult';

/**
 * The figure of a warm workload: the median of its passes after the first (which warms the
 * process). One pass of ~0.3–0.5 s on a shared 2-core machine varies by ±20%; the median of
 * several is what the peer and the pipeline are both compared on.
 */
export function warmFigure(passMs: readonly number[]): number {
  const warm = passMs.slice(1).sort((a, b) => a - b);
  if (warm.length === 0) throw new Error('warmFigure: needs at least 2 passes');
  const mid = Math.floor(warm.length / 2);
  return warm.length % 2 === 1 ? warm[mid]! : (warm[mid - 1]! + warm[mid]!) / 2;
}

/** Print a child script's measurements (the parent finds them with `childResult`). */
export function printResult(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ [RESULT_KEY]: result })}\n`);
}

/** The measurements a child script printed, or an error describing what went wrong. */
export function childResult<T>(run: ChildRun): T {
  for (const line of run.stdout.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (RESULT_KEY in parsed) return parsed[RESULT_KEY] as T;
    } catch {
      // not ours
    }
  }
  throw new Error(`child printed no result (exit ${run.code ?? run.signal}): ${tail(run.stderr || run.stdout)}`);
}

/** Last few lines of some output, for error messages. */
export function tail(text: string, lines = 6): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
