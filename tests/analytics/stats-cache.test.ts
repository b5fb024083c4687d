/** The stats cache written atomically and read back, score percentiles, and watched minutes from the journal. */
import { afterAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { BookMetrics } from "../../src/analytics/score.ts";
import { percentRanks, scoreBooks } from "../../src/analytics/score.ts";
import { writeStats } from "../../src/analytics/stats-writer.ts";
import { statsPath } from "../../src/layout.ts";
import { readLatestStats, readStatsFile } from "../../src/scheduler/stats-reader.ts";
import { watchedMinutes, type JournalEvent } from "../../src/analytics/journal.ts";
import { statsRow } from "../helpers/stats-rows.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "stats-"));
  dirs.push(d);
  return d;
};

const book = (market: string, outcome: string, score: number, extra: Partial<BookMetrics> = {}) =>
  statsRow(market, score, { outcome_id: outcome, ...extra });

describe("stats cache", () => {
  test("round-trips, atomically (no temp file left), nulls kept", async () => {
    const dir = tmp();
    const p = writeStats(dir, "mock", "2026-01-01", [
      book("a", "yes", 0.5),
      book("b", "no", 0.25, { avg_spread: null, activity: null }),
    ]);
    expect(p).toBe(statsPath(dir, "mock", "2026-01-01"));
    expect(readdirSync(join(dir, "stats/venue=mock/date=2026-01-01"))).toEqual(["stats.parquet"]);
    const rows = await readStatsFile(p);
    expect(rows.length).toBe(2);
    expect(rows[1]).toMatchObject({
      market_id: "b",
      outcome_id: "no",
      score: 0.25,
      avg_spread: null,
      activity: null,
      snapshots: 10,
    });
  });

  test("rewriting a day's stats is atomic: a reader that opened the old file still reads it whole (new inode)", async () => {
    const dir = tmp();
    const many = Array.from({ length: 300 }, (_, i) => book(`m${i}`, "yes", i / 300));
    const p = writeStats(dir, "mock", "2026-01-01", many);
    const before = readFileSync(p);
    const fd = openSync(p, "r");
    try {
      const ino = fstatSync(fd).ino;
      writeStats(dir, "mock", "2026-01-01", [book("only", "yes", 1)]);
      // A plain overwrite truncates the same inode: the reader would see the new (or a partial) file.
      expect(Buffer.compare(readFileSync(fd), before)).toBe(0);
      expect(statSync(p).ino).not.toBe(ino);
      expect((await readStatsFile(p)).map((r) => r.market_id)).toEqual(["only"]);
      expect(readdirSync(dirname(p))).toEqual(["stats.parquet"]);
    } finally {
      closeSync(fd);
    }
  });

  test("readLatestStats: today's file, else the latest earlier day; never a future day; market = best outcome", async () => {
    const dir = tmp();
    const day = (d: string) => Date.parse(`${d}T12:00:00Z`);
    expect(await readLatestStats(dir, "mock", day("2026-01-03"))).toBeUndefined();
    writeStats(dir, "mock", "2026-01-01", [book("old", "yes", 0.9)]);
    writeStats(dir, "mock", "2026-01-02", [book("a", "yes", 0.2), book("a", "no", 0.7), book("b", "yes", 0.4)]);
    writeStats(dir, "mock", "2026-01-05", [book("future", "yes", 1)]);
    const s = await readLatestStats(dir, "mock", day("2026-01-03"));
    expect(s).toEqual(
      new Map([
        ["a", 0.7],
        ["b", 0.4],
      ]),
    );
    expect(await readLatestStats(dir, "mock", day("2026-01-01"))).toEqual(new Map([["old", 0.9]]));
    expect(await readLatestStats(dir, "other", day("2026-01-03"))).toBeUndefined();
    expect(existsSync(join(dir, "stats/venue=mock/date=2026-01-05/stats.parquet"))).toBe(true);
  });
});

describe("score", () => {
  test("percentile ranks: ties share the average rank, null ranks 0", () => {
    expect(percentRanks([10, 30, 20, 20, null])).toEqual([0, 1, 0.5, 0.5, 0]);
    expect(percentRanks([5])).toEqual([1]);
  });

  test("a deep, tight, active book outscores a thin, wide, quiet one; empty/stale time discounts", () => {
    const books = [
      book("good", "yes", 0, { avg_depth: 1000, avg_spread: 0.01, activity: 30 }),
      book("mid", "yes", 0, { avg_depth: 500, avg_spread: 0.05, activity: 10 }),
      book("bad", "yes", 0, { avg_depth: 10, avg_spread: 0.2, activity: 1 }),
      book("good-but-stale", "yes", 0, { avg_depth: 1000, avg_spread: 0.01, activity: 30, share_stale: 0.5 }),
    ];
    scoreBooks(books);
    const [good, mid, bad, stale] = books.map((b) => b.score);
    // good ties the stale twin on every rank: (5/6 + 5/6 + 5/6) / 3
    expect(good).toBeCloseTo(5 / 6, 12);
    expect(stale).toBeCloseTo(0.5 * (5 / 6), 12);
    expect(mid).toBeCloseTo(1 / 3, 12);
    expect(bad).toBe(0);
  });
});

describe("subscription journal", () => {
  test("watched minutes per book, clipped to the range, open subscriptions run to the end", () => {
    const M = 60_000;
    const ev = (
      ts: number,
      market: string,
      action: "subscribe" | "unsubscribe",
      outcome: string | null = "yes",
    ): JournalEvent => ({ ts: ts * M, market_id: market, outcome_id: outcome, action });
    const events = [
      ev(0, "a", "subscribe"),
      ev(3, "a", "unsubscribe"),
      ev(10, "a", "subscribe"),
      ev(12, "a", "unsubscribe"),
      ev(5, "b", "unsubscribe"), // subscribed before the range: counts from the start
      ev(50, "c", "subscribe"), // still subscribed: counts to the end
      ev(20, "m", "subscribe", null),
      ev(25, "m", "unsubscribe", null),
    ];
    const w = watchedMinutes(
      events.sort((x, y) => x.ts - y.ts),
      1 * M,
      60 * M,
    );
    expect(w.get("a\u0000yes")).toBe(2 + 2);
    expect(w.get("b\u0000yes")).toBe(4);
    expect(w.get("c\u0000yes")).toBe(10);
    expect(w.get("m\u0000*")).toBe(5);
  });
});
