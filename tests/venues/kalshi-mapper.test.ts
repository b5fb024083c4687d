/** Kalshi wire frames (tests/fixtures/kalshi) → normalized events: snapshots, deltas, replies, rejections. */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { decodeFrame, deltaEvents, marketInfo, restBookEvents, snapshotEvents } from "../../src/venue/kalshi/mapper.ts";
import { DeltaMsgSchema, isDeltaMsg } from "../../src/venue/kalshi/wire.ts";
import type { VenueEvent } from "../../src/venue/types.ts";
import { frameText, readFixture } from "../helpers/fixtures.ts";

const ws = readFixture("kalshi", "ws-messages");
const byComment = (c: string) => {
  const f = ws.find((x) => x.comment.startsWith(c));
  if (!f) throw new Error(`no fixture ${c}`);
  return frameText(f);
};

/** decode + map, as the feed does it. */
function events(text: string): VenueEvent[] | string {
  const d = decodeFrame(text);
  if (d.kind === "snapshot") {
    const r = snapshotEvents(d.msg, d.seq);
    return Array.isArray(r) ? r : r.reason;
  }
  if (d.kind === "delta") {
    const r = deltaEvents(d.msg, d.seq);
    return Array.isArray(r) ? r : r.reason;
  }
  if (d.kind === "rejected") return d.reason;
  return d.kind;
}

describe("kalshi mapper: snapshots", () => {
  test("dollar form: yes asks are NO bids at 1 − p, no asks are YES bids at 1 − p, sizes carried over", () => {
    expect(events(byComment("snapshot, current dollar form"))).toEqual([
      {
        kind: "book",
        marketId: "KXHIGHNY-25NOV26-B45.5",
        outcomeId: "yes",
        bidPx: [0.38, 0.4],
        bidSz: [120, 500],
        askPx: [0.45, 0.41],
        askSz: [30, 75.5],
        seq: 1,
        sourceTs: null,
      },
      {
        kind: "book",
        marketId: "KXHIGHNY-25NOV26-B45.5",
        outcomeId: "no",
        bidPx: [0.55, 0.59],
        bidSz: [30, 75.5],
        askPx: [0.62, 0.6],
        askSz: [120, 500],
        seq: 1,
        sourceTs: null,
      },
    ]);
  });
  test("cent form is divided by 100", () => {
    expect(events(byComment("snapshot, older cent form"))).toEqual([
      {
        kind: "book",
        marketId: "KXBTC-25DEC31-T100000",
        outcomeId: "yes",
        bidPx: [0.12, 0.15],
        bidSz: [10, 200],
        askPx: [0.2],
        askSz: [40],
        seq: 2,
        sourceTs: null,
      },
      {
        kind: "book",
        marketId: "KXBTC-25DEC31-T100000",
        outcomeId: "no",
        bidPx: [0.8],
        bidSz: [40],
        askPx: [0.88, 0.85],
        askSz: [10, 200],
        seq: 2,
        sourceTs: null,
      },
    ]);
  });
  test("intermediate yes_dollars form with integer counts", () => {
    const r = events(byComment("snapshot, intermediate")) as VenueEvent[];
    expect(r[0]).toMatchObject({ outcomeId: "yes", bidPx: [0.25], bidSz: [100], askPx: [0.3], askSz: [60] });
    expect(r[1]).toMatchObject({ outcomeId: "no", bidPx: [0.7], bidSz: [60], askPx: [0.75], askSz: [100] });
  });
  test("an omitted side is an empty side", () => {
    const r = events(byComment("snapshot with the no side omitted")) as VenueEvent[];
    expect(r[0]).toMatchObject({ outcomeId: "yes", bidPx: [0.07], bidSz: [1000], askPx: [], askSz: [] });
    expect(r[1]).toMatchObject({ outcomeId: "no", bidPx: [], bidSz: [], askPx: [0.93], askSz: [1000] });
    const e = events(byComment("snapshot with both sides omitted")) as VenueEvent[];
    expect(e.map((x) => x.kind === "book" && x.bidPx.length + x.askPx.length)).toEqual([0, 0]);
  });
  test("derived prices are exact ticks (no 0.6000000000000001)", () => {
    const r = events(byComment("snapshot, current dollar form")) as VenueEvent[];
    for (const b of r)
      if (b.kind === "book") for (const p of [...b.askPx, ...b.bidPx]) expect(Math.round(p * 1e4) / 1e4).toBe(p);
  });
});

