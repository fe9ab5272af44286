/**
 * Emitting lineage: every event is written next to the run manifest, as JSON Lines in
 * `<output>/_runs/<runId>.lineage.jsonl`, and POSTed to an OpenLineage endpoint (Marquez:
 * `POST <OPENLINEAGE_URL>/api/v1/lineage`) when `OPENLINEAGE_URL` is set.
 *
 * Lineage must never fail a run: nothing here throws. Failures come back in the report
 * (and through `log`) for the caller to show.
 *
 * The file is rewritten, not appended (object stores cannot append): START is written at
 * planning time, the end events later, maybe by another process (the queue's finalize).
 * Writes merge by (runId, eventType), so a retried finalize replaces its events instead of
 * duplicating them, and they are guarded by the file's etag like alias updates.
 *
 * Environment (the OpenLineage client's names): `OPENLINEAGE_URL` (base URL),
 * `OPENLINEAGE_ENDPOINT` (path, default `api/v1/lineage`), `OPENLINEAGE_API_KEY` (sent as
 * `Authorization: Bearer …`), `OPENLINEAGE_DISABLED=true` (no HTTP; the file is still written:
 * it is part of the run's record).
 */
import { NotFoundError, PreconditionFailedError, type ObjectStore } from '../storage/object-store.js';
import { resolveUri } from '../storage/resolve.js';
import { runtimeInfo } from '../run/runtime-info.js';
import { BATCHSCORE_REPOSITORY } from './facets.js';
import {
  buildFinishEvents,
  buildRunEvents,
  buildStartEvent,
  type LineageOptions,
  type LineageRunFinish,
  type LineageRunStart,
  type RunEvent,
} from './openlineage-events.js';

/** Default path of the lineage endpoint (Marquez's). */
export const DEFAULT_LINEAGE_ENDPOINT = 'api/v1/lineage';

/** Where and how events are POSTed. */
export interface LineageHttpOptions {
  /** Base URL, e.g. `http://marquez:5000`. Default `OPENLINEAGE_URL`; none: no HTTP. */
  url?: string;
  /** Path under the base URL. Default `OPENLINEAGE_ENDPOINT`, else `api/v1/lineage`. */
  endpoint?: string;
  /** Bearer token. Default `OPENLINEAGE_API_KEY`. */
  apiKey?: string;
  /** Per-request timeout in ms. Default 5000. */
  timeoutMs?: number;
  /** Retries after a failed attempt (network error, timeout, 408, 429, 5xx). Default 2. */
  retries?: number;
  /** First retry delay in ms, doubled each retry. Default 250. */
  retryDelayMs?: number;
}

