/** ColumnBuffer against normalizeSnapshot and hand-written rows: derived columns, caps, int64 range, reuse. */
import { describe, expect, test } from "bun:test";
import { ColumnBuffer } from "../../src/storage/column-buffer.ts";
import { tableToRows } from "../../src/parquet/read.ts";
import { normalizeSnapshot, type SnapshotInput, type SnapshotRow } from "../../src/schema.ts";
import { Table } from "apache-arrow";
import { BookGen, copyInput } from "../helpers/books.ts";

function side(levels: [number, number][]) {
  const px = new Float64Array(levels.map((l) => l[0]));
  const sz = new Float64Array(levels.map((l) => l[1]));
  return { px, sz, len: levels.length };
}

function input(over: Partial<SnapshotInput> = {}): SnapshotInput {
  return {
    tsRecv: Date.UTC(2026, 0, 1),
    venue: "mock",
    marketId: "m1",
    outcomeId: "yes",
    seq: 7,
    bids: side([
      [0.5, 10],
      [0.49, 20],
    ]),
    asks: side([[0.52, 5]]),
    staleReason: null,
    sourceTs: 123,
    ...over,
  };
}

/** NaN-aware equality: toEqual treats NaN as equal to NaN, which is what we want. */
function roundTrip(inputs: SnapshotInput[], topK: number): SnapshotRow[] {
  const buf = new ColumnBuffer(topK, 2); // tiny capacity: exercises every grow path
  for (const s of inputs) buf.append(s);
  return tableToRows(new Table([buf.toRecordBatch()]));
}

describe("ColumnBuffer", () => {
  test("matches normalizeSnapshot on 3,000 varied books (caps, empty and one-sided sides, stale, null source_ts)", () => {
    const g = new BookGen({ seed: 7, maxLevels: 70, markets: 50 });
    const expected: SnapshotRow[] = [];
    const buf = new ColumnBuffer(50, 4);
    for (let i = 0; i < 3000; i++) {
      const s = g.next();
      expected.push(normalizeSnapshot(copyInput(s), 50));
      buf.append(s);
    }
    const rows = tableToRows(new Table([buf.toRecordBatch()]));
    expect(rows.length).toBe(3000);
    expect(rows).toEqual(expected);
    // the generator did produce the edge cases
    expect(rows.some((r) => r.status === "empty")).toBe(true);
    expect(rows.some((r) => r.status === "partial")).toBe(true);
    expect(rows.some((r) => r.status === "stale")).toBe(true);
    expect(rows.some((r) => r.bid_px.length === 50)).toBe(true);
    expect(rows.some((r) => r.source_ts === null)).toBe(true);
  });

  test("hand-written rows: derived columns, NaN on missing sides, err text", () => {
    const rows = roundTrip(
      [
        input(),
        input({
          bids: side([]),
          asks: side([
            [0.6, 1],
            [0.61, 2],
            [0.62, 3],
            [0.63, 4],
          ]),
          sourceTs: null,
        }),
        input({ bids: side([]), asks: side([]) }),
        input({ staleReason: "silent 90s" }),
      ],
      50,
    );
    expect(rows[0]).toMatchObject({
      best_bid_px: 0.5,
      best_ask_px: 0.52,
      mid: 0.51,
      bid_depth3: 30,
      ask_depth3: 5,
      status: "ok",
      err: null,
      source_ts: 123,
      seq: 7,
    });
    expect(rows[0].spread).toBeCloseTo(0.02, 12);
    expect(rows[1]).toMatchObject({
      status: "partial",
      err: "no bids",
      bid_depth3: 0,
      ask_depth3: 6,
      source_ts: null,
      bid_px: [],
      ask_sz: [1, 2, 3, 4],
    });
    expect(Number.isNaN(rows[1].mid) && Number.isNaN(rows[1].spread) && Number.isNaN(rows[1].best_bid_px)).toBe(true);
    expect(rows[2]).toMatchObject({ status: "empty", err: "no bids and no asks" });
    expect(rows[3]).toMatchObject({ status: "stale", err: "silent 90s", mid: 0.51 });
  });

  test("top_k caps each side and skips invalid levels like the reference", () => {
    const bad = input({
      bids: side([
        [0.5, 0],
        [0.49, -1],
        [0.48, NaN],
        [NaN, 3],
        [0.47, 2],
        [0.46, 1],
        [0.45, 1],
      ]),
      asks: side([
        [0.6, Infinity],
        [0.61, 1],
      ]),
    });
    const rows = roundTrip([bad], 2);
    expect(rows[0].bid_px).toEqual([0.47, 0.46]);
    expect(rows[0].bid_sz).toEqual([2, 1]);
    expect(rows[0].ask_px).toEqual([0.61]);
    expect(rows[0]).toEqual(normalizeSnapshot(copyInput(bad), 2));
  });

  test("int64 columns keep values beyond 2^32 and negative source_ts exactly", () => {
    const rows = roundTrip([input({ seq: 2 ** 40 + 3, tsRecv: 4_102_444_800_123, sourceTs: -5 })], 50);
    expect(rows[0].seq).toBe(2 ** 40 + 3);
    expect(rows[0].ts_recv).toBe(4_102_444_800_123);
    expect(rows[0].source_ts).toBe(-5);
  });

  test("reset() reuses the buffer without leaking old rows", () => {
    const buf = new ColumnBuffer(50, 2);
    buf.append(input({ sourceTs: null, marketId: "old" }));
    buf.append(input({ marketId: "old2" }));
    buf.reset();
    buf.append(input({ marketId: "new", sourceTs: 9 }));
    const rows = tableToRows(new Table([buf.toRecordBatch()]));
    expect(rows.map((r) => [r.market_id, r.source_ts])).toEqual([["new", 9]]);
    expect([...buf.markets]).toEqual(["new"]);
  });
});
