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

  async fileDone(runId: string, rows: number): Promise<void> {
    await this.redis.multi().hincrby(this.runKey(runId), 'filesDone', 1).hincrby(this.runKey(runId), 'rows', rows).hset(this.runKey(runId), 'status', 'running').exec();
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
  async withLock<T>(name: string, fn: () => Promise<T>, ttlMs = 10 * 60_000): Promise<T> {
    const key = `${this.ns}:bs:lock:${name}`;
    const token = randomUUID();
    for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
      if ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK') break;
      await new Promise((r) => setTimeout(r, wait));
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(RELEASE, 1, key, token);
    }
  }
}
