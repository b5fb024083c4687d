/** Per-venue pins and filter clauses (docs/choosing-markets.md): what each clause keeps, the funnel, config checks. */
import { describe, expect, test } from "bun:test";
import { COLLECT_DEFAULTS, type CollectSettings, parseConfig } from "../../src/config.ts";
import { computeTargets, Scheduler } from "../../src/scheduler/scheduler.ts";
import type { SelectionSettings } from "../../src/scheduler/selection-config.ts";
import { describeSelection, type Selection, selectMarkets } from "../../src/scheduler/selection.ts";
import type { MarketInfo } from "../../src/market.ts";
import { configRefusal } from "../helpers/refusal.ts";

const H = 3_600_000;
const D = 24 * H;
const NOW = Date.UTC(2026, 5, 1, 12);

function market(id: string, o: Partial<MarketInfo> = {}): MarketInfo {
  return {
    venue: "v",
    market_id: id,
    outcome_ids: [`${id}-y`, `${id}-n`],
    title: `Market ${id}`,
    close_ts: NOW + 90 * D,
    status: "active",
    tags: [],
    created_ts: NOW - 90 * D,
    ...o,
  };
}

/** A small universe where each market differs from "plain" in one respect. */
const U: MarketInfo[] = [
  market("plain", { extra: { volume: 500, liquidity: 50 } }),
  market("politics", { tags: ["Politics", "US"], title: "Will the Senate pass the bill?", extra: { volume: 9000 } }),
  market("sports", { tags: ["sports"], title: "Will the home team win?", extra: { volume: 100, liquidity: 900 } }),
  market("soon", { close_ts: NOW + 2 * D, extra: { volume: 50, liquidity: 5 } }),
  market("novol", { tags: ["politics"] }),
  market("closed", { status: "closed", tags: ["politics"], extra: { volume: 1e6 } }),
  market("expired", { close_ts: NOW - H, extra: { volume: 1e6 } }),
  market("nobook", { tags: ["politics"], extra: { volume: 1e6, enableOrderBook: false } }),
];

const sel = (filter: SelectionSettings["filter"], pin: string[] = []) =>
  selectMarkets(U, NOW, { pin, filter }).eligible.map((m) => m.market_id);

describe("filter clauses", () => {
  test("no filter: every open market with an order book", () => {
    expect(sel({})).toEqual(["plain", "politics", "sports", "soon", "novol"]);
  });
  test("tags_any, case-insensitive", () => {
    expect(sel({ tags_any: ["POLITICS"] })).toEqual(["politics", "novol"]);
    expect(sel({ tags_any: ["sports", "us"] })).toEqual(["politics", "sports"]);
  });
  test("tags_none, case-insensitive", () => {
    expect(sel({ tags_none: ["Politics"] })).toEqual(["plain", "sports", "soon"]);
  });
  test("title_matches: a case-insensitive regex", () => {
    expect(sel({ title_matches: "senate|HOME team" })).toEqual(["politics", "sports"]);
  });
  test("min_volume / min_liquidity: the universe's numbers; a market without the number fails", () => {
    expect(sel({ min_volume: 500 })).toEqual(["plain", "politics"]);
    expect(sel({ min_liquidity: 40 })).toEqual(["plain", "sports"]);
    expect(sel({ min_volume: 0 })).toEqual(["plain", "politics", "sports", "soon"]); // novol has none
  });
  test("closes_within a duration from now", () => {
    expect(sel({ closes_within: "7d" })).toEqual(["soon"]);
    expect(sel({ closes_within: "1d" })).toEqual([]);
    expect(sel({ closes_within: "13w" })).toEqual(["plain", "politics", "sports", "soon", "novol"]);
  });
  test("exclude by id", () => {
    expect(sel({ exclude: ["plain", "soon"] })).toEqual(["politics", "sports", "novol"]);
  });
  test("clauses combine (and); the funnel counts what each one leaves", () => {
    const s = selectMarkets(U, NOW, { pin: [], filter: { tags_any: ["politics"], min_volume: 1000 } });
    expect(s.eligible.map((m) => m.market_id)).toEqual(["politics"]);
    expect(s.funnel).toEqual([
      ["in universe", 8],
      ["open", 6],
      ["with an order book", 5],
      ["tags_any", 2],
      ["min_volume", 1],
    ]);
    expect(describeSelection(s)).toBe(
      "8 in universe → 6 open → 5 with an order book → 2 tags_any → 1 min_volume → 1 eligible; 0 pinned",
    );
  });
  test("enableOrderBook false is never eligible, whatever the filter", () => {
    expect(sel({ min_volume: 1e5 })).toEqual([]);
    expect(sel({ tags_any: ["politics"] })).not.toContain("nobook");
  });
});

