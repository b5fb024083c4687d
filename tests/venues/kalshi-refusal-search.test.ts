/**
 * RefusalSearch alone (no socket): the pause after commands lost for reasons other than their tickers, written out
 * by hand (30 s doubling to 10 min), and the bookkeeping of tickers already queued or leaving mid-probe.
 */
import { describe, expect, test } from "bun:test";
import { RefusalSearch } from "../../src/venue/kalshi/refusals.ts";

/** A search over `targets` with a large budget, and what it sent: [id, tickers] in order. */
function search(targets: Set<string>) {
  const refused: string[] = [];
  const s = new RefusalSearch(
    1000,
    (t) => targets.has(t),
    (t) => void refused.push(t),
  );
  const sent: [number, string[]][] = [];
  let id = 0;
  const next = (now: number) => s.next(now, (tickers) => (sent.push([++id, tickers]), id));
  return { s, sent, next, refused };
}

describe("RefusalSearch", () => {
  test("commands lost in a row pause the search 30 s, 60 s, 120 s … up to 10 min", () => {
    const { s, sent, next } = search(new Set(["a"]));
    s.add(["a"]);
    next(0);
    let now = 0;
    const pauses: number[] = [];
    for (let k = 0; k < 8; k++) {
      s.lost(sent[sent.length - 1][0], ["a"], now);
      const n = sent.length;
      const at = s.wakeAt(now, true);
      next(at - 1);
      expect(sent.length).toBe(n); // not a millisecond early
      next(at);
      expect(sent.length).toBe(n + 1);
      pauses.push(at - now);
      now = at;
    }
    expect(pauses).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000]);
    // a command that goes through ends the run of losses: the next loss pauses 30 s again
    s.succeeded(sent[sent.length - 1][0], now);
    s.add(["a"]);
    next(now);
    s.lost(sent[sent.length - 1][0], ["a"], now);
    expect(s.wakeAt(now, true) - now).toBe(30_000);
  });

  test("a lost command's tickers already queued for a probe are not queued a second time", () => {
    const { s, sent, next } = search(new Set(["a", "b"]));
    s.add(["a"]);
    s.lost(99, ["a", "b"], 0); // not the probe in flight (none is): its tickers are queued, "a" once
    next(30_000);
    s.succeeded(sent[0][0], 30_000);
    next(30_000);
    s.succeeded(sent[1][0], 30_000);
    next(30_000);
    expect(sent.map(([, t]) => t)).toEqual([["a"], ["b"]]);
    expect(s.idle()).toBe(true);
  });

  test("a ticker that left (and came back) while its probe was in flight: the probe's refusal is retried as it is, not split", () => {
    const targets = new Set(["a", "b"]);
    const { s, sent, next, refused } = search(targets);
    s.add(["a", "b"]);
    next(0);
    s.drop(["a"]);
    targets.delete("a");
    targets.add("a"); // back in the targets before the reply
    s.failed(sent[0][0], ["a", "b"], "code 16 Market not found", 0);
    next(0);
    expect(sent.map(([, t]) => t)).toEqual([
      ["a", "b"],
      ["a", "b"],
    ]);
    expect(refused).toEqual([]);
  });

  test("succeeded() is true only for the probe in flight", () => {
    const { s, sent, next } = search(new Set(["a"]));
    expect(s.succeeded(41, 0)).toBe(false);
    s.add(["a"]);
    next(0);
    expect(s.succeeded(41, 0)).toBe(false);
    expect(s.succeeded(sent[0][0], 0)).toBe(true);
  });

  test("a queued probe loses a ticker that leaves the targets: only the rest is sent", () => {
    const targets = new Set(["a", "b"]);
    const { s, sent, next } = search(targets);
    s.add(["a", "b"]);
    targets.delete("a");
    expect([...s.drop(["a"])]).toEqual(["a"]); // never subscribed: nothing to delete on the venue
    next(0);
    expect(sent.map(([, t]) => t)).toEqual([["b"]]);
  });

  test("a refused command's tickers already queued for a probe are not probed twice", () => {
    const { s, sent, next, refused } = search(new Set(["a", "b"]));
    s.add(["b"]);
    s.failed(99, ["a", "b"], "code 16 Market not found", 0); // the subscribe, not a probe: "a" is tried alone
    for (let k = 0; k < 4; k++) {
      const n = sent.length;
      next(k * 60_000); // a minute apart: past any pause
      if (sent.length > n) s.succeeded(sent[n][0], k * 60_000);
    }
    expect(sent.map(([, t]) => t)).toEqual([["a"], ["b"]]);
    expect(refused).toEqual([]);
  });

  test("a refused ticker still wanted is tried again exactly 1 h after its refusal", () => {
    const { s, sent, next, refused } = search(new Set(["x"]));
    s.add(["x"]);
    next(0);
    s.failed(sent[0][0], ["x"], "code 16 Market not found", 0);
    expect(refused).toEqual(["x"]);
    expect(s.wakeAt(0, true)).toBe(3_600_000);
    next(3_599_999);
    expect(sent.length).toBe(1);
    next(3_600_000);
    expect(sent.map(([, t]) => t)).toEqual([["x"], ["x"]]);
  });
  test("a probe unanswered for 29,999 ms is still awaited; at exactly 30,000 ms it is given up and queued again", () => {
    const { s, sent, next } = search(new Set(["a"]));
    s.add(["a"]);
    next(1000);
    expect(s.wakeAt(1000, true)).toBe(31_000);
    expect(s.expire(30_999)).toBeNull();
    expect(s.busy()).toBe(true);
    expect(s.expire(31_000)).toBe(sent[0][0]);
    expect(s.busy()).toBe(false);
    expect(s.wasExpired(sent[0][0])).toBe(true);
    next(31_000);
    expect(sent.map(([, t]) => t)).toEqual([["a"], ["a"]]);
  });
});
