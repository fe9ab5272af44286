import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** Options of `ThreadPool`. */
export interface ThreadPoolOptions {
  /** Module the threads run; it must answer messages as `serveThread` does. */
  script: URL;
  /** Number of threads. Default: 2. */
  size?: number;
  /** Passed to every thread as `workerData`. */
  workerData?: unknown;
  /**
   * Keep this pool's threads after `close()` for up to this many milliseconds, for the next
   * pool of the same script in this process (a long-lived process running one job after
   * another then starts each with warm threads: modules loaded, model sessions and buffers
   * ready). Parked threads never keep the process alive. 0 stops them at close. Default:
   * 30,000 for pools without `workerData` (threads given data are never shared), else 0.
   */
  keepWarmMs?: number;
  /**
   * Called with the result of a subtask whose asking thread is gone (it crashed meanwhile),
   * to release what the result holds, e.g. delete a temporary file it names. Default: none.
   */
  discard?: (result: unknown) => void;
  /**
   * Called with each subtask still running when the thread that asked for it dies, so it can
   * stop early instead of finishing work nobody will use (its result then goes to `discard`).
   * Default: none.
   */
  abandon?: (subtask: unknown) => void;
  /**
   * Called with the thread id of a thread that died while running a task (after its task was
   * failed), to release what it leaves behind, e.g. its spill file. Default: none.
   */
  onCrash?: (threadId: number) => void;
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

/**
 * Why a busy thread ended: the input read that failed just before (parquet-wasm traps on a
 * failed read), classed as the thread classed it, else a `ThreadCrashError`.
 */
function crashError(slot: { crash: Error | null; readFailure: { name: string; message: string; permanent: boolean } | null }, code: number): Error {
  const how = slot.crash ? `thread crashed: ${slot.crash.message}` : `thread exited with code ${code} while running a task`;
  const read = slot.readFailure;
  if (read) return new ThreadTaskError(read.name, `${read.message} (the read failed, then the Parquet decoder stopped: ${how})`, read.permanent);
  return new ThreadCrashError(how);
}

interface Pending<R> {
  resolve: (value: R) => void;
  reject: (err: Error) => void;
}

interface Slot<R> {
  worker: Worker;
  busy: Pending<R> | null;
  /** Whether `exit` was seen (a parked thread that died must not be handed out). */
  exited: boolean;
  /** This pool's listeners on the worker, removed when the thread is parked. */
  detach: () => void;
  /** Park key as of the thread's start (see `parkKey`). */
  key: string;
  /** The uncaught error that is ending this thread, if any (reported at `exit`). */
  crash: Error | null;
  /** The first input read that failed during the current task (see `ThreadContext.readFailed`). */
  readFailure: { name: string; message: string; permanent: boolean } | null;
  /** Subtasks this thread asked for that are still running (see `abandon`). */
  subtasks: Set<unknown>;
}

/** The message shape a thread replies with. */
export type ThreadReply<R> =
  | { ok: true; result: R }
  | { ok: false; error: { name: string; message: string; permanent: boolean } };

/** Messages a thread sends besides replies (see `serveThread`'s `spawn` and `shared`). */
export type ThreadRequest =
  | { type: 'spawn'; id: number; tasks: unknown[] }
  | { type: 'shared-get'; id: number; key: string }
  | { type: 'shared-put'; key: string; value: unknown }
  | { type: 'read-failed'; error: { name: string; message: string; permanent: boolean } };

/** Messages the pool sends a thread. */
export type PoolMessage =
  | { type: 'task'; task: unknown }
  | { type: 'close' }
  | { type: 'spawned'; id: number; started: number }
  | { type: 'subtask-done'; id: number; index: number; reply: ThreadReply<unknown> }
  | { type: 'shared-value'; id: number; value?: unknown; produce: boolean };

/**
 * Values threads share through the pool (e.g. a compiled WebAssembly module), process-wide:
 * the first thread to ask produces the value, the others wait for it.
 */
const sharedValues = new Map<string, { has: boolean; value: unknown; producer: Worker | null; waiting: { worker: Worker; id: number }[] }>();

function sharedGet(worker: Worker, id: number, key: string): void {
  let entry = sharedValues.get(key);
  if (!entry) {
    entry = { has: false, value: undefined, producer: null, waiting: [] };
    sharedValues.set(key, entry);
  }
  if (entry.has) {
    worker.postMessage({ type: 'shared-value', id, value: entry.value, produce: false } satisfies PoolMessage);
  } else if (entry.producer !== null) {
    entry.waiting.push({ worker, id });
  } else {
    entry.producer = worker;
    worker.postMessage({ type: 'shared-value', id, produce: true } satisfies PoolMessage);
    // A producer that dies hands the job to the next thread waiting.
    const onExit = () => {
      const e = sharedValues.get(key);
      if (!e || e.has || e.producer !== worker) return;
      const next = e.waiting.shift();
      e.producer = null;
      if (next) sharedGet(next.worker, next.id, key);
    };
    worker.once('exit', onExit);
  }
}

function sharedPut(key: string, value: unknown): void {
  const entry = sharedValues.get(key);
  if (!entry || entry.has) return;
  entry.has = true;
  entry.value = value;
  entry.producer = null;
  for (const w of entry.waiting.splice(0)) w.worker.postMessage({ type: 'shared-value', id: w.id, value, produce: false } satisfies PoolMessage);
}

/** Idle threads of closed pools, by script and workerData, waiting for the next pool. */
const parked = new Map<string, { worker: Worker; timer: NodeJS.Timeout; detach: () => void }[]>();

/**
 * Which parked threads a pool may take: same script and the same environment (a thread
 * keeps the copy of `process.env` it started with: credentials, endpoints and settings read
 * from it must be today's). Only pools without workerData park or take threads.
 */
function parkKey(options: ThreadPoolOptions): string {
  const env = createHash('sha256').update(JSON.stringify(Object.entries(process.env).sort(([a], [b]) => (a < b ? -1 : 1)))).digest('hex');
  return `${options.script.href}\u0000${env}`;
}

/**
 * A fixed set of worker threads, each running one task at a time. A thread that crashes is
 * replaced and only its own task fails. Threads are stopped by message, never terminated
 * mid-task: terminating a thread inside an ONNX `session.run` aborts the whole process.
 *
 * A task may start subtasks on threads that are idle at that moment (`serveThread`'s
 * `spawn`), e.g. to split one big file over the cores; a subtask never waits in the queue,
 * so a task waiting for its subtasks cannot deadlock the pool.
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

  /** A warm parked thread of the same script, or a new one. */
  private spawn(): Slot<R> {
    let worker: Worker | undefined;
    const key = parkKey(this.options);
    const waiting = this.options.workerData === undefined ? parked.get(key) : undefined;
    while (!worker && waiting && waiting.length > 0) {
      const p = waiting.pop()!;
      clearTimeout(p.timer);
      p.detach();
      if (p.worker.threadId >= 0) worker = p.worker;
    }
    if (waiting?.length === 0) parked.delete(key);
    worker ??= new Worker(this.options.script, { workerData: this.options.workerData });
    const slot: Slot<R> = { worker, busy: null, exited: false, detach: () => {}, key, crash: null, readFailure: null, subtasks: new Set() };
    const onMessage = (msg: ThreadReply<R> | ThreadRequest) => {
      if ('type' in msg) {
        if (msg.type === 'spawn') this.startSubtasks(slot, msg.id, msg.tasks);
        else if (msg.type === 'shared-get') sharedGet(worker!, msg.id, msg.key);
        else if (msg.type === 'shared-put') sharedPut(msg.key, msg.value);
        else if (msg.type === 'read-failed') slot.readFailure ??= msg.error;
        return;
      }
      const pending = slot.busy;
      slot.busy = null;
      if (pending) {
        if (msg.ok) pending.resolve(msg.result);
        else pending.reject(new ThreadTaskError(msg.error.name, msg.error.message, msg.error.permanent));
      }
      this.dispatch();
    };
    // The task is failed at `exit`, not at `error`: Node delivers the thread's pending
    // messages before `exit`, so a `read-failed` sent just before the crash is known by then.
    const onError = (err: Error) => {
      slot.crash ??= err;
    };
    // A thread's id reads -1 once it has exited.
    const threadId = worker.threadId;
    const onExit = (code: number) => {
      slot.exited = true;
      for (const task of slot.subtasks) {
        try {
          this.options.abandon?.(task);
        } catch {
          // Best effort: the subtask then runs to its end.
        }
      }
      slot.subtasks.clear();
      if (this.remove(slot) && slot.busy) {
        slot.busy.reject(crashError(slot, code));
        slot.busy = null;
        try {
          this.options.onCrash?.(threadId);
        } catch {
          // Best effort: what is left is swept at exit.
        }
      }
      this.dispatch();
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    // Never removeAllListeners(): Worker keeps listeners of its own (they start its port).
    slot.detach = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
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

  /** A free slot (idle, or a new thread while under `size`), marked busy with `pending`. */
  private claimSlot(pending: Pending<R>): Slot<R> | null {
    let slot = this.slots.find((s) => s.busy === null);
    if (!slot && this.slots.length < this.size) slot = this.spawn();
    if (!slot) return null;
    slot.busy = pending;
    slot.readFailure = null;
    slot.worker.ref();
    return slot;
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const next = this.queue[0]!;
      const slot = this.claimSlot(next.pending);
      if (!slot) return;
      this.queue.shift();
      slot.worker.postMessage({ type: 'task', task: next.task } satisfies PoolMessage);
    }
    // Idle threads must not keep the process alive; once closing, they must until they exit.
    if (!this.closed) for (const s of this.slots) if (s.busy === null) s.worker.unref();
  }

  /**
   * Start as many of `tasks` as there are idle threads (or threads not yet created) right
   * now, tell the asking thread how many started, and send it each one's reply.
   */
  private startSubtasks(owner: Slot<R>, id: number, tasks: unknown[]): void {
    let started = 0;
    if (!this.closed && this.queue.length === 0) {
      for (const [index, task] of tasks.entries()) {
        const toOwner = (reply: ThreadReply<unknown>) => {
          owner.subtasks.delete(task);
          // The owner may have crashed meanwhile: then nobody waits for this reply.
          if (this.slots.includes(owner)) owner.worker.postMessage({ type: 'subtask-done', id, index, reply } satisfies PoolMessage);
          else if (reply.ok) this.options.discard?.(reply.result);
        };
        const slot = this.claimSlot({
          resolve: (result) => toOwner({ ok: true, result }),
          reject: (err) => toOwner({ ok: false, error: { name: err.name, message: err.message, permanent: (err as { permanent?: boolean }).permanent ?? true } }),
        });
        if (!slot) break;
        owner.subtasks.add(task);
        slot.worker.postMessage({ type: 'task', task } satisfies PoolMessage);
        started++;
      }
    }
    owner.worker.postMessage({ type: 'spawned', id, started } satisfies PoolMessage);
  }

  /**
   * Let running tasks finish, then stop every thread by message (or park it for the next
   * pool, see `keepWarmMs`). Queued tasks are rejected.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const { pending } of this.queue.splice(0)) pending.reject(new Error('ThreadPool: closed'));
    const keepMs = this.options.workerData === undefined ? this.options.keepWarmMs ?? 30_000 : 0;
    await Promise.all(
      // A copy: parking a thread removes its slot from `this.slots` as this goes.
      [...this.slots].map(
        (slot) =>
          new Promise<void>((resolve) => {
            const stop = () => {
              if (keepMs > 0 && !slot.exited && this.remove(slot)) {
                slot.detach();
                park(slot.worker, slot.key, keepMs);
                resolve();
                return;
              }
              slot.worker.once('exit', () => resolve());
              // Keep the process alive until the thread has really exited.
              slot.worker.ref();
              slot.worker.postMessage({ type: 'close' } satisfies PoolMessage);
            };
            if (slot.exited) resolve();
            else if (slot.busy === null) stop();
            else {
              // Wait for the task's reply before asking the thread to stop.
              const busy = slot.busy;
              slot.busy = {
                resolve: (v) => { busy.resolve(v); stop(); },
                reject: (e) => { busy.reject(e); if (slot.exited) resolve(); else stop(); },
              };
            }
          }),
      ),
    );
  }
}

/** Keep an idle thread for the next pool of the same kind; stop it after `ms`. */
function park(worker: Worker, key: string, ms: number): void {
  worker.unref();
  const list = parked.get(key) ?? [];
  const onExit = () => {
    clearTimeout(entry.timer);
    const l = parked.get(key);
    const i = l?.indexOf(entry) ?? -1;
    if (l && i >= 0) l.splice(i, 1);
    if (l?.length === 0) parked.delete(key);
  };
  // A thread crashing while parked must not take the process down with an unhandled 'error'.
  const onError = () => {};
  const entry = {
    worker,
    detach: () => {
      worker.off('exit', onExit);
      worker.off('error', onError);
    },
    timer: setTimeout(() => {
      const l = parked.get(key);
      const i = l?.indexOf(entry) ?? -1;
      if (l && i >= 0) l.splice(i, 1);
      if (l?.length === 0) parked.delete(key);
      worker.postMessage({ type: 'close' } satisfies PoolMessage);
    }, ms),
  };
  entry.timer.unref();
  // A parked thread that dies (or is stopped) leaves the list.
  worker.once('exit', onExit);
  worker.on('error', onError);
  list.push(entry);
  parked.set(key, list);
}
