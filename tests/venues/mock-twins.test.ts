/** Mock twins: reworded twin markets of another mock, and books whose mids follow the source's after the lag. */
import { describe, expect, test } from "bun:test";
import { SimClock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import { UserError } from "../../src/errors.ts";
import { MockVenue } from "../../src/venue/mock.ts";
import type { VenueEvent } from "../../src/venue/types.ts";
import type { MarketInfo } from "../../src/market.ts";

const T0 = Date.UTC(2026, 5, 1, 8);
const HOUR = 3_600_000;

function twinConfig(extraA: Record<string, unknown> = {}, extraB: Record<string, unknown> = {}) {
  return parseConfig({
    venues: {
      a: { kind: "mock", seed: 11, universe_size: 400, ...extraA },
      b: { kind: "mock", seed: 12, universe_size: 400, twin_of: "a", twin_share: 0.3, ...extraB },
    },
  });
}

async function universes(cfg = twinConfig()) {
  const clock = new SimClock(T0);
  const a = await new MockVenue(cfg.venues[0], { clock, env: {} }).discover();
  const b = await new MockVenue(cfg.venues[1], { clock, env: {} }).discover();
  return { a, b };
}

interface Truth {
  venue: string;
  market_id: string;
  orientation: string;
  lag_ms: number;
}
const truthOf = (m: MarketInfo) => m.extra?.twin_of as Truth | undefined;

describe("mock twins: universe", () => {
  test("twin_share of the twin's markets name a distinct source market, reworded, closing within hours of it", async () => {
    const { a, b } = await universes();
    const byId = new Map(a.map((m) => [m.market_id, m]));
    const twins = b.filter((m) => truthOf(m));
    expect(twins.length).toBe(120);
    expect(new Set(twins.map((m) => truthOf(m)!.market_id)).size).toBe(120);
    let flipped = 0;
    for (const m of twins) {
      const t = truthOf(m)!;
      expect(t.venue).toBe("a");
      const s = byId.get(t.market_id)!;
      expect(s).toBeDefined();
      expect(m.title).not.toBe(s.title);
      expect(Math.abs(m.close_ts! - s.close_ts!)).toBeLessThanOrEqual(6 * HOUR);
      expect(m.tags.map((x) => x.toLowerCase())).toEqual(s.tags);
      expect(t.lag_ms).toBeGreaterThan(0);
      if (t.orientation === "flipped") flipped++;
    }
    expect(flipped).toBeGreaterThan(10);
    expect(flipped).toBeLessThan(80);
    // The source itself is untouched by having a twin.
    const alone = await new MockVenue(parseConfig({ venues: { a: { kind: "mock", seed: 11 } } }).venues[0], {
      clock: new SimClock(T0),
      env: {},
    }).discover();
    expect(alone).toEqual(a);
  });

  test("twin_of must name another, non-twin mock section (config error, exit 2)", () => {
    const bad = (venues: Record<string, unknown>, msg: RegExp) => {
      try {
        parseConfig({ venues });
        throw new Error("accepted");
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        expect((e as UserError).exitCode).toBe(2);
        expect((e as Error).message).toMatch(msg);
      }
    };
    bad({ a: { kind: "mock", twin_of: "zz" } }, /venues\.a\.twin_of.*no venue section/);
    bad({ a: { kind: "mock", twin_of: "a" } }, /own twin/);
    bad({ a: { kind: "mock" }, k: { kind: "kalshi" }, b: { kind: "mock", twin_of: "k" } }, /must name a mock/);
    bad({ a: { kind: "mock" }, b: { kind: "mock", twin_of: "a" }, c: { kind: "mock", twin_of: "b" } }, /itself a twin/);
  });
});

/** Both venues on one SimClock; the YES mid of one market per venue over time (from our own replay of events). */
async function runPair(aId: string, bId: string, ms: number) {
  const cfg = twinConfig({ moves_per_hour: 6, updates_per_sec: 4 }, { updates_per_sec: 4 });
  const clock = new SimClock(T0);
  const va = new MockVenue(cfg.venues[0], { clock, env: {} });
  const vb = new MockVenue(cfg.venues[1], { clock, env: {} });
  const mids: Record<string, [number, number][]> = { a: [], b: [] };
  const track = (venue: "a" | "b", id: string) => {
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    return (ev: VenueEvent, ts: number) => {
      if ((ev.kind !== "book" && ev.kind !== "level") || ev.marketId !== id || !ev.outcomeId.endsWith("-yes")) return;
      if (ev.kind === "book") {
        bids.clear();
        asks.clear();
        ev.bidPx.forEach((p, i) => bids.set(p, ev.bidSz[i]));
        ev.askPx.forEach((p, i) => asks.set(p, ev.askSz[i]));
      } else {
        const side = ev.side === "bid" ? bids : asks;
        if (ev.size > 0) side.set(ev.price, ev.size);
        else side.delete(ev.price);
      }
      if (bids.size && asks.size) mids[venue].push([ts, (Math.max(...bids.keys()) + Math.min(...asks.keys())) / 2]);
    };
  };
  await va.connect(track("a", aId));
  await vb.connect(track("b", bId));
  const ua = await va.discover();
  const ub = await vb.discover();
  va.subscribe(ua.filter((m) => m.market_id === aId));
  vb.subscribe(ub.filter((m) => m.market_id === bId));
  await clock.runUntil(T0 + ms);
  return mids;
}

/** Value of a step series at t (last point at or before t). */
function at(series: [number, number][], t: number): number {
  let v = Number.NaN;
  for (const [ts, x] of series) {
    if (ts > t) break;
    v = x;
  }
  return v;
}

describe("mock twins: books", () => {
  test("a twin's YES mid follows its source's (flipped: 1 − mid) after the lag, with noise", async () => {
    const { b } = await universes(twinConfig({ moves_per_hour: 6, updates_per_sec: 4 }, { updates_per_sec: 4 }));
    const { a } = await universes(twinConfig({ moves_per_hour: 6, updates_per_sec: 4 }, { updates_per_sec: 4 }));
    const active = (m: MarketInfo) => m.status === "active" && m.close_ts! > T0 + 10 * HOUR;
    const aById = new Map(a.map((m) => [m.market_id, m]));
    const busy = (m: MarketInfo | undefined) =>
      m !== undefined && ["normal", "busy"].includes(m.extra!.activity as string) && active(m);
    for (const orientation of ["same", "flipped"]) {
      const twin = b.find(
        (m) => truthOf(m)?.orientation === orientation && busy(m) && busy(aById.get(truthOf(m)!.market_id)),
      )!;
      expect(twin).toBeDefined();
      const t = truthOf(twin)!;
      const mids = await runPair(t.market_id, twin.market_id, 2 * HOUR);
      expect(mids.a.length).toBeGreaterThan(100);
      const oriented = (x: number) => (orientation === "flipped" ? 1 - x : x);
      // Compare on a 10 s grid, the twin read lag_ms later than its source.
      let n = 0;
      let absDiff = 0;
      let moves = 0;
      let prev = Number.NaN;
      for (let ts = T0 + 60_000; ts < T0 + 2 * HOUR - 60_000; ts += 10_000) {
        const x = at(mids.a, ts);
        const y = oriented(at(mids.b, ts + t.lag_ms + 5_000));
        if (Number.isNaN(x) || Number.isNaN(y)) continue;
        if (!Number.isNaN(prev) && Math.abs(x - prev) > 0.05) moves++;
        prev = x;
        n++;
        absDiff += Math.abs(x - y);
      }
      expect(n).toBeGreaterThan(500);
      expect(moves).toBeGreaterThan(3); // the source's fair value jumped during the run
      expect(absDiff / n).toBeLessThan(0.05);
    }
  }, 60_000);
});
