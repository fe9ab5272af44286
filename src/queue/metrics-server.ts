/**
 * `/metrics` for Prometheus on workers and the scheduler: the monitor metrics registry,
 * plus queue depth (waiting/active/failed/delayed) refreshed every few seconds.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { MonitorMetrics } from '../monitor/metrics.js';
import type { QueueConfig } from './connection.js';

export interface MetricsServer {
  /** Port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** Serve `metrics` on `port` (0: any free port) at `/metrics`. */
export async function startMetricsServer(metrics: MonitorMetrics, port: number, queue?: { redis: Redis; config: QueueConfig; intervalMs?: number }): Promise<MetricsServer> {
  let bull: Queue | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (queue) {
    bull = new Queue(queue.config.queueName, { connection: queue.redis, prefix: queue.config.prefix });
    const refresh = async () => {
      try {
        const counts = await bull!.getJobCounts('waiting', 'active', 'failed', 'delayed', 'waiting-children');
        metrics.setQueueDepth(queue.config.queueName, counts);
      } catch {
        // Redis down: keep the last figures; the worker itself reports the outage.
      }
    };
    // Not awaited: with Redis down, the first refresh would hold the process's start (and its
    // /metrics, which is how an outage gets noticed) until Redis is back.
    void refresh();
    timer = setInterval(() => void refresh(), queue.intervalMs ?? 5000);
    timer.unref();
  }
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('not found: try /metrics\n');
      return;
    }
    metrics.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      if (timer) clearInterval(timer);
      await new Promise<void>((r) => server.close(() => r()));
      await bull?.close();
    },
  };
}
