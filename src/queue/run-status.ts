/**
 * What `batchscore status` shows: progress from Redis while a run is active, the manifest's
 * figures once it has finished.
 */
import type { Redis } from 'ioredis';
import { resolveUri } from '../storage/resolve.js';
import type { RunManifest } from '../run/manifest.js';
import type { QueueConfig } from './connection.js';
import { RunRegistry, type RunRecord } from './run-registry.js';

export interface RunStatusReport {
  record: RunRecord;
  pending: number;
  rowsPerSecond: number;
  /** Failed partitions with their errors, once the manifest exists. */
  failedPartitions: { partition: string; error: string }[];
  manifest: RunManifest | null;
}

/** Status of a run, or null if Redis has no record of it. */
export async function getRunStatus(redis: Redis, config: QueueConfig, runId: string, now = new Date()): Promise<RunStatusReport | null> {
  const record = await new RunRegistry(redis, `${config.prefix}:${config.queueName}`).get(runId);
  if (!record) return null;
  let manifest: RunManifest | null = null;
  if (record.manifestUri) {
    const { store, key } = resolveUri(record.manifestUri);
    manifest = JSON.parse(new TextDecoder().decode(await store.get(key))) as RunManifest;
  }
  const end = record.finishedAt ? new Date(record.finishedAt) : now;
  const secs = Math.max(0.001, (end.getTime() - new Date(record.createdAt).getTime()) / 1000);
  return {
    record,
    pending: Math.max(0, record.files - record.filesDone - record.filesFailed),
    rowsPerSecond: Math.round(record.rows / secs),
    failedPartitions: (manifest?.partitions ?? []).filter((p) => p.status === 'failed').map((p) => ({ partition: p.dir, error: p.error?.message ?? '' })),
    manifest,
  };
}
