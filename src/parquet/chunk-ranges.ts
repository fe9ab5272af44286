/**
 * Where each column chunk lies in a Parquet file, from its footer (Thrift FileMetaData),
 * so that a reader over a remote store can fetch a row group's chunks all at once instead
 * of one decode call after another (see `parquet-reader.ts`, `RangeBlob.prefetch`).
 *
 * parquet-wasm's metadata API gives chunk sizes but not offsets, hence this small decoder of
 * the few fields needed: RowGroup.columns → ColumnChunk.file_path / meta_data →
 * ColumnMetaData.path_in_schema, total_compressed_size, data_page_offset,
 * dictionary_page_offset.
 */
import { CT, decodeStruct, field, intField, structField, structListField } from './thrift.js';

/** A byte range `[start, end)` of the file. */
export type ByteRange = readonly [start: number, end: number];

/** Per row group: each top-level column's chunk ranges (a nested column has several). */
export type ChunkRanges = ReadonlyMap<string, readonly ByteRange[]>[];

/**
 * The chunk ranges of every row group of a file whose footer (the FileMetaData bytes,
 * without the length and magic) is `footer`, and whose size is `fileSize`.
 * @returns null when some chunk lies in another file (`file_path`), has no metadata or an
 *   implausible range: callers then read as they would without it.
 * @throws ThriftError when the footer is not valid compact Thrift
 */
export function chunkRanges(footer: Uint8Array, fileSize: number): ChunkRanges | null {
  const meta = decodeStruct(footer).fields;
  const groups = structListField(meta, 4);
  if (!groups) return null;
  const out: Map<string, ByteRange[]>[] = [];
  for (const group of groups) {
    const columns = new Map<string, ByteRange[]>();
    for (const chunk of structListField(group, 1) ?? []) {
      if (field(chunk, 1) !== undefined) return null;
      const md = structField(chunk, 3);
      if (!md) return null;
      const name = topLevelName(md);
      const size = intField(md, 7);
      const data = intField(md, 9);
      const dictionary = intField(md, 11);
      if (name === undefined || size === undefined || data === undefined) return null;
      // Some writers record a dictionary offset of 0 for "none".
      const start = dictionary !== undefined && dictionary > 0 && dictionary < data ? dictionary : data;
      const end = start + size;
      if (!(start >= 0 && size >= 0 && end <= fileSize)) return null;
      const ranges = columns.get(name) ?? [];
      ranges.push([start, end]);
      columns.set(name, ranges);
    }
    out.push(columns);
  }
  return out;
}

/** `path_in_schema[0]`, the column name the reader projects by. */
function topLevelName(md: ReturnType<typeof decodeStruct>['fields']): string | undefined {
  const path = field(md, 3);
  if (!path || (path.t !== CT.LIST && path.t !== CT.SET)) return undefined;
  const first = path.v[0];
  return first?.t === CT.BINARY ? new TextDecoder().decode(first.v) : undefined;
}

/**
 * Sorted, with ranges that touch or lie within `gap` bytes of each other merged: fewer,
 * larger requests (a few unwanted bytes cost less than a round trip).
 */
export function coalesceRanges(ranges: readonly ByteRange[], gap = 0): ByteRange[] {
  const sorted = [...ranges].filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = out[out.length - 1];
    if (last && start <= last[1] + gap) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}
