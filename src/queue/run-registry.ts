/**
 * Small Redis records around runs: the run's progress hash (for `batchscore status`), the
 * active-window key that makes submission idempotent, and partition commit locks. Redis is
 * not the durable record (the manifest in object storage is); these keys only coordinate.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const DAY_S = 86_400;

export interface RunRecord {
  runId: string;
  name: string;
  planUri: string;
  outputUri: string;
  window: string;
  status: 'queued' | 'running' | 'finalizing' | 'succeeded' | 'partial' | 'failed';
  files: number;
  filesDone: number;
  filesFailed: number;
  rows: number;
  createdAt: string;
  finishedAt: string;
  manifestUri: string;
}

// Release a lock only if we still own it (compare-and-delete).
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
// Extend a lock only if we still own it (compare-and-pexpire).
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
// Count a file once however often its job runs (at-least-once: a stalled job's file is scored
// again, a zombie reports late): the first report of a file wins. A late report never moves a
// finished run's status back to 'running'.
const FILE_DONE = `
if redis.call('hsetnx', KEYS[2], ARGV[1], ARGV[2]) == 1 then
  redis.call('expire', KEYS[2], ARGV[3])
  redis.call('hincrby', KEYS[1], 'filesDone', 1)
  redis.call('hincrby', KEYS[1], 'rows', ARGV[2])
end
if redis.call('hget', KEYS[1], 'status') == 'queued' then redis.call('hset', KEYS[1], 'status', 'running') end
return 0`;

export class RunRegistry {
  constructor(private readonly redis: Redis, private readonly ns: string) {}

  private runKey(runId: string): string {
    return `${this.ns}:bs:run:${runId}`;
  }

  private activeKey(window: string): string {
    return `${this.ns}:bs:active:${window}`;
  }

  /**
   * Claim a job window for a new run. Returns the run id already active for the window, or
   * null when the claim succeeded. The claim expires after a week as a safety net.
   */
  async claimWindow(window: string, runId: string): Promise<string | null> {
    const ok = await this.redis.set(this.activeKey(window), runId, 'EX', 7 * DAY_S, 'NX');
    if (ok === 'OK') return null;
    return (await this.redis.get(this.activeKey(window))) ?? null;
  }

  /** Free a window so the next submission starts a new run (only if this run holds it). */
  async releaseWindow(window: string, runId: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.activeKey(window), runId);
  }

  async create(record: Omit<RunRecord, 'filesDone' | 'filesFailed' | 'rows' | 'finishedAt' | 'manifestUri'>): Promise<void> {
    const key = this.runKey(record.runId);
    await this.redis.hset(key, { ...record, filesDone: 0, filesFailed: 0, rows: 0, finishedAt: '', manifestUri: '' });
    await this.redis.expire(key, 30 * DAY_S);
  }

  /** Record that file `file` (e.g. `<partition>-<index>`) of a run was scored; idempotent per file. */
  async fileDone(runId: string, file: string, rows: number): Promise<void> {
    await this.redis.eval(FILE_DONE, 2, this.runKey(runId), `${this.runKey(runId)}:files`, file, rows, 30 * DAY_S);
  }

  async fileFailed(runId: string): Promise<void> {
    await this.redis.hincrby(this.runKey(runId), 'filesFailed', 1);
  }

  async setStatus(runId: string, status: RunRecord['status'], extra: Partial<Pick<RunRecord, 'manifestUri' | 'finishedAt'>> = {}): Promise<void> {
    await this.redis.hset(this.runKey(runId), { status, ...extra });
  }

  async get(runId: string): Promise<RunRecord | null> {
    const h = await this.redis.hgetall(this.runKey(runId));
    if (!h.runId) return null;
    return {
      runId: h.runId,
      name: h.name ?? '',
      planUri: h.planUri ?? '',
      outputUri: h.outputUri ?? '',
      window: h.window ?? '',
      status: (h.status ?? 'queued') as RunRecord['status'],
      files: Number(h.files ?? 0),
      filesDone: Number(h.filesDone ?? 0),
      filesFailed: Number(h.filesFailed ?? 0),
      rows: Number(h.rows ?? 0),
      createdAt: h.createdAt ?? '',
      finishedAt: h.finishedAt ?? '',
      manifestUri: h.manifestUri ?? '',
    };
  }

  /**
   * Run `fn` holding the commit lock of one output partition, so two finalizers never
   * interleave their copies and deletions in the same folder.
   */
  /**
   * The lock expires `ttlMs` after its holder stops renewing it (it is renewed every third
   * of that while `fn` runs), so a finalizer killed mid-commit blocks the retry for at most
   * `ttlMs`, not for a fixed long TTL.
   */
  async withLock<T>(name: string, fn: () => Promise<T>, ttlMs = 30_000): Promise<T> {
    const key = `${this.ns}:bs:lock:${name}`;
    const token = randomUUID();
    for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
      if ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK') break;
      await new Promise((r) => setTimeout(r, wait));
    }
    const renew = setInterval(() => {
      this.redis.eval(RENEW, 1, key, token, ttlMs).catch(() => {});
    }, Math.max(10, Math.floor(ttlMs / 3)));
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE, 1, key, token);
    }
  }
}
