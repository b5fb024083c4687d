/** Our Parquet encoder on compacted and flush-time row groups: statistics, dictionaries, read back by three readers. */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Table } from "apache-arrow";
import { ColumnBuffer } from "../../src/storage/column-buffer.ts";
import { compactSegments } from "../../src/storage/compact.ts";
import { nodeFs, writeAtomic } from "../../src/storage/fs.ts";
import { parquetFileInfo, readSnapshotTable, tableToRows } from "../../src/parquet/read.ts";
import { encodeSegment } from "../../src/storage/staging.ts";
import { SNAPSHOT_SCHEMA } from "../../src/schema.ts";
import { ParquetStreamEncoder } from "../../src/parquet/encode.ts";
import { BookGen, sideOf } from "../helpers/books.ts";
import { tempDir } from "../helpers/store.ts";
import { withDuckdb } from "../helpers/sql-engines.ts";

const tmp = tempDir("surv-encode-");
afterAll(() => tmp.cleanup());

/** Three segments of 700, 1 and 1300 rows (parts of 500 rows) → compacted with the given settings. */
async function build(name: string, compression: "zstd" | "snappy" | "uncompressed", rowGroupRows: number) {
  const g = new BookGen({ seed: 21, maxLevels: 70 });
  const segs: string[] = [];
  const rows = [];
  for (const [k, n] of [700, 1, 1300].entries()) {
    const buf = new ColumnBuffer(50);
    for (let i = 0; i < n; i++) buf.append(g.next());
    rows.push(...tableToRows(new Table([buf.toRecordBatch()])));
    const p = join(tmp.dir, `${name}-seg-${k}.arrows`);
    await writeAtomic(
      nodeFs,
      p,
      encodeSegment(buf, { rows: n, min_ts: buf.minTs, max_ts: buf.maxTs, markets: [...buf.markets] }, 500),
    );
    segs.push(p);
  }
  const out = join(tmp.dir, `${name}.parquet`);
  const res = await compactSegments(nodeFs, segs, out, { compression, row_group_rows: rowGroupRows });
  return { out, rows, res };
}

describe("Parquet encoding of compacted buckets", () => {
  test.each([
    ["zstd", 600],
    ["uncompressed", 65_536],
    ["snappy", 600], // parquet-wasm path
  ] as const)(
    "%s (row groups of %i): Arrow schema exactly SNAPSHOT_SCHEMA, rows identical, row groups bounded",
    async (codec, rg) => {
      const { out, rows, res } = await build(codec, codec, rg);
      const t = readSnapshotTable(out);
      expect(t.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`)).toEqual(
        SNAPSHOT_SCHEMA.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`),
      );
      expect(tableToRows(t)).toEqual(rows);
      expect(res.rows).toBe(2001);
      expect(res.bytes).toBe(Bun.file(out).size);
      const info = await parquetFileInfo(out);
      expect(info.rows).toBe(2001);
      expect(info.rowGroupRows).toEqual(rg === 600 ? [600, 600, 600, 201] : [2001]);
    },
  );

  test("DuckDB sees ZSTD and exact ts_recv min/max statistics per row group (for pruning)", async () => {
    const { out, rows } = await build("stats", "zstd", 600);
    await withDuckdb(async (query) => {
      const meta = await query(
        `SELECT row_group_id, path_in_schema, compression, stats_min_value, stats_max_value FROM parquet_metadata('${out}') WHERE path_in_schema = 'ts_recv' ORDER BY row_group_id, path_in_schema`,
      );
      const ts = meta.filter((m) => m.path_in_schema === "ts_recv");
      expect(ts.length).toBe(4);
      for (const m of ts) {
        const g = rows.slice(Number(m.row_group_id) * 600, Number(m.row_group_id) * 600 + 600).map((r) => r.ts_recv);
        expect([String(m.stats_min_value), String(m.stats_max_value)]).toEqual([
          String(Math.min(...g)),
          String(Math.max(...g)),
        ]);
        expect(m.compression).toBe("ZSTD");
      }
    });
  });

  test("seq (not monotonic) and source_ts (nullable) get exact min/max statistics per row group too", async () => {
    const { out, rows } = await build("stats2", "zstd", 600);
    await withDuckdb(async (query) => {
      for (const col of ["seq", "source_ts"] as const) {
        const meta = await query(
          `SELECT row_group_id, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('${out}') WHERE path_in_schema = '${col}' ORDER BY row_group_id`,
        );
        expect(meta.length).toBe(4);
        for (const m of meta) {
          const all = rows.slice(Number(m.row_group_id) * 600, Number(m.row_group_id) * 600 + 600).map((r) => r[col]);
          const g = all.filter((v) => v !== null).map(Number);
          expect(g.length).toBeGreaterThan(0);
          expect([String(m.stats_min_value), String(m.stats_max_value)]).toEqual([
            String(Math.min(...g)),
            String(Math.max(...g)),
          ]);
          expect(Number(m.stats_null_count)).toBe(all.length - g.length);
        }
      }
      // the extremes are not at the ends of the row group for seq: the test would pass for a first/last-row bug otherwise
      const seq0 = rows.slice(0, 600).map((r) => Number(r.seq));
      expect(Math.max(...seq0)).not.toBe(seq0[599]);
    });
  });
});