describe("kalshi mapper: deltas", () => {
  test("YES delta → yes bid add at p and no ask add at 1 − p, seq and ts_ms carried", () => {
    expect(events(byComment("delta, current form: +250"))).toEqual([
      {
        kind: "level",
        marketId: "KXHIGHNY-25NOV26-B45.5",
        outcomeId: "yes",
        side: "bid",
        price: 0.4,
        size: 250,
        mode: "add",
        seq: 6,
        bookSeq: false,
        sourceTs: 1764115200123,
      },
      {
        kind: "level",
        marketId: "KXHIGHNY-25NOV26-B45.5",
        outcomeId: "no",
        side: "ask",
        price: 0.6,
        size: 250,
        mode: "add",
        seq: 6,
        bookSeq: false,
        sourceTs: 1764115200123,
      },
    ]);
  });
  test("NO delta, negative → no bid and yes ask, signed size", () => {
    expect(events(byComment("delta, current form: remove"))).toEqual([
      {
        kind: "level",
        marketId: "KXHIGHNY-25NOV26-B45.5",
        outcomeId: "no",
        side: "bid",
        price: 0.59,
        size: -75.5,
        mode: "add",
        seq: 7,
        bookSeq: false,
        sourceTs: 1764115200456,
      },
      {
        kind: "level",
        marketId: "KXHIGHNY-25NOV26-B45.5",
        outcomeId: "yes",
        side: "ask",
        price: 0.41,
        size: -75.5,
        mode: "add",
        seq: 7,
        bookSeq: false,
        sourceTs: 1764115200456,
      },
    ]);
  });
  test("cent form: price / 100, ts seconds × 1000", () => {
    expect(events(byComment("delta, older cent form"))).toEqual([
      {
        kind: "level",
        marketId: "KXBTC-25DEC31-T100000",
        outcomeId: "yes",
        side: "bid",
        price: 0.15,
        size: -200,
        mode: "add",
        seq: 8,
        bookSeq: false,
        sourceTs: 1764115201000,
      },
      {
        kind: "level",
        marketId: "KXBTC-25DEC31-T100000",
        outcomeId: "no",
        side: "ask",
        price: 0.85,
        size: -200,
        mode: "add",
        seq: 8,
        bookSeq: false,
        sourceTs: 1764115201000,
      },
    ]);
  });
  test("subpenny: 1 − 0.015 = 0.985 exactly", () => {
    const r = events(byComment("delta with a subpenny")) as VenueEvent[];
    expect(r.map((x) => x.kind === "level" && [x.outcomeId, x.side, x.price])).toEqual([
      ["no", "bid", 0.015],
      ["yes", "ask", 0.985],
    ]);
  });
});

describe("kalshi mapper: replies and rejections", () => {
  test("replies decode to their kinds", () => {
    expect(decodeFrame(byComment("reply: subscribed"))).toEqual({
      kind: "subscribed",
      id: 1,
      sid: 7,
      channel: "orderbook_delta",
    });
    expect(decodeFrame(byComment("reply: ok"))).toEqual({ kind: "reply", type: "ok", id: 3, sid: 7, seq: 10 });
    expect(decodeFrame(byComment("reply: unsubscribed"))).toEqual({
      kind: "reply",
      type: "unsubscribed",
      id: 2,
      sid: 7,
      seq: 11,
    });
    expect(decodeFrame(byComment("reply: error to a command"))).toEqual({
      kind: "error",
      id: 4,
      code: 16,
      text: "Market not found",
    });
    expect(decodeFrame(byComment("reply: error without an id"))).toEqual({
      kind: "error",
      id: undefined,
      code: 9,
      text: "Invalid parameters",
    });
  });
  test("every malformed or unusable line yields a rejection with a reason, never an event", () => {
    const expected: Record<string, string> = {
      "malformed: not JSON": "invalid_json",
      "malformed: JSON array": "not_an_object",
      "malformed: delta without side": "delta_bad_msg",
      "malformed: delta with price_dollars as a number": "delta_bad_msg",
      "malformed: delta without seq": "delta_bad_envelope",
      "malformed: snapshot level with a non-numeric size": "snapshot_bad_msg",
      "unusable: delta whose price is out of 0..1": "price_out_of_range",
      "unusable: delta with neither price form": "delta_no_price",
    };
    for (const [c, reason] of Object.entries(expected)) expect([c, events(byComment(c))]).toEqual([c, reason]);
    expect(ws.filter((f) => /^(malformed|unusable)/.test(f.comment)).length).toBe(Object.keys(expected).length);
  });
});

