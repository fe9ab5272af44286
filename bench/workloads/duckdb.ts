/**
 * Child script: the DuckDB SQL peer. Runs the statements of a SQL file (built by
 * ../duckdb-peer.ts) in a fresh in-memory DuckDB and reports the rows COPY wrote. With
 * `passes` > 1 it runs them again in the same DuckDB process (warm: the peer of a long-lived
 * worker) and reports the last pass.
 *
 *   node dist/bench/workloads/duckdb.js <statements.sql> [passes]
 */
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { printResult, warmFigure } from '../child.js';

const [sqlFile, passesArg] = process.argv.slice(2);
if (!sqlFile) throw new Error('usage: duckdb.js <statements.sql> [passes]');
const passes = Number(passesArg ?? 1);
const statements = readFileSync(sqlFile, 'utf8').split(/;\s*\n/).map((s) => s.trim()).filter(Boolean);

// The first pass includes creating the database, as a cold one-shot run does.
let t0 = performance.now();
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
let rows = 0;
const passMs: number[] = [];
for (let pass = 0; pass < passes; pass++) {
  if (pass > 0) t0 = performance.now();
  for (const sql of statements) {
    const result = await connection.runAndReadAll(sql);
    if (/^copy\b/i.test(sql)) rows = Number(result.getRowsJS()[0]?.[0] ?? result.rowsChanged);
  }
  passMs.push(performance.now() - t0);
}
connection.closeSync();
instance.closeSync();
printResult({ rows, workMs: passes > 1 ? warmFigure(passMs) : passMs[0]!, passMs: passMs.map(Math.round), statements: statements.length });
