/** The mine summary's paired-books lines: Polymarket condition ids shortened in the middle, two ids never alike. */
import { describe, expect, test } from "bun:test";
import { formatPairs, type PairRow } from "../../src/pairs/mine-pairs.ts";

const cond = (tail: string) => `0x${"ab".repeat(30)}${tail}`; // 66 characters, like a Polymarket condition id

const row = (a: string): PairRow => ({
  a_venue: "polymarket",
  a_market_id: a,
  a_outcome_id: "1",
  b_venue: "kalshi",
  b_market_id: "KXBTC-26DEC31-T100000",
  b_outcome_id: "yes",
  orientation: "same",
  interval_ms: 2000,
  snapshots_a: 10,
  snapshots_b: 10,
  matched: 10,
  mean_mid_diff: 0.01,
  median_mid_diff: 0.01,
  crossable_share: 0,
  a_bid_over_b_ask_share: 0,
  b_bid_over_a_ask_share: 0,
  lead_lag_secs: null,
  lead_lag_corr: null,
});

describe("formatPairs", () => {
  test("long market ids lose their middle (the rankings' width); two ids sharing both ends still read apart", () => {
    const out = formatPairs({ rows: [row(cond("0001")), row(cond("0002"))], charts: [], path: undefined });
    const lines = out.split("\n").slice(1);
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(l).not.toContain(cond("0001"));
      expect(l).toContain("= kalshi:KXBTC-26DEC31-T100000 (same)"); // a ticker fits: shown whole
    }
    const ids = lines.map((l) => /polymarket:(\S+) =/.exec(l)![1]);
    expect(ids[0]).toContain("…");
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids[0].length).toBeLessThan(40);
  });
});
