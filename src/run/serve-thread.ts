import { parentPort } from 'node:worker_threads';
import type { PoolMessage, ThreadReply, ThreadRequest } from './thread-pool.js';
import { ThreadTaskError } from './thread-pool.js';

/** What a task handler may do besides computing its result. */
export interface ThreadContext {
  /**
   * Start `tasks` on threads of the pool that are idle right now (never queued). Resolves,
   * once the pool has answered, with one promise per task that started (the first ones of
   * `tasks`), each settling with that subtask's result or error. Tasks that found no idle
   * thread are dropped: the caller does that work itself.
   */
  spawn<S, Q>(tasks: readonly S[]): Promise<Promise<Q>[]>;
  /**
   * A value shared by the threads of this process under `key` (it must survive
   * postMessage): the first thread to ask makes it with `produce`, the others wait for it.
   */
  shared<V>(key: string, produce: () => Promise<V>): Promise<V>;
  /**
   * Tell the pool that reading this task's input failed. parquet-wasm cannot take a failed
   * read: it traps and the thread dies. The pool then fails the task with this error (and
   * its transient/permanent class) instead of blaming the file for a crash.
   */
  readFailed(err: Error): void;
}

/**
 * The thread side of `ThreadPool`: answer each task message with the handler's result or
 * error, and on `close` run `onClose` (e.g. release ONNX sessions) and let the thread end.
 * `transfer` lists buffers of a result to move rather than copy to the pool.
 */
export function serveThread<T, R>(
  handle: (task: T, context: ThreadContext) => Promise<R>,
  options: { onClose?: () => Promise<void>; isPermanent?: (err: Error) => boolean; transfer?: (result: R) => ArrayBuffer[] } = {},
): void {
  const port = parentPort;
  if (!port) throw new Error('serveThread: must run inside a worker thread');
  let nextId = 0;
  const spawning = new Map<number, { resolve: (started: number) => void; subtasks: Pending[] }>();
  const sharing = new Map<number, (reply: { value?: unknown; produce: boolean }) => void>();
  interface Pending {
    resolve: (value: unknown) => void;
    reject: (err: Error) => void;
  }

  const context: ThreadContext = {
    spawn<S, Q>(tasks: readonly S[]): Promise<Promise<Q>[]> {
      const id = nextId++;
      const subtasks: Pending[] = [];
      const promises = tasks.map(
        () =>
          new Promise<Q>((resolve, reject) => {
            subtasks.push({ resolve: resolve as (v: unknown) => void, reject });
          }),
      );
      return new Promise((resolve) => {
        spawning.set(id, {
          subtasks,
          resolve: (started) => {
            // Promises of tasks that did not start never settle and are not returned.
            resolve(promises.slice(0, started));
          },
        });
        port.postMessage({ type: 'spawn', id, tasks: [...tasks] } satisfies ThreadRequest);
      });
    },
    async shared<V>(key: string, produce: () => Promise<V>): Promise<V> {
      const id = nextId++;
      const reply = await new Promise<{ value?: unknown; produce: boolean }>((resolve) => {
        sharing.set(id, resolve);
        port.postMessage({ type: 'shared-get', id, key } satisfies ThreadRequest);
      });
      if (!reply.produce) return reply.value as V;
      const value = await produce();
      port.postMessage({ type: 'shared-put', key, value } satisfies ThreadRequest);
      return value;
    },
    readFailed(err: Error): void {
      const permanent = options.isPermanent ? options.isPermanent(err) : true;
      port.postMessage({ type: 'read-failed', error: { name: err.name, message: err.message, permanent } } satisfies ThreadRequest);
    },
  };

  port.on('message', (msg: PoolMessage) => {
    if (msg.type === 'close') {
      // process.exit in a worker ends only this thread; it is safe here because no
      // session.run is in progress (tasks run one at a time and this one has replied).
      void (options.onClose ?? (async () => {}))().finally(() => process.exit(0));
      return;
    }
    if (msg.type === 'shared-value') {
      const resolve = sharing.get(msg.id);
      sharing.delete(msg.id);
      resolve?.({ value: msg.value, produce: msg.produce });
      return;
    }
    if (msg.type === 'spawned') {
      const entry = spawning.get(msg.id);
      entry?.resolve(msg.started);
      // Keep the entry while started subtasks are running.
      if (entry && msg.started === 0) spawning.delete(msg.id);
      if (entry) entry.subtasks.splice(msg.started);
      return;
    }
    if (msg.type === 'subtask-done') {
      const entry = spawning.get(msg.id);
      const sub = entry?.subtasks[msg.index];
      if (!entry || !sub) return;
      if (msg.reply.ok) sub.resolve(msg.reply.result);
      else sub.reject(new ThreadTaskError(msg.reply.error.name, msg.reply.error.message, msg.reply.error.permanent));
      delete entry.subtasks[msg.index];
      if (entry.subtasks.every((s) => s === undefined)) spawning.delete(msg.id);
      return;
    }
    handle(msg.task as T, context).then(
      (result) => port.postMessage({ ok: true, result } satisfies ThreadReply<R>, options.transfer?.(result) ?? []),
      (err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        const permanent = options.isPermanent ? options.isPermanent(e) : true;
        port.postMessage({ ok: false, error: { name: e.name, message: e.message, permanent } } satisfies ThreadReply<R>);
      },
    );
  });
}
