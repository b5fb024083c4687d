/** The encoder's edge cases: all-null and all-empty columns, odd slice offsets, >65,536 strings, misfit row groups. */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Table } from "apache-arrow";
import { ColumnBuffer } from "../../src/storage/column-buffer.ts";
import { nodeFs } from "../../src/storage/fs.ts";
import { readSnapshotTable, tableToRows } from "../../src/parquet/read.ts";
import { SNAPSHOT_SCHEMA } from "../../src/schema.ts";
import { ParquetStreamEncoder } from "../../src/parquet/encode.ts";
import { sideOf } from "../helpers/books.ts";
import { tempDir } from "../helpers/store.ts";
import { withDuckdb } from "../helpers/sql-engines.ts";

const tmp = tempDir("surv-encode-edges-");
afterAll(() => tmp.cleanup());
const T0 = Date.UTC(2026, 0, 1);

function snap(i: number, bids: number[][], asks: number[][]) {
  return {
    tsRecv: T0 + i,
    venue: "mock",
    marketId: `m${i % 7}`,
    outcomeId: "yes",
    seq: i + 1,
    bids: sideOf(bids),
    asks: sideOf(asks),
    staleReason: null,
    sourceTs: null,
  };
}

async function encodeFile(name: string, bufs: ColumnBuffer[]) {
  const out = join(tmp.dir, name);
  const fh = await nodeFs.create(out);
  const enc = new ParquetStreamEncoder(
    SNAPSHOT_SCHEMA,
    { codec: "zstd", rowGroupRows: 65_536, createdBy: "surveillance" },
    (x) => fh.write(x),
  );
  const flushEnc = new ParquetStreamEncoder(SNAPSHOT_SCHEMA, { codec: "zstd", rowGroupRows: 65_536 }, () => {
    throw new Error("no sink");
  });
  for (const b of bufs) await enc.writeEncoded(flushEnc.encodeRowGroup(b.toRecordBatch()));
  await enc.finish();
  await fh.commit();
  return out;
}

