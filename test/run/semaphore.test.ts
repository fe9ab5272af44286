import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Semaphore } from '../../src/run/semaphore.js';

test('Semaphore runs at most `limit` tasks at once, in arrival order, and passes results and errors through', async () => {
  const sem = new Semaphore(2);
  let active = 0;
  let peak = 0;
  const started: number[] = [];
  const gates: (() => void)[] = [];
  const tasks = Array.from({ length: 6 }, (_, i) =>
    sem.run(async () => {
      started.push(i);
      active++;
      peak = Math.max(peak, active);
      await new Promise<void>((resolve) => gates.push(resolve));
      active--;
      if (i === 3) throw new Error('task 3 failed');
      return i * 10;
    }),
  );
  for (const t of tasks) t.catch(() => {}); // settled below
  // Release tasks one at a time, checking the limit holds while each slot is handed over.
  for (let k = 0; k < 6; k++) {
    await new Promise((r) => setImmediate(r));
    assert.ok(active <= 2, `active ${active} > 2`);
    gates.shift()!();
  }
  const results = await Promise.allSettled(tasks);
  assert.equal(peak, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), [0, 10, 20, 'task 3 failed', 40, 50]);
  // After everything, the slots are free again.
  assert.equal(await sem.run(async () => 'again'), 'again');
});

test('Semaphore rejects a limit that is not a positive integer, naming the value', () => {
  assert.throws(() => new Semaphore(0), /limit must be a positive integer, got 0/);
  assert.throws(() => new Semaphore(1.5), /got 1.5/);
});
