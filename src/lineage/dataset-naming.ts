/**
 * OpenLineage dataset identifiers for the locations batchscore reads and writes, per the
 * OpenLineage naming spec (spec/Naming.md): S3 → namespace `s3://<bucket>`, name `<key>`;
 * local filesystem → namespace `file`, name `<absolute path>`. A partitioned dataset is one
 * dataset (its root), as Spark and Hive integrations report tables: partitions show up as
 * child runs and statistics, not as separate datasets. Pure apart from resolving relative
 * paths against a working directory, as the pipeline itself does.
 */
import { parseUri } from '../storage/resolve.js';

/** An OpenLineage dataset identifier. */
export interface DatasetId {
  namespace: string;
  name: string;
}

/**
 * The dataset a location names: a local path, `file://` URI or `s3://bucket/prefix`.
 * Trailing slashes are dropped (`s3://b/scores/` and `s3://b/scores` are one dataset).
 * @param cwd base for relative local paths (default `process.cwd()`, as job specs use)
 */
export function datasetOf(uri: string, cwd?: string): DatasetId {
  const parsed = parseUri(uri, cwd);
  if (parsed.scheme === 's3') {
    const key = parsed.key.replace(/\/+$/, '');
    // The bucket root has an empty key; OpenLineage names must not be empty.
    return { namespace: `s3://${parsed.bucket}`, name: key === '' ? '/' : key };
  }
  const path = parsed.path.replace(/\/+$/, '');
  return { namespace: 'file', name: path === '' ? '/' : path };
}
