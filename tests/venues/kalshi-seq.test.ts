/** The Kalshi feed's per-sid seq tracking, alone: verdicts worked out by hand. */
import { describe, expect, test } from "bun:test";
import { MAX_SEQ_JUMP, SeqTracker } from "../../src/venue/kalshi/seq.ts";

describe("SeqTracker", () => {
  test("first, +1, a jump (gap, taken), a repeat and a step back (dropped, position kept)", () => {
    const t = new SeqTracker();
    expect(t.take(7, 5)).toEqual({ kind: "ok" }); // any first seq is taken
    expect(t.take(7, 6)).toEqual({ kind: "ok" });
    expect(t.take(7, 9)).toEqual({ kind: "gap", last: 6 });
    expect(t.isCurrent(7, 9)).toBe(true);
    expect(t.take(7, 9)).toEqual({ kind: "not_increasing", last: 9 });
    expect(t.take(7, 3)).toEqual({ kind: "not_increasing", last: 9 });
    expect(t.take(7, 10)).toEqual({ kind: "ok" });
  });

  test("sids are tracked apart", () => {
    const t = new SeqTracker();
    t.take(1, 100);
    expect(t.take(2, 1)).toEqual({ kind: "ok" });
    expect(t.take(1, 101)).toEqual({ kind: "ok" });
    expect(t.isCurrent(2, 1)).toBe(true);
    expect(t.isCurrent(1, 1)).toBe(false);
  });

  test("an implausible seq is dropped and not taken as the position", () => {
    const t = new SeqTracker();
    expect(t.take(1, -1)).toEqual({ kind: "implausible", last: undefined });
    expect(t.take(1, 1.5)).toEqual({ kind: "implausible", last: undefined });
    expect(t.take(1, 10)).toEqual({ kind: "ok" });
    expect(t.take(1, 1e308)).toEqual({ kind: "implausible", last: 10 });
    expect(t.take(1, 10 + MAX_SEQ_JUMP + 1)).toEqual({ kind: "implausible", last: 10 });
    expect(t.take(1, 10 + MAX_SEQ_JUMP)).toEqual({ kind: "gap", last: 10 }); // the largest jump still a gap
    expect(t.take(1, 11 + MAX_SEQ_JUMP)).toEqual({ kind: "ok" });
  });

  test("clear: every sid starts afresh (a new connection)", () => {
    const t = new SeqTracker();
    t.take(1, 50);
    t.clear();
    expect(t.isCurrent(1, 50)).toBe(false);
    expect(t.take(1, 3)).toEqual({ kind: "ok" });
  });
});
