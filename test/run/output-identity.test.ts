/**
 * The scored outputs stay the same, bit for bit, whatever the read/write path or the
 * threading does. The expected digests were computed from the outputs of the pipeline as it
 * was before the fast read/write paths (IPC read, one writeParquet per file), by two
 * readers that share no code with the pipeline:
 *
 * - DuckDB (`read_parquet`, ordered by id): every id, segment and prediction; floats are
 *   hashed as their float32 bits (NaN canonical: DuckDB hands NaN over as a JS number);
 * - parquet-wasm `readParquet` + apache-arrow `tableFromIPC` directly (not src/parquet):
 *   the raw bits of every prediction value, NaN payloads included, and the validity of
 *   every passthrough value.
 *
 * The demo data (3 partitions, several row groups, one partial, ~1% nulls in three
 * features) and the demo models are built from fixed seeds, so the digests are stable.
 * Set BATCHSCORE_PRINT_DIGESTS=1 to print the digests of the current code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { runJob } from '../../src/run/run-job.js';
import { demoModels, demoSpec, writeDemoDataset } from '../support/dataset.js';
import { duckdbRows, sqlString } from '../support/duckdb.js';
import { tmpDir, type TmpDir } from '../support/tmp.js';

const DATES = ['2026-11-01', '2026-11-02', '2026-11-03'];
const ROWS = 40_000;
const ROW_GROUP_ROWS = 16_384; // 3 row groups per file, the last one partial

/** Expected digests per model: `duckdb` over (id, segment, prediction), `raw` over prediction bits by file. */
const EXPECTED: Record<'logistic' | 'mlp' | 'trees', { duckdb: string; raw: string }> = {
  logistic: {
    duckdb: '4c95e447c84e5dcc9295c2a4170f827416e66f78e5b42c3d691d333b665818bf',
    raw: '813ffd5883d6a71922acbe699a7bce03ef461e6b2ba8efe766fb50a89b464eb8',
  },
  mlp: {
    duckdb: 'f4dec92f33f5bdfbbd9bcac5c41cc8b55d3cb087a8ace5c30dcc1dc46dd42145',
    raw: '1822d6c7d42e30c8314fbacb356dfb6062ec40981a902179b6e46025c1507bf6',
  },
  trees: {
    duckdb: 'd292c487a94800699cce1a2c8636c0dfa8e6273048a51d8903748332a85c564f',
    raw: '94ffeb0cfb6cc1b60f285aac032bf5a6fc9e9c6104589fa74c3b4d67c3be026f',
  },
};

const BATCH: Record<keyof typeof EXPECTED, number> = { logistic: 8192, mlp: 8192, trees: 128 };
const OUTPUT: Record<keyof typeof EXPECTED, string> = { logistic: 'probability', mlp: 'probability', trees: 'score' };

/** DuckDB's view of the outputs, hashed: id (int64 LE), segment (UTF-8 + NUL), prediction (float32 bits). */
async function duckdbDigest(out: string, prediction: string): Promise<{ digest: string; rows: number }> {
  const rows = await duckdbRows(
    `SELECT id, segment, ${prediction} AS p FROM read_parquet(${sqlString(join(out, '*/*.parquet'))}) ORDER BY id`,
  );
  const hash = createHash('sha256');
  const id = new BigInt64Array(1);
  const f = new Float32Array(1);
  for (const r of rows) {
    id[0] = r.id as bigint;
    hash.update(new Uint8Array(id.buffer));
    hash.update(`${r.segment === null ? '\u0001' : String(r.segment)}\u0000`);
    f[0] = r.p === null ? Number.NaN : (r.p as number);
    hash.update(new Uint8Array(f.buffer));
    hash.update(r.p === null ? 'N' : 'V');
  }
  return { digest: hash.digest('hex'), rows: rows.length };
}

/** Raw bits of every prediction value and the validity of every passthrough value, file by file. */
async function rawDigest(out: string, prediction: string): Promise<string> {
  const hash = createHash('sha256');
  const dirs = (await readdir(out)).filter((d) => d.startsWith('dt=')).sort();
  for (const dir of dirs) {
    const files = (await readdir(join(out, dir))).filter((f) => f.endsWith('.parquet')).sort();
    for (const file of files) {
      const table = arrow.tableFromIPC(pw.readParquet(await readFile(join(out, dir, file))).intoIPCStream());
      hash.update(`${dir}/${file}:${table.numRows}\n`);
      const p = table.getChild(prediction)!;
      for (const d of p.data) {
        assert.equal(d.nullCount, 0, 'predictions are never null');
        const v = d.values as Float32Array;
        hash.update(new Uint8Array(v.buffer, v.byteOffset + d.offset * 4, d.length * 4));
      }
      for (const name of ['id', 'segment']) {
        const col = table.getChild(name)!;
        let nulls = 0;
        for (let i = 0; i < col.length; i++) if (!col.isValid(i)) nulls++;
        hash.update(`${name}:${nulls}\n`);
      }
      const ids = table.getChild('id')!.toArray() as BigInt64Array;
      hash.update(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
    }
  }
  return hash.digest('hex');
}

describe('scored outputs are identical to the reference digests', () => {
  let dir: TmpDir;
  let input: string;
  before(async () => {
    dir = await tmpDir();
    input = join(dir.path, 'input');
    await writeDemoDataset(input, DATES, ROWS, ROW_GROUP_ROWS);
  });
  after(() => dir.cleanup());

  for (const model of ['logistic', 'mlp', 'trees'] as const) {
    for (const threads of [1, 2]) {
      test(`${model}, ${threads} thread(s)`, async () => {
        const modelPath = join(dir.path, `${model}.onnx`);
        await writeFile(modelPath, demoModels()[model].bytes);
        const out = join(dir.path, `out-${model}-${threads}`);
        const spec = demoSpec(input, modelPath, out, { passthrough: ['id', 'segment'], batchSize: BATCH[model] });
        const { manifest } = await runJob(spec, { threads });
        assert.deepEqual(manifest.errors, []);
        assert.equal(manifest.status, 'succeeded');
        assert.equal(manifest.totals.rows, DATES.length * ROWS);
        const duck = await duckdbDigest(out, OUTPUT[model]);
        const raw = await rawDigest(out, OUTPUT[model]);
        if (process.env.BATCHSCORE_PRINT_DIGESTS) console.log(JSON.stringify({ model, threads, duckdb: duck.digest, raw }));
        assert.equal(duck.rows, DATES.length * ROWS);
        assert.equal(duck.digest, EXPECTED[model].duckdb, `${model}: DuckDB digest`);
        assert.equal(raw, EXPECTED[model].raw, `${model}: raw digest`);
      });
    }
  }
});
