/**
 * Model names, aliases, versions and refs (`churn`, `churn@production`, `churn@3`): their
 * grammar in one place, so that the registry, the job spec and the CLI accept and refuse
 * exactly the same strings. Pure.
 */
import { RegistryError } from './errors.js';

/**
 * Model names become one path segment of every key (`<root>/<name>/versions/3/…`). Lower
 * case only: on case-insensitive filesystems (macOS, Windows shares) `Churn` and `churn`
 * would be the same folder, on S3 two different models.
 */
const MODEL_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Aliases start with a letter so that `churn@3` is always a version and `churn@v3` an alias. */
const ALIAS_RE = /^[a-z][a-z0-9_-]{0,63}$/;
/** Versions as written in refs: no sign, no leading zeros (`churn@03` is not `churn@3`). */
const VERSION_RE = /^[1-9][0-9]{0,8}$/;

/**
 * `latest` always means "the highest registered version". It cannot be promoted to, so a
 * ref `churn@latest` can never silently mean something else.
 */
export const LATEST = 'latest';

/** A parsed model ref. */
export type ModelRef =
  | { readonly name: string; readonly kind: 'latest' }
  | { readonly name: string; readonly kind: 'version'; readonly version: number }
  | { readonly name: string; readonly kind: 'alias'; readonly alias: string };

function quote(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

/**
 * Throw unless `name` is a valid model name: 1–64 characters, lower-case letters, digits,
 * `.`, `_`, `-`, starting with a letter or digit.
 */
export function checkModelName(name: unknown): string {
  if (typeof name !== 'string' || !MODEL_NAME_RE.test(name)) {
    throw new RegistryError(
      'invalid-name',
      `registry: invalid model name ${quote(name)}: use 1-64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return name;
}

/**
 * Throw unless `alias` is a valid alias: 1–64 characters, lower-case letters, digits, `_`,
 * `-`, starting with a letter. `latest` is refused when `forWrite` (it is computed, never stored).
 */
export function checkAliasName(alias: unknown, forWrite = false): string {
  if (typeof alias !== 'string' || !ALIAS_RE.test(alias)) {
    throw new RegistryError(
      'invalid-name',
      `registry: invalid alias ${quote(alias)}: use 1-64 lower-case letters, digits, "_" or "-", starting with a letter`,
    );
  }
  if (forWrite && alias === LATEST) {
    throw new RegistryError('invalid-name', `registry: alias "${LATEST}" is reserved: it always means the highest registered version`);
  }
  return alias;
}

/** Throw unless `version` is a positive integer (as a number, or a string of digits). */
export function checkVersion(version: unknown): number {
  if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 1 && version <= 999_999_999) return version;
  if (typeof version === 'string' && VERSION_RE.test(version)) return Number(version);
  throw new RegistryError('invalid-name', `registry: invalid version ${quote(version)}: expected a positive integer without leading zeros`);
}

/**
 * Parse `name`, `name@latest`, `name@<version>` or `name@<alias>`. A bare name means the
 * latest version: convenient for trying things, but a job should name an alias or version.
 */
export function parseModelRef(ref: unknown): ModelRef {
  if (typeof ref !== 'string' || ref === '') {
    throw new RegistryError('invalid-name', `registry: invalid model ref ${quote(ref)}: expected "name", "name@alias" or "name@version"`);
  }
  const at = ref.indexOf('@');
  if (at === -1) return { name: checkModelName(ref), kind: 'latest' };
  if (ref.indexOf('@', at + 1) !== -1) {
    throw new RegistryError('invalid-name', `registry: invalid model ref ${quote(ref)}: more than one "@"`);
  }
  const name = checkModelName(ref.slice(0, at));
  const suffix = ref.slice(at + 1);
  if (/^[0-9]/.test(suffix)) return { name, kind: 'version', version: checkVersion(suffix) };
  const alias = checkAliasName(suffix);
  return alias === LATEST ? { name, kind: 'latest' } : { name, kind: 'alias', alias };
}

/** The canonical text of a ref (`churn@3`, `churn@production`, `churn@latest`). */
export function formatModelRef(ref: ModelRef): string {
  switch (ref.kind) {
    case 'latest': return `${ref.name}@${LATEST}`;
    case 'version': return `${ref.name}@${ref.version}`;
    case 'alias': return `${ref.name}@${ref.alias}`;
  }
}
