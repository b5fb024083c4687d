/** The churn limiter and the subscription plan: changes per sliding minute, refills, swaps and resubscribes. */
import { describe, expect, test } from "bun:test";
import { ChurnLimiter, SubscriptionPlan, type SubChange } from "../../src/collector/subscriptions.ts";
import { refs } from "../helpers/fake-adapter.ts";

/** Brute force: the most changes in any window (t - 60 s, t]. */
function maxInWindow(times: number[], windowMs = 60_000): number {
  let max = 0;
  for (const t of times) max = Math.max(max, times.filter((u) => u > t - windowMs && u <= t).length);
  return max;
}

describe("ChurnLimiter", () => {
  test("allows `limit` changes per sliding minute and frees them one by one", () => {
    const l = new ChurnLimiter(3);
    expect(l.available(0)).toBe(3);
    l.record(0);
    l.record(10_000, 2);
    expect(l.available(59_999)).toBe(0);
    expect(l.nextFreeAt(30_000)).toBe(60_000);
    expect(l.nextFreeAt(30_000, 3)).toBe(70_000);
    expect(l.available(60_000)).toBe(1);
    expect(l.used(70_000)).toBe(0);
  });

  test("greedy use at every free moment never exceeds the limit in any window", () => {
    const l = new ChurnLimiter(20);
    const times: number[] = [];
    let now = 0;
    while (now < 10 * 60_000) {
      const n = Math.min(l.available(now), 7);
      l.record(now, n);
      for (let i = 0; i < n; i++) times.push(now);
      now = Math.max(now + 1_000, l.nextFreeAt(now));
    }
    expect(maxInWindow(times)).toBe(20);
    expect(times.length).toBeGreaterThan(150);
  });

  test("a clock stepped back an hour: the recent changes still count, but for one window from now, not for the hour", () => {
    const l = new ChurnLimiter(3);
    const H = 3_600_000;
    l.record(H, 2);
    l.record(H + 5_000);
    expect(l.available(H + 6_000)).toBe(0);
    // the wall clock goes back to 0
    expect(l.available(0)).toBe(0); // never more than the limit right after the step
    expect(l.nextFreeAt(0)).toBe(60_000); // free again a window later, not at H + 60 s
    expect(l.available(60_000)).toBe(3);
    l.record(60_000, 3); // in order again after the step
    expect(l.available(119_999)).toBe(0);
    expect(l.available(120_000)).toBe(3);
  });
});

/** A plan whose first fill (free) subscribed `n` HOT markets m0…, with a churn limit of `limit`. */
function hotPlan(n: number, limit: number) {
  const p = new SubscriptionPlan();
  const l = new ChurnLimiter(limit);
  const m = refs(n);
  p.setTarget({ hot: m, warm: [] });
  p.next(0, l);
  return { p, l, m };
}

