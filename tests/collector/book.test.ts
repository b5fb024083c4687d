/** BookSide and BookStore: sorted levels through inserts and removals, size edges, a full book older than the data applied. */
import { describe, expect, test } from "bun:test";
import { Applied, BookSide, BookStore } from "../../src/collector/book.ts";
import type { BookSnapshotEvent, LevelEvent } from "../../src/venue/types.ts";
import { bookEvent, levelEvent } from "../helpers/fake-adapter.ts";

const levels = (s: BookSide) => Array.from({ length: s.len }, (_, i) => [s.px[i], s.sz[i]]);

function store(): BookStore {
  const s = new BookStore();
  s.addMarket("m", ["yes", "no"], 1000);
  return s;
}

describe("BookSide", () => {
  test("bids stay sorted descending, asks ascending, through inserts and removals", () => {
    const bids = new BookSide(true);
    const asks = new BookSide(false);
    for (const p of [0.5, 0.2, 0.7, 0.4, 0.6]) {
      bids.set(p, 10);
      asks.set(p, 10);
    }
    expect(levels(bids).map((l) => l[0])).toEqual([0.7, 0.6, 0.5, 0.4, 0.2]);
    expect(levels(asks).map((l) => l[0])).toEqual([0.2, 0.4, 0.5, 0.6, 0.7]);
    bids.set(0.5, 0);
    asks.add(0.2, -10);
    expect(levels(bids).map((l) => l[0])).toEqual([0.7, 0.6, 0.4, 0.2]);
    expect(levels(asks).map((l) => l[0])).toEqual([0.4, 0.5, 0.6, 0.7]);
  });

  test("a level set to size 1 (or a fraction) is kept; only ≤ 0 removes it", () => {
    const bids = new BookSide(true);
    bids.set(0.5, 10);
    bids.set(0.5, 1);
    bids.set(0.4, 1);
    bids.set(0.3, 0.25);
    expect(levels(bids)).toEqual([
      [0.5, 1],
      [0.4, 1],
      [0.3, 0.25],
    ]);
    bids.add(0.5, -0.5);
    bids.add(0.2, 1);
    expect(levels(bids)).toEqual([
      [0.5, 0.5],
      [0.4, 1],
      [0.3, 0.25],
      [0.2, 1],
    ]);
  });

  test("grows past its initial capacity and keeps every level", () => {
    const s = new BookSide(false, 2);
    const prices = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) / 100);
    for (const p of prices) s.set(p, p + 1);
    expect(s.len).toBe(100);
    const want = [...prices].sort((a, b) => a - b);
    expect(levels(s)).toEqual(want.map((p) => [p, p + 1]));
  });

  test("add accumulates, a result ≤ 0 removes, a negative delta on a missing level does nothing", () => {
    const s = new BookSide(true);
    s.add(0.5, 3);
    s.add(0.5, 2);
    expect(levels(s)).toEqual([[0.5, 5]]);
    s.add(0.5, -6);
    expect(s.len).toBe(0);
    s.add(0.4, -1);
    expect(s.len).toBe(0);
  });

  test("matches a sorted-map reference over a random sequence", () => {
    let x = 12345;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const s = new BookSide(true);
    const ref = new Map<number, number>();
    for (let i = 0; i < 5000; i++) {
      const p = Math.round(rnd() * 100) / 100;
      const sz = rnd() < 0.3 ? 0 : Math.round(rnd() * 1000);
      s.set(p, sz);
      if (sz > 0) ref.set(p, sz);
      else ref.delete(p);
    }
    const want = [...ref.entries()].sort((a, b) => b[0] - a[0]);
    expect(levels(s)).toEqual(want);
  });
});