/** Options of the emit functions. */
export interface EmitOptions extends LineageHttpOptions, Partial<LineageOptions> {
  /** Environment to read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Where failures (and successes, at debug) are reported. Default: nowhere (see the report). */
  log?: (level: 'debug' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

/** One event that could not be POSTed. */
export interface PostFailure {
  eventType: string;
  runId: string;
  error: string;
}

/** What happened to the events. */
export interface EmitReport {
  events: number;
  /** URI of the lineage file, or null if it could not be written. */
  fileUri: string | null;
  fileError: string | null;
  /** Null when no endpoint is configured (or `OPENLINEAGE_DISABLED`). */
  http: { url: string; posted: number; failed: PostFailure[] } | null;
}

/** Key of a run's lineage file under the output root. */
export function lineageKey(outputRoot: string, runId: string): string {
  return `${outputRoot.replace(/\/+$/, '')}/_runs/${runId}.lineage.jsonl`;
}

/**
 * Whether the run's lineage file records its end (a COMPLETE or FAIL event of the run
 * itself). The file is written before events are POSTed: it is the journal a finalizer that
 * runs again checks, after an earlier one died between the manifest and the lineage event.
 */
export async function hasRunEndEvent(store: ObjectStore, outputRoot: string, runId: string): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(lineageKey(outputRoot, runId));
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
  for (const line of Buffer.from(bytes).toString('utf8').split('\n')) {
    try {
      const e = JSON.parse(line) as { eventType?: unknown; run?: { runId?: unknown } };
      if ((e.eventType === 'COMPLETE' || e.eventType === 'FAIL') && e.run?.runId === runId) return true;
    } catch {
      // Not JSON (a torn or foreign line): not an end event.
    }
  }
  return false;
}

/** `producer` default: this code base at this version (or commit). */
export function defaultProducer(): string {
  const info = runtimeInfo();
  return `${BATCHSCORE_REPOSITORY}/tree/${info.gitCommit ?? `v${info.package.version}`}`;
}

/** Builder options with defaults for producer and engine version (other fields of `options` ignored). */
export function lineageOptions(options: Partial<LineageOptions> = {}): LineageOptions {
  return {
    producer: options.producer ?? defaultProducer(),
    engineVersion: options.engineVersion ?? runtimeInfo().package.version,
    ...(options.timeZone !== undefined && { timeZone: options.timeZone }),
    ...(options.schemas !== undefined && { schemas: options.schemas }),
    ...(options.cwd !== undefined && { cwd: options.cwd }),
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A URL safe to print: credentials in it are masked. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url;
  }
}

function eventKey(e: { run?: { runId?: unknown }; eventType?: unknown }): string {
  return `${String(e.run?.runId)}:${String(e.eventType)}`;
}

/**
 * Write (merge) events into a JSON Lines file: existing lines with the same run id and
 * event type are replaced in place, new ones appended. Lines that are not JSON are kept.
 * @returns the file's URI
 * @throws storage errors, or a conflict after repeated concurrent rewrites
 */
export async function writeLineageFile(store: ObjectStore, key: string, events: readonly RunEvent[]): Promise<string> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    // HEAD before GET: a change in between fails the conditional write instead of being lost.
    const info = await store.head(key);
    const lines = info ? Buffer.from(await store.get(key)).toString('utf8').split('\n').filter((l) => l.trim() !== '') : [];
    const incoming = new Map(events.map((e) => [eventKey(e), e]));
    const merged = lines.map((line) => {
      let parsed: { run?: { runId?: unknown }; eventType?: unknown } | undefined;
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        return line;
      }
      const k = parsed ? eventKey(parsed) : '';
      const replacement = incoming.get(k);
      if (!replacement) return line;
      incoming.delete(k);
      return JSON.stringify(replacement);
    });
    for (const e of incoming.values()) merged.push(JSON.stringify(e));
    try {
      const condition = info ? { ifMatch: info.etag } : { ifNoneMatch: '*' as const };
      await store.put(key, `${merged.join('\n')}\n`, { ...condition, contentType: 'application/x-ndjson' });
      return store.uri(key);
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
  throw new Error(`lineage: ${store.uri(key)} kept changing while being written; gave up after 5 attempts`);
}

/** The endpoint URL from options and environment, or null when lineage HTTP is off. */
export function lineageEndpoint(options: LineageHttpOptions & { env?: NodeJS.ProcessEnv } = {}): string | null {
  const env = options.env ?? process.env;
  if (options.url === undefined && /^(1|true|yes|on)$/i.test(env.OPENLINEAGE_DISABLED ?? '')) return null;
  const base = options.url ?? env.OPENLINEAGE_URL;
  if (!base) return null;
  const path = (options.endpoint ?? env.OPENLINEAGE_ENDPOINT ?? DEFAULT_LINEAGE_ENDPOINT).replace(/^\/+/, '');
  return `${base.replace(/\/+$/, '')}/${path}`;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

class PostError extends Error {
  constructor(message: string, readonly retryable: boolean, readonly unreachable: boolean) {
    super(message);
  }
}

async function postOnce(url: string, body: string, apiKey: string | undefined, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey && { authorization: `Bearer ${apiKey}` }) },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const detail = e.name === 'TimeoutError' ? `no response within ${timeoutMs} ms` : e.cause?.code ?? e.cause?.message ?? e.message;
    throw new PostError(detail, true, true);
  }
  if (res.ok) {
    await res.body?.cancel().catch(() => {});
    return;
  }
  const text = (await res.text().catch(() => '')).slice(0, 300);
  throw new PostError(`HTTP ${res.status}${text ? `: ${text}` : ''}`, RETRYABLE_STATUS.has(res.status), false);
}

/**
 * POST events one by one, in order (consumers expect START before the end events), each
 * with a timeout and retries. Once the endpoint proves unreachable, the remaining events
 * are not tried: a dead collector must not hold a run up for minutes. Never throws.
 */
