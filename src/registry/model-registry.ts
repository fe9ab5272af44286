/**
 * The model registry: versioned ONNX models and their aliases in any object store, so it
 * works the same on a local folder and on S3.
 *
 *   <root>/<name>/versions/<N>/model.onnx   the bytes, immutable
 *   <root>/<name>/versions/<N>/model.json   metadata (model-metadata.ts), immutable, written last
 *   <root>/<name>/aliases/<alias>.json      target + history (alias-document.ts), updated in place
 *
 * A version exists once its `model.json` does. Version numbers are claimed by creating
 * `model.onnx` with `ifNoneMatch: '*'`: on stores that enforce it (the filesystem store, S3)
 * two registrations can never get the same number and nothing is ever overwritten. Where the
 * store cannot enforce it (`conditionalWrites = false`), the store checks before writing,
 * and the registry re-reads both objects afterwards and fails loudly (`conflict`) if a
 * concurrent registration interleaved with it. That narrows the race to two registrations of
 * the same name within one round trip. If it happens, the loser is told; if the two writes
 * interleaved so that both lose, the version's recorded sha256 may not match its bytes, and
 * every later load (pinned by sha256) refuses it rather than score with the wrong model.
 * A crash between the two writes leaves a `model.onnx` without `model.json`: invisible, and
 * its number is skipped.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { sha256Hex } from '../model/load-model.js';
import { PreconditionFailedError, type ObjectStore } from '../storage/object-store.js';
import { joinKey, resolveUri, type ResolveOptions } from '../storage/resolve.js';
import { previousTarget, promoteAlias, rollbackAlias, type AliasDocument } from './alias-document.js';
import { readAliasDocument, updateAliasDocument, type AliasUpdateOptions } from './alias-store.js';
import { RegistryError } from './errors.js';
import { cardTitle, checkCard, checkMetrics } from './model-card.js';
import { buildModelMetadata, parseModelMetadata, serializeModelMetadata, type ModelMetadata } from './model-metadata.js';
import { checkAliasName, checkModelName, checkVersion, formatModelRef, parseModelRef } from './names.js';
import type { AliasChangeResult, AliasSummary, ModelListing, RegisteredVersion, RegisterOptions, ResolvedModelRef, VersionSummary } from './registry-types.js';
import { validateModel } from './validate-model.js';

export type { AliasChangeResult, AliasSummary, ModelListing, RegisteredVersion, RegisterOptions, ResolvedModelRef, VersionSummary } from './registry-types.js';

/** How many times `register` moves on to the next number before giving up. */
const MAX_VERSION_CLAIMS = 50;
const VERSION_FILE_RE = /^([1-9][0-9]*)\/(model\.onnx|model\.json)$/;

