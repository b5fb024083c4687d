/** The mock venue: a seeded universe and event stream, sane books, activity profiles, unsubscribe, resync, close. */
import { describe, expect, test } from "bun:test";
import { SimClock } from "../../src/clock.ts";
import { parseConfig, type VenueConfig } from "../../src/config.ts";
import { createAdapter } from "../../src/venue/index.ts";
import { corruptLevel, mapMockMessage, type MockWireLevel } from "../../src/venue/mock-mapper.ts";
import { anchorOf, MockVenue } from "../../src/venue/mock.ts";
import type { VenueEvent } from "../../src/venue/types.ts";
import type { MarketInfo, MarketRef } from "../../src/market.ts";

const T0 = Date.UTC(2026, 0, 1, 12);

function mockCfg(opts: Record<string, unknown> = {}, collect: Record<string, unknown> = {}): VenueConfig {
  return parseConfig({ collector: collect, venues: { mock: opts } }).selected[0];
}

const refs = (ms: MarketInfo[]): MarketRef[] => ms.map((m) => ({ market_id: m.market_id, outcome_ids: m.outcome_ids }));

/** Runs a venue on a SimClock and records every event with its receive time. */
async function record(
  cfg: VenueConfig,
  ms: number,
  pick: (u: MarketInfo[]) => MarketInfo[] = (u) => u.filter((m) => m.status === "active"),
) {
  const clock = new SimClock(T0);
  const venue = new MockVenue(cfg, { clock, env: {} });
  const universe = await venue.discover();
  const events: { ev: VenueEvent; ts: number }[] = [];
  await venue.connect((ev, ts) => events.push({ ev, ts }));
  venue.subscribe(refs(pick(universe)));
  let maxTimers = 0;
  const end = T0 + ms;
  while (clock.now() < end) {
    maxTimers = Math.max(maxTimers, clock.pending());
    await clock.runUntil(Math.min(end, clock.nextAt() ?? end));
    if (clock.nextAt() === undefined) break;
  }
  return { venue, universe, events, clock, maxTimers };
}

/** Independent book replay: price → size maps, checked after every event. */
class RefBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  seq = -1;
}

describe("mock universe", () => {
  test("same seed, same universe; another seed, another universe", async () => {
    const clock = new SimClock(T0);
    const a = await (await createAdapter(mockCfg({ seed: 7 }), { clock, env: {} })).discover();
    const b = await (await createAdapter(mockCfg({ seed: 7 }), { clock, env: {} })).discover();
    const c = await (await createAdapter(mockCfg({ seed: 8 }), { clock, env: {} })).discover();
    expect(a).toEqual(b);
    expect(a.length).toBe(400);
    expect(c.map((m) => m.extra!.activity)).not.toEqual(a.map((m) => m.extra!.activity));
  }, 20_000);

  test("shape: two outcomes, closed share, closing-soon and recent markets, tags, limit", async () => {
    const clock = new SimClock(T0);
    const v = new MockVenue(mockCfg({ universe_size: 4000, closed_share: 0.2 }), { clock, env: {} });
    const u = await v.discover();
    expect(new Set(u.map((m) => m.market_id)).size).toBe(4000);
    for (const m of u) {
      expect(m.outcome_ids).toEqual([`${m.market_id}-yes`, `${m.market_id}-no`]);
      expect(m.venue).toBe("mock");
      expect(m.tags.length).toBeGreaterThan(0);
      expect(m.title.length).toBeGreaterThan(0);
      if (m.status === "closed") expect(m.close_ts!).toBeLessThan(T0);
      else expect(m.close_ts!).toBeGreaterThan(T0);
    }
    const closed = u.filter((m) => m.status === "closed").length / u.length;
    expect(closed).toBeGreaterThan(0.17);
    expect(closed).toBeLessThan(0.23);
    expect(u.filter((m) => m.status === "active" && m.close_ts! < T0 + 24 * 3_600_000).length).toBeGreaterThan(100);
    expect(u.filter((m) => m.status === "active" && m.close_ts! < T0 + 3 * 3_600_000).length).toBeGreaterThan(10);
    expect(u.filter((m) => m.created_ts! > T0 - 24 * 3_600_000).length).toBeGreaterThan(100);
    expect(u.every((m) => m.created_ts! <= T0)).toBe(true);
    expect((await v.discover({ limit: 10 })).map((m) => m.market_id)).toEqual(u.slice(0, 10).map((m) => m.market_id));
    // Activity kinds all present, rates normalized so the mean over active markets is updates_per_sec (2).
    const kinds = new Set(u.map((m) => m.extra!.activity));
    expect([...kinds].sort()).toEqual(["busy", "empty", "normal", "one_sided", "quiet", "wide"]);
    const active = u.filter((m) => m.close_ts! > anchorOf(T0)); // active when generated (some have closed since)
    const mean = active.reduce((s, m) => s + (m.extra!.rate_per_sec as number), 0) / active.length;
    expect(mean).toBeCloseTo(2, 6);
  }, 20_000);

  test("a market past its close time is reported closed", async () => {
    const clock = new SimClock(T0);
    const v = new MockVenue(mockCfg({ universe_size: 2000 }), { clock, env: {} });
    const before = await v.discover();
    clock.set(T0 + 2 * 24 * 3_600_000);
    const after = await v.discover();
    const soon = before.filter((m) => m.status === "active" && m.close_ts! <= clock.now());
    expect(soon.length).toBeGreaterThan(0);
    for (const m of soon) expect(after.find((x) => x.market_id === m.market_id)!.status).toBe("closed");
  }, 20_000);
});

