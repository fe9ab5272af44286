/**
 * RangeCache: reads served from ranges read ahead, released once fully served or dropped;
 * the tail (pinned) stays; a failed read reaches whoever takes from it and is then forgotten.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RangeCache } from '../../src/storage/range-cache.js';

const OBJECT = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);

/** A cache over OBJECT that records its reads; `fail` makes the next reads reject. */
function cache(): { cache: RangeCache; reads: string[]; fail: { next: number }; buffers: ArrayBuffer[] } {
  const reads: string[] = [];
  const buffers: ArrayBuffer[] = [];
  const fail = { next: 0 };
  const c = new RangeCache(async (start, end) => {
    reads.push(`${start}-${end}`);
    if (fail.next > 0) {
      fail.next--;
      throw new Error(`storage: read ${start}-${end} failed`);
    }
    const buffer = OBJECT.slice(start, end).buffer;
    buffers.push(buffer);
    return buffer;
  });
  return { cache: c, reads, fail, buffers };
}

const bytes = async (p: Promise<ArrayBuffer> | null) => {
  assert.ok(p, 'not served from the cache');
  return [...new Uint8Array(await p)];
};

describe('RangeCache', () => {
  it('serves slices inside a fetched range with one read, and lets the range go once all of it was served', async () => {
    const { cache: c, reads } = cache();
    c.fetch(100, 200);
    c.fetch(100, 200); // already held: no second read
    assert.deepEqual(await bytes(c.take(100, 150)), [...OBJECT.subarray(100, 150)]);
    assert.equal(c.take(90, 110), null, 'a slice reaching outside is not served');
    assert.deepEqual(await bytes(c.take(150, 200)), [...OBJECT.subarray(150, 200)]);
    assert.equal(c.take(150, 160), null, 'a fully served range is gone');
    assert.equal(c.size, 0);
    assert.deepEqual(reads, ['100-200']);
  });

  it('a take of a whole unpinned range gets the read buffer itself (no copy); the pinned tail is copied for each reader', async () => {
    const { cache: c, buffers } = cache();
    c.fetch(0, 100);
    c.fetch(900, 1000, true);
    const whole = await c.take(0, 100)!;
    assert.equal(whole, buffers[0], 'not the read buffer');
    const tail = await c.take(900, 1000)!;
    assert.notEqual(tail, buffers[1], 'the pinned tail was handed out, not copied');
    assert.deepEqual([...new Uint8Array(tail)], [...OBJECT.subarray(900)]);
  });

  it('drop() forgets unpinned ranges and keeps the pinned tail, served as often as asked', async () => {
    const { cache: c, reads } = cache();
    c.fetch(900, 1000, true);
    c.fetch(0, 300);
    c.fetch(300, 300); // empty: ignored
    assert.equal(c.size, 400);
    c.drop();
    assert.equal(c.size, 100);
    assert.equal(c.take(0, 10), null);
    for (let i = 0; i < 3; i++) assert.deepEqual(await bytes(c.take(900, 1000)), [...OBJECT.subarray(900)]);
    assert.deepEqual(reads, ['900-1000', '0-300']);
  });

  it('a failed read goes to whoever takes from it, then is forgotten so a new fetch reads again', async () => {
    const { cache: c, reads, fail } = cache();
    fail.next = 1;
    c.fetch(0, 100, true);
    await assert.rejects(c.take(0, 10)!, /storage: read 0-100 failed/);
    assert.equal(c.take(0, 10), null);
    c.fetch(0, 100, true);
    assert.deepEqual(await bytes(c.take(0, 10)), [...OBJECT.subarray(0, 10)]);
    // A failed read nobody takes from rejects nowhere (no unhandled rejection).
    fail.next = 1;
    c.fetch(500, 600);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(c.take(500, 510), null);
    assert.deepEqual(reads, ['0-100', '0-100', '500-600']);
  });
});
