/**
 * Reading and updating alias documents in an object store. An update is a read-modify-write
 * guarded by the document's etag: `ifMatch` (or `ifNoneMatch: '*'` when creating). Stores
 * that enforce conditions make this a true compare-and-swap; where they do not (s3rver,
 * many S3 clones: `conditionalWrites = false`) the store falls back to a check-then-write,
 * and two writers racing inside that window both succeed: the last writer wins.
 *
 * Either way, every update re-reads the document after writing and looks for its own
 * history entry (by random id). If a racing writer replaced the document without it, the
 * update is applied again on top of the winner's document, so both changes end up in the
 * history in some order. What remains unguarded without conditional writes: a writer that
 * overwrites ours *after* our re-read; its own history then lacks our entry. Aliases change
 * rarely and by hand, so that window (one round trip) is accepted and documented.
 */
import { NotFoundError, PreconditionFailedError, type ObjectStore } from '../storage/object-store.js';
import { parseAliasDocument, serializeAliasDocument, type AliasDocument } from './alias-document.js';
import { RegistryError } from './errors.js';

/** How an alias update was protected against concurrent writers. */
export type AliasWriteMode = 'compare-and-swap' | 'last-writer-wins';

/** An alias document and the etag it was read with. */
export interface StoredAlias {
  doc: AliasDocument;
  etag: string;
}

/** Outcome of {@link updateAliasDocument}. */
export interface AliasUpdateResult {
  /** The document as this update wrote it (or found it, when nothing changed). */
  doc: AliasDocument;
  /** False when the decision was "no change" (e.g. promoting to the current target). */
  changed: boolean;
  mode: AliasWriteMode;
  /** Read-modify-write rounds it took (1 without contention). */
  attempts: number;
}

/** Options of {@link updateAliasDocument}. */
export interface AliasUpdateOptions {
  /** Rounds before giving up with a `conflict` error. Default 8. */
  maxAttempts?: number;
  /** Wait between rounds; a parameter so tests need not sleep. Default: 10–40 ms × round. */
  backoff?: (attempt: number) => Promise<void>;
}

const JSON_TYPE = 'application/json';

function defaultBackoff(attempt: number): Promise<void> {
  // Jitter, so two writers that collided do not collide again in lockstep.
  const ms = (10 + Math.random() * 30) * attempt;
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Read an alias document with the etag it was read at, or undefined if it does not exist.
 * HEAD comes before GET on purpose: if the document changes in between, we hold newer
 * content with an older etag, and the conditional write fails safe (a retry). The other
 * order would pair old content with a new etag and let a stale update through.
 */
export async function readAliasDocument(store: ObjectStore, key: string, expected: { model: string; alias: string }): Promise<StoredAlias | undefined> {
  const info = await store.head(key);
  if (!info) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined; // deleted between HEAD and GET
    throw err;
  }
  const doc = parseAliasDocument(Buffer.from(bytes).toString('utf8'), store.uri(key), expected);
  return { doc, etag: info.etag };
}

/**
 * Read-modify-write an alias document until the change sticks.
 * @param decide given the current document (undefined if none) and the round number,
 *   returns the new document and whether it changed; may throw to abort (e.g. a rollback
 *   that finds the alias moved under it). Called again on every round with fresh data.
 * @param changeId the id of the history entry `decide` appends: how the re-read recognises it
 * @throws RegistryError `conflict` after `maxAttempts` rounds lost to other writers
 */
export async function updateAliasDocument(
  store: ObjectStore,
  key: string,
  expected: { model: string; alias: string },
  changeId: string,
  decide: (current: AliasDocument | undefined, attempt: number) => { doc: AliasDocument; changed: boolean },
  options: AliasUpdateOptions = {},
): Promise<AliasUpdateResult> {
  const maxAttempts = options.maxAttempts ?? 8;
  const backoff = options.backoff ?? defaultBackoff;
  const mode: AliasWriteMode = store.conditionalWrites ? 'compare-and-swap' : 'last-writer-wins';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const current = await readAliasDocument(store, key, expected);
    const { doc, changed } = decide(current?.doc, attempt);
    if (!changed) return { doc, changed: false, mode, attempts: attempt };
    try {
      const condition = current ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const };
      await store.put(key, serializeAliasDocument(doc), { ...condition, contentType: JSON_TYPE });
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      await backoff(attempt);
      continue;
    }
    const after = await readAliasDocument(store, key, expected);
    if (after?.doc.history.some((e) => e.id === changeId)) return { doc, changed: true, mode, attempts: attempt };
    // Our write was replaced by a racing writer that had not seen it: apply it again.
    await backoff(attempt);
  }
  throw new RegistryError(
    'conflict',
    `registry: could not update alias "${expected.alias}" of model "${expected.model}" at ${store.uri(key)}: ` +
      `${maxAttempts} attempts lost to concurrent updates; try again`,
  );
}
