/** Eligibility and the market ranking with and without stats, against hand-ordered lists. */
import { describe, expect, test } from "bun:test";
import { isEligible, rankMarkets, rankWithoutStats } from "../../src/scheduler/scoring.ts";
import type { MarketInfo } from "../../src/market.ts";

const NOW = Date.UTC(2026, 5, 1, 12);
const H = 3_600_000;
const mk = (id: string, o: Partial<MarketInfo> = {}): MarketInfo => ({
  venue: "v",
  market_id: id,
  outcome_ids: [`${id}-y`, `${id}-n`],
  title: id,
  close_ts: NOW + 30 * 24 * H,
  status: "active",
  tags: [],
  created_ts: NOW - 30 * 24 * H,
  ...o,
});

describe("isEligible", () => {
  test("active and not expired only", () => {
    expect(isEligible(mk("a"), NOW)).toBe(true);
    expect(isEligible(mk("a", { close_ts: null }), NOW)).toBe(true);
    expect(isEligible(mk("a", { status: "closed" }), NOW)).toBe(false);
    expect(isEligible(mk("a", { status: "paused" }), NOW)).toBe(false);
    expect(isEligible(mk("a", { close_ts: NOW }), NOW)).toBe(false);
    expect(isEligible(mk("a", { close_ts: NOW + 1 }), NOW)).toBe(true);
  });
});

describe("rankWithoutStats", () => {
  test("closing soonest, then recently created (newest first), then the rest by id", () => {
    const ms = [
      mk("z-old"),
      mk("b-new", { created_ts: NOW - 2 * H }),
      mk("c-soon2", { close_ts: NOW + 5 * H }),
      mk("a-old"),
      mk("d-soon1", { close_ts: NOW + 1 * H }),
      mk("e-newer", { created_ts: NOW - 1 * H }),
      mk("f-nullclose", { close_ts: null }),
    ];
    expect(rankWithoutStats(ms, NOW).map((m) => m.market_id)).toEqual([
      "d-soon1",
      "c-soon2",
      "e-newer",
      "b-new",
      "a-old",
      "f-nullclose",
      "z-old",
    ]);
  });
});

describe("rankMarkets", () => {
  test("best score first, ties by id, unscored after in no-stats order, ineligible dropped whatever the score", () => {
    const ms = [
      mk("a"),
      mk("b"),
      mk("c"),
      mk("d", { status: "closed" }),
      mk("e", { close_ts: NOW - 1 }),
      mk("f", { close_ts: NOW + H }),
      mk("g"),
    ];
    const scores = new Map([
      ["a", 1],
      ["b", 5],
      ["c", 5],
      ["d", 100],
      ["e", 99],
      ["g", Number.NaN],
    ]);
    expect(rankMarkets(ms, NOW, scores).map((m) => m.market_id)).toEqual(["b", "c", "a", "f", "g"]);
    expect(rankMarkets(ms, NOW).map((m) => m.market_id)).toEqual(["f", "a", "b", "c", "g"]);
    expect(rankMarkets(ms, NOW, new Map()).map((m) => m.market_id)).toEqual(["f", "a", "b", "c", "g"]);
  });
});
