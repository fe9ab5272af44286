import { parseArgs } from 'node:util';
import { profileDataset } from '../monitor-io/profile-dataset.js';
import { resolveUri } from '../storage/resolve.js';
import { EXIT, UsageError } from './usage-error.js';

export const PROFILE_HELP = `Usage: batchscore profile <parquet-uri-or-folder> [options]

Compute a reference profile of a dataset (training data, or any Parquet file or folder/
prefix: local path, file://, s3://): the same profile JSON a run records, to use as a job's
monitoring.reference. Files are read one row group at a time, only the columns profiled.

Options:
  --columns a,b,...   columns to profile (default: every numeric and string column)
  --slice-by COL      also profile per value of this segment column
  --max-slices N      most slices kept; further values share "(other)" (default 50)
  --out FILE-or-URI   where to write the JSON (default: stdout)
  -h, --help          show this help

Exit codes: 0 written, 1 failed, 2 bad usage.`;

function columnList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError(`--columns expects a comma-separated list of column names, got ${JSON.stringify(value)}`);
  return [...new Set(names)];
}

/** `batchscore profile`: returns the exit code. */
export async function profileCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      columns: { type: 'string' },
      'slice-by': { type: 'string' },
      'max-slices': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(PROFILE_HELP), EXIT.ok;
  if (positionals.length !== 1) throw new UsageError(`profile expects one Parquet file or folder, got ${positionals.length}`);
  const maxSlices = values['max-slices'] === undefined ? undefined : Number(values['max-slices']);
  if (maxSlices !== undefined && (!Number.isInteger(maxSlices) || maxSlices < 1)) {
    throw new UsageError(`--max-slices expects a positive integer, got ${JSON.stringify(values['max-slices'])}`);
  }
  if (values['slice-by'] === '') throw new UsageError('--slice-by expects a column name, got ""');
  const uri = positionals[0]!;
  let rows = 0;
  let files = 0;
  const profile = await profileDataset(uri, {
    columns: columnList(values.columns),
    sliceBy: values['slice-by'],
    maxSlices,
    onFile: (e) => {
      rows += e.rows;
      files = e.filesDone;
      // Progress on stderr only: stdout may be the profile itself.
      if (process.stderr.isTTY) process.stderr.write(`\rprofiled ${e.filesDone}/${e.filesTotal} files, ${rows.toLocaleString('en-US')} rows `);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const json = `${JSON.stringify(profile, null, 2)}\n`;
  const summary = `${rows.toLocaleString('en-US')} rows from ${files} file(s), ${profile.overall.columns.length} column(s)`
    + (profile.sliceBy === null ? '' : `, ${profile.slices.length} slices by ${JSON.stringify(profile.sliceBy)}`);
  if (values.out === undefined) {
    process.stdout.write(json);
    console.error(`profile: ${summary}`);
  } else {
    const { store, key } = resolveUri(values.out);
    await store.put(key, json, { contentType: 'application/json' });
    console.error(`profile: ${summary} → ${store.uri(key)}`);
  }
  return EXIT.ok;
}
