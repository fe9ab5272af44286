/**
 * docker-compose.yml cannot be run here (no Docker engine), so its contract with the code is
 * checked instead: the entry points and job specs it names exist and validate, every option
 * it passes is one the command's --help lists, every BATCHSCORE_/REDIS_ variable it sets is
 * one the code reads, and the buckets it seeds are the ones the job spec uses.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseJobSpec } from '../src/spec/job-spec.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

/** Every .ts file under `dir`, concatenated. */
function sources(dir: string): string {
  return readdirSync(dir).map((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? readFileSync(path, 'utf8') : '';
  }).join('\n');
}

test('docker-compose.yml names entry points, specs, options and variables that exist', () => {
  const entryPoints = [...compose.matchAll(/dist\/workers\/(\w+)\.js/g)].map((m) => m[1]!);
  assert.deepEqual([...new Set(entryPoints)].sort(), ['scheduler', 'worker']);
  for (const name of entryPoints) assert.ok(existsSync(join(ROOT, 'dist', 'workers', `${name}.js`)), `dist/workers/${name}.js`);

  const specs = [...new Set([...compose.matchAll(/jobs\/[\w.-]+\.json/g)].map((m) => m[0]))];
  assert.ok(specs.length > 0);
  for (const spec of specs) parseJobSpec(JSON.parse(readFileSync(join(ROOT, spec), 'utf8')));

  const help = (command: string) => spawnSync(process.execPath, [join(ROOT, 'bin', 'batchscore.js'), command, '--help'], { encoding: 'utf8' }).stdout;
  for (const [command, entry] of [['worker', 'worker.js'], ['scheduler', 'scheduler.js']] as const) {
    const lines = compose.split('\n').filter((l) => l.includes(`dist/workers/${entry}`));
    // Options after the script are the command's (before it, Node's own flags).
    const options = new Set(lines.flatMap((l) => [...l.slice(l.indexOf(entry)).matchAll(/"(--[a-z-]+)"/g)].map((m) => m[1]!)));
    assert.ok(options.size > 0, `no ${command} options found`);
    const text = help(command);
    for (const option of options) assert.ok(text.includes(option), `${command} --help does not list ${option}`);
  }

  const code = sources(join(ROOT, 'src'));
  const variables = [...new Set([...compose.matchAll(/^\s+((?:BATCHSCORE|REDIS)_[A-Z_]+):/gm)].map((m) => m[1]!))];
  assert.ok(variables.includes('REDIS_URL'));
  for (const v of variables) assert.ok(code.includes(v), `the code never reads ${v}`);

  const spec = parseJobSpec(JSON.parse(readFileSync(join(ROOT, 'jobs', 'example-s3.json'), 'utf8')));
  const buckets = [spec.input.uri, spec.output.uri, spec.model.uri ?? ''].map((u) => /^s3:\/\/([^/]+)/.exec(u)?.[1]);
  for (const bucket of buckets) assert.ok(bucket && compose.includes(`s3/${bucket}`), `bucket ${bucket} is not created by the seed service`);
  assert.ok(compose.includes(spec.model.uri!.replace('s3://', 's3/')), 'the seed service uploads the model the spec names');
  assert.ok(compose.includes(spec.input.uri.replace('s3://', 's3/')), 'the seed service uploads the input the spec names');
});