export async function postLineageEvents(events: readonly RunEvent[], url: string, options: LineageHttpOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<{ posted: number; failed: PostFailure[] }> {
  const env = options.env ?? process.env;
  const apiKey = options.apiKey ?? env.OPENLINEAGE_API_KEY;
  const timeoutMs = options.timeoutMs ?? 5000;
  const retries = options.retries ?? 2;
  const delay = options.retryDelayMs ?? 250;
  let posted = 0;
  const failed: PostFailure[] = [];
  let unreachable: string | undefined;
  for (const e of events) {
    if (unreachable !== undefined) {
      failed.push({ eventType: e.eventType, runId: e.run.runId, error: `lineage: not sent: ${unreachable}` });
      continue;
    }
    const body = JSON.stringify(e);
    for (let attempt = 0; ; attempt++) {
      try {
        await postOnce(url, body, apiKey, timeoutMs);
        posted++;
        break;
      } catch (err) {
        const pe = err instanceof PostError ? err : new PostError(messageOf(err), false, false);
        if (pe.retryable && attempt < retries) {
          await new Promise((resolve) => setTimeout(resolve, delay * 2 ** attempt));
          continue;
        }
        const error = `lineage: POST ${redact(url)} failed after ${attempt + 1} attempt(s): ${pe.message}`;
        failed.push({ eventType: e.eventType, runId: e.run.runId, error });
        if (pe.unreachable) unreachable = `${redact(url)} is unreachable (${pe.message})`;
        break;
      }
    }
  }
  return { posted, failed };
}

/**
 * Write events to the run's lineage file and POST them if an endpoint is configured.
 * Never throws; see the report.
 * @param target the output store and root (`RunPlan.outputRoot`) and the run id
 */
export async function emitLineage(events: readonly RunEvent[], target: { store: ObjectStore; outputRoot: string; runId: string }, options: EmitOptions = {}): Promise<EmitReport> {
  const log = options.log ?? (() => {});
  const report: EmitReport = { events: events.length, fileUri: null, fileError: null, http: null };
  try {
    report.fileUri = await writeLineageFile(target.store, lineageKey(target.outputRoot, target.runId), events);
  } catch (err) {
    report.fileError = `lineage: cannot write ${lineageKey(target.outputRoot, target.runId)}: ${messageOf(err)}`;
    log('warn', report.fileError, { runId: target.runId });
  }
  const url = lineageEndpoint({ ...options, ...(options.env && { env: options.env }) });
  if (url) {
    const { posted, failed } = await postLineageEvents(events, url, options);
    report.http = { url: redact(url), posted, failed };
    // One line per emit: once the endpoint is down, every further event fails the same way.
    const first = failed[0];
    if (first) {
      const more = failed.length > 1 ? `; ${failed.length - 1} more event(s) of this run not sent` : '';
      log('warn', `${first.error}${more}`, { runId: target.runId, eventTypes: failed.map((f) => f.eventType) });
    }
    if (posted > 0) log('debug', `lineage: posted ${posted} event(s) to ${redact(url)}`, { runId: target.runId });
  }
  return report;
}

async function emitFor(run: LineageRunStart, build: (o: LineageOptions) => RunEvent[], options: EmitOptions): Promise<EmitReport> {
  let events: RunEvent[];
  let target: { store: ObjectStore; outputRoot: string; runId: string };
  try {
    events = build(lineageOptions(options));
    const out = resolveUri(run.spec.output.uri, options.cwd !== undefined ? { cwd: options.cwd } : {});
    target = { store: out.store, outputRoot: out.key.replace(/\/+$/, ''), runId: run.runId };
  } catch (err) {
    const fileError = `lineage: cannot build events for run ${run.runId}: ${messageOf(err)}`;
    options.log?.('warn', fileError, { runId: run.runId });
    return { events: 0, fileUri: null, fileError, http: null };
  }
  return emitLineage(events, target, options);
}

/** Emit the START event of a planned run (a `RunPlan` fits). Never throws. */
export function emitRunStart(run: LineageRunStart, startedAt: Date | string, options: EmitOptions = {}): Promise<EmitReport> {
  const at = typeof startedAt === 'string' ? startedAt : startedAt.toISOString();
  return emitFor(run, (o) => [buildStartEvent(run, at, o)], options);
}

/**
 * Emit the end of a run (a `RunManifest` fits): partition child runs, then COMPLETE or FAIL.
 * With `includeStart`, the run's START too: for runs that failed before `emitRunStart`.
 * Never throws.
 */
export function emitRunFinish(run: LineageRunFinish, options: EmitOptions & { includeStart?: boolean } = {}): Promise<EmitReport> {
  return emitFor(run, (o) => (options.includeStart ? buildRunEvents(run, o) : buildFinishEvents(run, o)), options);
}
