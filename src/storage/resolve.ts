/**
 * From a user-facing location (a job spec field, a CLI argument) to a store and a key:
 * plain local paths, `file://` URIs and `s3://bucket/prefix`. S3 settings come from the
 * environment so one job spec runs against AWS, a local S3 clone or a test server unchanged.
 */
import { isAbsolute, posix, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from './file-store.js';
import type { ObjectStore } from './object-store.js';
import type { S3StoreOptions } from './s3-store.js';
import { LazyS3Store } from './lazy-s3-store.js';

/** A parsed location: a local absolute path, or a bucket and key (no leading slash). */
export type ParsedUri = { scheme: 'file'; path: string } | { scheme: 's3'; bucket: string; key: string };

/** S3 settings `resolveUri` takes from the options argument, then the environment. */
export type S3Settings = Omit<S3StoreOptions, 'bucket'>;

/** Options of `resolveUri`. */
export interface ResolveOptions {
  /** S3 settings; each one given here wins over its environment variable. */
  s3?: S3Settings;
  /** Environment to read (default `process.env`); a parameter so tests need not mutate it. */
  env?: NodeJS.ProcessEnv;
  /** Base for relative local paths (default `process.cwd()`). */
  cwd?: string;
}

/** A store and the key inside it. */
export interface Resolved {
  store: ObjectStore;
  key: string;
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;
const BUCKET = /^[a-z0-9][a-z0-9.\-_]{1,254}$/i;

/**
 * Parse a location. Relative paths resolve against `cwd`; a trailing slash is kept because
 * it matters for prefixes (`out/` lists only the directory, `out` also matches `out-old/`).
 */
export function parseUri(uri: string, cwd: string = process.cwd()): ParsedUri {
  if (typeof uri !== 'string' || uri === '') throw new Error(`storage: empty location "${String(uri)}"`);
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    const path = isAbsolute(uri) ? posix.normalize(uri) : resolvePath(cwd, uri);
    return { scheme: 'file', path: keepTrailingSlash(uri, path) };
  }
  if (scheme === 'file') {
    let path: string;
    try {
      path = fileURLToPath(uri);
    } catch (err) {
      throw new Error(`storage: invalid file URI "${uri}": ${(err as Error).message}`, { cause: err });
    }
    return { scheme: 'file', path: keepTrailingSlash(uri, path) };
  }
  if (scheme === 's3') {
    // S3 URIs are not percent-encoded (as in the AWS CLI): the key is taken verbatim.
    const rest = uri.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const key = slash === -1 ? '' : rest.slice(slash + 1);
    if (!BUCKET.test(bucket)) throw new Error(`storage: invalid S3 bucket name "${bucket}" in "${uri}"`);
    return { scheme: 's3', bucket, key };
  }
  throw new Error(`storage: unsupported location "${uri}": scheme "${scheme}://" (supported: local paths, file://, s3://)`);
}

function keepTrailingSlash(original: string, path: string): string {
  return original.endsWith('/') && !path.endsWith('/') ? `${path}/` : path;
}

const fileStore = new FileStore();
const s3Stores = new Map<string, LazyS3Store>();
// Explicit credentials (objects or provider functions) join the cache key by identity,
// never by content: secrets stay out of the key.
const credentialIds = new WeakMap<object, number>();
let nextCredentialId = 1;

/**
 * Resolve a location to a store and key. S3 stores are cached per bucket and settings, so
 * every partition of a run shares one client (and its connection pool).
 */
export function resolveUri(uri: string, options: ResolveOptions = {}): Resolved {
  const parsed = parseUri(uri, options.cwd);
  if (parsed.scheme === 'file') return { store: fileStore, key: parsed.path };
  const settings = s3SettingsFromEnv(options.env ?? process.env, options.s3);
  const { credentials, ...rest } = settings;
  let credentialId = 0;
  if (credentials !== undefined) {
    credentialId = credentialIds.get(credentials) ?? nextCredentialId++;
    credentialIds.set(credentials, credentialId);
  }
  const fields = Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1));
  const cacheKey = JSON.stringify([parsed.bucket, credentialId, fields]);
  let store = s3Stores.get(cacheKey);
  if (!store) {
    store = new LazyS3Store({ ...settings, bucket: parsed.bucket });
    s3Stores.set(cacheKey, store);
  }
  return { store, key: parsed.key };
}