describe("pins", () => {
  test("filters never remove a pin; pins are not in the ranked eligible list", () => {
    const s = selectMarkets(U, NOW, { pin: ["sports", "soon"], filter: { tags_any: ["politics"], exclude: ["soon"] } });
    expect(s.pinned.map((m) => m.market_id)).toEqual(["sports", "soon"]);
    expect(s.eligible.map((m) => m.market_id)).toEqual(["politics", "novol"]);
    expect(s.missing).toEqual([]);
  });
  test("missing and closed pins are reported, not recorded", () => {
    const s = selectMarkets(U, NOW, { pin: ["gone", "closed", "expired", "nobook", "plain"], filter: {} });
    expect(s.pinned.map((m) => m.market_id)).toEqual(["plain"]);
    expect(s.missing).toEqual([
      { market_id: "gone", why: "not in the universe" },
      { market_id: "closed", why: "closed" },
      { market_id: "expired", why: "closed" },
      { market_id: "nobook", why: "no order book" },
    ]);
    expect(describeSelection(s)).toContain(
      "1 pinned, 4 missing: gone (not in the universe), closed (closed), expired (closed), nobook (no order book)",
    );
  });
  test("extra pins from another source are merged after the configured ones", () => {
    const s = selectMarkets(U, NOW, { pin: ["plain"], filter: {} }, ["sports", "plain"]);
    expect(s.pinned.map((m) => m.market_id)).toEqual(["plain", "sports"]);
  });
});

describe("pins and filter in the target set", () => {
  const settings = (o: Partial<CollectSettings> = {}): CollectSettings => ({ ...COLLECT_DEFAULTS, ...o });
  const big: MarketInfo[] = Array.from({ length: 50 }, (_, i) =>
    market(`m${String(i).padStart(2, "0")}`, { tags: [i % 2 === 0 ? "even" : "odd"] }),
  );

  test("pins come first in HOT, ahead of higher scores, and count toward hot_count", () => {
    const scores = new Map(big.map((m, i) => [m.market_id, 100 - i])); // m00 best
    const selection = selectMarkets(big, NOW, { pin: ["m49", "m48"], filter: {} });
    const t = computeTargets({
      universe: big,
      scores,
      now: NOW,
      settings: settings({ hot_count: 4, max_subs_per_venue: 10 }),
      selection,
    });
    expect(t.hot.map((m) => m.market_id)).toEqual(["m49", "m48", "m00", "m01"]);
    expect(t.warm).toHaveLength(6);
    expect(t.warm.map((m) => m.market_id)).not.toContain("m49");
  });

  test("the filter decides HOT and WARM; pins outside it are still HOT", () => {
    const selection = selectMarkets(big, NOW, { pin: ["m01"], filter: { tags_any: ["even"] } });
    const t = computeTargets({
      universe: big,
      now: NOW,
      settings: settings({ hot_count: 5, max_subs_per_venue: 100 }),
      selection,
    });
    const all = [...t.hot, ...t.warm].map((m) => m.market_id);
    expect(t.hot[0].market_id).toBe("m01");
    expect(all).toHaveLength(26); // 25 even + the pin
    for (const id of all) if (id !== "m01") expect(Number(id.slice(1)) % 2).toBe(0);
  });

  test("nothing eligible: only the pins, and the line says so", () => {
    const selection = selectMarkets(big, NOW, { pin: ["m03"], filter: { title_matches: "^nothing$" } });
    const t = computeTargets({ universe: big, now: NOW, settings: settings(), selection });
    expect([...t.hot, ...t.warm].map((m) => m.market_id)).toEqual(["m03"]);
    expect(describeSelection(selection)).toBe(
      "50 in universe → 50 open → 0 title_matches → 0 eligible; 1 pinned; nothing else is eligible: collecting the pins only",
    );
    const none = selectMarkets(big, NOW, { pin: [], filter: { title_matches: "^nothing$" } });
    expect(describeSelection(none)).toContain("nothing is eligible");
    expect(computeTargets({ universe: big, now: NOW, settings: settings(), selection: none }).hot).toEqual([]);
  });

  test("pinned markets are never rotated out", () => {
    const s = new Scheduler(
      settings({ hot_count: 2, max_subs_per_venue: 5, subscription_churn_limit_per_minute: 100 }),
      {
        pin: ["m10", "m20"],
        filter: {},
      },
    );
    for (let k = 0; k < 20; k++) {
      const t = s.targets(NOW + k * 180_000, big);
      expect(t.hot.map((m) => m.market_id)).toEqual(["m10", "m20"]);
      expect(t.warm.map((m) => m.market_id)).not.toContain("m10");
    }
  });

  test("the Scheduler reports the selection once per universe (and when extra pins change)", () => {
    const heard: Selection[] = [];
    const s = new Scheduler(settings(), { pin: ["m01"], filter: {} }, (x) => heard.push(x));
    s.targets(NOW, big);
    s.targets(NOW + 180_000, big);
    expect(heard).toHaveLength(1);
    const reloaded = [...big];
    s.targets(NOW + 360_000, reloaded);
    expect(heard).toHaveLength(2);
    s.setExtraPins("pairs", ["m02", "m03"]);
    expect(s.pins()).toEqual(["m01", "m02", "m03"]);
    const t = s.targets(NOW + 540_000, reloaded);
    expect(heard).toHaveLength(3);
    expect(t.hot.slice(0, 3).map((m) => m.market_id)).toEqual(["m01", "m02", "m03"]);
    // the pins' change is reported once: the next rotation over the same universe is quiet again
    s.targets(NOW + 720_000, reloaded);
    expect(heard).toHaveLength(3);
  });
});

