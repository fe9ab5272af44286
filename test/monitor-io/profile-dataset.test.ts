/**
 * Reference profiles of unscored data: figures checked against DuckDB aggregates over the
 * same files, a folder against the merge of its files' profiles, the same data over
 * file:// and s3://, and the `profile` command.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { profileCommand } from '../../src/cli/profile-command.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { parseDatasetProfile } from '../../src/monitor/profile-json.js';
import { mergeAll, type ColumnProfile, type DatasetProfile, type ProfileSet } from '../../src/monitor/profile-set.js';
import type { NumericProfile } from '../../src/monitor/numeric-profile.js';
import { listParquetFiles, profileDataset } from '../../src/monitor-io/profile-dataset.js';
import { closeCachedStores } from '../../src/storage/resolve.js';
import { writeDemoDataset } from '../support/dataset.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { startS3rver, s3StoreFor, S3RVER_CREDENTIALS, type S3rverHandle } from '../support/s3rver.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';
import { assertDatasetEqual } from '../monitor/helpers.js';

const DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];
const ROWS = 3000;
// f3 and f11 have ~1% nulls in the demo data; id is int64; f0 has none.
const NUMERIC = ['f0', 'f3', 'f11', 'id'];

let dir: TmpDir;
let data: string;
let glob: string;

before(async () => {
  dir = await tmpDir();
  data = join(dir.path, 'train');
  await writeDemoDataset(data, DATES, ROWS, 1000);
  glob = join(data, 'dt=*', 'part-0.parquet');
  // Writers' side files a listing must skip: a Parquet file under `_temporary/` would add
  // rows, `.crc` and `_SUCCESS` are not Parquet at all.
  await mkdir(join(data, '_temporary'), { recursive: true });
  await copyFile(join(data, `dt=${DATES[0]}`, 'part-0.parquet'), join(data, '_temporary', 'part-9.parquet'));
  await writeFile(join(data, `dt=${DATES[0]}`, '.part-0.parquet.crc'), 'x');
  await writeFile(join(data, '_SUCCESS'), '');
  await writeFile(join(data, 'README.txt'), 'not data');
});
after(() => dir.cleanup());

function column(set: ProfileSet, name: string): ColumnProfile {
  const c = set.columns.find((x) => x.name === name);
  assert.ok(c, `column ${name} is profiled`);
  return c;
}

/** Mean is checked to 1e-9 (relative to max(1, |mean|)): float32 values summed in float64 by both sides. */
function assertMatchesDuckdb(stats: NumericProfile, row: Record<string, unknown>, what: string): void {
  assert.equal(stats.count, Number(row.n), `${what} count`);
  assert.equal(stats.nulls, Number(row.n) - Number(row.nonnull), `${what} nulls`);
  assert.equal(stats.min, Number(row.lo), `${what} min`);
  assert.equal(stats.max, Number(row.hi), `${what} max`);
  const mean = Number(row.mean);
  assert.ok(Math.abs(stats.mean - mean) <= 1e-9 * Math.max(1, Math.abs(mean)), `${what} mean ${stats.mean} vs DuckDB ${mean}`);
}

const aggregates = (c: string) =>
  `count(*) AS n, count(${c}) AS nonnull, avg(${c})::DOUBLE AS mean, min(${c})::DOUBLE AS lo, max(${c})::DOUBLE AS hi`;

