/**
 * Child script: decode-only bound. Reads the columns the logistic job uses (id + features)
 * of every Parquet file under a directory, row group by row group, on one thread, through
 * the pipeline's own read path (range blob → openParquet → readRowGroup). No scoring, no
 * writing.
 *
 *   node dist/bench/workloads/decode.js <input-dir> <col,col,...>
 */
import { openParquet } from '../../src/parquet/parquet-reader.js';
import { openRangeBlob } from '../../src/storage/range-blob.js';
import { resolveUri } from '../../src/storage/resolve.js';
import { printResult } from '../child.js';
import { partitionFiles } from '../partition-files.js';

const [inputDir, columnList] = process.argv.slice(2);
if (!inputDir || !columnList) throw new Error('usage: decode.js <input-dir> <col,col,...>');
const columns = columnList.split(',');

const t0 = performance.now();
let rows = 0;
let rowGroups = 0;
let bytes = 0;
const files = partitionFiles(inputDir);
for (const path of files) {
  const { store, key } = resolveUri(path);
  const blob = await openRangeBlob(store, key, { onRead: (a, b) => (bytes += b - a) });
  try {
    const reader = await openParquet(blob, path);
    try {
      for (let g = 0; g < reader.rowGroupRows.length; g++) {
        const table = await reader.readRowGroup(g, columns);
        if (table.numCols !== columns.length) throw new Error(`${path}: row group ${g}: got ${table.numCols} columns, asked for ${columns.length}`);
        rows += table.numRows;
        rowGroups++;
      }
    } finally {
      reader.close();
    }
  } finally {
    await blob.close();
  }
}
printResult({ rows, workMs: performance.now() - t0, files: files.length, rowGroups, bytesRead: bytes, columns: columns.length });
