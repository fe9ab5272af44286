import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ThreadCrashError, ThreadPool, ThreadTaskError } from '../../src/run/thread-pool.js';
import type { EchoResult, EchoTask } from './fixtures/echo-thread.js';
import { openFdsTo } from '../support/open-fds.js';

const SCRIPT = new URL('./fixtures/echo-thread.js', import.meta.url);

function pool(size: number, workerData?: unknown): ThreadPool<EchoTask, EchoResult> {
  return new ThreadPool<EchoTask, EchoResult>({ script: SCRIPT, size, workerData });
}

/** Await a rejection and return the error. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Error, String(err));
    return err;
  }
  assert.fail('expected the task to fail');
}

test('results come back to the task that asked, on up to `size` threads', async () => {
  const p = pool(3);
  try {
    const values = Array.from({ length: 20 }, (_, i) => ({ i, nested: { text: `t${i}`, list: [i, i * 2] } }));
    const results = await Promise.all(values.map((value) => p.run({ op: 'echo', value })));
    assert.deepEqual(results.map((r) => r.value), values);
    const threads = new Set(results.map((r) => r.threadId));
    assert.ok(threads.size >= 1 && threads.size <= 3, `used ${threads.size} threads`);
    assert.ok(!threads.has(0), 'tasks ran off the main thread');
  } finally {
    await p.close();
  }
});

test('tasks submitted together run on different threads at the same time', async () => {
  const p = pool(2);
  try {
    const [a, b] = await Promise.all([p.run({ op: 'sleep', ms: 100, value: 'a' }), p.run({ op: 'sleep', ms: 100, value: 'b' })]);
    assert.deepEqual([a.value, b.value], ['a', 'b']);
    assert.notEqual(a.threadId, b.threadId);
  } finally {
    await p.close();
  }
});

test('workerData reaches every thread', async () => {
  const p = pool(2, { model: 'm.onnx', threads: 1 });
  try {
    const rs = await Promise.all([p.run({ op: 'workerData' }), p.run({ op: 'workerData' })]);
    for (const r of rs) assert.deepEqual(r.value, { model: 'm.onnx', threads: 1 });
  } finally {
    await p.close();
  }
});

test('an error thrown by a task comes back as ThreadTaskError with its name, message and permanence', async () => {
  const p = pool(1);
  try {
    const before = await p.run({ op: 'whoami' });
    const err = await rejection(p.run({ op: 'throw', name: 'ParquetError', message: 'parquet: f.parquet: bad footer' }));
    assert.ok(err instanceof ThreadTaskError, `got ${err.constructor.name}`);
    assert.equal(err.name, 'ParquetError');
    assert.equal(err.message, 'parquet: f.parquet: bad footer');
    assert.equal(err.permanent, true);
    const transient = await rejection(p.run({ op: 'throw', name: 'NetworkError', message: 'transient: reset' }));
    assert.ok(transient instanceof ThreadTaskError);
    assert.equal(transient.permanent, false);
    // A thrown error does not cost the thread.
    const after = await p.run({ op: 'whoami' });
    assert.equal(after.threadId, before.threadId);
  } finally {
    await p.close();
  }
});

test('a task that exits its thread gets ThreadCrashError; the pool replaces the thread', async () => {
  const p = pool(1);
  try {
    const before = await p.run({ op: 'whoami' });
    const err = await rejection(p.run({ op: 'exit', code: 3 }));
    assert.ok(err instanceof ThreadCrashError, `got ${err.constructor.name}: ${err.message}`);
    assert.equal(err.name, 'ThreadCrashError');
    assert.match(err.message, /code 3/);
    const after = await p.run({ op: 'echo', value: 'still here' });
    assert.equal(after.value, 'still here');
    assert.notEqual(after.threadId, before.threadId, 'a new thread');
  } finally {
    await p.close();
  }
});

test('an uncaught exception in a thread fails only its task with ThreadCrashError', async () => {
  const p = pool(2);
  try {
    const [crash, other] = await Promise.allSettled([
      p.run({ op: 'throw-later', message: 'rust panic: index out of bounds' }),
      p.run({ op: 'sleep', ms: 50, value: 'other thread' }),
    ]);
    assert.equal(crash.status, 'rejected');
    const err = (crash as PromiseRejectedResult).reason as Error;
    assert.ok(err instanceof ThreadCrashError, `got ${String(err)}`);
    assert.match(err.message, /rust panic: index out of bounds/);
    assert.deepEqual(other.status === 'fulfilled' && other.value.value, 'other thread');
    const later = await Promise.all([1, 2, 3, 4].map((value) => p.run({ op: 'echo', value })));
    assert.deepEqual(later.map((r) => r.value), [1, 2, 3, 4]);
  } finally {
    await p.close();
  }
});

test('onCrash gets the id of a thread that died running a task, not of one whose task threw', async () => {
  const crashed: number[] = [];
  const p = new ThreadPool<EchoTask, EchoResult>({ script: SCRIPT, size: 1, onCrash: (id) => crashed.push(id) });
  try {
    const { threadId } = await p.run({ op: 'whoami' });
    await rejection(p.run({ op: 'throw', name: 'TypeError', message: 'an ordinary failure' }));
    assert.deepEqual(crashed, [], 'a task that throws is no crash');
    await rejection(p.run({ op: 'throw-later', message: 'rust panic' }));
    assert.deepEqual(crashed, [threadId]);
    // The replacement thread works, under another id.
    const next = await p.run({ op: 'whoami' });
    assert.notEqual(next.threadId, threadId);
  } finally {
    await p.close();
  }
});

// Node closes the descriptors a worker thread opened when the thread ends, crash or not:
// a scoring thread killed by a decoder trap leaks none. The pool relies on that (tracking
// them itself would close numbers the process has reused since).
test('a thread that dies holding file descriptors leaves none open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pool-fds-'));
  const paths = ['a', 'b', 'c'].map((n) => join(dir, n));
  for (const path of paths) writeFileSync(path, path);
  const p = pool(1);
  try {
    await rejection(p.run({ op: 'open-then-crash', paths, closeFirst: true }));
    assert.deepEqual(paths.map(openFdsTo), [[], [], []], 'no descriptor left open on the files');
    // The replacement thread works.
    assert.equal((await p.run({ op: 'echo', value: 5 })).value, 5);
  } finally {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a thread that reported a failed read and then crashed fails its task with that read error and its class', async () => {
  const p = pool(1);
  try {
    const transient = await rejection(p.run({ op: 'read-fail-then-crash', name: 'S3Error', message: 'storage: transient: GET part-0.parquet: ECONNRESET' }));
    assert.ok(transient instanceof ThreadTaskError, `got ${transient.constructor.name}: ${transient.message}`);
    assert.equal(transient.name, 'S3Error');
    assert.equal(transient.permanent, false);
    assert.match(transient.message, /ECONNRESET/);
    assert.match(transient.message, /unreachable/, 'the crash is kept in the message');
    const permanent = await rejection(p.run({ op: 'read-fail-then-crash', name: 'NotFoundError', message: 'storage: gone' }));
    assert.ok(permanent instanceof ThreadTaskError);
    assert.equal(permanent.permanent, true);
    // The next task's crash is not blamed on an earlier task's read.
    const crash = await rejection(p.run({ op: 'throw-later', message: 'rust panic: corrupt page' }));
    assert.ok(crash instanceof ThreadCrashError, `got ${crash.constructor.name}: ${crash.message}`);
    assert.match(crash.message, /corrupt page/);
  } finally {
    await p.close();
  }
});

test('tasks queued behind a crashing task still run', async () => {
  const p = pool(1);
  try {
    const settled = await Promise.allSettled([
      p.run({ op: 'echo', value: 'first' }),
      p.run({ op: 'exit', code: 7 }),
      p.run({ op: 'echo', value: 'third' }),
      p.run({ op: 'throw-later', message: 'boom' }),
      p.run({ op: 'echo', value: 'fifth' }),
    ]);
    assert.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? s.value.value : (s.reason as Error).name)),
      ['first', 'ThreadCrashError', 'third', 'ThreadCrashError', 'fifth'],
    );
  } finally {
    await p.close();
  }
});

test('close() lets the running task finish, rejects queued ones, and later runs are refused', async () => {
  const p = pool(1);
  const running = p.run({ op: 'sleep', ms: 100, value: 'finished' });
  const queued = p.run({ op: 'echo', value: 'never' });
  // Let the first task reach its thread before closing.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const closing = p.close();
  const [r, q] = await Promise.allSettled([running, queued]);
  assert.deepEqual(r.status === 'fulfilled' && r.value.value, 'finished');
  assert.equal(q.status, 'rejected');
  assert.match(((q as PromiseRejectedResult).reason as Error).message, /closed/);
  await closing;
  const after = await rejection(p.run({ op: 'echo', value: 1 }));
  assert.match(after.message, /closed/);
  // Closing twice, and closing a pool that never started a thread, both resolve.
  await p.close();
  await pool(2).close();
});

test('close() while running tasks crash still resolves and fails those tasks', async () => {
  const p = pool(2);
  const settled = Promise.allSettled([p.run({ op: 'exit', code: 5 }), p.run({ op: 'throw-later', message: 'late' })]);
  await p.close();
  const [a, b] = await settled;
  assert.equal(a.status === 'rejected' && (a.reason as Error).name, 'ThreadCrashError');
  assert.equal(b.status === 'rejected' && (b.reason as Error).name, 'ThreadCrashError');
});

test('an invalid size is a TypeError', () => {
  for (const size of [0, -1, 1.5, 257, Number.NaN]) assert.throws(() => pool(size), TypeError, String(size));
});

/** Run fixtures/pool-exit.js in a child process; `code` is null if it had to be killed after 4 s. */
function runChild(mode: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const script = fileURLToPath(new URL('./fixtures/pool-exit.js', import.meta.url));
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, 4000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: killed ? null : code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

test('the process is not kept alive: after close(), by idle threads, or after a crash', async () => {
  const [closed, idle, crashed] = await Promise.all([runChild('close'), runChild('idle'), runChild('crash')]);
  for (const [mode, r] of [['close', closed], ['idle', idle], ['crash', crashed]] as const) {
    assert.equal(r.code, 0, `${mode}: exit code ${String(r.code)} after ${r.ms} ms (null = killed by the timeout); stderr: ${r.stderr}`);
  }
  assert.deepEqual(JSON.parse(closed.stdout), [1, 2, 3]);
  assert.deepEqual(JSON.parse(idle.stdout), [1, 2, 3]);
  assert.deepEqual(JSON.parse(crashed.stdout), [1, 2, 3, 'ThreadCrashError']);
});
