/**
 * The monitoring step of finalize: merge the per-file profiles (computed while scoring) of
 * the published partitions into the run profile, compare it with the reference, and render
 * the HTML report. Figures go into the manifest; alerts go to the log and the webhook.
 */
import { compareProfiles, type DriftReport } from '../monitor/drift.js';
import { parseDatasetProfile } from '../monitor/profile-json.js';
import { mergeAll, type DatasetProfile } from '../monitor/profile-set.js';
import { histogramPanels, type HistogramPanel } from '../monitor/run-report.js';
import { renderRunReport } from '../monitor/report-html.js';
import { isBaselineRunId, type Severity } from '../monitor/thresholds.js';
import type { ObjectStore } from '../storage/object-store.js';
import { joinKey, resolveUri } from '../storage/resolve.js';
import type { FileOutcome } from './finalize.js';
import type { PartitionRecord, RunManifest } from './manifest.js';
import type { RunPlan } from './run-plan.js';

export interface MonitoringRecord {
  /** ok / warn / alert: the worst drift or quality figure (ok when there is no reference). */
  status: Severity;
  /** Where the reference profile came from, or null when none was configured. */
  reference: string | null;
  /** Why the comparison could not be made, if it could not. */
  note: string | null;
  /** This run's profile (a baseline for later runs). */
  profileUri: string;
  /** Self-contained HTML report. */
  reportUri: string | null;
  drift: DriftReport | null;
}

async function readProfile(uri: string): Promise<DatasetProfile> {
  const { store, key } = resolveUri(uri);
  return parseDatasetProfile(JSON.parse(new TextDecoder().decode(await store.get(key))), uri);
}

/** Where a registered model version keeps its training-data reference profile. */
export function referenceProfileUri(modelUri: string): string {
  return modelUri.replace(/[^/]*$/, 'reference.profile.json');
}

/** A baseline run id names `<output>/_runs/<id>.profile.json`; anything else is a URI. */
export function referenceUri(reference: string, store: ObjectStore, outputRoot: string): string {
  return isBaselineRunId(reference) ? store.uri(joinKey(outputRoot, '_runs', `${reference}.profile.json`)) : reference;
}

/** The monitoring record and the histograms the report draws. */
export interface MonitorResult {
  record: MonitoringRecord;
  panels: HistogramPanel[];
}

/**
 * Merge, compare, store the run profile. Returns null when the job has no monitoring.
 * @param outcomes per partition, per file, in plan order
 */
export async function monitorRun(plan: RunPlan, outcomes: readonly (readonly FileOutcome[])[], records: readonly PartitionRecord[]): Promise<MonitorResult | null> {
  const monitoring = plan.spec.monitoring;
  if (!monitoring) return null;
  const { store } = resolveUri(plan.spec.output.uri);
  const uris = records.flatMap((record, p) =>
    record.status === 'succeeded' ? (outcomes[p] ?? []).flatMap((o) => (o.ok && o.result.profileUri ? [o.result.profileUri] : [])) : [],
  );
  const profiles = await Promise.all(uris.map(readProfile));
  const profile = profiles.length ? mergeAll(profiles) : null;
  const profileKey = joinKey(plan.outputRoot, '_runs', `${plan.runId}.profile.json`);
  if (profile) await store.put(profileKey, JSON.stringify(profile), { contentType: 'application/json' });
  const base = { profileUri: store.uri(profileKey), reportUri: null };
  const bare = (record: MonitoringRecord): MonitorResult => ({ record, panels: [] });
  if (!profile) return bare({ status: 'ok', reference: monitoring.reference ?? null, note: 'no partition was published: nothing to compare', drift: null, ...base });
  let refUri: string;
  if (monitoring.reference) refUri = referenceUri(monitoring.reference, store, plan.outputRoot);
  else {
    // A registered model may carry the profile of its training data (models register --reference).
    const attached = plan.model.registry ? referenceProfileUri(plan.model.uri) : null;
    const loc = attached ? resolveUri(attached) : null;
    if (!attached || !loc || !(await loc.store.head(loc.key))) {
      return bare({ status: 'ok', reference: null, note: 'no monitoring.reference: profile recorded, not compared', drift: null, ...base });
    }
    refUri = attached;
  }
  let reference: DatasetProfile;
  try {
    reference = await readProfile(refUri);
  } catch (err) {
    // A missing reference is worth a warning, not a failed run: the scores are fine.
    return bare({ status: 'warn', reference: refUri, note: `cannot read the reference profile: ${(err as Error).message}`, drift: null, ...base });
  }
  const drift = compareProfiles(reference, profile, monitoring);
  return { record: { status: drift.status, reference: refUri, note: null, drift, ...base }, panels: histogramPanels(reference, profile, drift) };
}

/** Render and store `<output>/_runs/<runId>.report.html`; returns its URI. */
export async function writeRunReport(manifest: RunManifest, { record: monitoring, panels }: MonitorResult): Promise<string> {
  const out = resolveUri(manifest.spec.output.uri);
  const key = joinKey(out.key.replace(/\/+$/, ''), '_runs', `${manifest.runId}.report.html`);
  const html = renderRunReport({
    title: `${manifest.job.name} run ${manifest.runId}`,
    job: manifest.job.name,
    runId: manifest.runId,
    status: manifest.status === 'failed' ? 'failed' : monitoring.status,
    startedAt: manifest.startedAt,
    finishedAt: manifest.finishedAt,
    model: manifest.model ? { uri: manifest.model.uri, sha256: manifest.model.sha256 } : null,
    reference: monitoring.reference,
    rows: manifest.totals.rows,
    seconds: manifest.totals.durationMs / 1000,
    partitions: manifest.partitions.map((p) => ({
      partition: p.dir || '(root)',
      outcome: p.status === 'succeeded' ? 'published' : p.status,
      files: p.files.length,
      rows: p.rows,
      seconds: p.files.reduce((s, f) => s + (f.timings?.totalMs ?? 0), 0) / 1000,
      error: p.error?.message ?? null,
    })),
    drift: monitoring.drift,
    histograms: panels,
  });
  await out.store.put(key, html, { contentType: 'text/html; charset=utf-8' });
  return out.store.uri(key);
}
