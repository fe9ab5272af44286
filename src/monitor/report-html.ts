/**
 * Renders a RunReport as one self-contained static HTML file: inline CSS, inline SVG
 * charts, no scripts, no external assets, so it can be mailed, attached to a ticket or
 * served from a bucket as is. Every piece of text from the data is escaped.
 */
import { bySeverity, type ColumnDrift } from './drift.js';
import type { Evaluation } from './evaluate.js';
import { formatNumber, type HistogramPanel, type RunReport } from './run-report.js';

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const e = escapeHtml;

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;font-weight:600;color:#fff}
.ok{background:#2e7d32}.warn{background:#ef8f00}.alert,.failed{background:#c62828}
.panels{display:flex;flex-wrap:wrap;gap:16px}.panel{border:1px solid #ddd;padding:8px}
.muted{color:#777}.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
`;

function badge(status: string): string {
  return `<span class="badge ${e(status)}">${e(status)}</span>`;
}

function num(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(2)}%`;
}

function table(head: readonly string[], rows: readonly string[][]): string {
  const th = head.map((h) => `<th>${e(h)}</th>`).join('');
  // Cells are pre-rendered HTML (escaped where they hold data).
  const body = rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const td = (html: string) => `<td>${html}</td>`;
const tn = (html: string) => `<td class="n">${html}</td>`;

function driftRows(columns: readonly ColumnDrift[]): string[][] {
  return [...columns].sort(bySeverity).map((c) => [
    td(e(c.column)), td(e(c.role)), td(e(c.kind)), td(badge(c.severity)),
    tn(num(c.psi)), tn(num(c.ks)), tn(num(c.js)),
    tn(`${pct(c.missingRate.reference)} → ${pct(c.missingRate.current)}`), tn(pct(c.outOfRange)),
    tn(`${c.rows.reference} / ${c.rows.current}`), td(e(c.findings.join('; '))),
  ]);
}

const DRIFT_HEAD = ['column', 'role', 'kind', 'severity', 'PSI', 'KS', 'JS', 'missing ref → cur', 'out of range', 'rows ref / cur', 'findings'];

/** Grouped bar chart of reference vs current shares, as inline SVG. */
export function histogramSvg(panel: HistogramPanel): string {
  const W = 520, H = 200, left = 40, bottom = 40, top = 10;
  const plotW = W - left - 10, plotH = H - bottom - top;
  const max = Math.max(1e-9, ...panel.bins.map((b) => Math.max(b.reference, b.current)));
  const slot = plotW / panel.bins.length;
  const barW = Math.max(1, slot / 2 - 1);
  const y = (share: number) => top + plotH - (share / max) * plotH;
  const parts: string[] = [];
  panel.bins.forEach((b, i) => {
    const x = left + i * slot;
    for (const [k, share, color] of [[0, b.reference, '#5c7cfa'], [1, b.current, '#f08c00']] as const) {
      const tip = `${b.label}: ${k === 0 ? 'reference' : 'current'} ${(share * 100).toFixed(2)}%`;
      parts.push(`<rect x="${(x + k * barW).toFixed(1)}" y="${y(share).toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - y(share)).toFixed(1)}" fill="${color}"><title>${e(tip)}</title></rect>`);
    }
  });
  // Label every bin when there are few (categories), else the two ends.
  const labelled = panel.bins.length <= 12 ? panel.bins.map((_, i) => i) : [0, panel.bins.length - 1];
  for (const i of labelled) {
    const label = panel.bins[i]!.label;
    const short = label.length > 14 ? `${label.slice(0, 13)}…` : label;
    const x = left + i * slot + slot / 2;
    parts.push(`<text x="${x.toFixed(1)}" y="${H - bottom + 14}" font-size="10" text-anchor="middle">${e(short)}</text>`);
  }
  parts.push(`<text x="${left - 4}" y="${top + 8}" font-size="10" text-anchor="end">${e(`${(max * 100).toFixed(1)}%`)}</text>`);
  parts.push(`<text x="${left - 4}" y="${top + plotH}" font-size="10" text-anchor="end">0</text>`);
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${W - 10}" y2="${top + plotH}" stroke="#999"/>`);
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${e(`histogram of ${panel.column}`)}">${parts.join('')}</svg>`;
}

function evaluationRows(label: string, ev: Evaluation): string[] {
  return [td(e(label)), tn(String(ev.rows)), tn(String(ev.positives)), tn(String(ev.skipped)),
    tn(num(ev.auc, 4)), tn(num(ev.logLoss, 4)), tn(num(ev.brier, 4)), tn(num(ev.ece, 4))];
}

function evaluationSection(report: RunReport): string {
  const ev = report.evaluation;
  if (!ev) return '';
  const head = ['slice', 'rows', 'positives', 'skipped', 'AUC', 'log loss', 'Brier', 'ECE'];
  const rows = [evaluationRows('(all)', ev.overall), ...ev.slices.map((s) => evaluationRows(s.value, s.evaluation))];
  const cal = ev.overall.calibration.map((b) => [
    td(e(`${formatNumber(b.lo)} – ${formatNumber(b.hi)}`)), tn(String(b.count)), tn(num(b.meanScore)), tn(num(b.observedRate)),
  ]);
  return `<h2>Ground truth</h2>${table(head, rows)}<h3>Calibration (all rows)</h3>${table(['score bin', 'rows', 'mean score', 'observed rate'], cal)}`;
}

/** The whole report as an HTML document. */
export function renderRunReport(report: RunReport): string {
  const rate = report.seconds > 0 ? Math.round(report.rows / report.seconds) : 0;
  const outcomes = new Map<string, number>();
  for (const p of report.partitions) outcomes.set(p.outcome, (outcomes.get(p.outcome) ?? 0) + 1);
  const summary = table(['', ''], [
    [td('status'), td(badge(report.status))],
    [td('job'), td(e(report.job))],
    [td('run'), td(e(report.runId))],
    [td('started / finished'), td(e(`${report.startedAt} / ${report.finishedAt}`))],
    [td('rows'), tn(`${report.rows} (${rate} rows/s over ${report.seconds.toFixed(1)} s)`)],
    [td('partitions'), td(e([...outcomes].map(([o, n]) => `${n} ${o}`).join(', ') || 'none'))],
    [td('model'), td(report.model ? e(`${report.model.uri} (sha256 ${report.model.sha256})`) : '–')],
    [td('reference'), td(e(report.reference ?? 'none: drift not computed'))],
    [td('drift status'), td(report.drift ? badge(report.drift.status) : '–')],
  ]);
  const partitions = table(['partition', 'outcome', 'files', 'rows', 'seconds', 'error'], report.partitions.map((p) => [
    td(e(p.partition)), td(e(p.outcome)), tn(String(p.files)), tn(String(p.rows)), tn(p.seconds.toFixed(1)), td(e(p.error ?? '')),
  ]));
  const sections = [`<h1>${e(report.title)}</h1>`, summary, '<h2>Partitions</h2>', partitions];
  const drift = report.drift;
  if (drift) {
    sections.push('<h2>Drift by column</h2>', `<div id="drift">${table(DRIFT_HEAD, driftRows(drift.columns))}</div>`);
    if (drift.schema.length > 0) {
      sections.push('<h2>Schema changes</h2>', table(['column', 'change', 'reference type', 'current type', 'severity'], drift.schema.map((s) => [
        td(e(s.column)), td(e(s.change)), td(e(s.reference ?? '–')), td(e(s.current ?? '–')), td(badge(s.severity)),
      ])));
    }
    if (drift.slices.length > 0) {
      sections.push(`<h2>Slices by ${e(drift.sliceBy ?? '')}</h2>`, table(['slice', 'rows', 'compared with', 'status', 'worst columns'], drift.slices.map((s) => [
        td(e(s.value)), tn(String(s.rows)), td(e(s.baseline === 'slice' ? 'same slice' : 'whole reference')), td(badge(s.status)),
        td(e(s.columns.filter((c) => c.severity !== 'ok').slice(0, 3).map((c) => `${c.column}: ${c.findings.join(', ')}`).join('; '))),
      ])));
    }
  }
  if (report.histograms.length > 0) {
    sections.push('<h2>Distributions</h2>',
      '<p class="legend">Share of values per bin:<span style="background:#5c7cfa"></span>reference<span style="background:#f08c00"></span>current</p>',
      `<div class="panels">${report.histograms.map((h) => `<div class="panel"><div>${e(h.column)} <span class="muted">(${e(h.role)})</span> ${badge(h.severity)}</div>${histogramSvg(h)}</div>`).join('\n')}</div>`);
  }
  sections.push(evaluationSection(report));
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${e(report.title)}</title><style>${CSS}</style></head>\n<body>\n${sections.join('\n')}\n</body></html>\n`;
}
