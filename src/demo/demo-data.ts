import * as arrow from 'apache-arrow';
import { seededRandom } from '../model/build/random.js';
import { encodeParquet } from '../parquet/parquet-writer.js';

/** Options of `demoPartition`. Defaults give the standard workload: 8 × 250,000 rows. */
export interface DemoDataOptions {
  /** Rows in the partition's one file. Default 250,000. */
  rows?: number;
  /** Number of float32 features `f0..`. Default 32. */
  features?: number;
  /** Feature columns that get ~1% nulls. Default `f3`, `f7`, `f11`. */
  nullColumns?: readonly string[];
  /** Fraction of nulls in those columns. Default 0.01. */
  nullFraction?: number;
  /** Rows per row group. Default 131,072. */
  rowGroupRows?: number;
  /** First id of the partition (ids are unique across partitions when offsets differ). */
  firstId?: number;
  /** PRNG seed. */
  seed?: number;
}

/** The standard demo dates: 8 consecutive days. */
export function demoDates(first = '2026-11-01', days = 8): string[] {
  const t0 = Date.parse(`${first}T00:00:00Z`);
  return Array.from({ length: days }, (_, i) => new Date(t0 + i * 86_400_000).toISOString().slice(0, 10));
}

const SEGMENTS = ['consumer', 'smb', 'enterprise', 'partner', 'public'];

function floatColumn(n: number, rng: () => number, nullFraction: number): arrow.Data<arrow.Float32> {
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = rng() * 2 - 1;
  if (nullFraction <= 0) return arrow.makeData({ type: new arrow.Float32(), length: n, data: values });
  const bitmap = new Uint8Array(Math.ceil(n / 8)).fill(0xff);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (rng() < nullFraction) {
      bitmap[i >> 3]! &= ~(1 << (i & 7));
      values[i] = 0;
      nulls++;
    }
  }
  return arrow.makeData({ type: new arrow.Float32(), length: n, nullCount: nulls, nullBitmap: bitmap, data: values });
}

/**
 * One demo partition file as Parquet bytes: `id` int64, `segment` string, `event_time`
 * timestamp (µs, UTC), features `f0..f{F-1}` float32 uniform in [-1, 1), a few with nulls.
 */
export async function demoPartition(date: string, options: DemoDataOptions = {}): Promise<Uint8Array> {
  const n = options.rows ?? 250_000;
  const nFeatures = options.features ?? 32;
  const nullColumns = new Set(options.nullColumns ?? ['f3', 'f7', 'f11']);
  const rng = seededRandom(options.seed ?? Date.parse(date) / 86_400_000);
  const firstId = options.firstId ?? 0;
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(firstId + i);
  const t0 = BigInt(Date.parse(`${date}T00:00:00Z`)) * 1000n;
  const times = new BigInt64Array(n);
  for (let i = 0; i < n; i++) times[i] = t0 + BigInt(Math.floor((i / n) * 86_400_000_000));
  const segments = arrow.vectorFromArray(
    Array.from({ length: n }, () => SEGMENTS[Math.floor(rng() * SEGMENTS.length)]!),
    new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
  );
  const columns: Record<string, arrow.Vector> = {
    id: arrow.makeVector(ids),
    segment: segments,
    event_time: arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: n, data: times })),
  };
  for (let f = 0; f < nFeatures; f++) {
    const name = `f${f}`;
    columns[name] = arrow.makeVector(floatColumn(n, rng, nullColumns.has(name) ? options.nullFraction ?? 0.01 : 0));
  }
  return encodeParquet(new arrow.Table(columns), {
    uri: `demo dt=${date}`,
    compression: 'snappy',
    maxRowGroupRows: options.rowGroupRows ?? 131_072,
  });
}