describe("SubscriptionPlan", () => {
  const times = (changes: SubChange[], t: number, into: number[]) => changes.forEach(() => into.push(t));

  test("first fill: the whole target at once, HOT first, not counted as churn; changes after it are", () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(5);
    const m = refs(10);
    p.setTarget({ hot: m.slice(0, 2), warm: m.slice(2, 8) });
    const first = p.next(0, l);
    expect(first.map((c) => [c.action, c.market.market_id, c.reason])).toEqual([
      ["subscribe", "m0", "hot"],
      ["subscribe", "m1", "hot"],
      ["subscribe", "m2", "warm"],
      ["subscribe", "m3", "warm"],
      ["subscribe", "m4", "warm"],
      ["subscribe", "m5", "warm"],
      ["subscribe", "m6", "warm"],
      ["subscribe", "m7", "warm"],
    ]);
    expect(l.used(0)).toBe(0);
    expect(p.pending()).toBe(0);
    expect(p.countByTier()).toEqual({ hot: 2, warm: 6 });
    // A rotation after it is churn: 2 swaps (4 changes) of the 5 units; the third swap waits.
    p.setTarget({ hot: m.slice(0, 2), warm: [...m.slice(5, 8), m[8], m[9], m[2]] });
    const rot = p.next(1000, l);
    expect(rot.map((c) => [c.action, c.market.market_id, c.reason])).toEqual([
      ["subscribe", "m8", "rotation"],
      ["unsubscribe", "m3", "rotation"],
      ["subscribe", "m9", "rotation"],
      ["unsubscribe", "m4", "rotation"],
    ]);
    expect(l.used(1000)).toBe(4);
    expect(p.pending()).toBe(0);
  });

  test("rotation swaps: each new market subscribed before an old one is unsubscribed, reasons say rotation", () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(100);
    const m = refs(6);
    p.setTarget({ hot: [m[0]], warm: [m[1], m[2]] });
    p.next(0, l);
    p.setTarget({ hot: [m[0]], warm: [m[3], m[4]] });
    const c = p.next(1000, l);
    expect(c.map((x) => [x.action, x.market.market_id, x.reason])).toEqual([
      ["subscribe", "m3", "rotation"],
      ["unsubscribe", "m1", "rotation"],
      ["subscribe", "m4", "rotation"],
      ["unsubscribe", "m2", "rotation"],
    ]);
    expect([...p.current.keys()]).toEqual(["m0", "m3", "m4"]);
  });

  test("below the target size it only subscribes; at it, each subscribe is followed by one unsubscribe", async () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(2);
    const m = refs(6);
    p.setTarget({ hot: [], warm: [m[0], m[1]] });
    p.next(0, l);
    p.setTarget({ hot: [], warm: [m[2], m[3], m[4]] });
    // 2 current, 3 wanted: m2 fills the third place; the m3 swap needs two units, only one is left.
    expect(p.next(60_000, l).map((x) => [x.action, x.market.market_id])).toEqual([["subscribe", "m2"]]);
    expect(p.nextNeed()).toBe(2);
    expect(p.next(120_000, l).map((x) => [x.action, x.market.market_id])).toEqual([
      ["subscribe", "m3"],
      ["unsubscribe", "m0"],
    ]);
    expect(p.next(180_000, l).map((x) => [x.action, x.market.market_id])).toEqual([
      ["subscribe", "m4"],
      ["unsubscribe", "m1"],
    ]);
    expect([...p.current.keys()].sort()).toEqual(["m2", "m3", "m4"]);
  });

  test("the set never grows more than one past its target size while rotating under a tight budget", () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(5);
    const all = refs(40);
    let max = 0;
    for (let t = 0; t < 3600_000; t += 10_000) {
      const slot = Math.floor(t / 180_000);
      p.setTarget({ hot: all.slice(0, 3), warm: all.slice(3 + (slot % 5) * 4, 13 + (slot % 5) * 4) });
      p.next(t, l);
      max = Math.max(max, p.current.size);
    }
    expect(max).toBeLessThanOrEqual(13);
  });

  test("a tier change is applied at once and costs nothing", () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(10);
    const m = refs(3);
    p.setTarget({ hot: [m[0]], warm: [m[1], m[2]] });
    p.next(0, l);
    const re = p.setTarget({ hot: [m[1]], warm: [m[0], m[2]] });
    expect(re.map((r) => [r.market.market_id, r.tier])).toEqual([
      ["m0", "warm"],
      ["m1", "hot"],
    ]);
    expect(p.next(1, l)).toEqual([]);
    expect(l.used(1)).toBe(0); // the first fill is not churn, a tier change costs nothing
    expect(p.countByTier()).toEqual({ hot: 1, warm: 2 });
    expect(p.current.get("m1")!.tier).toBe("hot");
  });

  test("a resubscribe is unsubscribe then subscribe, costs two, and waits for two units", () => {
    const { p, l } = hotPlan(2, 3);
    l.record(0, 2); // other changes used 2 of the 3 units
    p.requestResubscribe("m1", "watchdog");
    expect(p.nextNeed()).toBe(2);
    expect(p.next(1, l)).toEqual([]);
    const c = p.next(60_000, l);
    expect(c.map((x) => [x.action, x.market.market_id, x.reason])).toEqual([
      ["unsubscribe", "m1", "watchdog"],
      ["subscribe", "m1", "watchdog"],
    ]);
    expect(p.pending()).toBe(0);
  });

  test("excluded (resolved) markets are unsubscribed and never come back", () => {
    const { p, l, m } = hotPlan(2, 10);
    p.exclude("m0");
    expect(p.next(1, l).map((x) => [x.action, x.market.market_id])).toEqual([["unsubscribe", "m0"]]);
    p.setTarget({ hot: m, warm: [] });
    expect(p.next(2, l)).toEqual([]);
  });

  test("random target churn over an hour: never above the limit in any 60 s window, converges", () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(20);
    const universe = refs(100);
    let x = 7;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const changeTimes: number[] = [];
    for (let t = 0; t < 3600_000; t += 5_000) {
      if (t % 180_000 === 0) {
        const start = Math.floor(rnd() * 90);
        p.setTarget({ hot: universe.slice(0, 5), warm: universe.slice(5 + start, 15 + start) });
      }
      times(p.next(t, l), t, changeTimes);
    }
    expect(maxInWindow(changeTimes)).toBeLessThanOrEqual(20);
    for (let t = 3600_000; p.pending() > 0; t += 60_000) times(p.next(t, l), t, changeTimes);
    expect(p.current.size).toBe(15);
  });

  test("a later refill from nothing is churn, not a second free first fill", () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(3);
    const m = refs(8);
    p.setTarget({ hot: [], warm: m.slice(0, 2) });
    p.next(0, l);
    p.setTarget({ hot: [], warm: [] });
    expect(p.next(0, l).map((x) => x.action)).toEqual(["unsubscribe", "unsubscribe"]);
    p.setTarget({ hot: [], warm: m.slice(2, 8) });
    expect(p.next(60_000, l).map((x) => [x.action, x.market.market_id, x.reason])).toEqual([
      ["subscribe", "m2", "rotation"],
      ["subscribe", "m3", "rotation"],
      ["subscribe", "m4", "rotation"],
    ]);
    expect(l.used(60_000)).toBe(3);
    expect(p.pending()).toBe(3); // m5, m6, m7 still to subscribe
  });

  test("a first fill of one market counts as the fill: a later refill from nothing is churn", () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(3);
    const m = refs(3);
    p.setTarget({ hot: [], warm: [m[0]] });
    expect(p.next(0, l).map((x) => [x.action, x.reason])).toEqual([["subscribe", "warm"]]);
    p.exclude("m0");
    expect(p.next(0, l).map((x) => x.action)).toEqual(["unsubscribe"]);
    p.setTarget({ hot: [], warm: [m[1], m[2]] });
    expect(p.next(60_000, l).map((x) => [x.action, x.market.market_id, x.reason])).toEqual([
      ["subscribe", "m1", "rotation"],
      ["subscribe", "m2", "rotation"],
    ]);
    expect(l.used(60_000)).toBe(2);
  });

  test("a refused market's queued resubscribe is dropped with it: nothing pending, nothing said to be pending", () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(0);
    const m = refs(2);
    p.setTarget({ hot: [], warm: m });
    p.next(0, l);
    p.requestResubscribe("m0", "watchdog");
    expect([p.pending(), p.isResubscribePending("m0")]).toEqual([2, true]);
    p.refuse("m0", 1_000);
    expect([p.pending(), p.isResubscribePending("m0")]).toEqual([0, false]);
  });

  test("pending() counts each missing subscribe, each unsubscribe and two per resubscribe", () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(0); // no budget after the first fill: nothing moves
    const m = refs(6);
    p.setTarget({ hot: [m[0]], warm: [m[1], m[2]] });
    p.next(0, l);
    p.requestResubscribe("m0", "watchdog");
    p.setTarget({ hot: [m[0]], warm: [m[2], m[3], m[4], m[5]] });
    expect(p.next(1, l)).toEqual([]);
    expect(p.pending()).toBe(2 + 3 + 1); // m0 resubscribed; m3, m4, m5 subscribed; m1 unsubscribed
  });

  test("a swap unsubscribes a leaving WARM market before a leaving HOT one", () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(100);
    const [h0, h1, w0, w1, x, y] = refs(6);
    p.setTarget({ hot: [h0, h1], warm: [w0, w1] });
    p.next(0, l);
    p.setTarget({ hot: [h1], warm: [w1, x, y] });
    expect(p.next(1000, l).map((c) => [c.action, c.market.market_id, c.reason])).toEqual([
      ["subscribe", "m4", "rotation"],
      ["unsubscribe", "m2", "rotation"],
      ["subscribe", "m5", "rotation"],
      ["unsubscribe", "m0", "hot"],
    ]);
  });

  test("resubscribes: two units each, exactly two suffice; unsubscribes wait behind them", () => {
    const p = new SubscriptionPlan();
    const l = new ChurnLimiter(4);
    const m = refs(3);
    p.setTarget({ hot: m, warm: [] });
    p.next(0, l); // free
    p.requestResubscribe("m0", "watchdog");
    p.requestResubscribe("m1", "resync");
    expect(p.next(1, l).map((x) => [x.action, x.market.market_id])).toEqual([
      ["unsubscribe", "m0"],
      ["subscribe", "m0"],
      ["unsubscribe", "m1"],
      ["subscribe", "m1"],
    ]);
    // other changes: 1 unit at 30 s, 2 at 40 s; at 60.001 s one unit is free: the resubscribe waits, and the
    // unsubscribe of m1 (one unit) waits behind it
    l.record(30_000, 1);
    l.record(40_000, 2);
    p.requestResubscribe("m0", "watchdog");
    p.setTarget({ hot: [m[0], m[2]], warm: [] });
    expect(p.next(60_001, l)).toEqual([]);
    expect(p.nextNeed()).toBe(2);
    // at 90.001 s exactly two units: the resubscribe goes, the unsubscribe still waits
    expect(p.next(90_001, l).map((x) => [x.action, x.market.market_id])).toEqual([
      ["unsubscribe", "m0"],
      ["subscribe", "m0"],
    ]);
  });

  test("a resubscribe asked for a market that then leaves the target: only its unsubscribe, needing one unit", () => {
    const { p, l, m } = hotPlan(2, 10);
    p.requestResubscribe("m1", "watchdog");
    p.setTarget({ hot: [m[0]], warm: [] });
    expect(p.nextNeed()).toBe(1);
    expect(p.next(1, l).map((x) => [x.action, x.market.market_id, x.reason])).toEqual([["unsubscribe", "m1", "hot"]]);
    expect(p.pending()).toBe(0);
  });

  test("unrefuse ends only the refusal it names, not a later one", () => {
    const p = new SubscriptionPlan();
    p.refuse("m0", 100);
    p.refuse("m0", 200);
    expect(p.unrefuse("m0", 100)).toBe(false);
    expect(p.isRefused("m0")).toBe(true);
    expect(p.unrefuse("m0", 200)).toBe(true);
    expect(p.isRefused("m0")).toBe(false);
  });

  test("waiting() lists the targets not subscribed yet; one unit left is enough for one unsubscribe", () => {
    const { p, l, m } = hotPlan(3, 3);
    l.record(0, 2); // other changes: one unit left in the window
    p.setTarget({ hot: [m[0]], warm: [] });
    expect(p.next(1, l).map((x) => [x.action, x.market.market_id])).toEqual([["unsubscribe", "m1"]]);
    const more = refs(5).slice(3);
    p.setTarget({ hot: [m[0], ...more], warm: [] });
    expect([...p.waiting()].map((w) => w.ref.market_id)).toEqual(["m3", "m4"]);
  });
});
