/**
 * Profile of a table: one numeric or category profile per column, for the whole data and
 * per value of a segment column (`sliceBy`). The score thread feeds it the Arrow batches it
 * already has (no second read); partition profiles merge into the run profile.
 *
 * Everything is plain JSON in canonical order (columns and slices sorted by name/value), so
 * the profile of a whole equals the merge of its parts field for field, whatever the order.
 */
import type { ColumnChunk } from '../scoring/columns.js';
import {
  emptyCategory,
  encodeCategories,
  mergeCategory,
  updateCategoryCodes,
  DEFAULT_CATEGORY_CAP,
  type CategoryChunk,
  type CategoryProfile,
  type EncodedCategories,
} from './category-profile.js';
import { emptyNumeric, mergeNumeric, updateNumeric, type NumericProfile } from './numeric-profile.js';
import { rowsBySlice, rowsIn } from './slice-rows.js';

/** What a column is to the job. */
export type ColumnRole = 'feature' | 'prediction' | 'passthrough';

/** One chunk of a column to profile: numeric values, or one of the categorical shapes. */
export type MonitorChunk = { readonly kind: 'numeric'; readonly chunk: ColumnChunk } | CategoryChunk;

/** A column of one batch. Its chunks together hold the batch's rows in order. */
export interface MonitorColumn {
  readonly name: string;
  readonly role: ColumnRole;
  /** Source type (`float32`, `int64`, `utf8`, …), compared by the schema check. */
  readonly type: string;
  readonly chunks: readonly MonitorChunk[];
}

/** Profile of one column. */
export interface ColumnProfile {
  name: string;
  role: ColumnRole;
  /** Source type; `a|b` when partitions disagreed. */
  type: string;
  stats: NumericProfile | CategoryProfile;
}

/** Profiles of the columns of a set of rows, sorted by column name. */
export interface ProfileSet {
  rows: number;
  columns: ColumnProfile[];
}

/** The profile of a dataset (a file, a partition, a run or a reference). Plain JSON. */
export interface DatasetProfile {
  version: 1;
  overall: ProfileSet;
  /** Segment column the slices are by; null when not sliced. */
  sliceBy: string | null;
  /** Most slices kept; further values go to the `(other)` slice. */
  maxSlices: number;
  /** Distinct values kept per category column. */
  categoryCap: number;
  /** One profile set per segment value, sorted by value. */
  slices: Array<{ value: string; profile: ProfileSet }>;
}

/** Slice of rows whose segment value is null. */
export const NULL_SLICE = '(null)';
/** Slice of rows whose segment value did not get a slice of its own. */
export const OTHER_SLICE = '(other)';

/** Options of an empty dataset profile. */
export interface DatasetProfileOptions {
  sliceBy?: string | null | undefined;
  /** Default 50. */
  maxSlices?: number | undefined;
  /** Default DEFAULT_CATEGORY_CAP. */
  categoryCap?: number | undefined;
}

