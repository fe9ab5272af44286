/**
 * Monitoring alerts to a webhook: one JSON POST per run whose status is warn or alert, with
 * a timeout and a few retries. Never throws: a dead webhook must not fail a scoring run.
 */
import type { RunManifest } from './manifest.js';

export interface AlertPayload {
  kind: 'batchscore.monitoring';
  job: string;
  runId: string;
  status: string;
  runStatus: string;
  manifest: string | null;
  report: string | null;
  columns: { name: string; slice: string | null; severity: string; psi: number | null; ks: number | null; js: number | null }[];
}

/** The alert body: the run, its status and the columns (and slices) that are not ok. */
export function alertPayload(manifest: RunManifest, manifestUri: string | null = null): AlertPayload {
  const m = manifest.monitoring;
  const columns: AlertPayload['columns'] = (m?.drift?.columns ?? []).filter((c) => c.severity !== 'ok').map((c) => ({ name: c.column, slice: null, severity: c.severity, psi: c.psi, ks: c.ks, js: c.js }));
  for (const s of m?.drift?.slices ?? []) {
    for (const c of s.columns.filter((x) => x.severity !== 'ok')) columns.push({ name: c.column, slice: s.value, severity: c.severity, psi: c.psi, ks: c.ks, js: c.js });
  }
  return {
    kind: 'batchscore.monitoring',
    job: manifest.job.name,
    runId: manifest.runId,
    status: m?.status ?? 'ok',
    runStatus: manifest.status,
    manifest: manifestUri,
    report: m?.reportUri ?? null,
    columns,
  };
}

/**
 * POST the payload; retry network errors, 429 and 5xx (3 attempts, 0.5 s then 1 s apart,
 * 5 s timeout each). Returns whether it was delivered.
 */
export async function postAlert(
  url: string,
  payload: AlertPayload,
  log?: (level: 'debug' | 'warn', msg: string, fields?: Record<string, unknown>) => void,
  options: { attempts?: number; timeoutMs?: number; backoffMs?: number } = {},
): Promise<boolean> {
  const attempts = options.attempts ?? 3;
  let last = '';
  let tried = 0;
  for (let i = 0; i < attempts; i++) {
    tried = i + 1;
    if (i > 0) await new Promise((r) => setTimeout(r, (options.backoffMs ?? 500) * 2 ** (i - 1)));
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      // The body is not needed; undici keeps the connection until it is read or cancelled.
      await res.body?.cancel().catch(() => {});
      if (res.ok) return true;
      last = `HTTP ${res.status}`;
      if (res.status < 500 && res.status !== 429) break;
    } catch (err) {
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is its cause.
      const e = err as Error & { cause?: { code?: string; message?: string } };
      last = e.name === 'TimeoutError' ? `no response within ${options.timeoutMs ?? 5000} ms` : e.cause?.code ?? e.cause?.message ?? e.message;
    }
  }
  // The origin only: a webhook's path or query often holds its secret token.
  log?.('warn', `monitoring webhook ${new URL(url).origin} not delivered after ${tried} attempt(s): ${last}`, { runId: payload.runId });
  return false;
}
