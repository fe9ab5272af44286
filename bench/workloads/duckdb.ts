/**
 * Child script: the DuckDB SQL peer. Runs the statements of a SQL file (built by
 * ../duckdb-peer.ts) in a fresh in-memory DuckDB and reports the rows COPY wrote.
 *
 *   node dist/bench/workloads/duckdb.js <statements.sql>
 */
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { printResult } from '../child.js';

const [sqlFile] = process.argv.slice(2);
if (!sqlFile) throw new Error('usage: duckdb.js <statements.sql>');
const statements = readFileSync(sqlFile, 'utf8').split(/;\s*\n/).map((s) => s.trim()).filter(Boolean);

const t0 = performance.now();
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
let rows = 0;
for (const sql of statements) {
  const result = await connection.runAndReadAll(sql);
  if (/^copy\b/i.test(sql)) rows = Number(result.getRowsJS()[0]?.[0] ?? result.rowsChanged);
}
const workMs = performance.now() - t0;
connection.closeSync();
instance.closeSync();
printResult({ rows, workMs, statements: statements.length });
