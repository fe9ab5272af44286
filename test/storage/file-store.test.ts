/**
 * FileStore behaviour beyond the shared contract: race-free create-if-absent, listing order
 * and symlinks, temp-file hygiene, key validation.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileStore, TEMP_FILE_PREFIX } from '../../src/storage/file-store.js';
import { PreconditionFailedError, type ObjectInfo } from '../../src/storage/object-store.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

async function keys(it: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const out: string[] = [];
  for await (const info of it) out.push(info.key);
  return out;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('FileStore', () => {
  const store = new FileStore();
  let dir: TmpDir;
  before(async () => {
    dir = await tmpDir();
  });
  after(() => dir.cleanup());

  it('ifNoneMatch "*" lets exactly one of many concurrent writers win', async () => {
    const key = join(dir.path, 'race', 'commit.json');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.put(key, `writer ${i}`, { ifNoneMatch: '*' })),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.equal(won.length, 1, `winners: ${won.join(',')}`);
    for (const r of results) {
      if (r.status === 'rejected') assert.ok(r.reason instanceof PreconditionFailedError, String(r.reason));
    }
    assert.equal(Buffer.from(await store.get(key)).toString(), `writer ${won[0]}`);
    // Losers cleaned up their temporary files.
    assert.deepEqual(await readdir(join(dir.path, 'race')), ['commit.json']);
  });

  it('copy links the file instead of copying bytes; rewriting either name never changes the other', async () => {
    const from = join(dir.path, 'link', '_staging', 'a0-part.parquet');
    const to = join(dir.path, 'link', 'dt=1', 'part.parquet');
    await store.put(from, 'scored bytes');
    const copied = await store.copy(from, to);
    assert.equal((await stat(to)).ino, (await stat(from)).ino, 'one file, two names');
    assert.equal(copied.etag, (await store.head(to))?.etag);
    await store.put(from, 'a retried attempt, other bytes');
    assert.equal(Buffer.from(await store.get(to)).toString(), 'scored bytes');
    await store.delete(from);
    assert.equal(Buffer.from(await store.get(to)).toString(), 'scored bytes');
    assert.equal((await store.head(to))?.etag, copied.etag, 'the etag survives removing the source');
  });

  it('lists in S3 byte order, follows symlinks, skips loops, dangling links and temp files', async () => {
    const d = join(dir.path, 'tree');
    await mkdir(join(d, 'a'), { recursive: true });
    await mkdir(join(d, 'a.b'), { recursive: true });
    const files = ['a-b', 'a/x', 'a.b/y', 'b', '.hidden', '\u{1F600}', '\uFFFF', 'a b'];
    for (const f of files) await writeFile(join(d, f), f);
    await symlink(d, join(d, 'a', 'loop')); // a directory loop
    await symlink(join(d, 'b'), join(d, 'link-to-b'));
    await symlink(join(d, 'a'), join(d, 'alias')); // a second path to a real directory
    await symlink(join(d, 'nowhere'), join(d, 'dangling'));
    await writeFile(join(d, `${TEMP_FILE_PREFIX}inflight`), 'half-written');

    const expected = [...files, 'link-to-b', 'alias/x'].map((f) => join(d, f)).sort(byteOrder);
    assert.deepEqual(await keys(store.list(`${d}/`)), expected);

    const linked = await store.head(join(d, 'link-to-b'));
    assert.equal(linked?.size, 1);
    // A prefix that ends mid-name matches like S3's: `a` covers `a-b`, `a.b/`, `a/` and `alias/`.
    assert.deepEqual(
      await keys(store.list(join(d, 'a'))),
      ['a b', 'a-b', 'a.b/y', 'a/x', 'alias/x'].map((f) => join(d, f)).sort(byteOrder),
    );
    assert.deepEqual(await keys(store.list(join(d, 'zzz'))), []);
    assert.deepEqual(await keys(store.list(join(d, 'b', 'not-a-dir/'))), []);
  });

  it('rejects relative keys with a storage: error quoting the key', async () => {
    await assert.rejects(store.get('relative/key'), /^Error: storage: .*"relative\/key"/);
    await assert.rejects(store.put('x.txt', 'x'), /storage: /);
  });

  it('reports a write under a regular file as a storage: error, not NotFoundError', async () => {
    const file = join(dir.path, 'plain-file');
    await store.put(file, 'x');
    await assert.rejects(store.put(join(file, 'child'), 'y'), (err: unknown) => {
      assert.ok(err instanceof Error && err.name === 'Error', String(err));
      assert.match(err.message, /^storage: write file:\/\/.*plain-file\/child failed/);
      return true;
    });
  });

  it('head of a directory is undefined; uri() is a file:// URL', async () => {
    assert.equal(await store.head(dir.path), undefined);
    assert.equal(store.uri('/data/a b.parquet'), 'file:///data/a%20b.parquet');
  });
});
