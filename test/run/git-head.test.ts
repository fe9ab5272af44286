/**
 * readGitHead against git itself (`git rev-parse HEAD`), in the layouts a checkout can have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readGitHead } from '../../src/run/git-head.js';
import { withTmpDir } from '../support/tmp.js';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_CONFIG_NOSYSTEM: '1', HOME: cwd },
  }).trim();
}

function commit(repo: string, name: string): string {
  writeFileSync(join(repo, name), name);
  git(repo, 'add', name);
  git(repo, 'commit', '-q', '-m', name);
  return git(repo, 'rev-parse', 'HEAD');
}

test('readGitHead names the commit git names: loose and packed branches, detached HEAD, a worktree', async () => {
  await withTmpDir(async (dir) => {
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    assert.equal(readGitHead(repo), undefined, 'an unborn branch has no commit');
    const first = commit(repo, 'a');
    assert.equal(readGitHead(repo), first, 'loose branch ref');

    git(repo, 'pack-refs', '--all');
    assert.equal(readGitHead(repo), first, 'packed branch ref');
    const second = commit(repo, 'b');
    assert.equal(readGitHead(repo), second, 'loose ref newer than the packed one');

    git(repo, 'checkout', '-q', '--detach', first);
    assert.equal(readGitHead(repo), first, 'detached HEAD');
    git(repo, 'checkout', '-q', 'main');

    const tree = join(dir, 'tree');
    git(repo, 'worktree', 'add', '-q', '-b', 'side', tree);
    const third = commit(tree, 'c');
    assert.equal(readGitHead(tree), third, 'worktree: .git file, HEAD in its folder, branch in the common one');
    assert.equal(readGitHead(tree), git(tree, 'rev-parse', 'HEAD'));
    assert.equal(readGitHead(repo), second, 'the main checkout is where it was');
  });
});

test('readGitHead: no checkout, or one it cannot read, is undefined (never a folder above)', async () => {
  await withTmpDir(async (dir) => {
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    commit(repo, 'a');
    const inside = join(repo, 'node_modules', 'pkg');
    mkdirSync(inside, { recursive: true });
    assert.equal(readGitHead(inside), undefined, 'a package inside a repository is not that repository');
    assert.equal(readGitHead(join(dir, 'missing')), undefined);
    writeFileSync(join(inside, '.git'), 'not a gitdir line\n');
    assert.equal(readGitHead(inside), undefined);
  });
});

test('the manifest runtime names this checkout’s commit as git does', async () => {
  const { runtimeInfo } = await import('../../src/run/runtime-info.js');
  const root = new URL('../../../', import.meta.url).pathname;
  let expected: string | null = null;
  try {
    expected = git(root, 'rev-parse', 'HEAD');
  } catch {
    // Not a checkout (a packed copy): nothing to compare with.
  }
  if (process.env.BATCHSCORE_GIT_COMMIT === undefined) assert.equal(runtimeInfo().gitCommit, expected);
});
