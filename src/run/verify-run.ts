/**
 * Re-check a finished run from its manifest: every published output file still hashes to
 * its recorded sha256 and holds its recorded rows, every input file is unchanged (ETag),
 * and a sample of rows re-scored with the pinned model matches the published predictions.
 */
import { createHash } from 'node:crypto';
import * as arrow from 'apache-arrow';
import { loadModel } from '../model/load-model.js';
import { openParquet, type ParquetReader } from '../parquet/parquet-reader.js';
import { bindFeatures } from '../scoring/binding.js';
import { fillPolicy } from '../scoring/feature-matrix.js';
import { openRangeBlob } from '../storage/range-blob.js';
import { resolveUri } from '../storage/resolve.js';
import type { RunManifest } from './manifest.js';
import { scoreFile } from './score-file.js';
import { sessionInfer } from './session-infer.js';

export interface VerifyOptions {
  /** Rows to re-score, spread over all output files. Default 1,000. */
  sampleRows?: number;
  /** Largest accepted absolute difference of a float prediction. Default 1e-6. */
  tolerance?: number;
}

export interface VerifyReport {
  runId: string;
  filesChecked: number;
  rowsRescored: number;
  /** Each problem found, naming the file (and row/column where it applies). */
  problems: string[];
}

/** A reader that only yields row group `keep` (scoreFile skips 0-row groups). */
function onlyRowGroup(reader: ParquetReader, keep: number): ParquetReader {
  return { ...reader, rowGroupRows: reader.rowGroupRows.map((n, i) => (i === keep ? n : 0)), readRowGroup: reader.readRowGroup.bind(reader) };
}

function asNumbers(v: arrow.Vector): ArrayLike<number | bigint> {
  return v.toArray() as ArrayLike<number | bigint>;
}

/** Verify a run from its manifest. Never modifies anything. */
export async function verifyRun(manifest: RunManifest, options: VerifyOptions = {}): Promise<VerifyReport> {
  const problems: string[] = [];
  const tolerance = options.tolerance ?? 1e-6;
  const published = manifest.partitions.filter((p) => p.status === 'succeeded').flatMap((p) => p.files.filter((f) => f.output));
  const totalRows = published.reduce((n, f) => n + (f.output?.rows ?? 0), 0);
  const sample = options.sampleRows ?? 1000;
  let rowsRescored = 0;
  if (!manifest.model) return { runId: manifest.runId, filesChecked: 0, rowsRescored: 0, problems: ['manifest has no model: the run never started'] };
  const modelLoc = resolveUri(manifest.model.uri);
  const model = await loadModel(await modelLoc.store.get(modelLoc.key), { source: manifest.model.uri, expectedSha256: manifest.model.sha256 }).catch((err: Error) => {
    problems.push(err.message);
    return null;
  });
  try {
    for (const file of published) {
      const out = file.output!;
      const outLoc = resolveUri(out.uri);
      const bytes = await outLoc.store.get(outLoc.key).catch((err: Error) => (problems.push(`${out.uri}: ${err.message}`), null));
      if (!bytes) continue;
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== out.sha256) {
        problems.push(`${out.uri}: sha256 ${sha} differs from the manifest's ${out.sha256}`);
        continue;
      }
      const outReader = await openParquet(new Blob([bytes]), out.uri);
      if (outReader.numRows !== out.rows) problems.push(`${out.uri}: ${outReader.numRows} rows, manifest says ${out.rows}`);
      const inLoc = resolveUri(file.input.uri);
      const head = await inLoc.store.head(inLoc.key);
      if (!head || head.etag !== file.input.etag) {
        problems.push(`${file.input.uri}: input changed or missing since the run (etag ${head?.etag ?? 'none'} vs ${file.input.etag}); not re-scored`);
        outReader.close();
        continue;
      }
      if (!model || totalRows === 0) {
        outReader.close();
        continue;
      }
      // Re-score one row group, chosen by the file's share of the sample.
      const want = Math.max(1, Math.round((sample * out.rows) / totalRows));
      const blob = await openRangeBlob(inLoc.store, inLoc.key, { size: head.size });
      try {
        const input = await openParquet(blob, file.input.uri);
        const groups = input.rowGroupRows;
        const g = groups.findIndex((n) => n > 0);
        const firstRow = groups.slice(0, g).reduce((a, b) => a + b, 0);
        const binding = bindFeatures(model.signature.inputs, manifest.spec.features);
        const outputNames = model.signature.outputs.filter((o) => o.kind === 'tensor').map((o) => o.name);
        const rescored = await scoreFile({
          reader: onlyRowGroup(input, g),
          binding,
          policy: fillPolicy(binding.features, manifest.spec.nulls, manifest.spec.nonFinite),
          passthrough: [],
          outputNames,
          batchSize: manifest.spec.batchSize,
          infer: sessionInfer(model.session, outputNames),
          // The run enforced the limit per file; here every refused row just gets its null
          // again, to compare with the null it was published with.
          maxBadRowsFraction: manifest.spec.maxBadRowsFraction ? 1 : 0,
        });
        input.close();
        const names = rescored.table ? rescored.table.schema.fields.map((f) => f.name) : [];
        const publishedTables = await Promise.all(outReader.rowGroupRows.map((_, i) => outReader.readRowGroup(i, names)));
        const published = new arrow.Table(publishedTables.flatMap((t) => t.batches));
        const n = Math.min(want, groups[g]!);
        const step = Math.max(1, Math.floor(groups[g]! / n));
        for (const name of names) {
          const nowVector = rescored.table!.getChild(name)!;
          const thenVector = published.getChild(name)!;
          const now = asNumbers(nowVector);
          const then = asNumbers(thenVector);
          for (let k = 0, r = 0; k < n; k++, r += step) {
            // Null: a row refused by the policy (maxBadRowsFraction); it must be null in both.
            const a = nowVector.isValid(r) ? Number(now[r]) : null;
            const b = thenVector.isValid(firstRow + r) ? Number(then[firstRow + r]) : null;
            const same = a === null || b === null ? a === b : (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= tolerance;
            if (!same) {
              problems.push(`${out.uri}: row ${firstRow + r} column "${name}": published ${b}, re-scored ${a}`);
              break;
            }
          }
        }
        rowsRescored += n;
      } finally {
        await blob.close();
        outReader.close();
      }
    }
  } finally {
    await model?.session.release();
  }
  return { runId: manifest.runId, filesChecked: published.length, rowsRescored, problems };
}
