/**
 * Forms seen in payloads captured from the live Polymarket and Kalshi APIs (tests/fixtures/<venue>/live-payloads.jsonl,
 * one variant per line with its expected events): each is parsed, skipped or counted as the line says.
 */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import type { PacedRest } from "../../src/venue/_rest.ts";
import { decodeFrame, deltaEvents, marketInfo, snapshotEvents } from "../../src/venue/kalshi/mapper.ts";
import { discoverMarkets, toMarketInfo } from "../../src/venue/polymarket/discovery.ts";
import { decimal, mapFrame, mapMessage } from "../../src/venue/polymarket/mapper.ts";
import { WireMessage } from "../../src/venue/polymarket/wire.ts";
import type { VenueEvent } from "../../src/venue/types.ts";
import type { MarketInfo } from "../../src/market.ts";
import { frameText, readFixture } from "../helpers/fixtures.ts";

const strip = (evs: VenueEvent[]) => evs.map((e) => (e.kind === "rejected" ? { kind: e.kind, reason: e.reason } : e));

describe("polymarket: live payload forms", () => {
  const lines = readFixture("polymarket", "live-payloads");
  for (const f of lines.filter((l) => l.frame !== undefined)) {
    test(f.comment, () => {
      expect(strip(mapFrame(frameText(f)))).toEqual(f.expect as never);
      // the wire schema agrees: a frame the mapper takes (entries without size aside) is a valid wire message
      const out: VenueEvent[] = [];
      mapMessage(f.frame, out);
      const refused = out.some((e) => e.kind === "rejected" && e.reason !== "price_change_entry_without_size");
      expect(v.safeParse(WireMessage, f.frame).success).toBe(!refused);
    });
  }
  const gamma = lines.filter((l) => l.gamma !== undefined);
  for (const f of gamma) {
    test(f.comment, () => {
      const got = toMarketInfo(f.gamma, "polymarket");
      const counted = f.counted as { notTradable: string } | null;
      if (f.expect === null) expect(got).toBe(counted!.notTradable);
      else expect(got).toMatchObject(f.expect as never);
    });
  }
  test("discovery counts not-tradable markets apart from bad ones; only placeholders leave the universe", async () => {
    const bad = { conditionId: "0xbad", clobTokenIds: "not json", outcomes: "[]" };
    const rest = { getJson: async () => ({ markets: [...gamma.map((f) => f.gamma), bad], next_cursor: null }) };
    const r = await discoverMarkets({
      gammaUrl: "http://127.0.0.1:1",
      rest: rest as unknown as PacedRest,
      venue: "pm",
    });
    expect(r.notTradable).toEqual({ no_order_book: 1, placeholder: 2 });
    expect(r.rejected).toEqual({ bad_token_ids: 1 });
    expect(r.markets.map((m) => m.market_id)).toEqual(["0xc0ffee01", "0xc0ffee02"]);
  });
  test("decimal: leading dot and exponent accepted when finite and non-negative", () => {
    expect(decimal(".48")).toBe(0.48);
    expect(decimal("5e-1")).toBe(0.5);
    for (const bad of ["1e999", ".", "-.5", "1.", "0x1", " .5"]) expect(decimal(bad)).toBeNaN();
  });
});

describe("kalshi: live payload forms", () => {
  const lines = readFixture("kalshi", "live-payloads");
  const now = Date.UTC(2026, 11, 3, 12);
  for (const f of lines.filter((l) => l.frame !== undefined)) {
    test(f.comment, () => {
      const d = decodeFrame(frameText(f));
      if (f.decoded !== undefined) return expect(d).toEqual(f.decoded as never);
      let evs: unknown;
      if (d.kind === "delta") evs = deltaEvents(d.msg, d.seq);
      else if (d.kind === "snapshot") evs = snapshotEvents(d.msg, d.seq);
      else throw new Error(`decoded as ${d.kind}: ${JSON.stringify(d)}`);
      expect(evs).toEqual(f.expect as never);
    });
  }
  for (const f of lines.filter((l) => l.market !== undefined)) {
    test(f.comment, () => {
      const m = marketInfo(f.market, now) as MarketInfo;
      expect(m).toMatchObject(f.expect as never);
    });
  }
});
