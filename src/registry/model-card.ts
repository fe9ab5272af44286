/**
 * What a registrant says about a model besides its bytes: metrics (`--metrics auc=0.81`)
 * and a model card (free Markdown, `--card card.md`). Pure validation, so `models register`
 * refuses bad input before anything is uploaded.
 */
import { RegistryError } from './errors.js';

/** Largest model card accepted, in UTF-8 bytes: a card is documentation, not an attachment. */
export const MAX_CARD_BYTES = 64 * 1024;
/** Most metrics one version may carry. */
export const MAX_METRICS = 100;

/** Metric names: identifier-like, with `.`, `/`, `:`, `-` for `val/auc` or `auc@0.5`-style groups. */
const METRIC_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:/@-]{0,63}$/;

function quote(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Validate a metrics object: names as above, values finite numbers, at most `MAX_METRICS`.
 * Returns a copy with keys sorted, so that equal metrics serialise equally.
 */
export function checkMetrics(metrics: unknown): Record<string, number> {
  if (metrics === undefined) return {};
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) {
    throw new RegistryError('invalid-metadata', `registry: metrics must be an object of name → number, got ${quote(metrics)}`);
  }
  const entries = Object.entries(metrics as Record<string, unknown>);
  if (entries.length > MAX_METRICS) {
    throw new RegistryError('invalid-metadata', `registry: at most ${MAX_METRICS} metrics per version, got ${entries.length}`);
  }
  const out: Record<string, number> = {};
  for (const [name, value] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!METRIC_NAME_RE.test(name)) {
      throw new RegistryError('invalid-metadata', `registry: invalid metric name ${quote(name)}: use letters, digits, "_", ".", ":", "/", "@", "-", starting with a letter or "_"`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RegistryError('invalid-metadata', `registry: metric ${quote(name)} must be a finite number, got ${quote(value)}`);
    }
    out[name] = value;
  }
  return out;
}

/**
 * Parse CLI metric arguments: each is `name=value`, or several joined by commas
 * (`--metrics auc=0.81,f1=0.7 --metrics logloss=0.41`). A name given twice is an error
 * rather than "last one wins": it is almost always a typo.
 */
export function parseMetricArgs(args: readonly string[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const arg of args) {
    for (const part of arg.split(',')) {
      const item = part.trim();
      if (item === '') continue;
      const eq = item.indexOf('=');
      if (eq <= 0 || eq === item.length - 1) {
        throw new RegistryError('invalid-metadata', `registry: invalid metric ${quote(item)}: expected name=number, e.g. auc=0.81`);
      }
      const name = item.slice(0, eq).trim();
      const text = item.slice(eq + 1).trim();
      // Number('') is 0 and Number('0x10') is 16: accept only decimal notation.
      const value = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isFinite(value)) {
        throw new RegistryError('invalid-metadata', `registry: metric ${quote(name)} must be a finite number, got ${quote(text)}`);
      }
      if (Object.hasOwn(metrics, name)) throw new RegistryError('invalid-metadata', `registry: metric ${quote(name)} given twice`);
      metrics[name] = value;
    }
  }
  return checkMetrics(metrics);
}

/**
 * Validate a model card: a string of at most `MAX_CARD_BYTES` UTF-8 bytes without NUL
 * characters (they mark a binary file passed by mistake). Line endings are normalised to
 * `\n` so the same card written on Windows and Linux is stored identically.
 */
export function checkCard(card: unknown): string | null {
  if (card === undefined || card === null) return null;
  if (typeof card !== 'string') throw new RegistryError('invalid-metadata', `registry: model card must be text, got ${quote(card)}`);
  if (card.includes('\u0000')) throw new RegistryError('invalid-metadata', 'registry: model card contains NUL characters: is it a binary file?');
  const bytes = Buffer.byteLength(card, 'utf8');
  if (bytes > MAX_CARD_BYTES) {
    throw new RegistryError('invalid-metadata', `registry: model card is ${bytes} bytes; the limit is ${MAX_CARD_BYTES} (link to longer documents instead)`);
  }
  return card.replace(/\r\n?/g, '\n');
}

/** The card's title: its first Markdown heading, else its first non-empty line (for listings). */
export function cardTitle(card: string | null): string | null {
  if (!card) return null;
  const lines = card.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const heading = lines.find((l) => /^#{1,6}\s/.test(l));
  const title = (heading ?? lines[0] ?? '').replace(/^#{1,6}\s+/, '').trim();
  return title === '' ? null : title.length > 120 ? `${title.slice(0, 117)}...` : title;
}
