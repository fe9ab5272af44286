/**
 * A job spec whose relative local paths are made absolute against the directory of whoever
 * submits the run. The spec travels in the run plan to workers that run elsewhere (another
 * directory, another machine): each would otherwise read "demo-data/scores" against its own
 * directory, and the manifest landed apart from the partitions it describes. S3 URIs,
 * `file://` URIs and absolute paths are left as written.
 */
import { isAbsolute } from 'node:path';
import { isBaselineRunId } from '../monitor/thresholds.js';
import { parseUri } from '../storage/resolve.js';
import type { JobSpec } from './job-spec.js';

/** `uri` as an absolute local path when it is a relative one, else unchanged. */
function absolute(uri: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || isAbsolute(uri)) return uri;
  const parsed = parseUri(uri, cwd);
  return parsed.scheme === 'file' ? parsed.path : uri;
}

/**
 * `spec` with `input.uri`, `output.uri`, `model.uri`, `model.registry` and
 * `monitoring.reference` (unless a run id) absolute. Pure: returns a new spec.
 * @param cwd the directory relative paths were written against (default: this process's)
 */
export function withAbsolutePaths(spec: JobSpec, cwd: string = process.cwd()): JobSpec {
  const model = { ...spec.model };
  if (model.uri !== undefined) model.uri = absolute(model.uri, cwd);
  if (model.registry !== undefined) model.registry = absolute(model.registry, cwd);
  const out: JobSpec = {
    ...spec,
    input: { ...spec.input, uri: absolute(spec.input.uri, cwd) },
    model,
    output: { ...spec.output, uri: absolute(spec.output.uri, cwd) },
  };
  const reference = spec.monitoring?.reference;
  if (spec.monitoring && reference !== undefined && !isBaselineRunId(reference)) {
    out.monitoring = { ...spec.monitoring, reference: absolute(reference, cwd) };
  }
  return out;
}
