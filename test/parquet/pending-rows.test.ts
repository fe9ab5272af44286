/**
 * The stream writer's pending rows (src/parquet/pending-rows.ts): deep copies in pooled
 * memory, reused only after release; a writer that flushes part of its rows keeps the rest
 * intact while it copies more (checked by reading the file back with parquet-wasm), and
 * files written one after another from the same pool read back as written.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { CopyPool, PendingCopies } from '../../src/parquet/pending-rows.js';
import { ParquetStreamWriter } from '../../src/parquet/parquet-writer.js';

/** Rows [from, from + n): int64 ids and float32 scores big enough to be pooled (≥ 64 KiB). */
function rows(from: number, n: number): arrow.Table {
  return new arrow.Table({
    id: arrow.makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(from + i) * 7n - 3n)),
    p: arrow.makeVector(Float32Array.from({ length: n }, (_, i) => Math.fround(Math.cos(from + i)))),
  });
}

async function written(sizes: readonly number[], maxRowGroupRows: number): Promise<{ ids: bigint[]; ps: number[]; rowGroups: number }> {
  const chunks: Uint8Array[] = [];
  const writer = new ParquetStreamWriter({ write: (c) => void chunks.push(c.slice()) }, { uri: 'mem://t', maxRowGroupRows, deltaColumns: 'monotone' });
  let from = 0;
  for (const n of sizes) {
    const t = rows(from, n);
    await writer.write(t);
    // The caller may reuse its buffers once `write` returned: scribble over them.
    for (const c of t.data[0]!.children) new Uint8Array(c.values.buffer, c.values.byteOffset, c.values.byteLength).fill(0xee);
    from += n;
  }
  const { rowGroups } = await writer.finish();
  const t = arrow.tableFromIPC(pw.readParquet(Buffer.concat(chunks)).intoIPCStream());
  return { ids: [...(t.getChild('id')!.toArray() as BigInt64Array)], ps: [...(t.getChild('p')!.toArray() as Float32Array)], rowGroups };
}

function expected(total: number): { ids: bigint[]; ps: number[] } {
  const t = rows(0, total);
  return { ids: [...(t.getChild('id')!.toArray() as BigInt64Array)], ps: [...(t.getChild('p')!.toArray() as Float32Array)] };
}

describe('pending rows', () => {
  it('copies deeply, reuses memory only after release, and keeps at most maxPooledBytes', () => {
    const pool = new CopyPool({ maxPooledBytes: 1 << 20 });
    const copies = new PendingCopies(pool);
    const src = rows(0, 20_000);
    const a = copies.copyBatch(src.batches[0]!, null, 'mem://t');
    const bufferA = a.data.children[0]!.values.buffer;
    assert.notEqual(bufferA, src.data[0]!.children[0]!.values.buffer);
    (src.data[0]!.children[0]!.values as BigInt64Array)[0] = 99n;
    assert.equal((a.data.children[0]!.values as BigInt64Array)[0], -3n, 'a copy, not a view');
    const b = copies.copyBatch(src.batches[0]!, null, 'mem://t');
    assert.notEqual(b.data.children[0]!.values.buffer, bufferA, 'memory still lent is not lent again');
    copies.release();
    assert.ok(pool.pooledBytes > 0);
    const again = new PendingCopies(pool).copyBatch(src.batches[0]!, null, 'mem://t');
    const reused = [again.data.children[0]!.values.buffer, again.data.children[1]!.values.buffer];
    assert.ok(reused.includes(bufferA) || reused.includes(b.data.children[0]!.values.buffer), 'released memory serves the next copies');
    pool.give([new ArrayBuffer(4 << 20)]);
    assert.ok(pool.pooledBytes <= 1 << 20, `pooled ${pool.pooledBytes} bytes`);
    assert.throws(() => new CopyPool({ maxPooledBytes: -1 }), /copy-pool: maxPooledBytes must be a non-negative integer, got -1/);
  });

  it('rows left pending by a partial flush survive the copies made after it', async () => {
    // 20,000-row writes into 15,000-row row groups: every flush leaves rows pending in
    // memory that must not be handed out again before they are written.
    const sizes = [20_000, 20_000, 20_000, 7_000];
    const got = await written(sizes, 15_000);
    const want = expected(67_000);
    assert.equal(got.rowGroups, 5);
    assert.deepEqual(got.ids, want.ids);
    assert.deepEqual(got.ps, want.ps);
  });

  it('files written one after another from the same pool read back as written', async () => {
    for (const sizes of [[50_000], [30_000, 30_000], [10_000, 80_000]]) {
      const total = sizes.reduce((a, b) => a + b, 0);
      const got = await written(sizes, 1_048_576);
      const want = expected(total);
      assert.deepEqual(got.ids, want.ids, String(sizes));
      assert.deepEqual(got.ps, want.ps, String(sizes));
    }
  });
});
