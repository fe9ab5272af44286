/** The input files of the bench dataset, for the child scripts that read them. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Parquet files one partition level below `dir` (`dir/key=value/*.parquet`), sorted. */
export function partitionFiles(dir: string): string[] {
  const files: string[] = [];
  for (const part of readdirSync(dir, { withFileTypes: true })) {
    if (!part.isDirectory() || part.name.startsWith('_') || part.name.startsWith('.')) continue;
    for (const f of readdirSync(join(dir, part.name))) if (f.endsWith('.parquet')) files.push(join(dir, part.name, f));
  }
  return files.sort();
}
