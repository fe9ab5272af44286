/**
 * DuckDB as the independent reader of our outputs: what a warehouse would see.
 */
import { DuckDBInstance } from '@duckdb/node-api';

/** Run one SQL query in a fresh in-memory DuckDB and return its rows as objects. */
export async function duckdbRows(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Quote a path as a SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
