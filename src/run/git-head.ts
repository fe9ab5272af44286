/**
 * The commit a git checkout is at, read from its files instead of by running
 * `git rev-parse HEAD`: a child process costs a cold `batchscore run` ~10–20 ms of the
 * main thread's time while the scoring threads start, for one line of the manifest.
 *
 * Covers what a checkout holds: `.git` as a folder or as a `gitdir:` file (worktrees,
 * submodules), HEAD detached or naming a branch, the branch in a loose ref file or in
 * `packed-refs`, and a worktree's refs in the common folder (`commondir`). Anything else
 * (a missing or unreadable file, a ref that resolves to nothing) is `undefined`, and the
 * caller may ask git itself.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

const HASH = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The git folder of the checkout at `root`: `.git`, or where a `.git` file points. */
function gitDir(root: string): string | undefined {
  const dotGit = join(root, '.git');
  const file = read(dotGit);
  if (file === undefined) return read(join(dotGit, 'HEAD')) === undefined ? undefined : dotGit;
  const m = /^gitdir: (.+)$/m.exec(file);
  if (!m) return undefined;
  const target = m[1]!.trim();
  return isAbsolute(target) ? target : join(root, target);
}

/** A ref's commit: its loose file, else its line in `packed-refs`. */
function resolveRef(dirs: readonly string[], ref: string): string | undefined {
  for (const dir of dirs) {
    const loose = read(join(dir, ref))?.trim();
    if (loose !== undefined && HASH.test(loose)) return loose;
  }
  for (const dir of dirs) {
    for (const line of (read(join(dir, 'packed-refs')) ?? '').split('\n')) {
      const [hash, name] = line.trim().split(' ');
      if (name === ref && hash !== undefined && HASH.test(hash)) return hash;
    }
  }
  return undefined;
}

/**
 * The commit hash HEAD of the checkout at `root` names, or undefined when it cannot be
 * read from the files (not a checkout, an unborn branch, a layout this does not know).
 */
export function readGitHead(root: string): string | undefined {
  const dir = gitDir(root);
  if (dir === undefined) return undefined;
  const head = read(join(dir, 'HEAD'))?.trim();
  if (head === undefined) return undefined;
  if (HASH.test(head)) return head;
  const m = /^ref: (refs\/\S+)$/.exec(head);
  if (!m) return undefined;
  // A worktree keeps its HEAD in its own folder and the branches in the common one.
  const common = read(join(dir, 'commondir'))?.trim();
  const dirs = common === undefined ? [dir] : [dir, isAbsolute(common) ? common : join(dir, common)];
  return resolveRef(dirs, m[1]!);
}
