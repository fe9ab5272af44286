import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { RuntimeRecord } from './manifest.js';
import { readGitHead } from './git-head.js';

const require = createRequire(import.meta.url);

/**
 * The installed version of `name`, from its package.json in the folder Node's resolution
 * finds it in. Not `require('<name>/package.json')`: packages whose `exports` leave that path
 * out (parquet-wasm, apache-arrow) refuse it, and their version went unrecorded.
 */
function packageVersion(name: string): string {
  for (const dir of require.resolve.paths(name) ?? []) {
    const file = join(dir, name, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // An unreadable package.json: look further up, then say unknown.
    }
  }
  return 'unknown';
}

function packageRoot(): string {
  // dist/src/run/runtime-info.js → package root three levels up
  return new URL('../../../', import.meta.url).pathname;
}

let cached: RuntimeRecord | undefined;

/** Code and host facts recorded in every manifest (computed once per process). */
export function runtimeInfo(): RuntimeRecord {
  if (cached) return cached;
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { name: string; version: string };
  let gitCommit: string | null = process.env.BATCHSCORE_GIT_COMMIT ?? null;
  // Read from the checkout's files; git itself only for a layout those do not cover. Not
  // from a folder above: a package installed inside someone's repository is not their code.
  if (!gitCommit) gitCommit = readGitHead(root) ?? null;
  if (!gitCommit && existsSync(`${root}.git`)) {
    try {
      gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).toString().trim() || null;
    } catch {
      gitCommit = null;
    }
  }
  cached = {
    package: { name: pkg.name, version: pkg.version },
    gitCommit,
    node: process.version,
    onnxruntime: packageVersion('onnxruntime-node'),
    libraries: {
      'parquet-wasm': packageVersion('parquet-wasm'),
      'apache-arrow': packageVersion('apache-arrow'),
      '@aws-sdk/client-s3': packageVersion('@aws-sdk/client-s3'),
    },
    host: { hostname: os.hostname(), platform: process.platform, arch: process.arch, cpus: os.availableParallelism() },
  };
  return cached;
}
