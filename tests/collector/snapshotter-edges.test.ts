/**
 * Snapshotter edges a mutation run found unguarded: the text of a second quiet spell, a market removed on time (no
 * stall) or behind (a stall), and a timer exactly one interval late (one row, not two at one instant).
 */
import { describe, expect, test } from "bun:test";
import { BookStore } from "../../src/collector/book.ts";
import { Snapshotter } from "../../src/collector/snapshotter.ts";
import { SimClock } from "../../src/clock.ts";
import type { BookSnapshotEvent } from "../../src/venue/types.ts";
import { bookEvent } from "../helpers/fake-adapter.ts";
import { FakeSink } from "../helpers/fake-sink.ts";

const T0 = Date.UTC(2026, 0, 1);

function setup() {
  const clock = new SimClock(T0);
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