describe("BookStore", () => {
  test("a book event replaces the book, sorted, with zero-size levels removed", () => {
    const s = store();
    expect(
      s.applyBook(
        bookEvent(
          "m",
          "yes",
          [
            [0.4, 5],
            [0.45, 2],
            [0.3, 0],
          ],
          [
            [0.6, 1],
            [0.55, 3],
          ],
          10,
        ) as BookSnapshotEvent,
        2000,
      ),
    ).toBe(Applied.Ok);
    const b = s.get("m", "yes")!;
    expect(levels(b.bids)).toEqual([
      [0.45, 2],
      [0.4, 5],
    ]);
    expect(levels(b.asks)).toEqual([
      [0.55, 3],
      [0.6, 1],
    ]);
    expect(b.seq).toBe(10);
    expect(b.staleReason).toBeNull();
    expect(b.lastUpdateTs).toBe(2000);
    s.applyBook(bookEvent("m", "yes", [[0.1, 1]], [], 11) as BookSnapshotEvent, 3000);
    expect(levels(b.bids)).toEqual([[0.1, 1]]);
    expect(b.asks.len).toBe(0);
  });

  test("a new book starts stale (awaiting its first full book)", () => {
    const b = store().get("m", "no")!;
    expect(b.staleReason).toBe("no book received since subscribing at 1970-01-01T00:00:01.000Z");
  });

  test("level set and add modes", () => {
    const s = store();
    s.applyBook(bookEvent("m", "yes", [[0.4, 5]], [[0.6, 5]], 1) as BookSnapshotEvent, 0);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.4, 7, 2) as LevelEvent, 0)).toBe(Applied.Ok);
    expect(s.applyLevel(levelEvent("m", "yes", "ask", 0.6, -2, 3, "add") as LevelEvent, 0)).toBe(Applied.Ok);
    expect(s.applyLevel(levelEvent("m", "yes", "ask", 0.58, 4, 4, "add") as LevelEvent, 0)).toBe(Applied.Ok);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.4, 0, 5) as LevelEvent, 0)).toBe(Applied.Ok);
    const b = s.get("m", "yes")!;
    expect(b.bids.len).toBe(0);
    expect(levels(b.asks)).toEqual([
      [0.58, 4],
      [0.6, 3],
    ]);
    expect(b.seq).toBe(5);
  });

  test("rejects NaN, infinite and negative prices and sizes, leaving the book untouched", () => {
    const s = store();
    s.applyBook(bookEvent("m", "yes", [[0.4, 5]], [[0.6, 5]], 1) as BookSnapshotEvent, 0);
    const bad: LevelEvent[] = [
      levelEvent("m", "yes", "bid", NaN, 1, 2) as LevelEvent,
      levelEvent("m", "yes", "bid", -0.1, 1, 2) as LevelEvent,
      levelEvent("m", "yes", "bid", Infinity, 1, 2) as LevelEvent,
      levelEvent("m", "yes", "bid", 0.4, NaN, 2) as LevelEvent,
      levelEvent("m", "yes", "bid", 0.4, -1, 2) as LevelEvent,
      levelEvent("m", "yes", "bid", 0.4, Infinity, 2) as LevelEvent,
      levelEvent("m", "yes", "bid", 0.4, -Infinity, 2, "add") as LevelEvent,
    ];
    for (const e of bad) expect(s.applyLevel(e, 0)).toBe(Applied.Invalid);
    expect(s.applyBook(bookEvent("m", "yes", [[0.3, NaN]], [], 3) as BookSnapshotEvent, 0)).toBe(Applied.Invalid);
    expect(s.applyBook(bookEvent("m", "yes", [], [[-1, 2]], 3) as BookSnapshotEvent, 0)).toBe(Applied.Invalid);
    const b = s.get("m", "yes")!;
    expect(levels(b.bids)).toEqual([[0.4, 5]]);
    expect(levels(b.asks)).toEqual([[0.6, 5]]);
    expect(b.seq).toBe(1);
    // a negative delta in add mode is fine
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.4, -1, 2, "add") as LevelEvent, 0)).toBe(Applied.Ok);
    expect(levels(b.bids)).toEqual([[0.4, 4]]);
  });

  test("duplicates and out-of-order seqs are dropped", () => {
    const s = store();
    s.applyBook(bookEvent("m", "yes", [[0.4, 5]], [], 10) as BookSnapshotEvent, 0);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.4, 9, 10) as LevelEvent, 0)).toBe(Applied.Duplicate);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.4, 9, 7) as LevelEvent, 0)).toBe(Applied.Duplicate);
    expect(levels(s.get("m", "yes")!.bids)).toEqual([[0.4, 5]]);
  });

  test("a seq gap marks the book stale once, asks for one resync, and a full book clears it", () => {
    const s = store();
    s.applyBook(bookEvent("m", "yes", [[0.4, 5]], [], 10) as BookSnapshotEvent, 0);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.41, 1, 11) as LevelEvent, 0)).toBe(Applied.Ok);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.42, 1, 14) as LevelEvent, 0)).toBe(Applied.Gap);
    const b = s.get("m", "yes")!;
    expect(b.staleReason).toBe("seq gap: expected 12 got 14");
    expect(b.seq).toBe(14);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.43, 1, 15) as LevelEvent, 0)).toBe(Applied.Ok);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.44, 1, 20) as LevelEvent, 0)).toBe(Applied.GapPending);
    expect(b.staleReason).toBe("seq gap: expected 12 got 14");
    s.applyBook(bookEvent("m", "yes", [[0.5, 1]], [], 30) as BookSnapshotEvent, 0);
    expect(b.staleReason).toBeNull();
    expect(b.seq).toBe(30);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.44, 1, 33) as LevelEvent, 0)).toBe(Applied.Gap);
  });

  test("without venue seqs, seq is the book's message count, monotonic across resubscription", () => {
    const s = store();
    s.applyBook(bookEvent("m", "yes", [[0.4, 5]], []) as BookSnapshotEvent, 0);
    s.applyLevel(levelEvent("m", "yes", "bid", 0.4, 6) as LevelEvent, 0);
    s.applyLevel(levelEvent("m", "yes", "bid", 0.4, 7) as LevelEvent, 0);
    expect(s.get("m", "yes")!.seq).toBe(3);
    s.removeMarket("m");
    expect(s.size).toBe(0);
    s.addMarket("m", ["yes", "no"], 5);
    s.applyBook(bookEvent("m", "yes", [[0.4, 5]], []) as BookSnapshotEvent, 6);
    expect(s.get("m", "yes")!.seq).toBe(4);
    expect(s.get("m", "no")!.seq).toBe(0);
  });

  test("Kalshi-like restarts: a new subscription's seq 1 and a null-seq REST book keep the emitted seq increasing", () => {
    const s = store();
    const b = s.get("m", "yes")!;
    const seen: number[] = [];
    // Kalshi's deltas carry the subscription's seq, not a per-book one (bookSeq false)
    const lvl = (seq: number | null) =>
      s.applyLevel({ ...(levelEvent("m", "yes", "bid", 0.4, 1, seq, "add") as LevelEvent), bookSeq: false }, 0);
    const book = (seq: number | null) =>
      s.applyBook(bookEvent("m", "yes", [[0.4, 5]], [], seq) as BookSnapshotEvent, 0);
    expect(book(4997)).toBe(Applied.Ok);
    seen.push(b.seq);
    for (const q of [4998, 4999, 5000]) {
      expect(lvl(q)).toBe(Applied.Ok);
      seen.push(b.seq);
    }
    // reconnect: new subscription, venue seq restarts at 1
    for (const step of [() => book(1), () => lvl(2), () => lvl(3), () => book(null), () => lvl(4), () => lvl(null)]) {
      expect(step()).toBe(Applied.Ok);
      seen.push(b.seq);
    }
    expect(seen).toEqual([4997, 4998, 4999, 5000, 5001, 5002, 5003, 5004, 5005, 5006]);
    // and across a resubscription of the market
    s.removeMarket("m");
    s.addMarket("m", ["yes", "no"], 5);
    expect(book(1)).toBe(Applied.Ok);
    expect(s.get("m", "yes")!.seq).toBe(5007);
  });

  test("gap and duplicate detection stay on the venue's seqs after a rebase", () => {
    const s = store();
    const b = s.get("m", "yes")!;
    s.applyBook(bookEvent("m", "yes", [[0.4, 5]], [], 50) as BookSnapshotEvent, 0);
    s.applyBook(bookEvent("m", "yes", [[0.4, 5]], [], 3) as BookSnapshotEvent, 0); // venue restarted its seqs
    expect(b.seq).toBe(51);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.41, 1, 3) as LevelEvent, 0)).toBe(Applied.Duplicate);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.41, 1, 4) as LevelEvent, 0)).toBe(Applied.Ok);
    expect(b.seq).toBe(52);
    expect(s.applyLevel(levelEvent("m", "yes", "bid", 0.42, 1, 7) as LevelEvent, 0)).toBe(Applied.Gap);
    expect(b.staleReason).toBe("seq gap: expected 5 got 7");
    expect(b.seq).toBe(55);
  });

  test("messages for books not held are reported unknown", () => {
    const s = store();
    expect(s.applyLevel(levelEvent("x", "yes", "bid", 0.4, 1, 1) as LevelEvent, 0)).toBe(Applied.Unknown);
    expect(s.applyBook(bookEvent("m", "maybe", [], []) as BookSnapshotEvent, 0)).toBe(Applied.Unknown);
  });
});

