/** The recipes in docs/reading-the-data.md, run as printed against files from the real writer, agree with a count made here. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SnapshotRow } from "../../src/schema.ts";
import { rowsFor } from "../helpers/mining-days.ts";
import { REPO } from "../helpers/run-cli.ts";
import {
  chdbLoaded,
  chdbWhy,
  clickhouseRows,
  duckdbRows as duckdb,
  type SqlRow as Row,
} from "../helpers/sql-engines.ts";
import { writeRowsWithWriter } from "../helpers/write-rows.ts";

type Expected = { key: string; snapshots: number; avgSpread: number; firstRecv: number };

const DOC = readFileSync(join(REPO, "docs", "reading-the-data.md"), "utf8");

/** The fenced block after `<!-- recipe:NAME -->`: what a reader copies. */
function recipe(name: string, lang: string): string {
  const m = new RegExp(`<!-- recipe:${name} -->\\s*\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(DOC);
  if (!m) throw new Error(`docs/reading-the-data.md has no recipe:${name} block`);
  return m[1];
}

let root = "";
let rows: SnapshotRow[] = [];
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "recipes-"));
  // Days 2026-01-01 and -02, hours 8-11: the recipes ask for 2026-01-02, hours 9-10, so both filters must bite.
  rows = rowsFor([0, 1], [8, 9, 10, 11], 11);
  await writeRowsWithWriter(join(root, "data"), rows);
  // The reader's project: nodejs-polars installed next to the script, the data in ./data.
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"), "dir");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const withData = (code: string) => code.replaceAll("'data/", `'${root}/data/`);

/** The recipes' answer, counted from the rows handed to the writer. */
function expected(): Expected[] {
  const day = Date.UTC(2026, 0, 2);
  const groups = new Map<string, { n: number; sum: number; k: number; first: number }>();
  for (const r of rows) {
    const hour = Math.floor((r.ts_recv - day) / 3_600_000);
    if (r.ts_recv < day || hour < 9 || hour > 10) continue;
    const key = `${r.venue}|${r.market_id}|${r.outcome_id}|${hour}`;
    const g = groups.get(key) ?? { n: 0, sum: 0, k: 0, first: Number.POSITIVE_INFINITY };
    g.n++;
    if (!Number.isNaN(r.spread)) {
      g.sum += r.spread;
      g.k++;
    }
    g.first = Math.min(g.first, r.ts_recv);
    groups.set(key, g);
  }
  return [...groups]
    .map(([key, g]) => ({ key, snapshots: g.n, avgSpread: g.sum / g.k, firstRecv: g.first }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** Engine rows → the same shape, whatever the engine's types for date, counts and times. */
function normalize(out: Row[]): Expected[] {
  return out
    .map((r) => {
      const date = (r.date instanceof Date ? r.date.toISOString() : String(r.date)).slice(0, 10);
      expect(date).toBe("2026-01-02");
      // A Date (DuckDB), an ISO string (Polars via JSON) or "YYYY-MM-DD hh:mm:ss.sss" in UTC (ClickHouse).
      const first = r.first_recv instanceof Date ? r.first_recv.toISOString() : String(r.first_recv);
      const firstRecv = Date.parse(first.endsWith("Z") ? first : `${first.replace(" ", "T")}Z`);
      return {
        key: `${r.venue}|${r.market_id}|${r.outcome_id}|${Number(r.hour)}`,
        snapshots: Number(r.snapshots),
        avgSpread: Number(r.avg_spread),
        firstRecv,
      };
    })
    .sort((a, b) => (a.key < b.key ? -1 : 1));
}

function expectSame(got: Expected[]) {
  const want = expected();
  expect(want.length).toBe(6); // three books × two hours
  expect(got.map((g) => [g.key, g.snapshots, g.firstRecv])).toEqual(want.map((w) => [w.key, w.snapshots, w.firstRecv]));
  got.forEach((g, i) => expect(g.avgSpread).toBeCloseTo(want[i].avgSpread, 12));
  // The data has one-sided snapshots, so the NaN filter in each recipe is load-bearing.
  expect(rows.some((r) => Number.isNaN(r.spread))).toBe(true);
}

describe("reading the data: docs/reading-the-data.md", () => {
  test("DuckDB recipe", async () => {
    expectSame(normalize(await duckdb(withData(recipe("duckdb", "sql")))));
  });

  test("DuckDB types: date DATE and hour INTEGER with hive_types; hour VARCHAR without (as the page says)", async () => {
    const types = Object.fromEntries(
      (await duckdb(withData(recipe("duckdb-types", "sql")))).map((r) => [r.column_name, r.column_type]),
    );
    expect(types).toMatchObject({ ts_recv: "BIGINT", bid_px: "DOUBLE[]", date: "DATE", hour: "INTEGER" });
    const untyped = await duckdb(
      `DESCRIBE SELECT * FROM read_parquet('${root}/data/orderbook_snapshots/**/*.parquet', hive_partitioning = true)`,
    );
    expect(untyped.find((r) => r.column_name === "hour")?.column_type).toBe("VARCHAR");
    expect(untyped.find((r) => r.column_name === "date")?.column_type).toBe("DATE");
  });

  test("Polars (JavaScript) recipe, run as a script in a reader's project", () => {
    const script = `${recipe("polars-js", "ts")}\nconsole.log("@@" + JSON.stringify(bookHours.toRecords()));\n`;
    writeFileSync(join(root, "recipe.ts"), script);
    const run = Bun.spawnSync(["bun", "recipe.ts"], { cwd: root, stdout: "pipe", stderr: "pipe" });
    const out = run.stdout.toString();
    expect(run.stderr.toString()).toBe("");
    expect(run.exitCode).toBe(0);
    const line = out.split("\n").find((l) => l.startsWith("@@"));
    if (!line) throw new Error(`no result line in: ${out}`);
    expectSame(normalize(JSON.parse(line.slice(2)) as Row[]));
  });

  test.skipIf(!chdbLoaded)(`ClickHouse (chDB) recipe${chdbWhy ? ` (${chdbWhy})` : ""}`, () => {
    expectSame(normalize(clickhouseRows(withData(recipe("chdb", "sql")))));
  });
});
