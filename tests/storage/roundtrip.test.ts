/** Files written by the real writer, read back by Polars, DuckDB and hyparquet: exact types, identical rows. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { asyncBufferFromFile, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import pl from "nodejs-polars";
import { normalizeSnapshot, REQUIRED_COLUMNS, type SnapshotRow } from "../../src/schema.ts";
import { BookGen, copyInput } from "../helpers/books.ts";
import { openWriter, T0, tempDir } from "../helpers/store.ts";
import { DUCKDB_TYPES, POLARS_TYPES, polarsTypeNames } from "../helpers/column-types.ts";
import { withDuckdb } from "../helpers/sql-engines.ts";

// Written once per staging mode: two venues, buckets across an hour boundary, varied books; read back by two engines.
// A flush every 450 rows: staged raw (compaction encodes them, row groups of 400), or, with encodeAtFlushRows 300,
// encoded at flush time as two row groups of 225 (copied by compaction) mixed with raw ones (the < 300-row remainders
// at bucket changes).
for (const [mode, encodeAtFlushRows] of [
  ["raw staging", Infinity],
  ["encoded row groups mixed with raw staging", 300],
] as const)
  describe(mode, () => {
    const tmp = tempDir("surv-roundtrip-");
    const expected: SnapshotRow[] = [];
    const glob = () => `${tmp.dir}/orderbook_snapshots/**/*.parquet`;

    beforeAll(async () => {
      const { w } = await openWriter(
        tmp.dir,
        { bucket_minutes: 5, flush_rows: 700, row_group_rows: 400 },
        { encodeAtFlushRows },
      );
      for (const venue of ["mock", "polymarket"]) {
        const g = new BookGen({ venue, start: T0 + 55 * 60_000, stepMs: 300, seed: venue.length, maxLevels: 60 });
        for (let i = 0; i < 3000; i++) {
          const s = g.next();
          expected.push(normalizeSnapshot(copyInput(s), 50));
          w.append(s);
          if (i % 450 === 449) await w.flush();
        }
      }
      await w.close();
      expected.sort((a, b) => a.venue.localeCompare(b.venue) || a.ts_recv - b.ts_recv);
    });
    afterAll(() => tmp.cleanup());

    function normalize(r: Record<string, unknown>): SnapshotRow {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(expected[0])) {
        const v = r[k];
        o[k] = typeof v === "bigint" ? Number(v) : Array.isArray(v) ? v.map(Number) : v === undefined ? null : v;
      }
      return o as unknown as SnapshotRow;
    }

    describe("round trip", () => {
      test("the writer produced several files across the hour boundary", () => {
        const files = [...new Bun.Glob("orderbook_snapshots/**/*.parquet").scanSync({ cwd: tmp.dir })];
        expect(files.some((f) => f.includes("hour=00/"))).toBe(true);
        expect(files.some((f) => f.includes("hour=01/"))).toBe(true);
        expect(files.length).toBeGreaterThanOrEqual(6);
      });

      test("nodejs-polars reads the dataset with hive partitioning: exact types, identical rows", async () => {
        const df = (await pl.scanParquet(glob(), { hivePartitioning: true }).collect()).sort(["venue", "ts_recv"]);
        const types = polarsTypeNames(df.schema);
        expect(Object.keys(types).slice(0, REQUIRED_COLUMNS.length)).toEqual([...REQUIRED_COLUMNS]);
        expect(types).toMatchObject({ ...POLARS_TYPES, date: "Date", hour: "Int64" });
        const rows = df.drop("date", "hour").toRecords().map(normalize);
        expect(rows.length).toBe(expected.length);
        expect(rows).toEqual(expected);
      });

      test("DuckDB reads the dataset with hive partitioning: exact types, identical rows", async () => {
        await withDuckdb(async (query) => {
          const src = `read_parquet('${glob()}', hive_partitioning = true)`;
          const desc = await query(`DESCRIBE SELECT * FROM ${src}`);
          const types = Object.fromEntries(desc.map((r) => [r.column_name as string, r.column_type as string]));
          expect(types).toMatchObject({ ...DUCKDB_TYPES, date: "DATE" }); // DuckDB types the zero-padded hour as VARCHAR
          const [nullable] = await query(
            `SELECT count(*) FILTER (WHERE err IS NULL) AS e, count(*) FILTER (WHERE source_ts IS NULL) AS s FROM ${src}`,
          );
          expect(Number(nullable.e)).toBe(expected.filter((r) => r.err === null).length);
          expect(Number(nullable.s)).toBe(expected.filter((r) => r.source_ts === null).length);
          const rows = (await query(`SELECT * EXCLUDE (date, hour) FROM ${src} ORDER BY venue, ts_recv`)).map((r) =>
            normalize(r as Record<string, unknown>),
          );
          expect(rows).toEqual(expected);
          // the venue partition value agrees with the column in the file
          const mismatch = await query(
            `SELECT count(*) AS n FROM ${src} WHERE filename NOT LIKE '%venue=' || venue || '/%'`
              .replace("FROM", ", filename FROM")
              .replace("SELECT count(*) AS n , filename", "SELECT count(*) AS n"),
          );
          expect(Number(mismatch[0].n)).toBe(0);
          // row groups: raw rows are cut at row_group_rows (400); a 450-row flush staged encoded is two of 225
          const sizes = (await query(`SELECT DISTINCT row_group_num_rows AS n FROM parquet_metadata('${glob()}')`)).map(
            (r) => Number(r.n),
          );
          expect(sizes.includes(225)).toBe(encodeAtFlushRows === 300);
          expect(sizes.includes(400)).toBe(encodeAtFlushRows !== 300);
          expect(Math.max(...sizes)).toBeLessThanOrEqual(400);
        });
      });

      test("hyparquet (an independent pure-JS reader) reads every file: identical rows, NaN and nulls included", async () => {
        const files = [...new Bun.Glob("orderbook_snapshots/**/*.parquet").scanSync({ cwd: tmp.dir })].sort();
        const rows: SnapshotRow[] = [];
        for (const f of files) {
          const file = await asyncBufferFromFile(`${tmp.dir}/${f}`);
          for (const r of await parquetReadObjects({ file, compressors }))
            rows.push(normalize(r as Record<string, unknown>));
        }
        rows.sort((a, b) => a.venue.localeCompare(b.venue) || a.ts_recv - b.ts_recv);
        expect(rows.length).toBe(expected.length);
        expect(rows).toEqual(expected);
      });
    });
  });
