import { createRequire } from 'node:module';
import type { Logger, pino as Pino } from 'pino';
import { formatCount } from './count-format.js';

/** Where a command reports: a one-line progress bar on a TTY, JSON logs (pino) otherwise. */
export interface Reporter {
  /** Structured event (JSON log line; on a TTY only warnings and errors are printed). */
  event(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  /** Progress of a long operation. */
  progress(done: number, total: number, rows: number, startedMs: number): void;
  /** Human summary line (stdout on a TTY, an info log otherwise). */
  summary(line: string, fields?: Record<string, unknown>): void;
  /** Clear the progress line. */
  done(): void;
}

function bar(done: number, total: number, width = 24): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** A reporter for the current stdout: TTY → progress bar, else pino JSON lines. */
export function createReporter(stream: NodeJS.WriteStream = process.stdout): Reporter {
  if (stream.isTTY) {
    let shown = false;
    return {
      event(level, msg) {
        if (level === 'info') return;
        if (shown) stream.write('\n');
        shown = false;
        process.stderr.write(`${level}: ${msg}\n`);
      },
      progress(done, total, rows, startedMs) {
        const secs = (performance.now() - startedMs) / 1000;
        const rate = secs > 0 ? Math.round(rows / secs) : 0;
        stream.write(`\r${bar(done, total)} files ${done}/${total}  rows ${formatCount(rows)}  ${formatCount(rate)} rows/s `);
        shown = true;
      },
      summary(line) {
        if (shown) stream.write('\n');
        shown = false;
        stream.write(`${line}\n`);
      },
      done() {
        if (shown) stream.write('\n');
        shown = false;
      },
    };
  }
  // pino is loaded at the first log line, not before: a run's first line comes after its
  // first file, while the main thread waits for the scoring threads (loading it up front
  // delayed the start of every run by ~20 ms).
  let logger: Logger | undefined;
  const log = (): Logger => {
    if (!logger) {
      const { pino } = createRequire(import.meta.url)('pino') as { pino: typeof Pino };
      logger = pino({ base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 1, sync: true }));
    }
    return logger;
  };
  let lastLog = 0;
  return {
    event(level, msg, fields) {
      log()[level](fields ?? {}, msg);
    },
    progress(done, total, rows, startedMs) {
      // One line per second at most: logs are for machines, not for animation.
      const now = performance.now();
      if (done < total && now - lastLog < 1000) return;
      lastLog = now;
      log().info({ filesDone: done, filesTotal: total, rows, elapsedMs: Math.round(now - startedMs) }, 'progress');
    },
    summary(line, fields) {
      log().info(fields ?? {}, line);
    },
    done() {},
  };
}
