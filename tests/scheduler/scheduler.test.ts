/** Rotation epochs and target sets (HOT, rotating WARM) worked out by hand: sizes, coverage, churn, determinism. */
import { describe, expect, test } from "bun:test";
import { COLLECT_DEFAULTS, type CollectSettings } from "../../src/config.ts";
import {
  circleOrder,
  circlePos,
  computeTargets,
  nextRotationAt,
  rotationEpoch,
  rotationStep,
  Scheduler,
  type TargetSet,
} from "../../src/scheduler/scheduler.ts";
import type { MarketInfo } from "../../src/market.ts";

const H = 3_600_000;
const P = 180_000; // default rotation period
const T0 = Math.floor(Date.UTC(2026, 5, 1, 12) / P) * P; // an epoch boundary

/** n markets far from closing, plus closed and expired ones mixed in by id. */
function universe(n: number, opts: { closed?: number; expired?: number } = {}): MarketInfo[] {
  const out: MarketInfo[] = [];
  for (let i = 0; i < n; i++) {
    const id = `m${String(i).padStart(4, "0")}`;
    out.push({
      venue: "v",
      market_id: id,
      outcome_ids: [`${id}-y`, `${id}-n`],
      title: id,
      close_ts: T0 + 90 * 24 * H,
      status: "active",
      tags: [],
      created_ts: T0 - 90 * 24 * H,
    });
  }
  for (let i = 0; i < (opts.closed ?? 0); i++)
    out.push({ ...out[0], market_id: `closed${i}`, status: "closed", close_ts: T0 - H });
  for (let i = 0; i < (opts.expired ?? 0); i++)
    out.push({ ...out[0], market_id: `expired${i}`, status: "active", close_ts: T0 + H * (i + 1) });
  return out;
}

const settings = (o: Partial<CollectSettings> = {}): CollectSettings => ({ ...COLLECT_DEFAULTS, ...o });
const ids = (t: TargetSet) => [...t.hot, ...t.warm].map((m) => m.market_id);
const warmIds = (t: TargetSet) => new Set(t.warm.map((m) => m.market_id));

describe("rotation epochs", () => {
  test("epoch and next rotation time are period multiples from the Unix epoch", () => {
    const s = settings({ rotation_period_secs: 180 });
    expect(rotationEpoch(T0, s)).toBe(T0 / P);
    expect(rotationEpoch(T0 + P - 1, s)).toBe(T0 / P);
    expect(rotationEpoch(T0 + P, s)).toBe(T0 / P + 1);
    expect(nextRotationAt(T0, s)).toBe(T0 + P);
    expect(nextRotationAt(T0 + 1, s)).toBe(T0 + P);
    expect(nextRotationAt(T0 + P - 1, s)).toBe(T0 + P);
  });

  test("rotation step: 3/4 of a period's churn, in swaps (2 changes each), clamped to [1, warm]", () => {
    expect(rotationStep(settings(), 160)).toBe(22); // 20/min × 3 min = 60 changes → 45 → 22 swaps
    expect(rotationStep(settings({ subscription_churn_limit_per_minute: 1, rotation_period_secs: 60 }), 160)).toBe(1);
    expect(rotationStep(settings({ subscription_churn_limit_per_minute: 10_000 }), 160)).toBe(160);
  });
});

