/** DuckDB and ClickHouse (chDB) as independent SQL readers for tests: rows as plain objects. */
import { DuckDBInstance } from "@duckdb/node-api";

export type SqlRow = Record<string, unknown>;

/** Runs `sql` in a fresh in-memory DuckDB. */
export async function duckdbRows(sql: string): Promise<SqlRow[]> {
  const inst = await DuckDBInstance.create(":memory:", { threads: "2" });
  const conn = await inst.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJS() as SqlRow[];
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
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
