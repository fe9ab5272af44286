/**
 * The Thrift compact codec the stream writer edits Parquet footers with: every footer of the
 * real-world files in ../shared/testdata (written by parquet-mr, pyarrow, Impala, DuckDB…)
 * decodes and re-encodes to the very same bytes, and truncated or garbled bytes are refused
 * with a ThriftError, never a hang or a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeStruct, encodeStruct, ThriftError } from '../../src/parquet/thrift.js';

const DATA = fileURLToPath(new URL('../../../../shared/testdata/parquet-testing/data/', import.meta.url));

/** The FileMetaData bytes of a Parquet file, or null if it is not a plain (unencrypted) one. */
function footer(bytes: Uint8Array): Uint8Array | null {
  const tail = new TextDecoder().decode(bytes.subarray(bytes.length - 4));
  if (bytes.length < 12 || tail !== 'PAR1') return null;
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 8, true);
  if (len > bytes.length - 12) return null;
  return bytes.subarray(bytes.length - 8 - len, bytes.length - 8);
}

const files = readdirSync(DATA).filter((f) => f.endsWith('.parquet')).sort();

test('every real-world footer round-trips byte for byte', () => {
  let checked = 0;
  for (const name of files) {
    const meta = footer(new Uint8Array(readFileSync(join(DATA, name))));
    if (!meta) continue;
    const { fields, length } = decodeStruct(meta);
    assert.equal(length, meta.length, `${name}: the whole footer is one struct`);
    assert.deepEqual(Buffer.from(encodeStruct(fields)), Buffer.from(meta), `${name}: re-encoded footer differs`);
    checked++;
  }
  assert.ok(checked >= 40, `footers checked: ${checked} of ${files.length} files`);
});

test('truncated footers are refused with ThriftError', () => {
  let refused = 0;
  for (const name of files.slice(0, 20)) {
    const meta = footer(new Uint8Array(readFileSync(join(DATA, name))));
    if (!meta) continue;
    for (const cut of [1, Math.floor(meta.length / 2), meta.length - 1]) {
      assert.throws(() => decodeStruct(meta.subarray(0, cut)), (err: Error) => err instanceof ThriftError && /^thrift: /.test(err.message), `${name} cut at ${cut}`);
      refused++;
    }
  }
  assert.ok(refused > 0);
});

test('garbage (an unknown wire type, an absurd length) is refused, not looped on', () => {
  assert.throws(() => decodeStruct(Uint8Array.of(0x1d)), ThriftError); // field 1, type 13: unknown
  // field 1 binary with a length of 2^35: more than the bytes there are.
  assert.throws(() => decodeStruct(Uint8Array.of(0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)), ThriftError);
});
