import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/storage/file-store.js';
import { sweepDeadTempFiles, tempFileName } from '../../src/storage/temp-files.js';
import { tmpDir } from '../support/tmp.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('temp file names carry host and pid; only dead local writers\' files are swept', async () => {
  const dir = await tmpDir();
  try {
    const host = hostname().replace(/[^A-Za-z0-9.]/g, '_');
    const mine = tempFileName();
    assert.match(mine, new RegExp(`^\\.batchscore-tmp-${host.replace(/\./g, '\\.')}-${process.pid}-[0-9a-f]{16}$`));
    const dead = `.batchscore-tmp-${host}-${deadPid()}-0123456789abcdef`;
    const live = `.batchscore-tmp-${host}-${process.ppid}-0123456789abcdef`;
    const otherHost = `.batchscore-tmp-elsewhere-${deadPid()}-0123456789abcdef`;
    const legacy = '.batchscore-tmp-0123456789abcdef';
    for (const n of [mine, dead, live, otherHost, legacy, 'part-0.parquet']) await writeFile(join(dir.path, n), 'x');
    assert.deepEqual(await sweepDeadTempFiles(dir.path), [dead]);
    assert.deepEqual((await readdir(dir.path)).sort(), [mine, live, otherHost, legacy, 'part-0.parquet'].sort());
  } finally {
    await dir.cleanup();
  }
});

test('a copy into a folder (how partitions are published) clears what a killed writer left there', async () => {
  const dir = await tmpDir();
  try {
    const store = new FileStore();
    const part = join(dir.path, 'dt=2026-11-01');
    await mkdir(part, { recursive: true });
    const leftover = `.batchscore-tmp-${hostname().replace(/[^A-Za-z0-9.]/g, '_')}-${deadPid()}-0123456789abcdef`;
    await writeFile(join(part, leftover), 'half a copy');
    await store.put(join(dir.path, 'staged.parquet'), new Uint8Array([1, 2, 3]));
    await store.copy(join(dir.path, 'staged.parquet'), join(part, 'part-0.parquet'));
    assert.deepEqual(await readdir(part), ['part-0.parquet']);
  } finally {
    await dir.cleanup();
  }
});
