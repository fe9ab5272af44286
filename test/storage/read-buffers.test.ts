/**
 * ReadBuffers: buffers are lent only inside leases, never to two reads at once, and return
 * to the pool when the last lease ends; parquet-wasm decoding through a pooled RangeBlob
 * gives the same values as without a pool, row group after row group and file after file.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { openParquet, type RowGroupView } from '../../src/parquet/parquet-reader.js';
import { FileStore } from '../../src/storage/file-store.js';
import { openRangeBlob } from '../../src/storage/range-blob.js';
import { ReadBuffers } from '../../src/storage/read-buffers.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const parquet = await import('parquet-wasm');

describe('ReadBuffers', () => {
  it('lends nothing outside a lease: such a buffer never returns to the pool', () => {
    const pool = new ReadBuffers();
    const outside = pool.take(1000);
    assert.equal(outside.byteLength, 1000);
    pool.lease()();
    assert.equal(pool.pooled, 0);
    const end = pool.lease();
    assert.notEqual(pool.take(1000), outside);
    end();
  });

  it('lends distinct buffers of the exact size within a lease and reuses them after it', () => {
    const pool = new ReadBuffers();
    const end = pool.lease();
    const a = pool.take(5000);
    const b = pool.take(300);
    assert.notEqual(a, b);
    assert.deepEqual([a.byteLength, b.byteLength, new Uint8Array(a).length], [5000, 300, 5000]);
    end();
    assert.equal(pool.pooled, 2);
    const end2 = pool.lease();
    const c = pool.take(4600);
    const d = pool.take(280);
    // Closest size first: the 5000-byte buffer serves 4600, the 300-byte one 280.
    assert.equal(c, a);
    assert.equal(d, b);
    assert.deepEqual([c.byteLength, d.byteLength, new Uint8Array(c).length], [4600, 280, 4600]);
    end2();
  });

  it('gives a read far from every free size a buffer of its own while there is room, else resizes the closest', () => {
    const pool = new ReadBuffers({ maxBuffers: 3 });
    const end = pool.lease();
    const small = pool.take(500_000);
    const big = pool.take(5_800_000);
    end();
    const end2 = pool.lease();
    // 3,300,000 is far from both: a new buffer, and the pooled ones keep their sizes.
    const mid = pool.take(3_300_000);
    assert.ok(mid !== small && mid !== big);
    assert.equal(pool.take(5_200_000), big, 'within 1/8 of the 5.8 MB buffer: that one, resized');
    assert.equal(small.byteLength, 500_000);
    end2();
    assert.equal(pool.pooled, 3);
    const end3 = pool.lease();
    // The pool is full (3 buffers): a size far from all of them resizes the closest.
    assert.equal(pool.take(1_000_000), small);
    assert.equal(small.byteLength, 1_000_000);
    end3();
    assert.equal(pool.pooled, 3);
  });

  it('takes buffers back only when the last of overlapping leases ends', () => {
    const pool = new ReadBuffers();
    const endA = pool.lease();
    const a = pool.take(100);
    const endB = pool.lease();
    const b = pool.take(100);
    endA();
    endA(); // a second call is harmless: it does not end B's lease
    assert.equal(pool.pooled, 0);
    const endC = pool.lease();
    assert.notEqual(pool.take(100), a, 'a buffer of an ended lease was lent while another lease was open');
    endB();
    assert.equal(pool.pooled, 0);
    endC();
    assert.equal(pool.pooled, 3);
    assert.notEqual(a, b);
  });

  it('gives plain buffers past maxBuffers or maxReadBytes', () => {
    const pool = new ReadBuffers({ maxBuffers: 1, maxReadBytes: 1024 });
    const end = pool.lease();
    pool.take(10);
    pool.take(10);
    pool.take(2048);
    end();
    assert.equal(pool.pooled, 1);
  });

  it('keeps at most maxPooledBytes between leases, smallest buffers first', () => {
    const pool = new ReadBuffers({ maxPooledBytes: 10_000 });
    const end = pool.lease();
    pool.take(9_000);
    pool.take(4_000);
    pool.take(5_000);
    end();
    assert.equal(pool.pooled, 2);
    assert.equal(pool.pooledBytes, 9_000, 'the 4,000 and 5,000-byte buffers are kept, the 9,000-byte one dropped');
    const end2 = pool.lease();
    pool.take(20_000); // grows a pooled buffer past the limit: dropped when the lease ends
    end2();
    assert.ok(pool.pooledBytes <= 10_000, `pooled ${pool.pooledBytes} bytes`);
  });

  it('names a bad option and its value', () => {
    assert.throws(() => new ReadBuffers({ maxBuffers: -1 }), /read-buffers: maxBuffers must be a non-negative integer, got -1/);
    assert.throws(() => new ReadBuffers({ maxReadBytes: 1.5 }), /read-buffers: maxReadBytes must be a non-negative integer, got 1.5/);
    assert.throws(() => new ReadBuffers({ maxPooledBytes: Number.NaN }), /read-buffers: maxPooledBytes must be a non-negative integer, got NaN/);
  });
});

describe('ReadBuffers behind RangeBlobs', () => {
  let dir: TmpDir;
  let a: string;
  let b: string;
  before(async () => {
    dir = await tmpDir();
    a = join(dir.path, 'a.bin');
    b = join(dir.path, 'b.bin');
    await writeFile(a, Uint8Array.from({ length: 4096 }, (_, i) => i % 251));
    await writeFile(b, Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) % 253));
  });
  after(() => dir.cleanup());

  it("pools a blob's reads under its own lease only, not another blob's reads meanwhile", async () => {
    const store = new FileStore();
    const pool = new ReadBuffers();
    const blobA = await openRangeBlob(store, a, { buffers: pool });
    const blobB = await openRangeBlob(store, b, { buffers: pool });
    try {
      const end = blobA.lease();
      const fromA = await blobA.slice(0, 1000).arrayBuffer();
      const fromB = await blobB.slice(0, 1000).arrayBuffer(); // B holds no lease
      end();
      assert.equal(pool.pooled, 1, "only A's buffer came back");
      const end2 = blobA.lease();
      const again = await blobA.slice(100, 1100).arrayBuffer();
      end2();
      assert.equal(again, fromA, "A's buffer is reused");
      assert.notEqual(again, fromB);
      // B's bytes are still B's, and the reused buffer holds A's new range.
      assert.deepEqual([...new Uint8Array(fromB, 0, 3)], [0, 7, 14]);
      assert.deepEqual([...new Uint8Array(again, 0, 3)], [100, 101, 102]);
    } finally {
      await blobA.close();
      await blobB.close();
    }
  });
});

describe('ReadBuffers under parquet-wasm', () => {
  let dir: TmpDir;
  const files: { path: string; x: Float64Array; y: Float32Array }[] = [];

  before(async () => {
    dir = await tmpDir();
    // Files of different sizes and row groups: the pool resizes its buffers both ways.
    for (const [i, rows] of [70_000, 200_000, 30_000].entries()) {
      const x = Float64Array.from({ length: rows }, () => Math.random());
      const y = Float32Array.from({ length: rows }, (_, r) => r * 0.5 - i);
      const table = parquet.Table.fromIPCStream(tableToIPC(tableFromArrays({ x, y }), 'stream'));
      const props = new parquet.WriterPropertiesBuilder().setDictionaryEnabled(false).setCompression(parquet.Compression.SNAPPY).setMaxRowGroupSize(40_000 + i * 10_000).build();
      const path = join(dir.path, `f${i}.parquet`);
      await writeFile(path, parquet.writeParquet(table, props));
      files.push({ path, x, y });
    }
  });
  after(() => dir.cleanup());

  it('decodes every row group of every file to the values written, through one pool', async () => {
    const store = new FileStore();
    const pool = new ReadBuffers();
    for (const f of files) {
      const blob = await openRangeBlob(store, f.path, { buffers: pool });
      const reader = await openParquet(blob, f.path);
      try {
        assert.ok(reader.readRowGroupView, 'the reader reads row groups as views');
        let row = 0;
        let previous: { view: RowGroupView; row: number } | null = null;
        for (let g = 0; g < reader.rowGroupRows.length; g++) {
          const view = await reader.readRowGroupView(g, ['x', 'y']);
          // The previous row group, decoded from buffers this read has just reused, still holds.
          if (previous) checkRows(previous.view, f, previous.row);
          checkRows(view, f, row);
          previous?.view.release();
          previous = { view, row };
          row += view.numRows;
        }
        previous?.view.release();
        assert.equal(row, f.x.length);
      } finally {
        reader.close();
        await blob.close();
      }
    }
    assert.ok(pool.pooled > 0, 'the pool was used');
  });
});

function checkRows(view: RowGroupView, f: { path: string; x: Float64Array; y: Float32Array }, row: number): void {
  const x = view.featureColumn('x').chunks[0]!.values as Float64Array;
  const y = view.featureColumn('y').chunks[0]!.values as Float32Array;
  assert.equal(x.length, view.numRows);
  for (let i = 0; i < view.numRows; i++) {
    if (x[i] !== f.x[row + i] || y[i] !== f.y[row + i]) assert.fail(`${f.path}: row ${row + i} decoded as (${x[i]}, ${y[i]}), written as (${f.x[row + i]}, ${f.y[row + i]})`);
  }
}