/** `user@host` of this process, for `createdBy` and alias history. */
export function defaultActor(): string {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (containers running as an arbitrary uid).
    user = process.env.USER ?? process.env.LOGNAME ?? `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return `${user}@${os.hostname()}`;
}

/** Run `fn` on every item with at most `limit` in flight, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A registry rooted at `root` (a key: absolute path for the filesystem store, prefix for S3). */
export class ModelRegistry {
  /** Root key without trailing slash (`''` for the root of a bucket). */
  readonly root: string;

  constructor(readonly store: ObjectStore, root: string, private readonly aliasOptions: AliasUpdateOptions = {}) {
    this.root = /^\/+$/.test(root) ? '/' : root.replace(/\/+$/, '');
  }

  /** URI of the registry root, for messages. */
  uri(): string {
    return this.store.uri(this.root === '' ? '' : this.root);
  }

  private versionsPrefix(name: string): string {
    return `${joinKey(this.root, name, 'versions')}/`;
  }

  private versionKey(name: string, version: number, file: 'model.onnx' | 'model.json'): string {
    return joinKey(this.root, name, 'versions', String(version), file);
  }

  private aliasKey(name: string, alias: string): string {
    return joinKey(this.root, name, 'aliases', `${alias}.json`);
  }

  /** Version numbers under `name`: every claimed number, and those complete (with model.json). */
  private async scanVersions(name: string): Promise<{ claimed: number; complete: number[] }> {
    const prefix = this.versionsPrefix(name);
    let claimed = 0;
    const complete: number[] = [];
    for await (const obj of this.store.list(prefix)) {
      const m = VERSION_FILE_RE.exec(obj.key.slice(prefix.length));
      if (!m) continue;
      const version = Number(m[1]);
      claimed = Math.max(claimed, version);
      if (m[2] === 'model.json') complete.push(version);
    }
    return { claimed, complete: complete.sort((a, b) => a - b) };
  }

  /**
   * Validate and store a new version of `name`; returns it. The version number is the next
   * free integer (1 for a new model). Nothing is uploaded unless the model loads in ONNX
   * Runtime and the metadata is valid.
   * @throws RegistryError `invalid-name`, `invalid-metadata`, `invalid-model`, `conflict`
   */
  async register(name: string, bytes: Uint8Array, options: RegisterOptions = {}): Promise<RegisteredVersion> {
    checkModelName(name);
    const metrics = checkMetrics(options.metrics);
    const card = checkCard(options.card);
    const validated = await validateModel(bytes, name, options.source);
    const sha256 = sha256Hex(bytes);
    const registrationId = randomUUID();

    let version = (await this.scanVersions(name)).claimed + 1;
    for (let claims = 0; ; claims++) {
      if (claims === MAX_VERSION_CLAIMS) {
        throw new RegistryError('conflict', `registry: could not claim a version number for "${name}" in ${this.uri()} after ${MAX_VERSION_CLAIMS} attempts`);
      }
      try {
        await this.store.put(this.versionKey(name, version, 'model.onnx'), bytes, { ifNoneMatch: '*', contentType: 'application/octet-stream' });
        break;
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
        version++; // taken (by a concurrent registration, or a listing that lagged behind)
      }
    }

    const metadata = buildModelMetadata({
      name,
      version,
      sha256,
      size: bytes.byteLength,
      createdAt: new Date().toISOString(),
      createdBy: options.createdBy ?? defaultActor(),
      source: options.source ?? null,
      registrationId,
      sourceSignature: validated.sourceSignature,
      signature: validated.signature,
      ...(options.featureNames !== undefined && { featureNames: options.featureNames }),
      metrics,
      card,
      notes: validated.notes,
    });
    const jsonKey = this.versionKey(name, version, 'model.json');
    const raced = () =>
      new RegistryError(
        'conflict',
        `registry: version ${version} of "${name}" in ${this.uri()} was written by a concurrent registration ` +
          '(this store does not enforce conditional writes); check it with "models list" and register again',
      );
    try {
      await this.store.put(jsonKey, serializeModelMetadata(metadata), { ifNoneMatch: '*', contentType: 'application/json' });
    } catch (err) {
      if (err instanceof PreconditionFailedError) throw raced();
      throw err;
    }
    if (!this.store.conditionalWrites) {
      const stored = await this.readMetadata(name, version);
      const storedBytes = await this.store.get(this.versionKey(name, version, 'model.onnx'));
      if (stored.registrationId !== registrationId || sha256Hex(storedBytes) !== sha256) throw raced();
    }
    return this.describe(metadata);
  }

  private describe(metadata: ModelMetadata): RegisteredVersion {
    return {
      metadata,
      uri: this.store.uri(this.versionKey(metadata.name, metadata.version, 'model.onnx')),
      metadataUri: this.store.uri(this.versionKey(metadata.name, metadata.version, 'model.json')),
    };
  }

  private async readMetadata(name: string, version: number): Promise<ModelMetadata> {
    const key = this.versionKey(name, version, 'model.json');
    if (!(await this.store.head(key))) {
      const { complete } = await this.scanVersions(name);
      const known = complete.length > 0 ? `versions: ${complete.join(', ')}` : 'it has no versions';
      throw new RegistryError('not-found', `registry: model "${name}" has no version ${version} in ${this.uri()} (${known})`);
    }
    const text = Buffer.from(await this.store.get(key)).toString('utf8');
    return parseModelMetadata(text, this.store.uri(key), { name, version });
  }

  /**
   * One version's metadata and URIs.
   * @throws RegistryError `not-found` when the version does not exist
   */
  async get(name: string, version: number): Promise<RegisteredVersion> {
    checkModelName(name);
    return this.describe(await this.readMetadata(name, checkVersion(version)));
  }

  /** A version's bytes, checked against its recorded sha256. */
  async readModel(name: string, version: number): Promise<Uint8Array> {
    const { metadata } = await this.get(name, version);
    const bytes = await this.store.get(this.versionKey(name, version, 'model.onnx'));
    const actual = sha256Hex(bytes);
    if (actual !== metadata.sha256) {
      throw new RegistryError('corrupt', `registry: ${this.store.uri(this.versionKey(name, version, 'model.onnx'))} hashes to ${actual}, but its model.json records ${metadata.sha256}`);
    }
    return bytes;
  }

  /** Names of every model with at least one complete version, sorted. */
  async listModels(): Promise<string[]> {
    const prefix = this.root === '' || this.root.endsWith('/') ? this.root : `${this.root}/`;
    const names = new Set<string>();
    for await (const obj of this.store.list(prefix)) {
      const m = /^([^/]+)\/versions\/[1-9][0-9]*\/model\.json$/.exec(obj.key.slice(prefix.length));
      if (m) names.add(m[1]!);
    }
    return [...names].sort();
  }

  /** The alias document of `name@alias`, or undefined. */
  async getAlias(name: string, alias: string): Promise<AliasDocument | undefined> {
    checkModelName(name);
    checkAliasName(alias);
    return (await readAliasDocument(this.store, this.aliasKey(name, alias), { model: name, alias }))?.doc;
  }

  private async aliasDocuments(name: string): Promise<AliasDocument[]> {
    const prefix = `${joinKey(this.root, name, 'aliases')}/`;
    const aliases: string[] = [];
    for await (const obj of this.store.list(prefix)) {
      const m = /^([a-z][a-z0-9_-]*)\.json$/.exec(obj.key.slice(prefix.length));
      if (m) aliases.push(m[1]!);
    }
    const docs = await mapLimit(aliases, 8, (alias) => this.getAlias(name, alias));
    return docs.filter((d): d is AliasDocument => d !== undefined).sort((a, b) => (a.alias < b.alias ? -1 : 1));
  }

  /**
   * Versions (with sha256, creation time, metrics, aliases) and aliases of one model.
   * @throws RegistryError `not-found` when the model has no versions
   */
  async list(name: string): Promise<ModelListing> {
    checkModelName(name);
    const { complete } = await this.scanVersions(name);
    if (complete.length === 0) throw new RegistryError('not-found', `registry: no model "${name}" in ${this.uri()}`);
    const [metas, aliasDocs] = await Promise.all([mapLimit(complete, 8, (v) => this.readMetadata(name, v)), this.aliasDocuments(name)]);
    const versions = metas.map((m): VersionSummary => ({
      version: m.version,
      sha256: m.sha256,
      size: m.size,
      createdAt: m.createdAt,
      createdBy: m.createdBy,
      metrics: m.metrics,
      aliases: aliasDocs.filter((d) => d.target === m.version).map((d) => d.alias),
      cardTitle: cardTitle(m.card),
    }));
    const aliases = aliasDocs.map((d): AliasSummary => {
      const last = d.history[d.history.length - 1]!;
      return { alias: d.alias, version: d.target, updatedAt: last.at, updatedBy: last.by, rollbackTo: previousTarget(d) ?? null };
    });
    return { name, versions, aliases };
  }

  /**
   * Resolve `name`, `name@latest`, `name@<version>` or `name@<alias>` to one version, pinned
   * by sha256. Call it once per run, at planning time, and record the result: an alias can
   * move while the run is going on.
   * @throws RegistryError `invalid-name`, `not-found`, `corrupt`
   */
  async resolveRef(ref: string): Promise<ResolvedModelRef> {
    const parsed = parseModelRef(ref);
    const { name } = parsed;
    let version: number;
    let alias: string | undefined;
    if (parsed.kind === 'version') {
      version = parsed.version;
    } else if (parsed.kind === 'alias') {
      const doc = await this.getAlias(name, parsed.alias);
      if (!doc) {
        const known = (await this.aliasDocuments(name)).map((d) => d.alias);
        const hint = known.length > 0 ? `aliases: ${known.join(', ')}` : 'it has no aliases';
        throw new RegistryError('not-found', `registry: model "${name}" has no alias "${parsed.alias}" in ${this.uri()} (${hint})`);
      }
      version = doc.target;
      alias = parsed.alias;
    } else {
      const { complete } = await this.scanVersions(name);
      const latest = complete[complete.length - 1];
      if (latest === undefined) throw new RegistryError('not-found', `registry: no model "${name}" in ${this.uri()}`);
      version = latest;
    }
    const metadata = await this.readMetadata(name, version);
    const modelKey = this.versionKey(name, version, 'model.onnx');
    const info = await this.store.head(modelKey);
    if (!info || info.size !== metadata.size) {
      const found = info ? `${info.size} bytes` : 'missing';
      throw new RegistryError('corrupt', `registry: ${this.store.uri(modelKey)} is ${found}, but its model.json records ${metadata.size} bytes`);
    }
    return {
      ref: formatModelRef(parsed),
      name,
      version,
      ...(alias !== undefined && { alias }),
      sha256: metadata.sha256,
      size: metadata.size,
      uri: this.store.uri(modelKey),
    };
  }

  /**
   * Point `name@alias` at `version` (which must exist), recording the change in the alias
   * history. Promoting to the current target is a no-op (`changed: false`).
   * @throws RegistryError `invalid-name`, `not-found`, `conflict`
   */
  async promote(name: string, version: number, alias: string, options: { by?: string } = {}): Promise<AliasChangeResult> {
    checkModelName(name);
    checkAliasName(alias, true);
    checkVersion(version);
    await this.readMetadata(name, version); // refuse aliases to versions that do not exist
    const change = { model: name, alias, at: new Date().toISOString(), by: options.by ?? defaultActor(), id: randomUUID() };
    let previous: number | undefined;
    const result = await updateAliasDocument(this.store, this.aliasKey(name, alias), { model: name, alias }, change.id, (current) => {
      previous = current?.target;
      return promoteAlias(current, change, version);
    }, this.aliasOptions);
    return { name, alias, version, previous, changed: result.changed, mode: result.mode };
  }

  /**
   * Point `name@alias` back at the target it had before the current one (see
   * alias-document.ts: repeated rollbacks walk further back). If the alias moves while
   * this runs, it stops with a `conflict` rather than undo someone else's change.
   * @throws RegistryError `invalid-name`, `not-found`, `no-history`, `conflict`
   */
  async rollback(name: string, alias: string, options: { by?: string } = {}): Promise<AliasChangeResult> {
    checkModelName(name);
    checkAliasName(alias, true);
    const change = { model: name, alias, at: new Date().toISOString(), by: options.by ?? defaultActor(), id: randomUUID() };
    let seen: number | undefined;
    let rolledBack: AliasDocument | undefined;
    const result = await updateAliasDocument(this.store, this.aliasKey(name, alias), { model: name, alias }, change.id, (current, attempt) => {
      if (attempt === 1) {
        seen = current?.target;
      } else if (current?.target !== seen) {
        throw new RegistryError(
          'conflict',
          `registry: alias "${alias}" of model "${name}" moved from version ${seen} to ${current?.target ?? '(deleted)'} ` +
            'while rolling back; not undoing that change: check "models list" and roll back again if still wanted',
        );
      }
      rolledBack = rollbackAlias(current, change);
      return { doc: rolledBack, changed: true };
    }, this.aliasOptions);
    return { name, alias, version: result.doc.target, previous: seen, changed: rolledBack !== undefined, mode: result.mode };
  }
}

/**
 * A registry at a location: local path, `file://` or `s3://bucket/prefix` (S3 settings from
 * the environment, as for job specs). This is what the CLI and the planner should call.
 */
export function openRegistry(uri: string, options: ResolveOptions = {}): ModelRegistry {
  const { store, key } = resolveUri(uri, options);
  return new ModelRegistry(store, key);
}