/** A hand-made snapshot (the buffer copies it). */
function snap(
  i: number,
  bids: number[][],
  asks: number[][],
  extra: { venue?: string; market?: string; stale?: string } = {},
) {
  return {
    tsRecv: T0 + i,
    venue: extra.venue ?? "mock",
    marketId: extra.market ?? `m${i % 7}`,
    outcomeId: i % 2 ? "yes" : "no",
    seq: i + 1,
    bids: sideOf(bids),
    asks: sideOf(asks),
    staleReason: extra.stale ?? null,
    sourceTs: i % 3 ? T0 + i - 5 : null,
  };
}
const T0 = Date.UTC(2026, 0, 1);

describe("row groups encoded at flush time (encodeRowGroup → writeEncoded)", () => {
  test("dictionaries (cent grid, off-grid, NaN, -0, strings with nulls) and their PLAIN fallback read back exactly by arrow-rs, DuckDB and Polars", async () => {
    // group 1: few distinct values: prices on and off the cent grid, a zero price, NaN mids (one side empty)
    const a = new ColumnBuffer(50);
    for (let i = 0; i < 900; i++) {
      const bids =
        i % 50 === 0
          ? []
          : [
              [0.45, 10],
              [0.3333333, 2.5],
              [0, 7],
            ];
      const asks =
        i % 70 === 0
          ? []
          : [
              [0.46, 1e-9],
              [0.55, 123456.78],
            ];
      a.append(
        snap(i, bids, asks, {
          stale: i % 9 === 0 ? "seq gap: awaiting resync" : undefined,
          venue: i < 450 ? "mock" : "kalshi",
        }),
      );
    }
    // -0 as a price must stay -0 (the cent-grid fast path would turn it into 0)
    a.append(snap(900, [[-0, 3]], [[0.5, 1]]));
    // group 2: > 1024 distinct prices: the dictionary gives up, PLAIN values
    const b = new ColumnBuffer(50);
    for (let i = 0; i < 1500; i++) b.append(snap(1000 + i, [[(i % 1400) / 1401, 1 + i]], [[0.999, (i % 1300) / 7]]));
    const expected = [...tableToRows(new Table([a.toRecordBatch()])), ...tableToRows(new Table([b.toRecordBatch()]))];
    const out = join(tmp.dir, "flush-encoded.parquet");
    const fh = await nodeFs.create(out);
    const enc = new ParquetStreamEncoder(SNAPSHOT_SCHEMA, { codec: "zstd", rowGroupRows: 65_536 }, (x) => fh.write(x));
    const flushEnc = new ParquetStreamEncoder(SNAPSHOT_SCHEMA, { codec: "zstd", rowGroupRows: 65_536 }, () => {
      throw new Error("no sink");
    });
    const batchA = a.toRecordBatch();
    await enc.writeEncoded(flushEnc.encodeRowGroup(batchA.slice(0, 400))); // a slice: string ids still found
    await enc.writeEncoded(flushEnc.encodeRowGroup(batchA.slice(400)));
    await enc.writeEncoded(flushEnc.encodeRowGroup(b.toRecordBatch()));
    await enc.finish();
    await fh.commit();

    const got = tableToRows(readSnapshotTable(out)); // arrow-rs (parquet-wasm)
    expect(got).toEqual(expected);
    expect(Object.is(got[900].bid_px[0], -0)).toBe(true);
    expect(got.filter((r) => Number.isNaN(r.mid)).length).toBe(expected.filter((r) => Number.isNaN(r.mid)).length);

    await withDuckdb(async (query) => {
      const enc2 = await query(
        `SELECT row_group_id AS g, path_in_schema AS p, encodings AS e FROM parquet_metadata('${out}')`,
      );
      const encodingOf = (g: number, p: string) => String(enc2.find((r) => Number(r.g) === g && r.p === p)!.e);
      for (const p of ["bid_px, list, item", "market_id", "venue", "err", "status", "mid", "spread", "best_bid_px"])
        expect(encodingOf(0, p)).toContain("RLE_DICTIONARY");
      expect(encodingOf(2, "bid_px, list, item")).not.toContain("RLE_DICTIONARY");
      expect(encodingOf(2, "bid_sz, list, item")).not.toContain("RLE_DICTIONARY");
      const rows = await query(`SELECT market_id, venue, err, bid_px, mid FROM read_parquet('${out}')`);
      expect(rows.map((r) => [r.market_id, r.venue, r.err ?? null])).toEqual(
        expected.map((r) => [r.market_id, r.venue, r.err]),
      );
      expect(rows.map((r) => (r.bid_px as number[]).map(Number))).toEqual(expected.map((r) => r.bid_px));
    });
    const pl = (await import("nodejs-polars")).default;
    const df = pl.readParquet(out);
    expect(df.getColumn("market_id").toArray()).toEqual(expected.map((r) => r.market_id));
    expect(df.getColumn("err").toArray() as unknown[]).toEqual(expected.map((r) => r.err));
    expect(
      df
        .getColumn("ask_px")
        .toArray()
        .map((l: unknown) => [...(l as Iterable<number>)]),
    ).toEqual(expected.map((r) => r.ask_px));
  });
});