describe("mock events", () => {
  test("deterministic: same seed and schedule, same event stream", async () => {
    const cfg = mockCfg({ universe_size: 50, updates_per_sec: 5, gap_rate: 0.01, malformed_rate: 0.01 });
    const a = await record(cfg, 60_000);
    const b = await record(cfg, 60_000);
    expect(a.events.length).toBeGreaterThan(1000);
    expect(b.events).toEqual(a.events);
  }, 20_000);

  test("books are sane, seq consecutive per book, one timer for all markets", async () => {
    const { events, universe, maxTimers } = await record(
      mockCfg({ universe_size: 100, updates_per_sec: 4 }),
      4 * 60_000,
    );
    expect(maxTimers).toBe(1);
    const books = new Map<string, RefBook>();
    const activity = new Map(universe.map((m) => [m.market_id, m.extra!.activity as string]));
    let levels = 0;
    const bad: string[] = [];
    for (const { ev } of events) {
      if (ev.kind === "book") {
        const b = new RefBook();
        ev.bidPx.forEach((p, i) => b.bids.set(p, ev.bidSz[i]));
        ev.askPx.forEach((p, i) => b.asks.set(p, ev.askSz[i]));
        b.seq = ev.seq!;
        books.set(ev.outcomeId, b);
        if (activity.get(ev.marketId) === "busy") {
          expect(b.bids.size).toBeGreaterThanOrEqual(20);
          expect(b.asks.size).toBeGreaterThanOrEqual(20);
        }
      } else if (ev.kind === "level") {
        levels++;
        const b = books.get(ev.outcomeId)!;
        if (!b) bad.push(`${ev.outcomeId} delta before book`);
        if (ev.seq !== b.seq + 1 || ev.mode !== "set" || !ev.bookSeq)
          bad.push(`${ev.outcomeId} seq ${ev.seq} after ${b.seq}`);
        b.seq = ev.seq!;
        const side = ev.side === "bid" ? b.bids : b.asks;
        if (ev.size > 0) side.set(ev.price, ev.size);
        else side.delete(ev.price);
      } else continue;
      const b = books.get(ev.outcomeId)!;
      // Counted, not expect()ed per level: hundreds of thousands of checks.
      for (const [p, s] of [b.bids, b.asks].flatMap((m) => [...m])) {
        if (!(p > 0 && p < 1 && Math.abs(p * 100 - Math.round(p * 100)) < 1e-9 && s > 0))
          bad.push(`${ev.outcomeId} ${p} ${s}`);
      }
      if (b.bids.size && b.asks.size && Math.max(...b.bids.keys()) >= Math.min(...b.asks.keys()))
        bad.push(`${ev.outcomeId} crossed`);
      if (activity.get(ev.marketId) === "busy" && (b.bids.size < 20 || b.asks.size < 20))
        bad.push(`${ev.outcomeId} thin busy book`);
    }
    expect(bad).toEqual([]);
    expect(levels).toBeGreaterThan(10_000);
  }, 20_000);

  test("activity differs a lot: busy ≫ quiet, empty books stay empty, one-sided and wide books look it", async () => {
    const { events, universe } = await record(mockCfg({ universe_size: 400, updates_per_sec: 2 }), 10 * 60_000);
    const act = new Map(universe.map((m) => [m.market_id, m.extra!.activity as string]));
    const perKind = new Map<string, number[]>();
    const count = new Map<string, number>();
    for (const { ev } of events) if (ev.kind === "level") count.set(ev.marketId, (count.get(ev.marketId) ?? 0) + 1);
    for (const m of universe)
      if (m.status === "active") {
        const k = act.get(m.market_id)!;
        perKind.set(k, [...(perKind.get(k) ?? []), count.get(m.market_id) ?? 0]);
      }
    const avg = (k: string) => perKind.get(k)!.reduce((s, x) => s + x, 0) / perKind.get(k)!.length;
    expect(avg("busy")).toBeGreaterThan(20 * avg("quiet"));
    expect(avg("empty")).toBe(0);
    const firstBooks = new Map<string, Extract<VenueEvent, { kind: "book" }>>();
    for (const { ev } of events)
      if (ev.kind === "book" && !firstBooks.has(ev.outcomeId)) firstBooks.set(ev.outcomeId, ev);
    const spreads: Record<string, number[]> = {};
    for (const b of firstBooks.values()) {
      const k = act.get(b.marketId)!;
      if (k === "empty") expect(b.bidPx.length + b.askPx.length).toBe(0);
      if (k === "one_sided") expect(b.askPx.length).toBe(0);
      if (b.bidPx.length && b.askPx.length) (spreads[k] ??= []).push(Math.min(...b.askPx) - Math.max(...b.bidPx));
    }
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(spreads.wide)).toBeGreaterThan(5 * mean(spreads.busy));
  }, 20_000);

  test("unsubscribe stops a market's events; resync re-sends its book with the current seq", async () => {
    const clock = new SimClock(T0);
    const v = new MockVenue(mockCfg({ universe_size: 200, updates_per_sec: 5 }), { clock, env: {} });
    const busy = (await v.discover()).filter((m) => m.status === "active" && m.extra!.activity === "busy").slice(0, 2);
    const events: VenueEvent[] = [];
    await v.connect((ev) => events.push(ev));
    v.subscribe(refs(busy));
    await clock.advance(30_000);
    v.unsubscribe(refs([busy[0]]));
    events.length = 0;
    await clock.advance(30_000);
    expect(events.some((e) => e.kind === "level" && e.marketId === busy[0].market_id)).toBe(false);
    expect(events.some((e) => e.kind === "level" && e.marketId === busy[1].market_id)).toBe(true);
    const key = busy[1].outcome_ids[0];
    const deltas = events.filter((e) => e.kind === "level" && e.outcomeId === key) as { seq: number }[];
    const lastSeq = deltas.at(-1)!.seq;
    events.length = 0;
    v.resync([{ marketId: busy[1].market_id, outcomeId: key }]);
    await clock.advance(1);
    const book = events.find((e) => e.kind === "book");
    expect(book).toMatchObject({ kind: "book", outcomeId: key, seq: lastSeq });
    v.subscribe([{ market_id: "nope", outcome_ids: [] }]);
    expect(events.at(-1)).toMatchObject({ kind: "venue_error", reason: "unknown market" });
  }, 20_000);

  test("a closed market answers with resolved (no book); a market closing while watched resolves at its close time", async () => {
    const clock = new SimClock(T0);
    const v = new MockVenue(mockCfg({ universe_size: 2000, updates_per_sec: 5 }), { clock, env: {} });
    const u = await v.discover();
    const closed = u.find((m) => m.status === "closed")!;
    const closing = u
      .filter((m) => m.status === "active" && (m.extra!.rate_per_sec as number) > 1)
      .sort((a, b) => a.close_ts! - b.close_ts!)[0];
    expect(closing.close_ts! - T0).toBeLessThan(3_600_000);
    const events: { ev: VenueEvent; ts: number }[] = [];
    await v.connect((ev, ts) => events.push({ ev, ts }));
    v.subscribe(refs([closed, closing]));
    await clock.runUntil(closing.close_ts! + 60_000);
    const about = (id: string) => events.filter((e) => "marketId" in e.ev && e.ev.marketId === id);
    expect(about(closed.market_id).map((e) => e.ev.kind)).toEqual(["resolved"]);
    const c = about(closing.market_id);
    expect(c.at(-1)!.ev.kind).toBe("resolved");
    expect(c.at(-1)!.ts).toBeGreaterThanOrEqual(closing.close_ts!);
    expect(c.at(-1)!.ts).toBeLessThan(closing.close_ts! + 100);
    expect(
      c.filter((e) => e.ev.kind === "level").every((e) => (e.ev as { sourceTs: number }).sourceTs < closing.close_ts!),
    ).toBe(true);
    expect(c.filter((e) => e.ev.kind === "level").length).toBeGreaterThan(10);
    expect(v.subscribedIds()).toEqual([]);
  }, 20_000);
});

