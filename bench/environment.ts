/** What the figures were measured on, recorded with every report. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

function git(root: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function environment(root: string, rows: number, repeat: number): Record<string, string | number> {
  const commit = git(root, ['rev-parse', '--short', 'HEAD']);
  const dirty = git(root, ['status', '--porcelain', '--untracked-files=no']) !== '';
  return {
    date: new Date().toISOString().slice(0, 10),
    rows,
    repeat,
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.versions.node,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    commit: commit ? `${commit}${dirty ? '-dirty' : ''}` : 'unknown',
  };
}
