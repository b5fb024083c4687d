/** DuckDB and ClickHouse (chDB) as independent SQL readers for tests: rows as plain objects. */
import { DuckDBInstance } from "@duckdb/node-api";

export type SqlRow = Record<string, unknown>;

/** A fresh in-memory DuckDB for `use`, which queries it (rows as plain objects); closed once `use` settles. */
export async function withDuckdb<T>(use: (query: (sql: string) => Promise<SqlRow[]>) => Promise<T>): Promise<T> {
  const inst = await DuckDBInstance.create(":memory:", { threads: "2" });
  const conn = await inst.connect();
  try {
    return await use(async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS() as SqlRow[]);
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

/** Runs `sql` in a fresh in-memory DuckDB. */
export function duckdbRows(sql: string): Promise<SqlRow[]> {
  return withDuckdb((query) => query(sql));
}

/** chDB loads a 560 MB libchdb.so; where the platform package is missing, `chdbWhy` says why and tests skip. */
let query: ((sql: string, format: string) => string) | undefined;
export let chdbWhy = "";
try {
  query = (await import("chdb")).query;
} catch (e) {
  chdbWhy = `chdb does not load here: ${(e as Error).message}`;
}
export const chdbLoaded = query !== undefined;

/** Runs `sql` in chDB and parses its JSONEachRow output. */
export function clickhouseRows(sql: string): SqlRow[] {
  if (!query) throw new Error(chdbWhy);
  return query(sql, "JSONEachRow")
    .trim()
    .split("\n")
    .filter((l) => l)
    .map((l) => JSON.parse(l) as SqlRow);
}
