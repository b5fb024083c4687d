/**
 * Snapshotter edges a mutation run found unguarded: the text of a second quiet spell, a market removed on time (no
 * stall) or behind (a stall), stop/start, the stale edge, a timer firing early by the wall clock, and a timer
 * exactly one interval late (one row, not two at one instant).
 */
import { describe, expect, test } from "bun:test";
import { BookStore } from "../../src/collector/book.ts";
import { Snapshotter } from "../../src/collector/snapshotter.ts";
import { type Clock, SimClock } from "../../src/clock.ts";
import type { BookSnapshotEvent } from "../../src/venue/types.ts";
import { bookEvent } from "../helpers/fake-adapter.ts";
import { FakeSink } from "../helpers/fake-sink.ts";

const T0 = Date.UTC(2026, 0, 1);

/** A started Snapshotter (HOT 2 s, WARM 10 s, stale after 60 s) on `clock`, its stalls kept relative to T0. */
function snapshotterOn<C extends Clock>(clock: C) {
  const sink = new FakeSink();
  const books = new BookStore();
  const stalls: [number, number][] = [];
  const snap = new Snapshotter({
    onStall: (from, now) => stalls.push([from - T0, now - T0]),
    venue: "v",
    clock,
    sink,
    topK: 50,
    hotIntervalMs: 2000,
    warmIntervalMs: 10_000,
    staleAfterMs: 60_000,
  });
  snap.start();
  return { clock, sink, books, snap, stalls };
}

const setup = () => snapshotterOn(new SimClock(T0));

