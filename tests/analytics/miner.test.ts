/** The miner's metrics against a hand computation and DuckDB: chunking, journal minutes watched, hour ranges. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { mine } from "../../src/analytics/miner.ts";
import { checkParquetFile } from "../../src/analytics/dataset-files.ts";
import { listDatasetFiles, snapshotPath } from "../../src/layout.ts";
import { normalizeSnapshot, REQUIRED_COLUMNS, type SnapshotRow } from "../../src/schema.ts";
import { parquetBytes, rowsToTable, writeSnapshotFile } from "../helpers/snapshot-files.ts";
import { duckdbBooks } from "../helpers/duckdb-rankings.ts";
import { foldMirrors, RANKINGS } from "../../src/analytics/score.ts";
import { writeRowsWithWriter } from "../helpers/write-rows.ts";

const T = Date.UTC(2026, 0, 1);
const S = 1000;
const M = 60_000;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "miner-"));
  dirs.push(d);
  return d;
}

function writeFile(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

function row(
  ts: number,
  market: string,
  outcome: string,
  seq: number,
  bids: [number, number][],
  asks: [number, number][],
  stale: string | null = null,
): SnapshotRow {
  return normalizeSnapshot(
    {
      tsRecv: ts,
      venue: "mock",
      marketId: market,
      outcomeId: outcome,
      seq,
      bidPx: bids.map((l) => l[0]),
      bidSz: bids.map((l) => l[1]),
      askPx: asks.map((l) => l[0]),
      askSz: asks.map((l) => l[1]),
      staleReason: stale,
    },
    50,
  );
}

/**
 * Three books with hand-checked metrics, over two hour partitions: hour 00 written WITHOUT the derived depth columns
 * (the miner must fall back to the lists), hour 01 with them.
 */
async function knownDataset(): Promise<string> {
  const dir = tempDir();
  const bidsA: [number, number][] = [
    [0.4, 10],
    [0.39, 20],
    [0.38, 30],
    [0.37, 40],
  ]; // top-3 bid sizes: 60
  const asksA: [number, number][] = [
    [0.45, 5],
    [0.46, 5],
  ]; // 10
  const hour0 = [
    row(T + 59 * M + 50 * S, "mA", "yes", 1, bidsA, asksA),
    row(T + 59 * M + 52 * S, "mA", "yes", 1, bidsA, asksA),
    row(T + 59 * M + 54 * S, "mA", "yes", 2, bidsA, asksA),
    row(T + 59 * M + 56 * S, "mA", "yes", 5, bidsA, asksA),
    // mB has no seq (0): changes are top-of-book changes.
    row(T + 59 * M + 50 * S, "mB", "yes", 0, [[0.3, 100]], [[0.35, 50]]),
    row(T + 59 * M + 52 * S, "mB", "yes", 0, [[0.3, 100]], [[0.35, 50]], "feed silent"),
    row(T + 59 * M + 54 * S, "mB", "yes", 0, [[0.3, 120]], [[0.35, 50]]),
    row(T + 59 * M + 56 * S, "mB", "yes", 0, [], [[0.35, 50]]),
    row(T + 59 * M + 58 * S, "mB", "yes", 0, [], []),
  ];
  const bidsA2: [number, number][] = [
    [0.4, 10],
    [0.39, 20],
  ]; // 30
  const asksA2: [number, number][] = [
    [0.42, 5],
    [0.46, 5],
  ]; // 10
  const hour1 = [
    row(T + 60 * M, "mA", "yes", 5, bidsA2, asksA2),
    row(T + 60 * M + 2 * S, "mA", "yes", 7, bidsA2, asksA2),
    // 118 s later: rotated out in between, so this pair is neither a change nor observed time.
    row(T + 62 * M, "mA", "yes", 9, bidsA2, asksA2),
    row(T + 60 * M, "mC", "no", 10, [[0.5, 1]], [[0.6, 2]]),
    row(T + 60 * M + 10 * S, "mC", "no", 11, [[0.5, 1]], [[0.6, 2]]),
    row(T + 60 * M + 20 * S, "mC", "no", 12, [[0.5, 1]], [[0.6, 2]]),
    row(T + 60 * M + 30 * S, "mC", "no", 13, [[0.5, 1]], [[0.6, 2]]),
  ];
  writeFile(
    join(dir, snapshotPath("mock", T + 55 * M, 5)),
    parquetBytes(rowsToTable(hour0).select([...REQUIRED_COLUMNS])),
  );
  await writeSnapshotFile(join(dir, snapshotPath("mock", T + 60 * M, 5)), hour1);
  const universe = ["mA", "mB", "mC"].map((id) =>
    JSON.stringify({
      market_id: id,
      outcome_ids: ["yes", "no"],
      title: `Title of ${id}`,
      close_ts: null,
      status: "active",
      tags: [],
    }),
  );
  writeFile(
    join(dir, "metadata/venue=mock/date=2026-01-01/universe.jsonl"),
    new TextEncoder().encode(universe.join("\n") + "\n"),
  );
  return dir;
}

