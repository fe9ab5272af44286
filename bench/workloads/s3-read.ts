/**
 * Child script: reading over an S3 API with the round-trip time of a real object store.
 * Starts s3rver, uploads the input files (untimed), puts an HTTP proxy in front of it that
 * holds every request for `latencyMs` before forwarding it (S3's first-byte latency is
 * ~20-50 ms; s3rver on loopback has ~none), then reads the job's columns of every file, row
 * group by row group, on one thread, through the pipeline's read path (range blob →
 * openParquet → row group views), as a scoring thread does on S3.
 *
 * `mode` `ahead`: as the pipeline reads (one request for the footer, a row group's chunks
 * fetched together); `plain`: neither (each of parquet-wasm's reads is a request, in turn).
 *
 *   node dist/bench/workloads/s3-read.js <input-dir> <col,col,...> <latencyMs> <ahead|plain>
 */
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { relative } from 'node:path';
import { openParquet } from '../../src/parquet/parquet-reader.js';
import { rangeBlob } from '../../src/storage/range-blob.js';
import { s3StoreFor, startS3rver } from '../../test/support/s3rver.js';
import { printResult } from '../child.js';
import { partitionFiles } from '../partition-files.js';

const [inputDir, columnList, latencyArg, mode] = process.argv.slice(2);
if (!inputDir || !columnList || !latencyArg || (mode !== 'ahead' && mode !== 'plain')) {
  throw new Error('usage: s3-read.js <input-dir> <col,col,...> <latencyMs> <ahead|plain>');
}
const columns = columnList.split(',');
const latencyMs = Number(latencyArg);

const server = await startS3rver();
const bucket = await server.bucket();
const direct = s3StoreFor(server.endpoint, bucket);
const files = partitionFiles(inputDir).map((path) => ({ path, key: relative(inputDir, path) }));
for (const f of files) await direct.put(f.key, readFileSync(f.path));
direct.close();

/** Forwards to s3rver after `latencyMs`: one round trip of a remote store per request. */
const proxy = createServer((req, res) => {
  setTimeout(() => {
    const target = new URL(server.endpoint);
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }, latencyMs);
});
proxy.listen(0, '127.0.0.1');
await once(proxy, 'listening');
const store = s3StoreFor(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, bucket);

let rows = 0;
let requests = 0;
let bytes = 0;
const t0 = performance.now();
for (const f of files) {
  const size = (await store.head(f.key))!.size;
  const blob = rangeBlob(store, f.key, size, { tailBytes: mode === 'ahead' ? undefined : 0, onRead: (a, b) => (requests++, (bytes += b - a)) });
  if (mode === 'plain') delete blob.prefetch;
  const reader = await openParquet(blob, `s3://${bucket}/${f.key}`);
  try {
    for (let g = 0; g < reader.rowGroupRows.length; g++) {
      const view = await reader.readRowGroupView!(g, columns);
      rows += view.numRows;
      view.release();
    }
  } finally {
    reader.close();
  }
}
const workMs = performance.now() - t0;
store.close();
proxy.close();
await server.stop();
printResult({ rows, workMs, files: files.length, requests, bytesRead: bytes, latencyMs, mode });
