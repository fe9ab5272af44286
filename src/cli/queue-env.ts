/**
 * The queue settings a command reads from its environment, checked before it connects: a bad
 * `REDIS_URL`, `BATCHSCORE_QUEUE` or `BATCHSCORE_REDIS_CONNECT_TIMEOUT_MS` is a setting the
 * user got wrong, so it is bad usage (exit 2), like a bad option, not a failed run (exit 1).
 */
import { connectTimeoutFromEnv, queueConfigFromEnv, type QueueConfig } from '../queue/connection.js';
import { UsageError } from './usage-error.js';

/** `queueConfigFromEnv()`, with the connect timeout checked too; errors as `UsageError`. */
export function queueSettings(env: NodeJS.ProcessEnv = process.env): QueueConfig {
  try {
    connectTimeoutFromEnv(env);
    return queueConfigFromEnv(env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