describe("mine", () => {
  for (const chunkHours of [1, 6]) {
    test(`metrics equal the hand computation (chunkHours=${chunkHours})`, async () => {
      const dir = await knownDataset();
      const r = await mine({ dataDir: dir, from: T, to: T + 24 * 60 * M, top: 10, chunkHours, writeStats: false });
      const books = new Map(r.books.get("mock")!.map((b) => [`${b.market_id}/${b.outcome_id}`, b]));
      expect(books.size).toBe(3);

      const a = books.get("mA/yes")!;
      expect(a.snapshots).toBe(7);
      expect(a.avg_depth).toBeCloseTo((4 * 70 + 3 * 40) / 7, 9);
      // spreads: 4 × 0.05, 3 × 0.02
      expect(a.avg_spread).toBeCloseTo((4 * 0.05 + 3 * 0.02) / 7, 9);
      expect(a.median_spread).toBeCloseTo(0.05, 9);
      // changes: 1→2, 2→5, (5→5 across the hour: none), 5→7; 7→9 is across a 118 s gap. Observed: 2+2+2+4+2 s.
      expect(a.changes).toBe(3);
      expect(a.observed_minutes).toBeCloseTo(12 / 60, 9);
      expect(a.activity).toBeCloseTo(3 / (12 / 60), 9);
      expect(a.minutes_watched).toBe(3); // minutes 59, 60, 62
      expect(a.share_one_sided).toBe(0);

      const b = books.get("mB/yes")!;
      expect(b.snapshots).toBe(5);
      expect(b.avg_depth).toBeCloseTo((150 + 150 + 170 + 50 + 0) / 5, 9);
      expect(b.avg_spread).toBeCloseTo(0.05, 9); // the one-sided and empty rows do not count
      expect(b.median_spread).toBeCloseTo(0.05, 9);
      expect(b.changes).toBe(3); // bid size, bid side gone, ask side gone
      expect(b.activity).toBeCloseTo(3 / (8 / 60), 9);
      expect(b.share_one_sided).toBeCloseTo(0.2, 12);
      expect(b.share_empty).toBeCloseTo(0.2, 12);
      expect(b.share_stale).toBeCloseTo(0.2, 12);
      expect(b.avg_mid).toBeCloseTo(0.325, 9);

      const c = books.get("mC/no")!;
      expect(c.avg_depth).toBe(3);
      expect(c.avg_spread).toBeCloseTo(0.1, 9);
      expect(c.activity).toBeCloseTo(3 / 0.5, 9);

      expect(r.venues[0].top.depth.map((x) => x.market_id)).toEqual(["mB", "mA", "mC"]);
      expect(r.venues[0].top.depth[0].title).toBe("Title of mB");
      expect(r.venues[0].top.spread.map((x) => x.market_id)).toEqual(["mA", "mB", "mC"]);
      expect(r.venues[0].top.activity.map((x) => x.market_id)).toEqual(["mB", "mA", "mC"]);
      expect(r.totals.rows).toBe(16);
      expect(r.totals.files).toBe(2);
    }, 60_000);
  }

  test("minutes watched come from the subscription journal when there is one", async () => {
    const dir = await knownDataset();
    const ev = (ts: number, market: string, outcome: string, action: string) =>
      JSON.stringify({ ts, venue: "mock", market_id: market, outcome_id: outcome, action, reason: "warm" });
    const lines = [
      ev(T + 59 * M, "mA", "yes", "subscribe"),
      ev(T + 60 * M + 30_000, "mA", "yes", "unsubscribe"),
      ev(T + 61 * M, "mA", "yes", "subscribe"),
    ];
    writeFile(
      join(dir, "subscriptions/venue=mock/date=2026-01-01/events.jsonl"),
      new TextEncoder().encode(lines.join("\n") + "\n"),
    );
    const r = await mine({ dataDir: dir, from: T, to: T + 24 * 60 * M, top: 10, writeStats: false });
    expect(r.venues[0].minutesSource).toBe("journal");
    const a = r.books.get("mock")!.find((b) => b.market_id === "mA")!;
    // Mined data spans 00:59:50 .. 01:02:00: subscribed 00:59:50 (clipped) .. 01:00:30, then 01:01:00 .. 01:02:00.
    expect(a.minutes_watched).toBeCloseTo(40 / 60 + 1, 9);
  }, 60_000);

  test("an hour range reads only that hour", async () => {
    const dir = await knownDataset();
    const r = await mine({ dataDir: dir, from: T + 60 * M, to: T + 120 * M, top: 10, writeStats: false });
    expect(r.totals.files).toBe(1);
    expect(r.totals.rows).toBe(7);
    expect(r.books.get("mock")!.find((b) => b.market_id === "mA")!.snapshots).toBe(3);
  }, 60_000);
});