describe('profileDataset', () => {
  let all: DatasetProfile;
  before(async () => {
    all = await profileDataset(data);
  });

  test('only the partition files are listed, in key order', async () => {
    const files = await listParquetFiles(data);
    assert.deepEqual(files.map((f) => f.key), DATES.map((d) => join(data, `dt=${d}`, 'part-0.parquet')));
    assert.equal((await listParquetFiles(files[0]!.key)).length, 1, 'a file given by name is the dataset');
    assert.deepEqual(await listParquetFiles(join(dir.path, 'nothing-here')), []);
  });

  test('default columns: every numeric and string column, not the timestamp', () => {
    const names = all.overall.columns.map((c) => c.name);
    const expected = [...Array.from({ length: 32 }, (_, i) => `f${i}`), 'id', 'segment'].sort();
    assert.deepEqual(names, expected);
    assert.equal(all.overall.rows, DATES.length * ROWS);
    assert.equal(all.sliceBy, null);
    assert.equal(column(all.overall, 'segment').stats.kind, 'category');
  });

  test('count, nulls, mean, min and max equal DuckDB aggregates', async () => {
    for (const c of NUMERIC) {
      const [row] = await duckdbRows(`SELECT ${aggregates(c)} FROM read_parquet(${sqlString(glob)})`);
      const stats = column(all.overall, c).stats;
      assert.equal(stats.kind, 'numeric');
      assertMatchesDuckdb(stats as NumericProfile, row!, c);
    }
    assert.ok((column(all.overall, 'f3').stats as NumericProfile).nulls > 0, 'the null column has nulls');
    const counts = await duckdbRows(`SELECT segment, count(*)::INTEGER AS n FROM read_parquet(${sqlString(glob)}) GROUP BY segment`);
    const seg = column(all.overall, 'segment').stats;
    assert.equal(seg.kind, 'category');
    if (seg.kind === 'category') assert.deepEqual(new Map(seg.values), new Map(counts.map((r) => [r.segment as string, r.n as number])));
  });

  test('slices by segment equal DuckDB GROUP BY aggregates', async () => {
    const sliced = await profileDataset(data, { columns: ['f0', 'f3'], sliceBy: 'segment' });
    const groups = await duckdbRows(`SELECT segment, ${aggregates('f3')} FROM read_parquet(${sqlString(glob)}) GROUP BY segment ORDER BY segment`);
    assert.deepEqual(sliced.slices.map((s) => s.value), groups.map((g) => g.segment));
    for (const g of groups) {
      const slice = sliced.slices.find((s) => s.value === g.segment)!.profile;
      assert.equal(slice.rows, Number(g.n));
      assertMatchesDuckdb(column(slice, 'f3').stats as NumericProfile, g, `f3 in ${String(g.segment)}`);
      assert.equal(column(slice, 'segment').role, 'passthrough');
      assert.equal(column(slice, 'f0').role, 'feature');
    }
  });

  test('a folder equals the merge of its files, and file:// reads the same', async () => {
    const options = { sliceBy: 'segment', columns: ['f0', 'f3', 'id'] };
    const folder = await profileDataset(data, options);
    const perFile = [];
    for (const d of DATES) perFile.push(await profileDataset(join(data, `dt=${d}`, 'part-0.parquet'), options));
    assertDatasetEqual(folder, mergeAll(perFile));
    assertDatasetEqual(await profileDataset(pathToFileURL(data).href, options), folder);
  });

  test('named columns may be timestamps; missing or empty inputs fail naming the culprit', async () => {
    const p = await profileDataset(data, { columns: ['event_time'] });
    assert.equal(column(p.overall, 'event_time').stats.count, DATES.length * ROWS);
    await assert.rejects(profileDataset(data, { columns: ['f0', 'nope'] }), /^Error: profile: .*dt=2026-11-01\/part-0\.parquet: column "nope" is missing \(file has: id, segment/);
    await assert.rejects(profileDataset(data, { sliceBy: 'region' }), /column "region" is missing/);
    await assert.rejects(profileDataset(join(dir.path, 'nothing-here')), /^Error: profile: no Parquet files at ".*nothing-here"$/);
    await assert.rejects(profileDataset(data, { columns: [] }), /profile: columns is empty/);
  });
});

describe('profileDataset on s3:// (s3rver)', () => {
  let s3: S3rverHandle;
  const saved = { ...process.env };
  before(async () => {
    s3 = await startS3rver();
    Object.assign(process.env, {
      BATCHSCORE_S3_ENDPOINT: s3.endpoint,
      BATCHSCORE_S3_FORCE_PATH_STYLE: 'true',
      BATCHSCORE_S3_CHECKSUMS: 'when_required',
      BATCHSCORE_S3_CONDITIONAL_WRITES: 'false',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    });
  });
  after(async () => {
    process.env = saved;
    closeCachedStores();
    await s3.stop();
  });

  test('a prefix profiles like the same files on disk', async () => {
    const bucket = await s3.bucket();
    const store = s3StoreFor(s3.endpoint, bucket);
    for (const d of DATES) await store.putFile(`lake/train/dt=${d}/part-0.parquet`, join(data, `dt=${d}`, 'part-0.parquet'));
    await store.putFile('lake/train/_temporary/part-9.parquet', join(data, '_temporary', 'part-9.parquet'));
    const options = { sliceBy: 'segment', columns: ['f0', 'segment'] };
    assertDatasetEqual(await profileDataset(`s3://${bucket}/lake/train`, options), await profileDataset(data, options));
    assertDatasetEqual(await profileDataset(`s3://${bucket}/lake/train/`, options), await profileDataset(data, options));
    store.close();
  });
});

describe('profile command', () => {
  test('writes the profile JSON to --out and reports on stderr', async (t) => {
    const errors = t.mock.method(console, 'error', () => {});
    const out = join(dir.path, 'reference.json');
    const code = await profileCommand([data, '--columns', 'f0, segment', '--slice-by', 'segment', '--out', out]);
    assert.equal(code, 0);
    const written = parseDatasetProfile(JSON.parse(await readFile(out, 'utf8')), out);
    assertDatasetEqual(written, await profileDataset(data, { columns: ['f0', 'segment'], sliceBy: 'segment' }));
    assert.match(String(errors.mock.calls[0]?.arguments[0]), /^profile: 9,000 rows from 3 file\(s\), 2 column\(s\), 5 slices by "segment" → file:\/\//);
    assert.ok((await readdir(dir.path)).includes('reference.json'));
  });

  test('bad usage is a UsageError', async () => {
    await assert.rejects(profileCommand([]), UsageError);
    await assert.rejects(profileCommand([data, data]), UsageError);
    await assert.rejects(profileCommand([data, '--max-slices', '0']), /--max-slices expects a positive integer, got "0"/);
    await assert.rejects(profileCommand([data, '--columns', ' , ']), UsageError);
  });
});
