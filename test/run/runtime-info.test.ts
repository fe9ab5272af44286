/**
 * The manifest's runtime record names the installed versions of the libraries that shape the
 * output (read from each package's own package.json, whatever its `exports` allow).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runtimeInfo } from '../../src/run/runtime-info.js';

const ROOT = new URL('../../../', import.meta.url);

/** The version npm installed, read straight from node_modules. */
function installed(name: string): string {
  return (JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, ROOT), 'utf8')) as { version: string }).version;
}

test('runtimeInfo records the installed onnxruntime-node, parquet-wasm, apache-arrow and AWS SDK versions', () => {
  const info = runtimeInfo();
  assert.equal(info.onnxruntime, installed('onnxruntime-node'));
  for (const name of ['parquet-wasm', 'apache-arrow', '@aws-sdk/client-s3']) {
    assert.equal(info.libraries[name], installed(name), name);
    assert.match(info.libraries[name]!, /^\d+\.\d+\.\d+/, name);
  }
  const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { name: string; version: string };
  assert.deepEqual(info.package, { name: pkg.name, version: pkg.version });
});