describe("mock faults", () => {
  test("seq gaps at gap_rate, malformed messages at malformed_rate, rejected by the mapper", async () => {
    const { events, venue } = await record(
      mockCfg({ universe_size: 100, updates_per_sec: 10, gap_rate: 0.02, malformed_rate: 0.01 }),
      10 * 60_000,
    );
    const last = new Map<string, number>();
    let levels = 0;
    let gaps = 0;
    let rejected = 0;
    for (const { ev } of events) {
      if (ev.kind === "book") last.set(ev.outcomeId, ev.seq!);
      else if (ev.kind === "level") {
        levels++;
        if (ev.seq !== last.get(ev.outcomeId)! + 1) gaps += ev.seq! - last.get(ev.outcomeId)! - 1;
        last.set(ev.outcomeId, ev.seq!);
      } else if (ev.kind === "rejected") {
        rejected++;
        expect(ev.reason).toStartWith("malformed");
      }
    }
    const updates = levels + gaps;
    expect(updates).toBeGreaterThan(50_000);
    expect(gaps / updates).toBeGreaterThan(0.017);
    expect(gaps / updates).toBeLessThan(0.023);
    expect(rejected / updates).toBeGreaterThan(0.008);
    expect(rejected / updates).toBeLessThan(0.012);
    expect(rejected).toBe(venue.stats.malformed);
  }, 20_000);

  test("drops at drop_rate_per_hour; reconnect with backoff; books re-sent for subscribed markets", async () => {
    const cfg = mockCfg(
      { universe_size: 20, updates_per_sec: 0.01, drop_rate_per_hour: 6 },
      { reconnect_base_ms: 1000, reconnect_cap_ms: 60_000 },
    );
    const { events, universe, venue } = await record(cfg, 20 * 3_600_000);
    const conn = events.filter((e) => e.ev.kind === "connection");
    const drops = conn.filter((e) => e.ev.kind === "connection" && e.ev.reason === "mock: connection dropped").length;
    // Poisson with mean 120: well within ±40 %.
    expect(drops).toBeGreaterThan(72);
    expect(drops).toBeLessThan(168);
    expect(drops).toBe(venue.stats.drops);
    const connects = conn.filter((e) => e.ev.kind === "connection" && e.ev.state === "connected");
    expect(connects.length).toBe(drops + 1);
    // A reconnect is followed by a full book for each subscribed outcome before any delta.
    const idx = events.indexOf(connects[1]);
    const live = universe
      .filter((m) => m.status === "active" && m.close_ts! > connects[1].ts)
      .flatMap((m) => m.outcome_ids);
    const after: string[] = [];
    for (const e of events.slice(idx + 1)) {
      if (e.ev.kind !== "book") break;
      after.push(e.ev.outcomeId);
    }
    expect(after.sort()).toEqual(live.sort());
    // No storm: attempts are spread out by the backoff.
    expect(venue.stats.reconnectAttempts).toBeLessThan(drops * 12);
  }, 20_000);

  test("reconnect attempts during an outage back off with growing delays", async () => {
    const clock = new SimClock(T0);
    const cfg = mockCfg(
      { universe_size: 5, drop_rate_per_hour: 3600 },
      { reconnect_base_ms: 1000, reconnect_cap_ms: 64_000 },
    );
    // random() = 0.999 makes each delay the ceiling: 1 s, 2 s, 4 s…; outage 100 s.
    const v = new MockVenue(cfg, { clock, env: {}, random: () => 0.999 }, { outageMs: () => 100_000 });
    const times: number[] = [];
    await v.connect((ev, ts) => {
      if (ev.kind === "connection") times.push(ts);
    });
    await clock.runUntil(T0 + 3_600_000);
    // times[0] connect, [1] drop, then failed attempts until the outage ends, then connected.
    const gaps = times
      .slice(1, 9)
      .map((t, i, a) => (i === 0 ? 0 : t - a[i - 1]))
      .slice(1);
    expect(gaps.slice(0, 6)).toEqual([999, 1998, 3996, 7992, 15984, 31968]);
  }, 20_000);
});