describe("config", () => {
  test("pin and filter are read per venue, defaults empty", () => {
    const c = parseConfig({
      venues: { mock: { pin: ["a", "b", "a"], filter: { tags_any: ["politics"], closes_within: "7d" } }, kalshi: {} },
    });
    expect(c.venues[0].selection).toEqual({ pin: ["a", "b"], filter: { tags_any: ["politics"], closes_within: "7d" } });
    expect(c.venues[1].selection).toEqual({ pin: [], filter: {} });
  });

  test("more pins than hot_count: exit 2 naming the key", () => {
    const e = configRefusal({ venues: { mock: { hot_count: 1, pin: ["a", "b"] } } });
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("venues.mock.pin");
    expect(e.message).toContain("hot_count is 1");
    // the global hot_count applies too
    expect(configRefusal({ collector: { hot_count: 0 }, venues: { mock: { pin: ["a"] } } }).message).toContain(
      "venues.mock.pin",
    );
  });

  test("an invalid regex is refused with the key and the regex error", () => {
    const e = configRefusal({ venues: { mock: { filter: { title_matches: "(unclosed" } } } });
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("venues.mock.filter.title_matches");
    expect(e.message).toMatch(/not a valid regular expression: .*\S/);
  });

  test.each([
    [{ filter: { closes_within: "soon" } }, "venues.mock.filter.closes_within", "duration"],
    [{ filter: { min_volume: -1 } }, "venues.mock.filter.min_volume", "≥ 0"],
    [{ filter: { tag_any: ["x"] } }, "venues.mock.filter.tag_any", "unknown key"],
    [{ pin: "abc" }, "venues.mock.pin", "list"],
  ])("refuses %j naming %s", (section, key, reason) => {
    const e = configRefusal({ venues: { mock: section } });
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(key);
    expect(e.message).toContain(reason);
  });
});

describe("no order book, no subscription", () => {
  test("Polymarket enableOrderBook:false stays in the universe line (extra) and is never eligible", async () => {
    const { toMarketInfo } = await import("../../src/venue/polymarket/discovery.ts");
    const raw = (id: string, book?: boolean) => ({
      conditionId: id,
      question: `q ${id}`,
      active: true,
      closed: false,
      endDate: new Date(NOW + 30 * D).toISOString(),
      clobTokenIds: JSON.stringify([`${id}1`, `${id}2`]),
      outcomes: '["Yes","No"]',
      ...(book === undefined ? {} : { enableOrderBook: book }),
    });
    const u = [raw("a"), raw("b", true), raw("c", false)].map((r) => toMarketInfo(r, "polymarket") as MarketInfo);
    expect(u[2].extra?.enableOrderBook).toBe(false);
    expect(u[0].extra && "enableOrderBook" in u[0].extra).toBe(false);
    const s = selectMarkets(u, NOW, { pin: [], filter: {} });
    expect(s.eligible.map((m) => m.market_id)).toEqual(["a", "b"]);
  });
});

describe("ranking at scale", () => {
  test("rankTop's HOT is exactly rankMarkets' first n, with and without scores; the rest is everything else", async () => {
    const { rankMarkets, rankTop } = await import("../../src/scheduler/scoring.ts");
    let seed = 7;
    const r = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const u: MarketInfo[] = Array.from({ length: 3000 }, (_, i) =>
      market(`x${(i * 7919) % 3001}`, {
        close_ts: r() < 0.1 ? NOW + Math.floor(r() * 30) * H : r() < 0.05 ? NOW - H : NOW + 90 * D,
        created_ts: r() < 0.1 ? NOW - Math.floor(r() * 20) * H : NOW - 90 * D,
        status: r() < 0.05 ? "closed" : "active",
      }),
    );
    const scores = new Map(u.filter(() => r() < 0.3).map((m) => [m.market_id, Math.floor(r() * 50)]));
    for (const sc of [undefined, scores])
      for (const n of [0, 1, 40, 500, 5000]) {
        const full = rankMarkets(u, NOW, sc);
        const { top, rest } = rankTop(u, NOW, n, sc);
        expect(top.map((m) => m.market_id)).toEqual(full.slice(0, n).map((m) => m.market_id));
        expect(new Set([...top, ...rest]).size).toBe(full.length);
        expect(top.length + rest.length).toBe(full.length);
      }
  });
});
