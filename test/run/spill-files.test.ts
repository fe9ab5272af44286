import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sweepSpillFiles, sweepThreadSpillFiles } from '../../src/run/spill-files.js';
import { tmpDir } from '../support/tmp.js';

test('spill files of dead processes are swept; those of live processes and other files stay', async () => {
  const dir = await tmpDir();
  try {
    // A pid that existed and has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    assert.ok(deadPid > 0);
    const names = {
      dead: `batchscore-out-${deadPid}-0a1b2c3d4e5f.parquet`,
      mine: `batchscore-out-${process.pid}-0a1b2c3d4e5f.parquet`,
      parent: `batchscore-out-${process.ppid}-0a1b2c3d4e5f.parquet`,
      other: `batchscore-out-${deadPid}-notes.txt`,
      unrelated: 'data.parquet',
    };
    for (const n of Object.values(names)) writeFileSync(join(dir.path, n), 'x');
    assert.deepEqual(sweepSpillFiles(dir.path), [names.dead]);
    assert.deepEqual(readdirSync(dir.path).sort(), [names.mine, names.parent, names.other, names.unrelated].sort());
    // At exit a process removes its own (left by its crashed threads).
    assert.deepEqual(sweepSpillFiles(dir.path, (pid) => pid === process.pid), [names.mine]);
    assert.deepEqual(sweepSpillFiles(join(dir.path, 'missing')), [], 'a missing folder is not an error');
  } finally {
    await dir.cleanup();
  }
});

test("a crashed thread's spill files are swept by its thread id; other threads' and processes' stay", async () => {
  const dir = await tmpDir();
  try {
    const names = {
      crashed: `batchscore-out-${process.pid}-t7-0a1b2c3d4e5f.parquet`,
      crashedToo: `batchscore-out-${process.pid}-t7-ffffff000000.parquet`,
      sibling: `batchscore-out-${process.pid}-t8-0a1b2c3d4e5f.parquet`,
      t70: `batchscore-out-${process.pid}-t70-0a1b2c3d4e5f.parquet`,
      oldFormat: `batchscore-out-${process.pid}-0a1b2c3d4e5f.parquet`,
      otherProcess: `batchscore-out-${process.ppid}-t7-0a1b2c3d4e5f.parquet`,
    };
    for (const n of Object.values(names)) writeFileSync(join(dir.path, n), 'x');
    assert.deepEqual(sweepThreadSpillFiles(7, dir.path).sort(), [names.crashed, names.crashedToo].sort());
    assert.deepEqual(readdirSync(dir.path).sort(), [names.sibling, names.t70, names.oldFormat, names.otherProcess].sort());
    // The exit sweep takes this process's files of every thread, old names included.
    assert.deepEqual(sweepSpillFiles(dir.path, (pid) => pid === process.pid).sort(), [names.sibling, names.t70, names.oldFormat].sort());
  } finally {
    await dir.cleanup();
  }
});
