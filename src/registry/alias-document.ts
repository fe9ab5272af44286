/**
 * Alias documents: `<registry>/<model>/aliases/<alias>.json`, one small JSON object per
 * alias holding its current target version and the log of every change. Pure: parsing,
 * validation and the two changes (promote, rollback); `alias-store.ts` does the I/O.
 *
 * Rollback undoes changes like a stack, not a toggle: after promoting 1, 2, 3, a rollback
 * goes to 2 and a second rollback to 1 (not back to 3). The log stays append-only (a
 * rollback is logged, never erased) and the stack is derived from it, so the document is
 * both the audit trail and what rollback works from.
 */
import { RegistryError } from './errors.js';
import { checkAliasName, checkModelName, checkVersion } from './names.js';

/** Format tag written in every alias document, checked on read. */
export const ALIAS_DOCUMENT_FORMAT = 'batchscore.alias/1';

/**
 * Entries kept in the log; the oldest are dropped beyond it. At one promotion a day that is
 * years; rollback can go back at most this many changes.
 */
export const ALIAS_HISTORY_LIMIT = 1000;

/** What a history entry records. */
export type AliasAction = 'promote' | 'rollback';

/** One change of an alias: the version it pointed to afterwards, when, by whom, how. */
export interface AliasHistoryEntry {
  /** Target version after this change. */
  version: number;
  /** ISO-8601 time of the change. */
  at: string;
  /** Who made it (`user@host` by default). */
  by: string;
  action: AliasAction;
  /** Random id of the change: lets a writer see whether its own write survived a race. */
  id: string;
}

/** The stored alias document. */
export interface AliasDocument {
  format: typeof ALIAS_DOCUMENT_FORMAT;
  model: string;
  alias: string;
  /** Current target version; always the version of the last history entry. */
  target: number;
  /** Every change, oldest first (at most `ALIAS_HISTORY_LIMIT`). */
  history: AliasHistoryEntry[];
}

/** Who, when and which change: the parts of an entry the caller supplies. */
export interface AliasChange {
  model: string;
  alias: string;
  at: string;
  by: string;
  id: string;
}

function corrupt(where: string, detail: string): RegistryError {
  return new RegistryError('corrupt', `registry: alias document ${where} is invalid: ${detail}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parse and validate an alias document.
 * @param where URI of the document, for messages
 * @param expected the model and alias the key says it belongs to (a copied file is refused)
 */
export function parseAliasDocument(text: string, where: string, expected: { model: string; alias: string }): AliasDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw corrupt(where, `not JSON (${(err as Error).message})`);
  }
  if (!isObject(raw)) throw corrupt(where, 'not a JSON object');
  if (raw.format !== ALIAS_DOCUMENT_FORMAT) throw corrupt(where, `format is ${JSON.stringify(raw.format)}, expected "${ALIAS_DOCUMENT_FORMAT}"`);
  if (raw.model !== expected.model || raw.alias !== expected.alias) {
    throw corrupt(where, `it names ${JSON.stringify(raw.model)}@${JSON.stringify(raw.alias)}, expected "${expected.model}@${expected.alias}"`);
  }
  if (!Array.isArray(raw.history) || raw.history.length === 0) throw corrupt(where, 'history must be a non-empty array');
  const history = raw.history.map((e: unknown, i: number): AliasHistoryEntry => {
    if (
      !isObject(e) ||
      typeof e.version !== 'number' || !Number.isSafeInteger(e.version) || e.version < 1 ||
      typeof e.at !== 'string' || Number.isNaN(Date.parse(e.at)) ||
      typeof e.by !== 'string' ||
      (e.action !== 'promote' && e.action !== 'rollback') ||
      typeof e.id !== 'string'
    ) {
      throw corrupt(where, `history[${i}] is malformed: ${JSON.stringify(e)}`);
    }
    return { version: e.version, at: e.at, by: e.by, action: e.action, id: e.id };
  });
  const last = history[history.length - 1]!;
  if (raw.target !== last.version) throw corrupt(where, `target ${JSON.stringify(raw.target)} differs from the last history entry (${last.version})`);
  return { format: ALIAS_DOCUMENT_FORMAT, model: expected.model, alias: expected.alias, target: last.version, history };
}

/** The stored form of a document (pretty JSON: people read these when something went wrong). */
export function serializeAliasDocument(doc: AliasDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * The undo stack the log describes, bottom first; its top is the current target. A promote
 * pushes; a rollback pops, and if the log was trimmed below what it popped to, it pushes the
 * version the rollback recorded so the top is always right.
 */
export function targetStack(history: readonly AliasHistoryEntry[]): number[] {
  const stack: number[] = [];
  for (const entry of history) {
    if (entry.action === 'promote') {
      stack.push(entry.version);
    } else {
      stack.pop();
      if (stack[stack.length - 1] !== entry.version) stack.push(entry.version);
    }
  }
  return stack;
}

/** The version a rollback would go back to, or undefined when there is none. */
export function previousTarget(doc: AliasDocument): number | undefined {
  const stack = targetStack(doc.history);
  return stack.length >= 2 ? stack[stack.length - 2] : undefined;
}

function append(current: AliasDocument | undefined, change: AliasChange, version: number, action: AliasAction): AliasDocument {
  const entry: AliasHistoryEntry = { version, at: change.at, by: change.by, action, id: change.id };
  const history = [...(current?.history ?? []), entry];
  return {
    format: ALIAS_DOCUMENT_FORMAT,
    model: change.model,
    alias: change.alias,
    target: version,
    history: history.length > ALIAS_HISTORY_LIMIT ? history.slice(history.length - ALIAS_HISTORY_LIMIT) : history,
  };
}

/**
 * Point the alias at `version` (creating the document if `current` is undefined).
 * Promoting to the current target changes nothing and returns `changed: false`.
 */
export function promoteAlias(current: AliasDocument | undefined, change: AliasChange, version: number): { doc: AliasDocument; changed: boolean } {
  checkModelName(change.model);
  checkAliasName(change.alias, true);
  checkVersion(version);
  if (current?.target === version) return { doc: current, changed: false };
  return { doc: append(current, change, version, 'promote'), changed: true };
}

/**
 * Point the alias back at the target it had before its current one.
 * @throws RegistryError `not-found` without a document, `no-history` without a previous target
 */
export function rollbackAlias(current: AliasDocument | undefined, change: AliasChange): AliasDocument {
  if (!current) {
    throw new RegistryError('not-found', `registry: alias "${change.alias}" of model "${change.model}" does not exist: nothing to roll back`);
  }
  const previous = previousTarget(current);
  if (previous === undefined) {
    throw new RegistryError(
      'no-history',
      `registry: alias "${change.alias}" of model "${change.model}" has no previous target to roll back to (it points to version ${current.target})`,
    );
  }
  return append(current, change, previous, 'rollback');
}
