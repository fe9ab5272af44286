import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manifestKey, runStatus, runTotals, type FileRecord, type PartitionRecord } from '../../src/run/manifest.js';

function file(outputBytes: number | null): FileRecord {
  return {
    input: { uri: 'in', size: 10, etag: 'e', mtime: '2026-01-01T00:00:00.000Z', rows: 5 },
    output: outputBytes === null ? null : { uri: 'out', rows: 5, bytes: outputBytes, sha256: 'x' },
    timings: null,
    error: outputBytes === null ? { name: 'ParquetError', message: 'bad', permanent: true } : null,
  };
}

function partition(status: 'succeeded' | 'failed', rows = 0, files: FileRecord[] = []): PartitionRecord {
  return {
    value: 'v',
    dir: 'dt=v',
    status,
    rows,
    files,
    success: null,
    error: status === 'failed' ? { name: 'Error', message: 'x', permanent: true } : null,
  };
}

const ok = () => partition('succeeded');
const bad = () => partition('failed');

test('succeeded: at least one partition and none failed, whatever the allowance', () => {
  for (const max of [0, 1, 10]) {
    assert.equal(runStatus([ok()], max), 'succeeded');
    assert.equal(runStatus([ok(), ok(), ok()], max), 'succeeded');
  }
});

test('partial: some but not all failed, within maxFailedPartitions', () => {
  assert.equal(runStatus([ok(), bad()], 1), 'partial');
  assert.equal(runStatus([bad(), ok(), bad(), ok()], 2), 'partial');
  assert.equal(runStatus([bad(), ok(), bad(), ok()], 5), 'partial');
});

test('failed: more failures than allowed', () => {
  assert.equal(runStatus([ok(), bad()], 0), 'failed');
  assert.equal(runStatus([bad(), ok(), bad(), ok()], 1), 'failed');
});

test('failed: every partition failed, even within the allowance', () => {
  assert.equal(runStatus([bad()], 0), 'failed');
  assert.equal(runStatus([bad()], 1), 'failed');
  assert.equal(runStatus([bad(), bad()], 5), 'failed');
});

test('failed: zero partitions, whatever the allowance', () => {
  for (const max of [0, 1, 100]) assert.equal(runStatus([], max), 'failed');
});

test('the status rules over every small combination', () => {
  // Independent statement of the rules: succeeded iff n > 0 and f = 0; partial iff 0 < f < n and f <= max.
  for (let n = 0; n <= 4; n++) {
    for (let f = 0; f <= n; f++) {
      for (let max = 0; max <= 4; max++) {
        const parts = [...Array.from({ length: f }, bad), ...Array.from({ length: n - f }, ok)];
        const expected = n > 0 && f === 0 ? 'succeeded' : f > 0 && f < n && f <= max ? 'partial' : 'failed';
        assert.equal(runStatus(parts, max), expected, `n=${n} failed=${f} max=${max}`);
        assert.equal(runStatus([...parts].reverse(), max), expected, 'order does not matter');
      }
    }
  }
});

test('runTotals counts files of every partition but rows, bad rows and bytes of succeeded ones only', () => {
  const partitions = [
    partition('succeeded', 100, [file(1000), { ...file(2500), badRows: { count: 3, samples: [] } }]),
    // one file written before the partition failed
    partition('failed', 40, [{ ...file(700), badRows: { count: 5, samples: [] } }, file(null)]),
    partition('succeeded', 60, [file(300)]),
  ];
  const totals = runTotals(partitions, 2000);
  assert.deepEqual(totals, {
    partitions: 3,
    failedPartitions: 1,
    files: 5,
    rows: 160,
    badRows: 3,
    outputBytes: 3800,
    durationMs: 2000,
    rowsPerSecond: 80,
  });
});

test('runTotals rounds duration and rate, and a zero duration has rate 0', () => {
  const parts = [partition('succeeded', 1000, [file(1)])];
  const t = runTotals(parts, 333.6);
  assert.equal(t.durationMs, 334);
  assert.equal(t.rowsPerSecond, Math.round(1000 / 0.3336));
  assert.equal(runTotals(parts, 0).rowsPerSecond, 0);
  assert.deepEqual(runTotals([], 10), { partitions: 0, failedPartitions: 0, files: 0, rows: 0, badRows: 0, outputBytes: 0, durationMs: 10, rowsPerSecond: 0 });
});

test('manifestKey puts the manifest under _runs of the output root', () => {
  assert.equal(manifestKey('s3://b/scores', 'r1'), 's3://b/scores/_runs/r1.json');
  assert.equal(manifestKey('s3://b/scores//', 'r1'), 's3://b/scores/_runs/r1.json');
});
