/**
 * ThreadPool additions: subtasks started by a running task on idle threads (never queued),
 * and threads kept warm for the next pool of the same script.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadPool } from '../../src/run/thread-pool.js';
import type { SpawnResult, SpawnTask } from './fixtures/spawn-thread.js';

const SCRIPT = new URL('./fixtures/spawn-thread.js', import.meta.url);

test('a task starts subtasks on idle threads (creating them up to the size) and gets their results', async () => {
  const pool = new ThreadPool<SpawnTask, SpawnResult>({ script: SCRIPT, size: 3, keepWarmMs: 0 });
  try {
    const r = await pool.run({ op: 'fanout', leaves: 5, ms: 50 });
    // Two threads besides the asking one: two of the five leaves start, the rest are dropped.
    assert.equal(r.started, 2);
    assert.deepEqual(r.leaves!.map((l) => l.value), [0, 1]);
    assert.equal(new Set(r.leaves!.map((l) => l.threadId)).size, 2);
    assert.ok(r.leaves!.every((l) => l.threadId !== r.threadId), 'subtasks run on other threads');
    assert.deepEqual(r.errors, []);
  } finally {
    await pool.close();
  }
});

test('no subtask starts while tasks wait in the queue or on a pool of one; errors come back to the asker', async () => {
  const one = new ThreadPool<SpawnTask, SpawnResult>({ script: SCRIPT, size: 1, keepWarmMs: 0 });
  try {
    assert.equal((await one.run({ op: 'fanout', leaves: 3, ms: 1 })).started, 0);
  } finally {
    await one.close();
  }
  const two = new ThreadPool<SpawnTask, SpawnResult>({ script: SCRIPT, size: 2, keepWarmMs: 0 });
  try {
    // One thread on a long task, the other on a fan-out, a third task queued: nobody idle.
    const results = await Promise.all([
      two.run({ op: 'leaf', value: 8, ms: 1500 }),
      two.run({ op: 'fanout', leaves: 2, ms: 1 }),
      two.run({ op: 'leaf', value: 9, ms: 1500 }),
    ]);
    assert.equal(results[1]!.started, 0);
    const failing = await two.run({ op: 'fanout', leaves: 1, ms: 1, failAt: 0 });
    assert.equal(failing.started, 1);
    assert.deepEqual(failing.errors, ['LeafError: leaf 0 failed']);
  } finally {
    await two.close();
  }
});

test('closed pools park their threads for the next pool of the same script; every thread is parked or stopped', async () => {
  const first = new ThreadPool<SpawnTask, SpawnResult>({ script: SCRIPT, size: 2, keepWarmMs: 5_000 });
  const a = await Promise.all([first.run({ op: 'leaf', value: 1, ms: 30 }), first.run({ op: 'leaf', value: 2, ms: 30 })]);
  await first.close();
  const second = new ThreadPool<SpawnTask, SpawnResult>({ script: SCRIPT, size: 2, keepWarmMs: 0 });
  try {
    const b = await Promise.all([second.run({ op: 'leaf', value: 1, ms: 30 }), second.run({ op: 'leaf', value: 2, ms: 30 })]);
    assert.deepEqual(new Set(b.map((r) => r.threadId)), new Set(a.map((r) => r.threadId)), 'both threads reused');
  } finally {
    await second.close();
  }
  // keepWarmMs 0: the threads were stopped, a new pool starts new ones.
  const third = new ThreadPool<SpawnTask, SpawnResult>({ script: SCRIPT, size: 1, keepWarmMs: 0 });
  try {
    const c = await third.run({ op: 'whoami' });
    assert.ok(!a.some((r) => r.threadId === c.threadId));
  } finally {
    await third.close();
  }
});

test('results of subtasks whose asking thread died go to `discard` (e.g. to delete their temp files)', async () => {
  const discarded: unknown[] = [];
  const pool = new ThreadPool<SpawnTask, SpawnResult>({ script: SCRIPT, size: 3, keepWarmMs: 0, discard: (r) => discarded.push(r) });
  try {
    await assert.rejects(pool.run({ op: 'fanout-crash', leaves: 2, ms: 300 }), (err: Error) => err.name === 'ThreadCrashError');
    for (let i = 0; i < 50 && discarded.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(discarded.map((r) => (r as SpawnResult).leaves![0]!.value).sort(), [0, 1]);
  } finally {
    await pool.close();
  }
});

test('subtasks still running when their asking thread dies go to `abandon` (so they can stop early), finished ones do not', async () => {
  const abandoned: { op: string; ms: number }[] = [];
  const pool = new ThreadPool<SpawnTask, SpawnResult>({ script: SCRIPT, size: 2, keepWarmMs: 0, abandon: (t) => abandoned.push(t as { op: string; ms: number }) });
  try {
    // The first thread asks for a leaf that finishes: nothing to abandon later.
    const first = await pool.run({ op: 'fanout', leaves: 1, ms: 1 });
    assert.equal(first.started, 1);
    // The same (first idle) thread asks for a 300 ms leaf and exits right away.
    await assert.rejects(pool.run({ op: 'fanout-crash', leaves: 1, ms: 300 }), (err: Error) => err.name === 'ThreadCrashError');
    assert.deepEqual(abandoned, [{ op: 'leaf', value: 0, ms: 300 }]);
  } finally {
    await pool.close();
  }
});
