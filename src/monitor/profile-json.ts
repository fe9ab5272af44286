/**
 * Checks a dataset profile read from outside (a reference file shipped with a model, a
 * baseline run's stored profile) before drift code indexes into it. A malformed or
 * inconsistent profile is refused with the path of the bad field and its value, instead of
 * producing NaN figures or a crash deep inside a comparison.
 */
import { totalCount, type DenseCounts } from './grid.js';
import type { ColumnProfile, DatasetProfile, ProfileSet } from './profile-set.js';

/** A stored profile that is not a valid version-1 dataset profile. */
export class ProfileFormatError extends Error {
  constructor(readonly source: string, readonly path: string, detail: string) {
    super(`monitor: profile ${source}: ${path}: ${detail}`);
    this.name = 'ProfileFormatError';
  }
}

type Obj = Record<string, unknown>;

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Validate parsed JSON as a DatasetProfile (the same object, typed) or throw
 * ProfileFormatError naming `source`, the field path and the bad value.
 */
export function parseDatasetProfile(raw: unknown, source: string): DatasetProfile {
  const fail = (path: string, what: string, value: unknown): never => {
    throw new ProfileFormatError(source, path, `expected ${what}, got ${show(value)}`);
  };
  const obj = (v: unknown, path: string): Obj =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : fail(path, 'an object', v);
  const count = (o: Obj, k: string, path: string): number => {
    const v = o[k];
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fail(`${path}.${k}`, 'a non-negative integer', v);
  };
  const int = (o: Obj, k: string, path: string): number => {
    const v = o[k];
    return typeof v === 'number' && Number.isInteger(v) ? v : fail(`${path}.${k}`, 'an integer', v);
  };
  const str = (o: Obj, k: string, path: string): string => {
    const v = o[k];
    return typeof v === 'string' ? v : fail(`${path}.${k}`, 'a string', v);
  };
  const store = (v: unknown, path: string): DenseCounts => {
    const o = obj(v, path);
    int(o, 'offset', path);
    const counts = o.counts;
    if (!Array.isArray(counts) || !counts.every((c) => typeof c === 'number' && Number.isInteger(c) && c >= 0)) {
      fail(`${path}.counts`, 'an array of non-negative integers', counts);
    }
    return o as unknown as DenseCounts;
  };
  const stats = (v: unknown, path: string): void => {
    const o = obj(v, path);
    const n = count(o, 'count', path), nulls = count(o, 'nulls', path);
    if (o.kind === 'numeric') {
      const finite = n - nulls - count(o, 'nan', path) - count(o, 'posInf', path) - count(o, 'negInf', path);
      if (finite < 0) fail(`${path}.count`, 'at least nulls + nan + posInf + negInf', n);
      for (const k of ['min', 'max']) {
        if (o[k] !== null && !(typeof o[k] === 'number' && Number.isFinite(o[k]))) fail(`${path}.${k}`, 'a finite number or null', o[k]);
      }
      for (const k of ['mean', 'm2']) if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) fail(`${path}.${k}`, 'a finite number', o[k]);
      const log = store(o.log, `${path}.log`), linear = store(o.linear, `${path}.linear`);
      int(o.linear as Obj, 'level', `${path}.linear`);
      if (totalCount(log) !== finite) fail(`${path}.log.counts`, `counts summing to the ${finite} finite values`, totalCount(log));
      if (totalCount(linear) !== finite) fail(`${path}.linear.counts`, `counts summing to the ${finite} finite values`, totalCount(linear));
    } else if (o.kind === 'category') {
      const values = o.values;
      if (!Array.isArray(values) || !values.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && Number.isInteger(e[1]))) {
        fail(`${path}.values`, 'an array of [value, count] pairs', values);
      }
      count(o, 'other', path);
      count(o, 'cap', path);
      if (typeof o.truncated !== 'boolean') fail(`${path}.truncated`, 'a boolean', o.truncated);
    } else {
      fail(`${path}.kind`, '"numeric" or "category"', o.kind);
    }
  };
  const set = (v: unknown, path: string): ProfileSet => {
    const o = obj(v, path);
    count(o, 'rows', path);
    if (!Array.isArray(o.columns)) fail(`${path}.columns`, 'an array', o.columns);
    (o.columns as unknown[]).forEach((c, i) => {
      const col = obj(c, `${path}.columns[${i}]`);
      const p = `${path}.columns[${i}]`;
      str(col, 'name', p);
      str(col, 'type', p);
      if (!['feature', 'prediction', 'passthrough'].includes(col.role as string)) fail(`${p}.role`, '"feature", "prediction" or "passthrough"', col.role);
      stats(col.stats, `${p}.stats`);
    });
    return o as unknown as ProfileSet & { columns: ColumnProfile[] };
  };

  const root = obj(raw, '(root)');
  if (root.version !== 1) fail('version', '1', root.version);
  if (root.sliceBy !== null && typeof root.sliceBy !== 'string') fail('sliceBy', 'a column name or null', root.sliceBy);
  count(root, 'maxSlices', '(root)');
  count(root, 'categoryCap', '(root)');
  set(root.overall, 'overall');
  if (!Array.isArray(root.slices)) fail('slices', 'an array', root.slices);
  (root.slices as unknown[]).forEach((s, i) => {
    const o = obj(s, `slices[${i}]`);
    str(o, 'value', `slices[${i}]`);
    set(o.profile, `slices[${i}].profile`);
  });
  return root as unknown as DatasetProfile;
}