/** A seeded random dataset written by the real SnapshotWriter: 24 books over two hours in 5-minute files, some without seq, some one-sided, random gaps. */
async function randomDataset(seed: number): Promise<string> {
  const dir = tempDir();
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const rows: SnapshotRow[] = [];
  for (let m = 0; m < 12; m++) {
    for (const outcome of ["yes", "no"]) {
      const noSeq = m % 4 === 0;
      const interval = m < 4 ? 2 * S : 10 * S;
      let seq = 1 + Math.floor(rnd() * 100);
      let bid = 0.3 + rnd() * 0.2;
      const baseSize = 10 + rnd() * 500;
      for (let ts = T + Math.floor(rnd() * 5000); ts < T + 120 * M; ts += interval) {
        if (rnd() < 0.02) ts += 90 * S; // rotated out for a while
        if (ts >= T + 120 * M) break;
        if (rnd() < 0.3 * (1 + (m % 3))) {
          seq += 1 + Math.floor(rnd() * 3);
          bid = Math.min(0.9, Math.max(0.05, bid + (rnd() - 0.5) * 0.02));
        }
        const spread = 0.01 * (1 + (m % 5)) + Math.round(rnd() * 3) * 0.01;
        const oneSided = rnd() < 0.05;
        const levels = 1 + Math.floor(rnd() * 20);
        const bids: [number, number][] = [];
        const asks: [number, number][] = [];
        for (let l = 0; l < levels; l++) {
          bids.push([bid - l * 0.01, Math.round(baseSize * (1 + rnd()))]);
          asks.push([bid + spread + l * 0.01, Math.round(baseSize * (1 + rnd()))]);
        }
        rows.push(row(ts, `m${String(m).padStart(2, "0")}`, outcome, noSeq ? 0 : seq, bids, oneSided ? [] : asks));
      }
    }
  }
  await writeRowsWithWriter(dir, rows);
  return dir;
}

describe("mine vs DuckDB", () => {
  test("DuckDB on the list columns ranks the top books the same", async () => {
    const dir = await randomDataset(7);
    const r = await mine({ dataDir: dir, from: T, to: T + 2 * 60 * M, top: 10, chunkHours: 1, writeStats: false });
    const duck = await duckdbBooks(join(dir, "orderbook_snapshots/venue=mock/*/*/*.parquet"));
    // The writer's files carry the derived columns, so this covers the miner's fast path on real files.
    const files = listDatasetFiles(dir);
    expect(files.length).toBe(24);
    for (const f of files) expect(checkParquetFile(f.abs)).toEqual({ ok: true, hasDepth3: true });
    expect(duck.length).toBe(24);
    const key = (b: { market_id: string; outcome_id: string }) => `${b.market_id}/${b.outcome_id}`;
    // Same tie-breaks as the miner; values rounded so float summation order cannot reorder exact ties.
    const rnd = (x: number) => Math.round(x * 1e9) / 1e9;
    const byId = (a: { market_id: string; outcome_id: string }, b: { market_id: string; outcome_id: string }) =>
      key(a).localeCompare(key(b));
    // Each ranking's yes/no mirrors folded onto one row, as the miner's top lists are.
    const dDepth = foldMirrors(
      [...duck].sort((a, b) => rnd(b.avg_depth) - rnd(a.avg_depth) || byId(a, b)),
      10,
      RANKINGS.depth,
    );
    const dSpread = foldMirrors(
      duck
        .filter((b) => b.avg_spread !== null)
        .sort((a, b) => rnd(a.avg_spread!) - rnd(b.avg_spread!) || rnd(b.avg_depth) - rnd(a.avg_depth) || byId(a, b)),
      10,
      RANKINGS.spread,
    );
    const dAct = foldMirrors(
      duck.filter((b) => b.activity !== null).sort((a, b) => rnd(b.activity!) - rnd(a.activity!) || byId(a, b)),
      10,
      RANKINGS.activity,
    );
    const v = r.venues[0];
    expect(v.top.depth.map(key)).toEqual(dDepth.map(key));
    expect(v.top.spread.map(key)).toEqual(dSpread.map(key));
    expect(v.top.activity.map(key)).toEqual(dAct.map(key));
    // And the values themselves agree.
    const mined = new Map(r.books.get("mock")!.map((b) => [key(b), b]));
    for (const d of duck) {
      const m = mined.get(key(d))!;
      expect(m.avg_depth!).toBeCloseTo(d.avg_depth, 6);
      expect(m.avg_spread!).toBeCloseTo(d.avg_spread!, 9);
      expect(m.activity!).toBeCloseTo(d.activity!, 9);
    }
  }, 60_000);
});