describe("BookStore: a full book older than the data already applied", () => {
  const book = (bids: [number, number][], asks: [number, number][], sourceTs: number | null): BookSnapshotEvent => ({
    ...(bookEvent("m", "yes", bids, asks) as BookSnapshotEvent),
    sourceTs,
  });
  const level = (price: number, size: number, sourceTs: number): LevelEvent => ({
    ...(levelEvent("m", "yes", "bid", price, size) as LevelEvent),
    sourceTs,
  });

  test("a REST book stamped before the last socket update is dropped; the book keeps the newer data", () => {
    const s = store();
    expect(s.applyBook(book([[0.4, 10]], [[0.6, 10]], 5_000), 5_001)).toBe(Applied.Ok);
    expect(s.applyLevel(level(0.45, 3, 5_200), 5_201)).toBe(Applied.Ok);
    // The resync request went out at 5_000 and its answer (venue time 5_100) lands after the socket update.
    expect(s.applyBook(book([[0.4, 99]], [[0.6, 99]], 5_100), 5_300)).toBe(Applied.Outdated);
    const b = s.get("m", "yes")!;
    expect(levels(b.bids)).toEqual([
      [0.45, 3],
      [0.4, 10],
    ]);
    expect(b.sourceTs).toBe(5_200);
  });

  test("a full book's venue time is kept: a book stamped before it, arriving after, is dropped", () => {
    const s = store();
    expect(s.applyBook(book([[0.4, 10]], [], 6_000), 6_001)).toBe(Applied.Ok);
    expect(s.get("m", "yes")!.sourceTs).toBe(6_000);
    expect(s.applyBook(book([[0.3, 1]], [], 5_500), 6_002)).toBe(Applied.Outdated);
    expect(levels(s.get("m", "yes")!.bids)).toEqual([[0.4, 10]]);
  });

  test("a book at the same or a later venue time, or without one, replaces", () => {
    const s = store();
    expect(s.applyBook(book([[0.4, 10]], [], 5_000), 5_001)).toBe(Applied.Ok);
    expect(s.applyBook(book([[0.3, 1]], [], 5_000), 5_002)).toBe(Applied.Ok);
    expect(s.applyBook(book([[0.2, 1]], [], null), 5_003)).toBe(Applied.Ok);
    expect(s.applyBook(book([[0.1, 1]], [], 6_000), 5_004)).toBe(Applied.Ok);
    expect(levels(s.get("m", "yes")!.bids)).toEqual([[0.1, 1]]);
  });
});