describe("mock mapper", () => {
  const w: MockWireLevel = {
    type: "level",
    market: "m",
    outcome: "m-yes",
    side: "bid",
    price: 0.42,
    size: 10,
    seq: 3,
    ts: 5,
  };
  test("valid level maps to a set-mode, book-seq level event", () => {
    expect(mapMockMessage(w)).toEqual({
      kind: "level",
      marketId: "m",
      outcomeId: "m-yes",
      side: "bid",
      price: 0.42,
      size: 10,
      mode: "set",
      seq: 3,
      bookSeq: true,
      sourceTs: 5,
    });
    expect(mapMockMessage(JSON.stringify(w)).kind).toBe("level");
  });
  test("every corruption variant is rejected with a reason", () => {
    for (let k = 0; k < 5; k++) {
      const ev = mapMockMessage(corruptLevel(w, k));
      expect(ev.kind).toBe("rejected");
    }
    expect(mapMockMessage({ ...w, type: "trade" })).toMatchObject({
      kind: "rejected",
      reason: "malformed: unknown type",
    });
    expect(
      mapMockMessage({
        type: "book",
        market: "m",
        outcome: "o",
        bid_px: [0.5],
        bid_sz: [],
        ask_px: [],
        ask_sz: [],
        seq: 0,
        ts: 0,
      }).kind,
    ).toBe("rejected");
  });
});
