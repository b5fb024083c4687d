/** The Snapshotter on the SimClock: HOT and WARM cadence, quiet books, tier changes, clock steps and the stalls it reports. */
import { describe, expect, test } from "bun:test";
import { BookStore } from "../../src/collector/book.ts";
import { Snapshotter } from "../../src/collector/snapshotter.ts";
import { SimClock } from "../../src/clock.ts";
import type { BookSnapshotEvent, LevelEvent } from "../../src/venue/types.ts";
import { bookEvent, levelEvent } from "../helpers/fake-adapter.ts";
import { FakeSink } from "../helpers/fake-sink.ts";

const T0 = Date.UTC(2026, 0, 1);

function setup(topK = 50, onStall?: (from: number, now: number) => void) {
  const clock = new SimClock(T0);
  const sink = new FakeSink();
  const books = new BookStore();
  const snap = new Snapshotter({
    onStall,
    venue: "v",
    clock,
    sink,
    topK,
    hotIntervalMs: 2000,
    warmIntervalMs: 10_000,
    staleAfterMs: 60_000,
  });
  snap.start();
  return { clock, sink, books, snap };
}

describe("Snapshotter", () => {
  test("HOT every 2 s and WARM every 10 s from subscription, with one timer for all markets", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("h", books.addMarket("h", ["yes", "no"], T0), "hot", T0);
    await clock.advance(3000);
    snap.add("w", books.addMarket("w", ["yes"], T0 + 3000), "warm", T0 + 3000);
    for (let i = 0; i < 50; i++) snap.add(`x${i}`, books.addMarket(`x${i}`, ["yes"], clock.now()), "warm", clock.now());
    expect(clock.pending()).toBe(1);
    await clock.runUntil(T0 + 60_000);
    const hot = sink.of("h", "yes").map((r) => r.ts_recv - T0);
    expect(hot).toEqual(Array.from({ length: 30 }, (_, i) => 2000 * (i + 1)));
    expect(sink.of("h", "no").length).toBe(30);
    expect(sink.of("w").map((r) => r.ts_recv - T0)).toEqual([13_000, 23_000, 33_000, 43_000, 53_000]);
    expect(clock.pending()).toBe(1);
  });

  test("a quiet book is still snapshotted: ok while fresh, stale with its last update time past stale_after", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("m", books.addMarket("m", ["yes"], T0), "warm", T0);
    books.applyBook(bookEvent("m", "yes", [[0.4, 1]], [[0.6, 2]], 1) as BookSnapshotEvent, T0 + 5000);
    await clock.runUntil(T0 + 80_000);
    const rows = sink.of("m");
    expect(rows.map((r) => [r.ts_recv - T0, r.status])).toEqual([
      [10_000, "ok"],
      [20_000, "ok"],
      [30_000, "ok"],
      [40_000, "ok"],
      [50_000, "ok"],
      [60_000, "ok"],
      [70_000, "stale"],
      [80_000, "stale"],
    ]);
    expect(rows[6].err).toBe("no update since 2026-01-01T00:00:05.000Z");
    expect([snap.rows, snap.staleRows]).toEqual([8, 2]);
    expect(rows[0].best_bid_px).toBe(0.4);
    expect(rows[0].best_ask_sz).toBe(2);
  });

  test("before the first book: stale rows that say so; after a gap: stale with the gap", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("m", books.addMarket("m", ["yes"], T0), "hot", T0);
    await clock.runUntil(T0 + 2000);
    books.applyBook(bookEvent("m", "yes", [[0.4, 1]], [], 1) as BookSnapshotEvent, T0 + 2500);
    await clock.runUntil(T0 + 4000);
    books.applyLevel(levelEvent("m", "yes", "bid", 0.41, 1, 5) as LevelEvent, T0 + 4500);
    await clock.runUntil(T0 + 6000);
    expect(sink.rows.map((r) => [r.status, r.err, r.seq])).toEqual([
      ["stale", "no book received since subscribing at 2026-01-01T00:00:00.000Z", 0],
      ["partial", "no asks", 1],
      ["stale", "seq gap: expected 2 got 5", 5],
    ]);
  });

  test("caps each side at top_k without touching the book", async () => {
    const { clock, sink, books, snap } = setup(3);
    snap.add("m", books.addMarket("m", ["yes"], T0), "hot", T0);
    const bids: [number, number][] = [0.1, 0.2, 0.3, 0.4, 0.5].map((p) => [p, 1]);
    books.applyBook(bookEvent("m", "yes", bids, [[0.6, 1]], 1) as BookSnapshotEvent, T0);
    await clock.runUntil(T0 + 2000);
    expect(sink.rows[0].bid_px).toEqual([0.5, 0.4, 0.3]);
    expect(sink.rows[0].ask_px).toEqual([0.6]);
    expect(books.get("m", "yes")!.bids.len).toBe(5);
  });

  test("removed markets stop, retiered markets change pace from the next snapshot", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("a", books.addMarket("a", ["yes"], T0), "hot", T0);
    snap.add("b", books.addMarket("b", ["yes"], T0), "warm", T0);
    await clock.runUntil(T0 + 10_000);
    snap.remove("a");
    snap.setTier("b", "hot");
    await clock.runUntil(T0 + 20_000);
    expect(sink.of("a").map((r) => r.ts_recv - T0)).toEqual([2000, 4000, 6000, 8000, 10_000]);
    expect(sink.of("b").map((r) => r.ts_recv - T0)).toEqual([10_000, 12_000, 14_000, 16_000, 18_000, 20_000]);
    snap.stop();
    await clock.runUntil(T0 + 40_000);
    expect(sink.of("b").length).toBe(6);
  });

  test("a market removed at a due time still gets that snapshot, exactly once", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("a", books.addMarket("a", ["yes"], T0), "hot", T0);
    snap.add("b", books.addMarket("b", ["yes"], T0), "hot", T0);
    // A timer created now, due at 4 s, fires before the snapshotter's (created later, at 2 s).
    clock.setTimer(4000, () => snap.remove("a", clock.now()));
    await clock.runUntil(T0 + 4000);
    snap.remove("b", clock.now()); // after the snapshot at 4 s already ran
    await clock.runUntil(T0 + 10_000);
    expect(sink.of("a").map((r) => r.ts_recv - T0)).toEqual([2000, 4000]);
    expect(sink.of("b").map((r) => r.ts_recv - T0)).toEqual([2000, 4000]);
  });

  test("removing many markets at a shared due time keeps the schedule of all the others", async () => {
    const { clock, sink, books, snap } = setup();
    const ids = Array.from({ length: 60 }, (_, i) => `m${i}`);
    clock.setTimer(4000, () => {
      for (const id of ids.filter((_, i) => i % 3 === 0)) snap.remove(id, clock.now());
    });
    for (const id of ids) snap.add(id, books.addMarket(id, ["yes"], T0), "hot", T0);
    await clock.runUntil(T0 + 20_000);
    for (const [i, id] of ids.entries()) {
      expect(sink.of(id).map((r) => r.ts_recv - T0)).toEqual(
        i % 3 === 0 ? [2000, 4000] : Array.from({ length: 10 }, (_, k) => 2000 * (k + 1)),
      );
    }
  });

  test("after a forward clock step: one snapshot per market at the new time, the skip reported once with its start", async () => {
    const stalls: [number, number][] = [];
    const { clock, sink, books, snap } = setup(50, (from, now) => stalls.push([from - T0, now - T0]));
    snap.add("h", books.addMarket("h", ["yes"], T0), "hot", T0);
    snap.add("w", books.addMarket("w", ["yes"], T0), "warm", T0);
    await clock.runUntil(T0 + 10_500);
    expect(stalls).toEqual([]);
    clock.set(T0 + 31_000); // due meanwhile: h at 12..30 s, w at 20, 30 s
    await clock.runUntil(T0 + 32_000);
    expect(stalls).toEqual([[12_000, 31_000]]);
    expect(sink.of("h").map((r) => r.ts_recv - T0)).toEqual([2000, 4000, 6000, 8000, 10_000, 31_000]);
    expect(sink.of("w").map((r) => r.ts_recv - T0)).toEqual([10_000, 31_000]);
    expect(snap.dueOf("h")).toBe(T0 + 33_000);
    // The first due at or after a time on the market's schedule (what a day's carry records).
    expect(snap.dueOf("w", T0 + 25_000)).toBe(T0 + 31_000);
    expect(snap.dueOf("w", T0 + 20_000)).toBe(T0 + 21_000);
  });

  test("a market removed at a forward step's instant before the snapshot timer: the stall is from the earliest due", async () => {
    const stalls: [number, number][] = [];
    const { clock, sink, books, snap } = setup(50, (from, now) => stalls.push([from - T0, now - T0]));
    snap.add("a", books.addMarket("a", ["yes"], T0), "hot", T0); // due 2, 4, … s
    snap.add("b", books.addMarket("b", ["yes"], T0 + 1000), "hot", T0 + 1000); // due 3, 5, … s
    await clock.runUntil(T0 + 5500);
    clock.set(T0 + 31_000); // a due at 6..30 s, b at 7..31 s: skipped but for one each
    snap.remove("b", clock.now()); // e.g. a rotation timer that fires before the snapshotter's at the new time
    await clock.runUntil(T0 + 31_500);
    // Reported from a's earlier due (6 s), not b's own (7 s); the snapshotter's own catch-up reports the same again.
    expect(stalls.length).toBeGreaterThan(0);
    for (const st of stalls) expect(st).toEqual([6000, 31_000]);
    expect(sink.of("a").map((r) => r.ts_recv - T0)).toEqual([2000, 4000, 31_000]);
    expect(sink.of("b").map((r) => r.ts_recv - T0)).toEqual([3000, 5000, 31_000]);
  });

  test("a tier change at a due instant takes that snapshot first, whichever timer fires first", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("m", books.addMarket("m", ["yes"], T0), "hot", T0);
    await clock.runUntil(T0 + 3999); // the snapshot due at 4 s has not fired
    clock.set(T0 + 4000);
    snap.setTier("m", "warm");
    await clock.runUntil(T0 + 30_000);
    expect(sink.of("m").map((r) => r.ts_recv - T0)).toEqual([2000, 4000, 14_000, 24_000]);
  });

  test("markets due at the same time are snapshotted in the order they were added, a retiered one as added then", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("a", books.addMarket("a", ["yes"], T0), "warm", T0);
    for (let i = 0; i < 20; i++) snap.add(`m${i}`, books.addMarket(`m${i}`, ["yes"], T0), "hot", T0);
    snap.setTier("a", "hot"); // last snapshot "at" T0: next at T0 + 2 s, after the 20 already there
    snap.add("z", books.addMarket("z", ["yes"], T0), "hot", T0);
    await clock.runUntil(T0 + 6000);
    const order = [...Array.from({ length: 20 }, (_, i) => `m${i}`), "a", "z"];
    for (const t of [2000, 4000, 6000])
      expect(sink.rows.filter((r) => r.ts_recv - T0 === t).map((r) => r.market_id)).toEqual(order);
  });

  test("HOT to WARM: the next snapshot is one WARM interval after the last one", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("a", books.addMarket("a", ["yes"], T0), "hot", T0);
    snap.add("b", books.addMarket("b", ["yes"], T0), "hot", T0);
    await clock.runUntil(T0 + 5000);
    snap.setTier("a", "warm");
    await clock.runUntil(T0 + 30_000);
    expect(sink.of("a").map((r) => r.ts_recv - T0)).toEqual([2000, 4000, 14_000, 24_000]);
    expect(sink.of("b").length).toBe(15);
  });

  test("the only market going WARM to HOT is snapshotted one HOT interval after its last snapshot", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("a", books.addMarket("a", ["yes"], T0), "warm", T0);
    await clock.runUntil(T0 + 10_000);
    snap.setTier("a", "hot");
    await clock.runUntil(T0 + 14_000);
    expect(sink.of("a").map((r) => r.ts_recv - T0)).toEqual([10_000, 12_000, 14_000]);
  });

  test("after stop() a market added is never snapshotted and no timer is left", async () => {
    const { clock, sink, books, snap } = setup();
    snap.stop();
    snap.add("a", books.addMarket("a", ["yes"], T0), "hot", T0);
    expect(clock.pending()).toBe(0);
    await clock.runUntil(T0 + 10_000);
    snap.remove("a", T0 + 10_000);
    expect(sink.rows).toEqual([]);
  });

  test("a clock that jumped ahead (stalled process) gets one snapshot per market, not the missed ones", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("a", books.addMarket("a", ["yes"], T0), "hot", T0);
    clock.set(T0 + 7000);
    await clock.runUntil(T0 + 11_000);
    expect(sink.of("a").map((r) => r.ts_recv - T0)).toEqual([7000, 9000, 11_000]);
  });

  test("a removed market leaves no wake-up: the timer is set for the next live one", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("a", books.addMarket("a", ["yes"], T0), "hot", T0);
    snap.remove("a");
    snap.add("b", books.addMarket("b", ["yes"], T0), "warm", T0);
    expect(clock.nextAt()).toBe(T0 + 10_000);
    await clock.runUntil(T0 + 20_000);
    expect(sink.rows.map((r) => [r.market_id, r.ts_recv - T0])).toEqual([
      ["b", 10_000],
      ["b", 20_000],
    ]);
  });

  test("nothing runs before start(); setTier of an unknown market is ignored; a stopped one takes no due snapshot", async () => {
    const clock = new SimClock(T0);
    const sink = new FakeSink();
    const books = new BookStore();
    const snap = new Snapshotter({
      venue: "v",
      clock,
      sink,
      topK: 50,
      hotIntervalMs: 2000,
      warmIntervalMs: 10_000,
      staleAfterMs: 60_000,
    });
    snap.add("a", books.addMarket("a", ["yes"], T0), "hot", T0);
    expect(clock.pending()).toBe(0); // not started
    snap.setTier("nope", "warm");
    snap.start();
    await clock.runUntil(T0 + 2000);
    expect(sink.rows.length).toBe(1);
    snap.stop();
    clock.set(T0 + 5000); // "a" is due (4 s) but the snapshotter is stopped
    snap.setTier("a", "warm");
    expect(sink.rows.length).toBe(1);
  });

  test("a clock stepped back past the longest interval: each market is pulled to one of its intervals from now", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("h", books.addMarket("h", ["yes"], T0), "hot", T0);
    snap.add("w", books.addMarket("w", ["yes"], T0), "warm", T0);
    clock.set(T0 - 60_000); // a minute back: h was due at T0 + 2 s, w at T0 + 10 s
    snap.setTier("w", "hot"); // due at T0 + 2 s as well; re-arming re-bases both to 2 s from now
    await clock.runUntil(T0 - 50_000);
    const since = (id: string) => sink.of(id).map((r) => r.ts_recv - (T0 - 60_000));
    expect(since("h")).toEqual([2000, 4000, 6000, 8000, 10_000]);
    expect(since("w")).toEqual([2000, 4000, 6000, 8000, 10_000]);
  });
});
