/**
 * The DuckDB SQL peer: the same logistic score the pipeline computes, written as one COPY
 * statement (read Parquet → 1/(1+exp(-(w·x+b))) → write Parquet partitioned by dt), and
 * the correctness guard comparing DuckDB's probabilities with the pipeline's.
 */
import { DuckDBInstance } from '@duckdb/node-api';

export interface LogisticWeights {
  weights: ArrayLike<number>;
  bias: number;
}

/** Options of {@link logisticSql}. */
export interface LogisticSqlOptions {
  /** Directory of the hive-partitioned input (`dir/dt=.../*.parquet`). */
  inputDir: string;
  /** Directory COPY writes to, partitioned by dt. */
  outputDir: string;
  /** Feature columns in weight order. */
  features: readonly string[];
  /** Threads DuckDB may use. */
  threads: number;
  /**
   * Mirror the pipeline's `nulls: "nan"`: a null feature becomes NaN, so its row's score is
   * NaN (without it, SQL arithmetic would make the score NULL instead).
   */
  nullsAsNaN: boolean;
  /** Columns copied to the output before the score, as the job's `passthrough`. */
  passthrough: readonly string[];
}

function quote(path: string): string {
  return `'${path.replaceAll("'", "''")}'`;
}

/**
 * A float literal DuckDB reads as DOUBLE with exactly this value. The weights are float32
 * values; `toExponential()` prints the shortest digits that round-trip, and the exponent
 * makes DuckDB type it DOUBLE rather than DECIMAL.
 */
function literal(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`weight ${x} is not finite`);
  return x.toExponential();
}

/** The statements of the peer, `;\n`-separated: SET threads, then the COPY. */
export function logisticSql(params: LogisticWeights, o: LogisticSqlOptions): string {
  if (params.weights.length !== o.features.length) throw new Error(`${params.weights.length} weights for ${o.features.length} features`);
  const terms = o.features.map((f, i) => {
    const x = o.nullsAsNaN ? `coalesce(${f}, 'NaN'::FLOAT)` : f;
    return `${literal(params.weights[i]!)} * ${x}`;
  });
  const logit = `${terms.join(' + ')} + ${literal(params.bias)}`;
  return [
    `SET threads = ${o.threads}`,
    // The pipeline's output schema: the passthrough columns, then the score as FLOAT.
    `COPY (SELECT ${o.passthrough.map((c) => `${c}, `).join('')}CAST(1 / (1 + exp(-(${logit}))) AS FLOAT) AS probability, dt ` +
      `FROM read_parquet(${quote(`${o.inputDir}/*/*.parquet`)}, hive_partitioning = true)) ` +
      `TO ${quote(o.outputDir)} (FORMAT parquet, PARTITION_BY (dt), COMPRESSION snappy, OVERWRITE_OR_IGNORE)`,
  ].join(';\n') + ';\n';
}

/** Outcome of comparing two score outputs row by row (joined on id). */
export interface ScoreCheck {
  pass: boolean;
  tolerance: number;
  pipelineRows: number;
  peerRows: number;
  /** Rows present on both sides. */
  matched: number;
  /** Rows where exactly one side is NaN (or NULL). */
  nanMismatches: number;
  /** Rows where both sides are NaN (null features under `nulls: "nan"`). */
  bothNaN: number;
  /** Largest |pipeline − peer| over rows where both are numbers. */
  maxAbsDiff: number;
  /** Rows whose difference exceeds the tolerance. */
  overTolerance: number;
  message: string;
}

/**
 * Compare the pipeline's `probability` with DuckDB's on every row (a full join on id is a
 * second or so for 2M rows: no need to sample). Passes when both have the same ids, NaN in
 * the same rows, and every other difference is within `tolerance`.
 */
export async function compareScores(pipelineDir: string, peerDir: string, tolerance = 1e-5): Promise<ScoreCheck> {
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    const sql = `
      WITH p AS (SELECT id, probability::DOUBLE AS v FROM read_parquet(${quote(`${pipelineDir}/dt=*/*.parquet`)})),
           d AS (SELECT id, probability::DOUBLE AS v FROM read_parquet(${quote(`${peerDir}/dt=*/*.parquet`)})),
           j AS (SELECT p.v AS a, d.v AS b, p.id IS NOT NULL AS inp, d.id IS NOT NULL AS ind FROM p FULL OUTER JOIN d ON p.id = d.id),
           k AS (SELECT *, (a IS NULL OR isnan(a)) AS an, (b IS NULL OR isnan(b)) AS bn FROM j)
      SELECT
        count(*) FILTER (WHERE inp) AS pipeline_rows,
        count(*) FILTER (WHERE ind) AS peer_rows,
        count(*) FILTER (WHERE inp AND ind) AS matched,
        count(*) FILTER (WHERE inp AND ind AND an <> bn) AS nan_mismatches,
        count(*) FILTER (WHERE inp AND ind AND an AND bn) AS both_nan,
        coalesce(max(abs(a - b)) FILTER (WHERE inp AND ind AND NOT an AND NOT bn), 0) AS max_abs_diff,
        count(*) FILTER (WHERE inp AND ind AND NOT an AND NOT bn AND abs(a - b) > ${tolerance}) AS over_tolerance
      FROM k`;
    const row = (await c.runAndReadAll(sql)).getRowObjectsJS()[0]!;
    const n = (k: string) => Number(row[k]);
    const check = {
      tolerance,
      pipelineRows: n('pipeline_rows'),
      peerRows: n('peer_rows'),
      matched: n('matched'),
      nanMismatches: n('nan_mismatches'),
      bothNaN: n('both_nan'),
      maxAbsDiff: n('max_abs_diff'),
      overTolerance: n('over_tolerance'),
    };
    const pass =
      check.pipelineRows > 0 &&
      check.pipelineRows === check.peerRows &&
      check.matched === check.pipelineRows &&
      check.nanMismatches === 0 &&
      check.overTolerance === 0;
    const message =
      `DuckDB vs pipeline (logistic): ${check.matched.toLocaleString('en-US')} of ${check.pipelineRows.toLocaleString('en-US')} ids matched ` +
      `(DuckDB ${check.peerRows.toLocaleString('en-US')}), max |diff| ${check.maxAbsDiff.toExponential(1)} (tolerance ${tolerance}), ` +
      `${check.overTolerance} over tolerance, NaN in both for ${check.bothNaN.toLocaleString('en-US')} rows, ${check.nanMismatches} NaN mismatches`;
    return { pass, ...check, message };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}