/** An empty dataset profile to feed batches to. */
export function emptyDatasetProfile(options: DatasetProfileOptions = {}): DatasetProfile {
  const maxSlices = options.maxSlices ?? 50;
  if (!Number.isInteger(maxSlices) || maxSlices < 1) {
    throw new RangeError(`monitor: maxSlices must be a positive integer, got ${JSON.stringify(maxSlices)}`);
  }
  return {
    version: 1,
    overall: { rows: 0, columns: [] },
    sliceBy: options.sliceBy ?? null,
    maxSlices,
    categoryCap: options.categoryCap ?? DEFAULT_CATEGORY_CAP,
    slices: [],
  };
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const byValue = (a: { value: string }, b: { value: string }) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

function chunkLength(c: MonitorChunk): number {
  switch (c.kind) {
    case 'numeric': return c.chunk.length;
    case 'utf8': return c.length;
    case 'dictionary': return c.indices.length;
    case 'strings': return c.values.length;
    case 'codes': return c.chunk.length;
  }
}

// A chunk ready to count: numeric as is, categorical encoded once for overall and slices.
type Prepared = { numeric: ColumnChunk; encoded: null; length: number } | { numeric: null; encoded: EncodedCategories; length: number };

function prepare(c: MonitorChunk): Prepared {
  if (c.kind === 'numeric') return { numeric: c.chunk, encoded: null, length: c.chunk.length };
  return { numeric: null, encoded: encodeCategories(c), length: chunkLength(c) };
}

function columnProfile(set: ProfileSet, col: MonitorColumn, numeric: boolean, cap: number): ColumnProfile {
  let entry = set.columns.find((c) => c.name === col.name);
  if (!entry) {
    entry = { name: col.name, role: col.role, type: col.type, stats: numeric ? emptyNumeric() : emptyCategory(cap) };
    set.columns.push(entry);
    set.columns.sort(byName);
  }
  if ((entry.stats.kind === 'numeric') !== numeric) {
    throw new Error(`monitor: column ${JSON.stringify(col.name)} was ${entry.stats.kind}, this batch has it ${numeric ? 'numeric' : 'categorical'}`);
  }
  if (entry.type !== col.type) entry.type = mergeTypes(entry.type, col.type);
  return entry;
}

function update(entry: ColumnProfile, p: Prepared, rows?: Int32Array): void {
  if (p.numeric) updateNumeric(entry.stats as NumericProfile, p.numeric, rows);
  else updateCategoryCodes(entry.stats as CategoryProfile, p.encoded!, rows);
}

// Slice id of every row of the batch, adding slices as values appear (up to the cap).
// Categorical chunks reuse the encoding made for the column's own profile.
function sliceIds(profile: DatasetProfile, column: MonitorColumn, prepared: readonly Prepared[], rows: number): { ids: Int32Array; sets: ProfileSet[] } {
  const sets: ProfileSet[] = [];
  const idOf = new Map<string, number>();
  const ids = new Int32Array(rows);
  let base = 0;
  for (const [k, chunk] of column.chunks.entries()) {
    const enc = chunk.kind === 'numeric' ? encodeCategories({ kind: 'codes', chunk: chunk.chunk }) : prepared[k]!.encoded!;
    // Slot 0 is null; only values present in the chunk get (or create) a slice.
    const present = new Uint8Array(enc.labels.length + 1);
    for (const c of enc.codes) present[c + 1] = 1;
    const idOfCode = new Int32Array(enc.labels.length + 1);
    [NULL_SLICE, ...enc.labels].forEach((label, c) => {
      if (!present[c]) return;
      let id = idOf.get(label);
      if (id === undefined) {
        let slice = profile.slices.find((s) => s.value === label);
        if (!slice) {
          const full = profile.slices.filter((s) => s.value !== OTHER_SLICE).length >= profile.maxSlices;
          const value = full ? OTHER_SLICE : label;
          slice = profile.slices.find((s) => s.value === value);
          if (!slice) {
            slice = { value, profile: { rows: 0, columns: [] } };
            profile.slices.push(slice);
            profile.slices.sort(byValue);
          }
        }
        id = sets.indexOf(slice.profile);
        if (id < 0) id = sets.push(slice.profile) - 1;
        idOf.set(label, id);
      }
      idOfCode[c] = id;
    });
    for (let i = 0; i < enc.codes.length; i++) ids[base + i] = idOfCode[enc.codes[i]! + 1]!;
    base += enc.codes.length;
  }
  return { ids, sets };
}

/**
 * Add one batch of `rows` rows to `profile`, in place: every column to the overall profile
 * and, when the profile is sliced, each row to its slice. The slice column must be one of
 * the batch's columns.
 */
export function profileBatch(profile: DatasetProfile, rows: number, columns: readonly MonitorColumn[]): void {
  if (rows === 0) return; // a column's kind is only known from its chunks
  for (const col of columns) {
    const n = col.chunks.reduce((s, c) => s + chunkLength(c), 0);
    if (n !== rows) throw new Error(`monitor: column ${JSON.stringify(col.name)} has ${n} rows in a batch of ${rows}`);
    const numeric = col.chunks.filter((c) => c.kind === 'numeric').length;
    if (numeric !== 0 && numeric !== col.chunks.length) {
      throw new Error(`monitor: column ${JSON.stringify(col.name)} mixes numeric and categorical chunks`);
    }
  }
  const prepared = columns.map((col) => col.chunks.map(prepare));
  const numericOf = (i: number) => columns[i]!.chunks[0]?.kind === 'numeric';
  profile.overall.rows += rows;
  columns.forEach((col, i) => {
    const entry = columnProfile(profile.overall, col, numericOf(i), profile.categoryCap);
    for (const p of prepared[i]!) update(entry, p);
  });
  if (profile.sliceBy === null) return;
  const s = columns.findIndex((c) => c.name === profile.sliceBy);
  if (s < 0) throw new Error(`monitor: slice column ${JSON.stringify(profile.sliceBy)} is not in the batch`);
  const { ids, sets } = sliceIds(profile, columns[s]!, prepared[s]!, rows);
  const lists = rowsBySlice(ids, sets.length);
  sets.forEach((set, s) => {
    const list = lists[s]!;
    if (list.length === 0) return;
    set.rows += list.length;
    columns.forEach((col, i) => {
      const entry = columnProfile(set, col, numericOf(i), profile.categoryCap);
      let base = 0;
      for (const p of prepared[i]!) {
        const part = rowsIn(list, base, p.length);
        if (part.length > 0) update(entry, p, part);
        base += p.length;
      }
    });
  });
}

/** Union of two source type descriptions (`a|b`, sorted), so merge order does not matter. */
export function mergeTypes(a: string, b: string): string {
  return [...new Set([...a.split('|'), ...b.split('|')])].sort().join('|');
}

const ROLE_ORDER: readonly ColumnRole[] = ['feature', 'prediction', 'passthrough'];

/** Merge two profile sets of disjoint rows into a new one. */
export function mergeProfileSets(a: ProfileSet, b: ProfileSet): ProfileSet {
  const columns = new Map<string, ColumnProfile>();
  for (const c of [...a.columns, ...b.columns]) {
    const prev = columns.get(c.name);
    if (!prev) { columns.set(c.name, structuredClone(c)); continue; }
    if (prev.stats.kind !== c.stats.kind) {
      throw new Error(`monitor: column ${JSON.stringify(c.name)} is ${prev.stats.kind} in one profile and ${c.stats.kind} in the other`);
    }
    columns.set(c.name, {
      name: c.name,
      role: ROLE_ORDER[Math.min(ROLE_ORDER.indexOf(prev.role), ROLE_ORDER.indexOf(c.role))]!,
      type: mergeTypes(prev.type, c.type),
      stats: prev.stats.kind === 'numeric'
        ? mergeNumeric(prev.stats, c.stats as NumericProfile)
        : mergeCategory(prev.stats, c.stats as CategoryProfile),
    });
  }
  return { rows: a.rows + b.rows, columns: [...columns.values()].sort(byName) };
}

/**
 * Merge two dataset profiles of disjoint rows (partitions of a run) into a new one. Exact
 * and associative while the slices fit `maxSlices`; beyond, the slices with the fewest rows
 * are folded into `(other)`.
 */
export function mergeDatasetProfiles(a: DatasetProfile, b: DatasetProfile): DatasetProfile {
  if (a.sliceBy !== b.sliceBy) {
    throw new Error(`monitor: cannot merge profiles sliced by ${JSON.stringify(a.sliceBy)} and ${JSON.stringify(b.sliceBy)}`);
  }
  const maxSlices = Math.min(a.maxSlices, b.maxSlices);
  const byVal = new Map<string, ProfileSet>();
  for (const s of [...a.slices, ...b.slices]) {
    const prev = byVal.get(s.value);
    byVal.set(s.value, prev ? mergeProfileSets(prev, s.profile) : structuredClone(s.profile));
  }
  let slices = [...byVal].map(([value, profile]) => ({ value, profile }));
  const named = slices.filter((s) => s.value !== OTHER_SLICE);
  if (named.length > maxSlices) {
    named.sort((x, y) => y.profile.rows - x.profile.rows || byValue(x, y));
    let other = byVal.get(OTHER_SLICE) ?? { rows: 0, columns: [] };
    for (const s of named.slice(maxSlices)) other = mergeProfileSets(other, s.profile);
    slices = [...named.slice(0, maxSlices), { value: OTHER_SLICE, profile: other }];
  }
  return {
    version: 1,
    overall: mergeProfileSets(a.overall, b.overall),
    sliceBy: a.sliceBy,
    maxSlices,
    categoryCap: Math.min(a.categoryCap, b.categoryCap),
    slices: slices.sort(byValue),
  };
}

/** Merge any number of dataset profiles (left to right); at least one is needed. */
export function mergeAll(profiles: readonly DatasetProfile[]): DatasetProfile {
  const [first, ...rest] = profiles;
  if (!first) throw new Error('monitor: no profiles to merge');
  return rest.reduce(mergeDatasetProfiles, structuredClone(first));
}
