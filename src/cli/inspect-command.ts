import { parseArgs } from 'node:util';
import { openParquet } from '../parquet/parquet-reader.js';
import { openRangeBlob } from '../storage/range-blob.js';
import { resolveUri } from '../storage/resolve.js';
import { ThreadPool } from '../run/thread-pool.js';
import { EXIT, UsageError } from './usage-error.js';

export const INSPECT_HELP = `Usage: batchscore inspect <file.parquet>... [--json]

Print each file's schema, row groups and row count (local path, file:// or s3://).
Only the footer is read. Exit code 1 if any file cannot be read.`;

/** What `inspect` reports of one file. */
export interface FileSummary {
  uri: string;
  bytes: number;
  rows: number;
  createdBy: string | null;
  rowGroups: number[];
  columns: { name: string; type: string; nullable: boolean }[];
}

/** Read one file's footer (in the calling thread). */
export async function inspectFile(uri: string): Promise<FileSummary> {
  const { store, key } = resolveUri(uri);
  const blob = await openRangeBlob(store, key);
  try {
    const reader = await openParquet(blob, uri);
    try {
      return {
        uri,
        bytes: blob.size,
        rows: reader.numRows,
        createdBy: reader.createdBy ?? null,
        rowGroups: [...reader.rowGroupRows],
        columns: reader.schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable })),
      };
    } finally {
      reader.close();
    }
  } finally {
    await blob.close();
  }
}

function print(s: FileSummary): void {
  console.log(`${s.uri}`);
  console.log(`  ${s.rows.toLocaleString('en-US')} rows, ${s.rowGroups.length} row groups, ${s.bytes.toLocaleString('en-US')} bytes${s.createdBy ? `, written by ${s.createdBy}` : ''}`);
  console.log(`  row groups: ${s.rowGroups.slice(0, 12).join(', ')}${s.rowGroups.length > 12 ? ', ...' : ''}`);
  for (const c of s.columns) console.log(`  ${c.name}: ${c.type}${c.nullable ? '' : ' not null'}`);
}

/** `batchscore inspect`: footers are decoded in a thread, so a corrupt file cannot crash the CLI. */
export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(INSPECT_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageError('inspect expects at least one Parquet file');
  const pool = new ThreadPool<string, FileSummary>({ script: new URL('./inspect-thread.js', import.meta.url), size: 1 });
  let code: number = EXIT.ok;
  const results: (FileSummary | { uri: string; error: string })[] = [];
  try {
    for (const uri of positionals) {
      try {
        const s = await pool.run(uri);
        results.push(s);
        if (!values.json) print(s);
      } catch (err) {
        const message = (err as Error).message.replace(/^thread crashed: /, `parquet: ${uri}: decoder crashed (corrupt or unsupported file): `);
        results.push({ uri, error: message });
        if (!values.json) console.error(`error: ${message}`);
        code = EXIT.failed;
      }
    }
  } finally {
    await pool.close();
  }
  if (values.json) console.log(JSON.stringify(results, null, 2));
  return code;
}