describe("computeTargets", () => {
  test("deterministic; sizes hot_count + (max_subs - hot_count); no duplicates", () => {
    const u = universe(1000);
    const s = settings();
    const a = computeTargets({ universe: u, now: T0, settings: s });
    const b = computeTargets({ universe: [...u].reverse(), now: T0, settings: s });
    expect(b).toEqual(a);
    expect(a.hot.length).toBe(40);
    expect(a.warm.length).toBe(160);
    expect(new Set(ids(a)).size).toBe(200);
    // Without stats and with equal close/created times, HOT is the first 40 by id.
    expect(a.hot.map((m) => m.market_id)).toEqual(u.slice(0, 40).map((m) => m.market_id));
    expect(a.hot[0].outcome_ids).toEqual(["m0000-y", "m0000-n"]);
  });

  test("with scores HOT is the best scored (ties by id); closed or expired never scheduled", () => {
    const u = universe(300, { closed: 20, expired: 5 });
    const scores = new Map<string, number>();
    for (let i = 0; i < 300; i++) scores.set(`m${String(i).padStart(4, "0")}`, i % 50); // 6 markets tie at each score
    scores.set("closed0", 1e9);
    scores.set("expired0", 1e9);
    const s = settings({ hot_count: 10, max_subs_per_venue: 50 });
    const now = T0 + 10 * H; // every expiredN closes by T0 + 5h
    const t = computeTargets({ universe: u, scores, now, settings: s });
    // Scores 49 ×6 (m0049, m0099, …, m0299) then 48 ×4 by id.
    expect(t.hot.map((m) => m.market_id)).toEqual([
      "m0049",
      "m0099",
      "m0149",
      "m0199",
      "m0249",
      "m0299",
      "m0048",
      "m0098",
      "m0148",
      "m0198",
    ]);
    const sched = new Scheduler(s);
    for (let k = 0; k < 40; k++) {
      const r = sched.targets(now + k * P, u, scores);
      for (const id of ids(r)) expect(id.startsWith("m")).toBe(true);
    }
  });

  test("fewer eligible markets than max_subs: all of them, HOT first, no rotation", () => {
    const u = universe(30, { closed: 3 });
    const s = settings({ hot_count: 5, max_subs_per_venue: 100 });
    const sched = new Scheduler(s);
    const first = sched.targets(T0, u);
    expect(first.hot.length).toBe(5);
    expect(first.warm.length).toBe(25);
    const later = sched.targets(T0 + 7 * P, u);
    expect(new Set(ids(later))).toEqual(new Set(ids(first)));
  });

  test("rotation covers every eligible market within ceil(rest / warm) periods when churn allows full swaps", () => {
    const u = universe(740, { closed: 10, expired: 3 });
    const s = settings({ hot_count: 40, max_subs_per_venue: 200, subscription_churn_limit_per_minute: 10_000 });
    const now = T0 + 4 * H;
    const rest = 740 - 40;
    const periods = Math.ceil(rest / 160); // 5
    const sched = new Scheduler(s);
    const seen = new Set<string>();
    let prev: TargetSet | undefined;
    for (let k = 0; k < periods; k++) {
      const t = sched.targets(now + k * P, u);
      t.warm.forEach((m) => seen.add(m.market_id));
      if (prev) {
        // Full swap: no WARM market stays while others wait (except at the wrap of the circle).
        const stay = [...warmIds(t)].filter((id) => warmIds(prev!).has(id)).length;
        expect(stay).toBeLessThanOrEqual(Math.max(0, 160 * (k + 1) - rest));
      }
      prev = t;
    }
    expect(seen.size).toBe(rest);
  });

  test("with the default churn limit: step swaps per rotation, full coverage after ceil((rest - warm) / step) rotations, HOT stable", () => {
    const u = universe(500);
    const s = settings(); // hot 40, max 200, churn 20/min, 180 s → step 22
    const step = rotationStep(s, 160);
    const rest = 460;
    const rotations = Math.ceil((rest - 160) / step); // 14
    const sched = new Scheduler(s);
    const seen = new Set<string>();
    let prev = sched.targets(T0 + 5, u);
    prev.warm.forEach((m) => seen.add(m.market_id));
    const hot = prev.hot.map((m) => m.market_id);
    for (let k = 1; k <= rotations; k++) {
      const t = sched.targets(T0 + k * P + 5, u);
      const added = [...warmIds(t)].filter((id) => !warmIds(prev).has(id));
      const removed = [...warmIds(prev)].filter((id) => !warmIds(t).has(id));
      expect(added.length).toBe(step);
      expect(removed.length).toBe(step);
      // The longest watched leave first.
      expect(removed.sort()).toEqual(
        prev.warm
          .slice(0, step)
          .map((m) => m.market_id)
          .sort(),
      );
      expect(t.hot.map((m) => m.market_id)).toEqual(hot);
      added.forEach((id) => seen.add(id));
      if (k === rotations - 1) expect(seen.size).toBeLessThan(rest);
      prev = t;
    }
    expect(seen.size).toBe(rest);
  });

  test("recomputing within the same epoch changes nothing; a market closing moves WARM by one", () => {
    const u = universe(500);
    const s = settings();
    const a = computeTargets({ universe: u, now: T0, settings: s });
    const same = computeTargets({ universe: u, now: T0 + P - 1, settings: s, previous: a });
    expect(same).toEqual(a);
    const gone = a.warm[50].market_id;
    const u2 = u.map((m) => (m.market_id === gone ? { ...m, status: "closed" } : m));
    const b = computeTargets({ universe: u2, now: T0 + 1000, settings: s, previous: a });
    const added = [...warmIds(b)].filter((id) => !warmIds(a).has(id));
    const removed = [...warmIds(a)].filter((id) => !warmIds(b).has(id));
    expect(removed).toEqual([gone]);
    expect(added.length).toBe(1);
    expect(b.hot).toEqual(a.hot);
    // An explicit epoch overrides the time.
    expect(computeTargets({ universe: u, now: T0, settings: s, epoch: 7 }).epoch).toBe(7);
  });

  test("a fresh start is deterministic per epoch and starts elsewhere in another epoch", () => {
    const u = universe(2000);
    const s = settings();
    const a = computeTargets({ universe: u, now: T0, settings: s });
    expect(computeTargets({ universe: u, now: T0 + 10, settings: s })).toEqual(a);
    const b = computeTargets({ universe: u, now: T0 + P, settings: s });
    expect(warmIds(b)).not.toEqual(warmIds(a));
  });
});

/** The epoch whose fresh-start position on the circle is `pos`: the inverse of ×0x9e3779b1 mod 2^32 (Newton). */
function epochAt(pos: number): number {
  const g = 0x9e3779b1;
  let inv = g;
  for (let i = 0; i < 5; i++) inv = Math.imul(inv, 2 - Math.imul(g, inv));
  return Math.imul(pos, inv) >>> 0;
}