describe("Snapshotter edges", () => {
  test("a second quiet spell says its own last update, not the first spell's", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("m", books.addMarket("m", ["yes"], T0), "warm", T0);
    const book = (ts: number, seq: number) =>
      books.applyBook(bookEvent("m", "yes", [[0.4, 1]], [[0.6, 2]], seq) as BookSnapshotEvent, ts);
    book(T0 + 5000, 1);
    await clock.runUntil(T0 + 80_000); // stale from 70 s: quiet since 5 s
    book(T0 + 85_000, 2);
    await clock.runUntil(T0 + 160_000); // fresh again, then stale from 150 s: quiet since 85 s
    const errs = sink.of("m").map((r) => [r.ts_recv - T0, r.err]);
    expect(errs.filter(([, e]) => e !== null)).toEqual([
      [70_000, "no update since 2026-01-01T00:00:05.000Z"],
      [80_000, "no update since 2026-01-01T00:00:05.000Z"],
      [150_000, "no update since 2026-01-01T00:01:25.000Z"],
      [160_000, "no update since 2026-01-01T00:01:25.000Z"],
    ]);
  });

  test("a market removed exactly when its snapshot is due: that snapshot taken, no stall reported", async () => {
    const { clock, sink, books, snap, stalls } = setup();
    snap.add("a", books.addMarket("a", ["yes"], T0), "hot", T0);
    snap.add("b", books.addMarket("b", ["yes"], T0), "hot", T0);
    await clock.runUntil(T0 + 4000); // due next at 6 s
    clock.set(T0 + 6000); // the instant it is due, before the timer has fired
    snap.remove("a", T0 + 6000);
    expect(sink.of("a").map((r) => r.ts_recv - T0)).toEqual([2000, 4000, 6000]);
    expect(stalls).toEqual([]);
    // behind by a whole interval or more (a clock step): the stall is reported, from the earliest due of all markets
    clock.set(T0 + 9000);
    snap.remove("b", T0 + 9000);
    expect(sink.of("b").map((r) => r.ts_recv - T0)).toEqual([2000, 4000, 9000]);
    expect(stalls).toEqual([[6000, 9000]]);
  });

  test("removed exactly one interval late: the missed snapshot is a stall; a removed market is never snapshotted again", async () => {
    const { clock, sink, books, snap, stalls } = setup();
    snap.add("a", books.addMarket("a", ["yes"], T0), "hot", T0);
    snap.add("b", books.addMarket("b", ["yes"], T0), "hot", T0 + 1000);
    await clock.runUntil(T0 + 2000); // a at 2 s; both due next at 3 s (b) and 4 s (a)
    clock.set(T0 + 6000); // a's 4 s snapshot missed: exactly one interval behind
    snap.remove("a", T0 + 6000);
    expect(sink.of("a").map((r) => r.ts_recv - T0)).toEqual([2000, 6000]);
    expect(stalls).toEqual([[3000, 6000]]); // from the earliest due of all markets (b's 3 s)
    await clock.runUntil(T0 + 20_000);
    expect(sink.of("a").length).toBe(2);
    expect(sink.of("b").length).toBeGreaterThan(5);
  });

  test("stop() then start(): snapshots resume on the grid", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("m", books.addMarket("m", ["yes"], T0), "hot", T0);
    await clock.runUntil(T0 + 4000);
    snap.stop();
    await clock.runUntil(T0 + 8000);
    expect(sink.of("m").map((r) => r.ts_recv - T0)).toEqual([2000, 4000]);
    snap.start();
    await clock.runUntil(T0 + 12_000);
    expect(sink.of("m").map((r) => r.ts_recv - T0)).toEqual([2000, 4000, 8000, 10_000, 12_000]);
  });

  test("a book is stale from exactly stale_after without an update", async () => {
    const { clock, sink, books, snap } = setup();
    snap.add("m", books.addMarket("m", ["yes"], T0), "hot", T0);
    books.applyBook(bookEvent("m", "yes", [[0.4, 1]], [[0.6, 2]], 1) as BookSnapshotEvent, T0 + 4000);
    await clock.runUntil(T0 + 64_000);
    const rows = sink.of("m").filter((r) => r.ts_recv >= T0 + 62_000);
    expect(rows.map((r) => [r.ts_recv - T0, r.status])).toEqual([
      [62_000, "ok"],
      [64_000, "stale"], // 60 s after the update at 4 s
    ]);
  });

  test("a timer that fires before its wall-clock time (a step back while it waited) is armed again", () => {
    // A real timer counts elapsed time: after the wall clock steps back 1 s it fires 1 s "early" by the wall clock.
    let now = T0;
    const timers: { at: number; fn: () => void; live: boolean }[] = [];
    const clock: Clock = {
      now: () => now,
      sleep: () => Promise.resolve(),
      setTimer: (ms, fn) => {
        const t = { at: now + ms, fn: fn as () => void, live: true };
        timers.push(t);
        return { cancel: () => void (t.live = false) };
      },
    };
    const { sink, books, snap } = snapshotterOn(clock);
    snap.add("m", books.addMarket("m", ["yes"], T0), "hot", T0);
    const live = () => timers.filter((t) => t.live);
    expect(live().map((t) => t.at - T0)).toEqual([2000]);
    now = T0 + 1000; // the timer fires after 2 s elapsed, but the wall clock stepped back 1 s meanwhile
    const t = live()[0];
    t.live = false;
    t.fn();
    expect(sink.of("m")).toEqual([]); // nothing due yet by the wall clock
    expect(live().map((x) => x.at - T0)).toEqual([2000]); // waits again for the 2 s snapshot
  });

  test("a timer exactly one interval late takes one snapshot (not two at the same instant) and reports the stall", () => {
    const { sink, books, snap, stalls } = setup();
    snap.add("m", books.addMarket("m", ["yes"], T0), "hot", T0); // due at 2 s
    snap.runDue(T0 + 4000); // 2 s late: the 2 s snapshot was missed, the 4 s one is due
    expect(sink.of("m").map((r) => r.ts_recv - T0)).toEqual([4000]);
    expect(stalls).toEqual([[2000, 4000]]);
    snap.runDue(T0 + 6000); // back on the grid
    expect(sink.of("m").map((r) => r.ts_recv - T0)).toEqual([4000, 6000]);
    expect(stalls.length).toBe(1);
  });
});
