/**
 * The cold-run tier-up filter (src/parquet/wasm-tiering.ts) is set only for the parquet-wasm
 * build it was measured on: the installed one is recognised, and a copy with one byte of the
 * known function changed, a file of another size or a missing file is not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coldRunTierUpFunction, parquetWasmPath } from '../../src/parquet/wasm-tiering.js';
import { withTmpDir } from '../support/tmp.js';

test('the installed parquet-wasm is the known build; anything else gets V8 defaults', async () => {
  assert.equal(coldRunTierUpFunction(), 3011);
  await withTmpDir(async (dir) => {
    const bytes = readFileSync(parquetWasmPath());
    const copy = join(dir, 'copy.wasm');
    copyFileSync(parquetWasmPath(), copy);
    assert.equal(coldRunTierUpFunction(copy), 3011, 'an identical copy');
    const changed = Buffer.from(bytes);
    changed[0x342b3d + 60] = changed[0x342b3d + 60]! ^ 1; // inside the known function's body
    writeFileSync(copy, changed);
    assert.equal(coldRunTierUpFunction(copy), null, 'one byte of the function differs');
    writeFileSync(copy, Buffer.concat([bytes, Buffer.from([0])]));
    assert.equal(coldRunTierUpFunction(copy), null, 'another size');
    assert.equal(coldRunTierUpFunction(join(dir, 'missing.wasm')), null);
  });
});