describe("kalshi wire: the delta hand check equals the valibot schema", () => {
  test("on every fixture msg and on mutations of a valid one", () => {
    const msgs: unknown[] = ws.filter((f) => f.frame).map((f) => (f.frame as { msg?: unknown }).msg);
    const base = {
      market_ticker: "K",
      price_dollars: "0.4000",
      delta_fp: "1.00",
      side: "yes",
      ts_ms: 1,
      price: 40,
      delta: 1,
      ts: 1,
    };
    const bad: unknown[] = [null, 1, "x", [], ["a"], 0.5, -1.5, "", "1e5", "0.4.0", {}, true, "yes", "-3", 7];
    for (const k of Object.keys(base)) {
      for (const b of bad) msgs.push({ ...base, [k]: b });
      const { [k]: _, ...rest } = base as Record<string, unknown>;
      msgs.push(rest);
    }
    for (const m of msgs) expect([m, isDeltaMsg(m)]).toEqual([m, v.safeParse(DeltaMsgSchema, m).success]);
    expect(msgs.length).toBeGreaterThan(100);
  });
});

describe("kalshi mapper: REST orderbook", () => {
  const rest = readFixture("kalshi", "rest-orderbook");
  test("dollar and cent forms give the same books as the WS snapshot of the same bids", () => {
    const [a, b, c, d] = rest.map((f) => restBookEvents(f.ticker as string, f.body, 1000));
    expect(a).toEqual([
      {
        kind: "book",
        marketId: "KXHIGHNY-25NOV26-B45.5",
        outcomeId: "yes",
        bidPx: [0.38, 0.4],
        bidSz: [120, 500],
        askPx: [0.45, 0.41],
        askSz: [30, 75.5],
        seq: null,
        sourceTs: 1000,
      },
      {
        kind: "book",
        marketId: "KXHIGHNY-25NOV26-B45.5",
        outcomeId: "no",
        bidPx: [0.55, 0.59],
        bidSz: [30, 75.5],
        askPx: [0.62, 0.6],
        askSz: [120, 500],
        seq: null,
        sourceTs: 1000,
      },
    ]);
    expect(b).toMatchObject([
      { outcomeId: "yes", bidPx: [0.12, 0.15], askPx: [0.2] },
      { outcomeId: "no", bidPx: [0.8], askPx: [0.88, 0.85] },
    ]);
    expect(c).toMatchObject([
      { outcomeId: "yes", bidPx: [0.07], askPx: [] },
      { outcomeId: "no", bidPx: [], askPx: [0.93] },
    ]);
    expect(d).toMatchObject({ kind: "rejected", reason: "rest_orderbook_empty_body" });
  });
});

describe("kalshi mapper: markets", () => {
  const now = Date.UTC(2026, 10, 25, 17, 0, 0);
  const mk = readFixture("kalshi", "markets").map((f) => marketInfo(f.market, now));
  test("open markets map to MarketInfo with tags, extras and numbers from either form", () => {
    expect(mk[0]).toEqual({
      venue: "kalshi",
      market_id: "KXHIGHNY-25NOV26-B45.5",
      outcome_ids: ["yes", "no"],
      title: "Highest temperature in NYC on Nov 26? — 45° to 46°",
      close_ts: Date.UTC(2026, 10, 27, 4, 59),
      status: "active",
      tags: ["KXHIGHNY-25NOV26"],
      created_ts: Date.UTC(2026, 10, 24, 15),
      extra: { event_ticker: "KXHIGHNY-25NOV26", volume: 15230, open_interest: 8100 },
    });
    expect(mk[1]).toMatchObject({
      market_id: "KXBTC-25DEC31-T100000",
      title: "Bitcoin above $100k on Dec 31? — Above $100,000",
      tags: ["KXBTC-25DEC31", "Crypto"],
      extra: { volume: 420, open_interest: 99 },
    });
  });
  test("past close_time is skipped even when listed open; a market without ticker is skipped", () => {
    expect(mk[2]).toEqual({ skip: "past_close_time" });
    expect(mk[3]).toEqual({ skip: "invalid_market" });
  });
});
