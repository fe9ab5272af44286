import { Worker } from 'node:worker_threads';

/** Options of `ThreadPool`. */
export interface ThreadPoolOptions {
  /** Module the threads run; it must answer messages as `serveThread` does. */
  script: URL;
  /** Number of threads. Default: 2. */
  size?: number;
  /** Passed to every thread as `workerData`. */
  workerData?: unknown;
}

/** An error raised inside a thread, carried back with its name. */
export class ThreadTaskError extends Error {
  constructor(name: string, message: string, readonly permanent: boolean) {
    super(message);
    this.name = name;
  }
}

/**
 * A thread died while running a task (e.g. the Parquet decoder hit a Rust panic on a corrupt
 * file). The thread is replaced; the task is failed with this error.
 */
export class ThreadCrashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThreadCrashError';
  }
}

interface Pending<R> {
  resolve: (value: R) => void;
  reject: (err: Error) => void;
}

interface Slot<R> {
  worker: Worker;
  busy: Pending<R> | null;
}

/** The message shape a thread replies with. */
export type ThreadReply<R> =
  | { ok: true; result: R }
  | { ok: false; error: { name: string; message: string; permanent: boolean } };

/**
 * A fixed set of worker threads, each running one task at a time. A thread that crashes is
 * replaced and only its own task fails. Threads are stopped by message, never terminated
 * mid-task: terminating a thread inside an ONNX `session.run` aborts the whole process.
 */
export class ThreadPool<T, R> {
  private readonly slots: Slot<R>[] = [];
  private readonly queue: { task: T; pending: Pending<R> }[] = [];
  private closed = false;
  readonly size: number;

  constructor(private readonly options: ThreadPoolOptions) {
    this.size = options.size ?? 2;
    if (!Number.isInteger(this.size) || this.size < 1 || this.size > 256) {
      throw new TypeError(`ThreadPool: size must be an integer from 1 to 256, got ${String(options.size)}`);
    }
  }

  /** Run one task on the next free thread. */
  run(task: T): Promise<R> {
    if (this.closed) return Promise.reject(new Error('ThreadPool: closed'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ task, pending: { resolve, reject } });
      this.dispatch();
    });
  }

  private spawn(): Slot<R> {
    const worker = new Worker(this.options.script, { workerData: this.options.workerData });
    const slot: Slot<R> = { worker, busy: null };
    worker.on('message', (reply: ThreadReply<R>) => {
      const pending = slot.busy;
      slot.busy = null;
      if (pending) {
        if (reply.ok) pending.resolve(reply.result);
        else pending.reject(new ThreadTaskError(reply.error.name, reply.error.message, reply.error.permanent));
      }
      this.dispatch();
    });
    worker.on('error', (err) => {
      const pending = slot.busy;
      slot.busy = null;
      this.remove(slot);
      pending?.reject(new ThreadCrashError(`thread crashed: ${err.message}`));
      this.dispatch();
    });
    worker.on('exit', (code) => {
      if (this.remove(slot) && slot.busy) {
        slot.busy.reject(new ThreadCrashError(`thread exited with code ${code} while running a task`));
        slot.busy = null;
      }
      this.dispatch();
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private remove(slot: Slot<R>): boolean {
    const i = this.slots.indexOf(slot);
    if (i < 0) return false;
    this.slots.splice(i, 1);
    return true;
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => s.busy === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const next = this.queue.shift()!;
      slot.busy = next.pending;
      slot.worker.ref();
      slot.worker.postMessage({ type: 'task', task: next.task });
    }
    // Idle threads must not keep the process alive; once closing, they must until they exit.
    if (!this.closed) for (const s of this.slots) if (s.busy === null) s.worker.unref();
  }

  /** Let running tasks finish, then stop every thread by message. Queued tasks are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const { pending } of this.queue.splice(0)) pending.reject(new Error('ThreadPool: closed'));
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            slot.worker.once('exit', () => resolve());
            // Keep the process alive until the thread has really exited.
            slot.worker.ref();
            const stop = () => slot.worker.postMessage({ type: 'close' });
            if (slot.busy === null) stop();
            else {
              // Wait for the task's reply before asking the thread to stop.
              const busy = slot.busy;
              slot.busy = {
                resolve: (v) => { busy.resolve(v); stop(); },
                reject: (e) => { busy.reject(e); stop(); },
              };
            }
          }),
      ),
    );
  }
}
