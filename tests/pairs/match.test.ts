/** Cross-venue pair scoring and matching: reworded questions, orientation, close-time tolerance, on mock twins. */
import { describe, expect, test } from "bun:test";
import { SimClock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import { type Candidate, matchVenues, pairKey } from "../../src/pairs/match.ts";
import { closeSimilarity, scorePair, viewOf } from "../../src/pairs/score.ts";
import { MockVenue } from "../../src/venue/mock.ts";
import type { MarketInfo } from "../../src/market.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 5, 1, 8);
const OPTS = { minScore: 0.6, maxPerMarket: 3, closeToleranceMs: 24 * HOUR };

const market = (
  venue: string,
  id: string,
  title: string,
  close: number,
  extra: Partial<MarketInfo> = {},
): MarketInfo => ({
  venue,
  market_id: id,
  outcome_ids: [`${id}-yes`, `${id}-no`],
  title,
  close_ts: close,
  status: "active",
  tags: [],
  ...extra,
});

const one = () => 1;
const C = Date.UTC(2027, 2, 5, 20);

describe("scorePair", () => {
  test("same question reworded scores high; another threshold or another day scores low", () => {
    const a = viewOf(market("p", "1", "Will BTC close above $96,500 on 2027-03-05?", C, { tags: ["Crypto"] }));
    const same = viewOf(market("k", "2", "Bitcoin over $96.5k on March 5, 2027?", C + 5 * HOUR, { tags: ["crypto"] }));
    const otherNumber = viewOf(market("k", "3", "Bitcoin over $97k on March 5, 2027?", C));
    const otherDay = viewOf(market("k", "4", "Bitcoin over $96.5k on March 9, 2027?", C + 4 * 24 * HOUR));
    const o = { closeToleranceMs: 24 * HOUR };
    const s = scorePair(a, same, one, o);
    expect(s.score).toBeGreaterThan(0.9);
    expect(s.orientation).toBe("same");
    expect(s.reasons.join(" ")).toContain("same date 2027-03-05");
    expect(scorePair(a, otherNumber, one, o).score).toBeLessThan(0.45);
    expect(scorePair(a, otherNumber, one, o).reasons.join(" ")).toContain("numbers differ");
    expect(scorePair(a, otherDay, one, o).score).toBeLessThan(0.45);
  });

  test("orientation: a complement question or outcomes listed NO first are flipped; both at once cancel", () => {
    const o = { closeToleranceMs: 24 * HOUR };
    const a = viewOf(market("p", "1", "Will ETH close above $3,100 on 2027-03-05?", C));
    const below = viewOf(market("k", "2", "Will Ethereum finish below 3100 on 2027-03-05?", C));
    const noFirst = viewOf(
      market("k", "3", "Ethereum above 3100 on 2027-03-05?", C, {
        outcome_ids: ["t1", "t2"],
        extra: { outcomes: ["No", "Yes"] },
      }),
    );
    const both = viewOf(
      market("k", "4", "Ethereum below 3100 on 2027-03-05?", C, {
        outcome_ids: ["t1", "t2"],
        extra: { outcomes: ["No", "Yes"] },
      }),
    );
    const kalshiStyle = viewOf({ ...market("k", "5", "ETH above 3100 on 2027-03-05?", C), outcome_ids: ["yes", "no"] });
    expect(scorePair(a, below, one, o).orientation).toBe("flipped");
    expect(scorePair(a, noFirst, one, o).orientation).toBe("flipped");
    expect(scorePair(a, both, one, o).orientation).toBe("same");
    expect(scorePair(a, kalshiStyle, one, o).orientation).toBe("same");
  });

  test("close times: 1 within the tolerance, falling to 0 a week past it", () => {
    expect(closeSimilarity(0, 20 * HOUR, 24 * HOUR)).toBe(1);
    expect(closeSimilarity(0, (24 + 84) * HOUR, 24 * HOUR)).toBeCloseTo(0.5, 6);
    expect(closeSimilarity(0, 30 * 24 * HOUR, 24 * HOUR)).toBe(0);
  });
});

async function twinUniverses(seedA: number, seedB: number, size = 400) {
  const cfg = parseConfig({
    venues: {
      a: { kind: "mock", seed: seedA, universe_size: size },
      b: { kind: "mock", seed: seedB, universe_size: size, twin_of: "a", twin_share: 0.3 },
    },
  });
  const clock = new SimClock(T0);
  return {
    a: await new MockVenue(cfg.venues[0], { clock, env: {} }).discover(),
    b: await new MockVenue(cfg.venues[1], { clock, env: {} }).discover(),
  };
}

/** Truth straight from the twin's universe lines (independent of the matcher's own knownPairs). */
function truthOf(a: MarketInfo[], b: MarketInfo[]): Map<string, string> {
  const active = new Set(a.filter((m) => m.status === "active").map((m) => m.market_id));
  const out = new Map<string, string>();
  for (const m of b) {
    const t = m.extra?.twin_of as { market_id: string; orientation: string } | undefined;
    if (t && m.status === "active" && active.has(t.market_id)) out.set(`${t.market_id}|${m.market_id}`, t.orientation);
  }
  return out;
}

describe("matchVenues on mock twins", () => {
  for (const [sa, sb] of [
    [11, 12],
    [5, 6],
    [42, 43],
  ]) {
    test(`400 × 400 markets (seeds ${sa}/${sb}): precision ≥ 0.9, recall ≥ 0.9, orientation right on flipped twins`, async () => {
      const { a, b } = await twinUniverses(sa, sb);
      const truth = truthOf(a, b);
      expect(truth.size).toBeGreaterThan(80);
      const cands = matchVenues(a, b, OPTS);
      const hits = cands.filter((c) => truth.has(`${c.a_market_id}|${c.b_market_id}`));
      const precision = hits.length / cands.length;
      const recall = hits.length / truth.size;
      expect(precision).toBeGreaterThanOrEqual(0.9);
      expect(recall).toBeGreaterThanOrEqual(0.9);
      const flipped = hits.filter((c) => truth.get(`${c.a_market_id}|${c.b_market_id}`) === "flipped");
      expect(flipped.length).toBeGreaterThan(10);
      for (const c of hits) expect(c.orientation).toBe(truth.get(`${c.a_market_id}|${c.b_market_id}`) as never);
    });
  }

  test("best first, every score ≥ min_score, at most max_per_market per market, excluded pairs never proposed", async () => {
    const { a, b } = await twinUniverses(11, 12);
    const loose = { ...OPTS, minScore: 0.2, maxPerMarket: 2 };
    const cands = matchVenues(a, b, loose);
    for (let i = 1; i < cands.length; i++) expect(cands[i].score).toBeLessThanOrEqual(cands[i - 1].score);
    expect(Math.min(...cands.map((c) => c.score))).toBeGreaterThanOrEqual(0.2);
    const count = (key: (c: Candidate) => string) => {
      const m = new Map<string, number>();
      for (const c of cands) m.set(key(c), (m.get(key(c)) ?? 0) + 1);
      return Math.max(...m.values());
    };
    expect(count((c) => c.a_market_id)).toBeLessThanOrEqual(2);
    expect(count((c) => c.b_market_id)).toBeLessThanOrEqual(2);
    expect(count((c) => c.b_market_id)).toBe(2); // the limit binds somewhere at this threshold
    const gone = cands.slice(0, 5).map((c) => pairKey(c.a_venue, c.a_market_id, c.b_venue, c.b_market_id));
    // The exclusion set may be keyed the other way round (b first): the key is order-free.
    const exclude = new Set([
      ...cands.slice(0, 5).map((c) => pairKey(c.b_venue, c.b_market_id, c.a_venue, c.a_market_id)),
    ]);
    const again = matchVenues(a, b, { ...loose, exclude });
    const keys = new Set(again.map((c) => pairKey(c.a_venue, c.a_market_id, c.b_venue, c.b_market_id)));
    for (const k of gone) expect(keys.has(k)).toBe(false);
  });

  test("closed markets are not proposed", async () => {
    const { a, b } = await twinUniverses(11, 12);
    const closedA = new Set(a.filter((m) => m.status !== "active").map((m) => m.market_id));
    expect(closedA.size).toBeGreaterThan(0);
    for (const c of matchVenues(a, b, { ...OPTS, minScore: 0 })) expect(closedA.has(c.a_market_id)).toBe(false);
  });
});