/** The markets outside HOT (m0000…m0039 with the default settings and no scores) in circle order, by hand. */
function restByCircle(u: MarketInfo[]): MarketInfo[] {
  return u
    .filter((m) => m.market_id >= "m0040")
    .sort((a, b) => circlePos(a.market_id) - circlePos(b.market_id) || (a.market_id < b.market_id ? -1 : 1));
}

describe("the rotation circle", () => {
  test("a market's place is the 32-bit FNV-1a of its id (published test vectors)", () => {
    expect(circlePos("")).toBe(0x811c9dc5);
    expect(circlePos("a")).toBe(0xe40c292c);
    expect(circlePos("foobar")).toBe(0xbf9cf968);
  });

  test("two ids on the same place are ordered by id, whatever order the universe lists them in", () => {
    const [a, b] = universe(2).map((m, i) => ({ ...m, market_id: ["K192029gpz", "K1t9pa8618"][i] }));
    expect(circlePos(a.market_id)).toBe(circlePos(b.market_id)); // an FNV-1a collision
    expect(circleOrder([a, b]).map((p) => p.m.market_id)).toEqual(["K192029gpz", "K1t9pa8618"]);
    expect(circleOrder([b, a]).map((p) => p.m.market_id)).toEqual(["K192029gpz", "K1t9pa8618"]);
  });

  test("a fresh start fills WARM from the first market at or after the epoch's place, in circle order", () => {
    const u = universe(500);
    const circle = restByCircle(u);
    const first = circle[100];
    const epoch = epochAt(circlePos(first.market_id));
    expect(Math.imul(epoch, 0x9e3779b1) >>> 0).toBe(circlePos(first.market_id));
    const t = computeTargets({ universe: u, now: T0, settings: settings(), epoch });
    expect(t.warm.map((m) => m.market_id)).toEqual(circle.slice(100, 260).map((m) => m.market_id));
    expect(t.cursor).toBe(circlePos(circle[259].market_id));
  });

  test("a fresh start placed past the last market wraps to the first one on the circle", () => {
    const u = universe(500);
    const circle = restByCircle(u);
    expect(circlePos(circle[circle.length - 1].market_id)).toBeLessThan(0xfffffffe);
    const t = computeTargets({ universe: u, now: T0, settings: settings(), epoch: epochAt(0xffffffff) });
    expect(t.warm.map((m) => m.market_id)).toEqual(circle.slice(0, 160).map((m) => m.market_id));
  });

  test("a circle handed in is walked as given, not rebuilt from the universe (the sort it saves)", () => {
    const u = universe(500);
    // Not circleOrder's: each market placed at its index, so the walk visible in WARM tells which circle was used.
    const byIndex = u.map((m, i) => ({ m, pos: i }));
    const t = computeTargets({ universe: u, now: T0, settings: settings(), epoch: epochAt(100), circle: byIndex });
    // HOT is m0000…m0039; a fresh start at place 100 takes the 160 markets from index 100 on
    expect(t.warm.map((m) => m.market_id)).toEqual(u.slice(100, 260).map((m) => m.market_id));
    expect(t.cursor).toBe(259);
    // the circle circleOrder builds gives what no circle gives
    const e = epochAt(100);
    expect(computeTargets({ universe: u, now: T0, settings: settings(), epoch: e, circle: circleOrder(u) })).toEqual(
      computeTargets({ universe: u, now: T0, settings: settings(), epoch: e }),
    );
  });

  test("WARM shrunk within an epoch (max_subs lowered) drops its oldest members and adds none", () => {
    const u = universe(500);
    const a = computeTargets({ universe: u, now: T0, settings: settings() });
    const b = computeTargets({
      universe: u,
      now: T0 + 1000,
      settings: settings({ max_subs_per_venue: 150 }),
      previous: a,
    });
    expect(b.hot).toEqual(a.hot);
    expect(b.warm.map((m) => m.market_id)).toEqual(a.warm.slice(50).map((m) => m.market_id));
  });

  test("a universe grown past WARM within an epoch keeps every WARM member and fills up with new markets, none twice", () => {
    const small = universe(190); // 150 outside HOT: all fit
    // the epoch's place is a WARM member's: the walk for the grown universe starts on a market WARM already has
    const epoch = epochAt(circlePos(restByCircle(small)[0].market_id));
    const a = computeTargets({ universe: small, now: T0, settings: settings(), epoch });
    expect(a.warm.length).toBe(150);
    const b = computeTargets({ universe: universe(240), now: T0 + 1000, settings: settings(), previous: a, epoch });
    expect(b.hot).toEqual(a.hot);
    expect(b.warm.length).toBe(160);
    expect(new Set(ids(b)).size).toBe(200);
    expect(b.warm.slice(0, 150)).toEqual(a.warm);
    for (const m of b.warm.slice(150)) expect(m.market_id >= "m0190").toBe(true);
  });
});
