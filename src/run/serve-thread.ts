import { parentPort } from 'node:worker_threads';
import type { ThreadReply } from './thread-pool.js';

/**
 * The thread side of `ThreadPool`: answer each task message with the handler's result or
 * error, and on `close` run `onClose` (e.g. release ONNX sessions) and let the thread end.
 */
export function serveThread<T, R>(
  handle: (task: T) => Promise<R>,
  options: { onClose?: () => Promise<void>; isPermanent?: (err: Error) => boolean } = {},
): void {
  const port = parentPort;
  if (!port) throw new Error('serveThread: must run inside a worker thread');
  port.on('message', (msg: { type: 'task'; task: T } | { type: 'close' }) => {
    if (msg.type === 'close') {
      // process.exit in a worker ends only this thread; it is safe here because no
      // session.run is in progress (tasks run one at a time and this one has replied).
      void (options.onClose ?? (async () => {}))().finally(() => process.exit(0));
      return;
    }
    handle(msg.task).then(
      (result) => port.postMessage({ ok: true, result } satisfies ThreadReply<R>),
      (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        const permanent = options.isPermanent ? options.isPermanent(e) : true;
        port.postMessage({ ok: false, error: { name: e.name, message: e.message, permanent } } satisfies ThreadReply<R>);
      },
    );
  });
}