describe("string dictionaries of compacted rows (decoded from staging, no ids: hashed bytes)", () => {
  test("few distinct strings get a dictionary, 70,000 distinct ones fall back to PLAIN; values exact either way", async () => {
    const few = new ColumnBuffer(50);
    for (let i = 0; i < 3000; i++)
      few.append(
        snap(i, [[0.4, 1]], [[0.6, 2]], { market: `m${i % 300}-é`, stale: i % 11 === 0 ? `gap ${i % 3}` : undefined }),
      );
    const many = new ColumnBuffer(50);
    for (let i = 0; i < 70_000; i++) many.append(snap(i, [[0.4, 1]], [[0.6, 2]], { market: `market-${i}` }));
    const segs: string[] = [];
    const expected: ReturnType<typeof tableToRows> = [];
    for (const [k, buf] of [few, many].entries()) {
      expected.push(...tableToRows(new Table([buf.toRecordBatch()])));
      const p = join(tmp.dir, `strings-seg-${k}.arrows`);
      await writeAtomic(
        nodeFs,
        p,
        encodeSegment(buf, { rows: buf.length, min_ts: buf.minTs, max_ts: buf.maxTs, markets: [...buf.markets] }),
      );
      segs.push(p);
    }
    const out = join(tmp.dir, "strings.parquet");
    // row groups of 70,000 rows: the first holds 300 + 67,000 distinct market ids (past the 65,536 cap), the second 3,000
    await compactSegments(nodeFs, segs, out, { compression: "zstd", row_group_rows: 3000 + 67_000 });
    expect(tableToRows(readSnapshotTable(out))).toEqual(expected);
    await withDuckdb(async (query) => {
      const meta = await query(
        `SELECT row_group_id AS g, row_group_num_rows AS n, path_in_schema AS p, encodings AS e FROM parquet_metadata('${out}')`,
      );
      const encodingOf = (g: number, p: string) => String(meta.find((r) => Number(r.g) === g && r.p === p)!.e);
      expect(meta.filter((r) => r.p === "market_id").map((r) => Number(r.n))).toEqual([70_000, 3000]);
      // group 0: PLAIN market ids; its status/venue/err/outcome_id still dictionaries
      expect(encodingOf(0, "market_id")).not.toContain("RLE_DICTIONARY");
      for (const p of ["status", "venue", "err", "outcome_id"]) expect(encodingOf(0, p)).toContain("RLE_DICTIONARY");
      expect(encodingOf(1, "market_id")).toContain("RLE_DICTIONARY"); // 3,000 distinct
      const ids = await query(`SELECT market_id, err FROM read_parquet('${out}')`);
      expect(ids.map((r) => [r.market_id, r.err ?? null])).toEqual(expected.map((r) => [r.market_id, r.err]));
    });
  });
});
