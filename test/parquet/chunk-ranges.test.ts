/**
 * Column chunk ranges from the footer, and reading ahead with them: on every readable file
 * of the parquet-testing corpus, a reader whose blob prefetches each row group's chunks
 * decodes exactly what a reader without prefetching decodes, and every read parquet-wasm
 * makes lies inside a prefetched range (no request beyond the prefetched ones).
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tableToIPC } from 'apache-arrow';
import { chunkRanges, coalesceRanges } from '../../src/parquet/chunk-ranges.js';
import { openParquet, type ParquetReader } from '../../src/parquet/parquet-reader.js';
import { FileStore } from '../../src/storage/file-store.js';
import { openRangeBlob, rangeBlob } from '../../src/storage/range-blob.js';
import { ThriftError } from '../../src/parquet/thrift.js';

const CORPUS = '/work/shared/testdata/parquet-testing/data';
// parquet-wasm 0.8 traps on these whatever the Blob (see range-blob.test.ts).
const TRAPPING = ['large_string_map.brotli.parquet', 'nation.dict-malformed.parquet'];

/** Every row group, every column, as IPC bytes; or the error. */
async function readAll(reader: ParquetReader): Promise<string[]> {
  const columns = reader.schema.fields.map((f) => f.name);
  const out: string[] = [];
  for (let g = 0; g < reader.rowGroupRows.length; g++) {
    try {
      out.push(Buffer.from(tableToIPC(await reader.readRowGroup(g, columns))).toString('base64'));
    } catch (err) {
      out.push(`error ${(err as Error).message}`);
    }
  }
  return out;
}

describe('chunk ranges', () => {
  it('coalesceRanges sorts, merges touching or near ranges, drops empty ones', () => {
    assert.deepEqual(coalesceRanges([[10, 20], [0, 5], [5, 8], [30, 40], [22, 25], [7, 7]], 0), [[0, 8], [10, 20], [22, 25], [30, 40]]);
    assert.deepEqual(coalesceRanges([[10, 20], [0, 5], [22, 25], [30, 40]], 4), [[0, 5], [10, 25], [30, 40]]);
    assert.deepEqual(coalesceRanges([[10, 20], [0, 5], [22, 25], [30, 40]], 5), [[0, 40]]);
    assert.deepEqual(coalesceRanges([[0, 100], [10, 20]], 0), [[0, 100]]);
    assert.deepEqual(coalesceRanges([]), []);
  });

  it('reads each chunk range from a footer; rejects a footer that is not Thrift; null for chunks past the end', async () => {
    const bytes = new Uint8Array(await readFile(join(CORPUS, 'alltypes_plain.parquet')));
    const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 8, true);
    const footer = bytes.subarray(bytes.length - 8 - length, bytes.length - 8);
    const ranges = chunkRanges(footer, bytes.length);
    assert.ok(ranges);
    assert.equal(ranges.length, 1);
    const group = ranges[0]!;
    assert.deepEqual([...group.keys()], ['id', 'bool_col', 'tinyint_col', 'smallint_col', 'int_col', 'bigint_col', 'float_col', 'double_col', 'date_string_col', 'string_col', 'timestamp_col']);
    // Chunks follow each other from byte 4 (after the magic) to the footer, without overlap
    // (parquet-mr wrote each chunk's metadata after it, hence gaps).
    const sorted = [...group.values()].flat().sort((a, b) => a[0] - b[0]);
    assert.equal(sorted[0]![0], 4);
    for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]![0] >= sorted[i - 1]![1], `chunk ${i} overlaps the one before`);
    assert.ok(sorted[sorted.length - 1]![1] <= bytes.length - 8 - length);
    assert.equal(chunkRanges(footer, 100), null);
    assert.throws(() => chunkRanges(Uint8Array.of(0x19, 0xff, 0xff, 0xff), 100), ThriftError);
  });

  it('prefetching readers decode what plain ones do on the whole corpus, with no request beyond the prefetched', async () => {
    const store = new FileStore();
    const names = (await readdir(CORPUS)).filter((n) => n.endsWith('.parquet') && !TRAPPING.includes(n)).sort();
    let compared = 0;
    let withRanges = 0;
    for (const name of names) {
      const path = join(CORPUS, name);
      const plainBlob = await openRangeBlob(store, path);
      let plain: string[];
      try {
        plain = await readAll(await openParquet(plainBlob, name));
      } catch {
        continue; // not readable at all: nothing to compare
      } finally {
        await plainBlob.close();
      }
      const reads: [number, number][] = [];
      const prefetched: [number, number][] = [];
      const size = (await stat(path)).size;
      const blob = rangeBlob(store, path, size, { onRead: (a, b) => reads.push([a, b]) });
      const prefetch = blob.prefetch!;
      blob.prefetch = (ranges) => {
        prefetched.push(...ranges.map(([a, b]): [number, number] => [a, b]));
        prefetch(ranges);
      };
      const reader = await openParquet(blob, name);
      const afterOpen = reads.length;
      assert.deepEqual(await readAll(reader), plain, name);
      reader.close();
      compared++;
      if (prefetched.length === 0) continue;
      withRanges++;
      // Requests after opening: the prefetched ranges, and no others.
      const requested = reads.slice(afterOpen).map(([a, b]) => `${a}-${b}`).sort();
      assert.deepEqual(requested, prefetched.map(([a, b]) => `${a}-${b}`).sort(), `${name}: requests beyond the prefetched ranges`);
    }
    assert.ok(compared > 50, `${compared} files compared`);
    assert.ok(withRanges > 40, `${withRanges} files read with prefetching`);
  });
});