describe("encoded row groups, edge cases", () => {
  test("all-null err / source_ts and all-empty books (empty dictionaries): arrow-rs, DuckDB and Polars read them back", async () => {
    const a = new ColumnBuffer(50);
    for (let i = 0; i < 500; i++) a.append(snap(i, [[0.4, 1]], [[0.6, 2]])); // every row ok: err all null
    const b = new ColumnBuffer(50);
    for (let i = 0; i < 500; i++) b.append(snap(i, [], [])); // every book empty
    const expected = [...tableToRows(new Table([a.toRecordBatch()])), ...tableToRows(new Table([b.toRecordBatch()]))];
    const out = await encodeFile("allnull.parquet", [a, b]);
    expect(tableToRows(readSnapshotTable(out))).toEqual(expected);
    await withDuckdb(async (query) => {
      const rows = await query(`SELECT err, source_ts, bid_px, status FROM read_parquet('${out}')`);
      expect(rows.map((r) => [r.err ?? null, r.source_ts ?? null, (r.bid_px as number[]).length, r.status])).toEqual(
        expected.map((r) => [r.err, null, r.bid_px.length, r.status]),
      );
    });
    const pl = (await import("nodejs-polars")).default;
    const df = pl.readParquet(out);
    expect(df.getColumn("err").toArray() as unknown[]).toEqual(expected.map((r) => r.err));
    expect(
      df
        .getColumn("bid_px")
        .toArray()
        .map((l: unknown) => [...(l as Iterable<number>)]),
    ).toEqual(expected.map((r) => r.bid_px));
  });

  test("slices at offsets that are not multiples of 8: nullable err/source_ts, lists and string ids read back exactly", async () => {
    const a = new ColumnBuffer(50);
    for (let i = 0; i < 1000; i++) {
      const s = snap(
        i,
        i % 5 === 0 ? [] : [[0.4 + (i % 3) / 100, 1 + (i % 11)]],
        i % 7 === 0
          ? []
          : [
              [0.6, 2],
              [0.61, i % 4],
            ],
      );
      a.append({
        ...s,
        sourceTs: i % 3 ? T0 + i : null,
        staleReason: i % 13 === 0 ? `gap ${i % 5}` : null,
        marketId: `mk-${i % 97}`,
      });
    }
    const expected = tableToRows(new Table([a.toRecordBatch()]));
    const out = join(tmp.dir, "odd-slices.parquet");
    const fh = await nodeFs.create(out);
    const enc = new ParquetStreamEncoder(
      SNAPSHOT_SCHEMA,
      { codec: "zstd", rowGroupRows: 65_536, createdBy: "surveillance" },
      (x) => fh.write(x),
    );
    const flushEnc = new ParquetStreamEncoder(SNAPSHOT_SCHEMA, { codec: "uncompressed", rowGroupRows: 65_536 }, () => {
      throw new Error("no sink");
    });
    const batch = a.toRecordBatch();
    for (const [r0, r1] of [
      [0, 333],
      [333, 334],
      [334, 701],
      [701, 1000],
    ])
      await enc.writeEncoded(flushEnc.encodeRowGroup(batch.slice(r0, r1)));
    await enc.finish();
    await fh.commit();
    expect(tableToRows(readSnapshotTable(out))).toEqual(expected);
    const pl = (await import("nodejs-polars")).default;
    const df = pl.readParquet(out);
    expect(df.getColumn("err").toArray() as unknown[]).toEqual(expected.map((r) => r.err));
    expect((df.getColumn("source_ts").toArray() as unknown[]).map((v) => (v == null ? null : Number(v)))).toEqual(
      expected.map((r) => r.source_ts),
    );
  });

  test("> 65,536 distinct strings with ids attached: PLAIN, read back exactly", async () => {
    const a = new ColumnBuffer(50);
    for (let i = 0; i < 70_000; i++) a.append({ ...snap(i, [[0.4, 1]], [[0.6, 2]]), marketId: `market-${i}` });
    const expected = tableToRows(new Table([a.toRecordBatch()]));
    const out = await encodeFile("wide-ids.parquet", [a]);
    expect(tableToRows(readSnapshotTable(out)).map((r) => r.market_id)).toEqual(expected.map((r) => r.market_id));
    await withDuckdb(async (query) => {
      const meta = await query(
        `SELECT encodings AS e FROM parquet_metadata('${out}') WHERE path_in_schema = 'market_id'`,
      );
      expect(String(meta[0].e)).not.toContain("RLE_DICTIONARY");
      const ids = await query(`SELECT market_id FROM read_parquet('${out}')`);
      expect(ids.map((r) => r.market_id)).toEqual(expected.map((r) => r.market_id));
    });
    const pl = (await import("nodejs-polars")).default;
    expect(pl.readParquet(out).getColumn("market_id").toArray()).toEqual(expected.map((r) => r.market_id));
  });

  test("writeEncoded refuses a row group that does not fit the schema (a column fewer, a wrong path, pages not back to back)", async () => {
    const a = new ColumnBuffer(50);
    for (let i = 0; i < 100; i++) a.append(snap(i, [[0.4, 1]], [[0.6, 2]]));
    const flushEnc = new ParquetStreamEncoder(SNAPSHOT_SCHEMA, { codec: "zstd", rowGroupRows: 65_536 }, () => {
      throw new Error("no sink");
    });
    const good = flushEnc.encodeRowGroup(a.toRecordBatch());
    const variants: [string, (g: typeof good) => void][] = [
      ["19 chunks for 20 columns", (g) => void g.chunks.pop()], // e.g. staged before a derived column was added
      ["chunk 2 is", (g) => (g.chunks[2] = { ...g.chunks[2], path: ["outcome_id"] })],
      ["not back to back", (g) => (g.chunks[0] = { ...g.chunks[0], offset: g.chunks[0].offset + 1 })],
      ["values for", (g) => (g.chunks[4] = { ...g.chunks[4], numValues: 99 })],
    ];
    for (const [why, damage] of variants) {
      const g = { ...good, chunks: [...good.chunks] };
      damage(g);
      let written = 0;
      const enc = new ParquetStreamEncoder(
        SNAPSHOT_SCHEMA,
        { codec: "zstd", rowGroupRows: 65_536 },
        async (x) => void (written += x.length),
      );
      await expect(enc.writeEncoded(g)).rejects.toThrow(why);
      expect(written).toBe(0); // refused before a byte is written
    }
    // the undamaged one goes through
    const enc = new ParquetStreamEncoder(SNAPSHOT_SCHEMA, { codec: "zstd", rowGroupRows: 65_536 }, async () => {});
    await enc.writeEncoded(good);
  });
});