/** Close every cached S3 store (their sockets) and forget them; for shutdown and tests. */
export function closeCachedStores(): void {
  for (const store of s3Stores.values()) store.close();
  s3Stores.clear();
}

/**
 * S3 settings from the environment, overridden field by field by `overrides`:
 * `BATCHSCORE_S3_ENDPOINT` (else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`),
 * `BATCHSCORE_S3_FORCE_PATH_STYLE` (true/false), `BATCHSCORE_S3_CHECKSUMS`
 * (when_required/when_supported), `BATCHSCORE_S3_CONDITIONAL_WRITES` (true/false),
 * `BATCHSCORE_S3_SSE` (AES256/aws:kms), `BATCHSCORE_S3_SSE_KMS_KEY_ID`; region from
 * `AWS_REGION` (else `AWS_DEFAULT_REGION`). Credentials are never read here: the SDK's
 * default provider chain finds them.
 */
export function s3SettingsFromEnv(env: NodeJS.ProcessEnv, overrides: S3Settings = {}): S3Settings {
  const fromEnv: S3Settings = {};
  const endpoint = env.BATCHSCORE_S3_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  if (endpoint) fromEnv.endpoint = endpoint;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (region) fromEnv.region = region;
  const pathStyle = envBoolean(env, 'BATCHSCORE_S3_FORCE_PATH_STYLE');
  if (pathStyle !== undefined) fromEnv.forcePathStyle = pathStyle;
  const conditional = envBoolean(env, 'BATCHSCORE_S3_CONDITIONAL_WRITES');
  if (conditional !== undefined) fromEnv.conditionalWrites = conditional;
  const checksums = envChoice(env, 'BATCHSCORE_S3_CHECKSUMS', ['when_required', 'when_supported'] as const);
  if (checksums !== undefined) fromEnv.checksums = checksums;
  const sse = envChoice(env, 'BATCHSCORE_S3_SSE', ['AES256', 'aws:kms'] as const);
  if (sse !== undefined) fromEnv.serverSideEncryption = sse;
  if (env.BATCHSCORE_S3_SSE_KMS_KEY_ID) fromEnv.sseKmsKeyId = env.BATCHSCORE_S3_SSE_KMS_KEY_ID;
  const defined = Object.entries(overrides).filter(([, v]) => v !== undefined);
  return { ...fromEnv, ...Object.fromEntries(defined) };
}

function envBoolean(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new Error(`storage: ${name} must be true or false, got "${raw}"`);
}

function envChoice<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly T[]): T | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const found = choices.find((c) => c.toLowerCase() === raw.trim().toLowerCase());
  if (found === undefined) throw new Error(`storage: ${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  return found;
}

/**
 * Append path segments to a key of either kind: `joinKey('/data/out', 'p=1', 'a.parquet')`
 * or `joinKey('runs/7/', 'x')`. Always `/`-separated; empty parts and duplicate slashes at
 * the seams are dropped, and `.`/`..` are rejected rather than resolved (on S3 they are
 * literal key characters, on disk they would escape the prefix).
 */
export function joinKey(key: string, ...parts: string[]): string {
  let out = key;
  for (const part of parts) {
    const segments = part.split('/').filter((s) => s !== '');
    for (const segment of segments) {
      if (segment === '.' || segment === '..') {
        throw new Error(`storage: joinKey refuses "${segment}" segments: "${part}" under "${key}"`);
      }
    }
    if (segments.length === 0) continue;
    const joined = segments.join('/');
    out = out === '' ? joined : out.endsWith('/') ? `${out}${joined}` : `${out}/${joined}`;
  }
  // A trailing slash on the last part marks a prefix ("directory"); keep it.
  const last = parts[parts.length - 1];
  return last?.endsWith('/') && !out.endsWith('/') ? `${out}/` : out;
}
