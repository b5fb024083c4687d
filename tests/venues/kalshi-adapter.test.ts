/** The Kalshi adapter against the loopback server: discovery paging and 429s, the feed, resync without a sid, REST books. */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { parseConfig, type VenueConfig } from "../../src/config.ts";
import { UserError } from "../../src/errors.ts";
import { createAdapter } from "../../src/venue/index.ts";
import type { KalshiAdapter } from "../../src/venue/kalshi/adapter.ts";
import { REFUSED_RETRY_MS } from "../../src/venue/kalshi/refusals.ts";
import type { VenueEvent } from "../../src/venue/types.ts";
import { drive } from "../helpers/sim-driver.ts";
import { waitFor } from "../helpers/wait.ts";
import { startKalshiServer, type KalshiServer } from "../helpers/kalshi-server.ts";

const dir = join(import.meta.dir, "..", "fixtures", "kalshi");
const keyPath = join(dir, "test-private-key.pem");
const publicKey = createPublicKey(readFileSync(join(dir, "test-public-key.pem"), "utf8"));
const env = { KALSHI_API_KEY_ID: "test-key-id", KALSHI_PRIVATE_KEY_PATH: keyPath };
const T0 = Date.UTC(2026, 10, 25, 17, 0, 0);

const clock = new SimClock(T0);
const server = startKalshiServer({ clock, publicKey, keyId: "test-key-id", markets: 2600 });
afterAll(() => server.stop());

function venueConfig(s: KalshiServer, extra: Record<string, unknown> = {}): VenueConfig {
  const cfg = parseConfig({
    venues: {
      kalshi: {
        rest_url: s.restUrl,
        ws_url: s.wsUrl,
        heartbeat_timeout_secs: 30,
        rest_requests_per_sec: 5,
        reconnect_base_ms: 1000,
        reconnect_cap_ms: 8000,
        ...extra,
      },
    },
  });
  return cfg.venues[0];
}

async function adapter(e: Record<string, string | undefined> = env, c: SimClock = clock): Promise<KalshiAdapter> {
  return (await createAdapter(venueConfig(server), { clock: c, env: e, random: () => 0.5 })) as KalshiAdapter;
}

/** An independent reference book: per outcome, price → size for bids and asks, built from the events only. */
class RefBooks {
  books = new Map<string, { bids: Map<number, number>; asks: Map<number, number> }>();
  events: VenueEvent[] = [];
  sink = (ev: VenueEvent) => {
    this.events.push(ev);
    if (ev.kind === "book") {
      const bids = new Map<number, number>();
      const asks = new Map<number, number>();
      ev.bidPx.forEach((p, i) => bids.set(p, ev.bidSz[i]));
      ev.askPx.forEach((p, i) => asks.set(p, ev.askSz[i]));
      this.books.set(`${ev.marketId}/${ev.outcomeId}`, { bids, asks });
    } else if (ev.kind === "level") {
      const b = this.books.get(`${ev.marketId}/${ev.outcomeId}`);
      if (!b) return;
      const side = ev.side === "bid" ? b.bids : b.asks;
      const size = (side.get(ev.price) ?? 0) + ev.size;
      if (size > 0) side.set(ev.price, size);
      else side.delete(ev.price);
    }
  };
  of(kind: VenueEvent["kind"]) {
    return this.events.filter((e) => e.kind === kind);
  }
  /** Sorted [price, size] pairs: bids descending, asks ascending. */
  view(market: string, outcome: string) {
    const b = this.books.get(`${market}/${outcome}`);
    if (!b) return undefined;
    return { bids: [...b.bids].sort((x, y) => y[0] - x[0]), asks: [...b.asks].sort((x, y) => x[0] - y[0]) };
  }
}

/** What the books must be, computed from the server's cent books: yes asks are NO bids at 100 − p, and vice versa. */
function expected(
  s: KalshiServer,
  ticker: string,
  outcome: "yes" | "no",
): { bids: [number, number][]; asks: [number, number][] } {
  const b = s.books.get(ticker)!;
  const own = outcome === "yes" ? b.yes : b.no;
  const other = outcome === "yes" ? b.no : b.yes;
  return {
    bids: [...own].map(([p, z]): [number, number] => [p / 100, z]).sort((x, y) => y[0] - x[0]),
    asks: [...other].map(([p, z]): [number, number] => [(100 - p) / 100, z]).sort((x, y) => x[0] - y[0]),
  };
}

const refs = (tickers: string[]) => tickers.map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] }));

describe("kalshi discovery against the loopback server", () => {
  test("pages a multi-page universe, skips markets past close_time, paced under rest_requests_per_sec", async () => {
    const a = await adapter({}); // no credentials: public REST still works
    const before = server.restLog.length;
    const markets = await drive(clock, a.discover());
    const log = server.restLog.slice(before);
    expect(log.map((r) => r.path)).toEqual([
      "/trade-api/v2/markets?limit=1000&status=open",
      "/trade-api/v2/markets?limit=1000&status=open&cursor=1000",
      "/trade-api/v2/markets?limit=1000&status=open&cursor=2000",
    ]);
    // 5 requests/s → at least 200 ms of (simulated) time between requests
    for (let i = 1; i < log.length; i++) expect(log[i].at - log[i - 1].at).toBeGreaterThanOrEqual(200);
    expect(markets.map((m) => m.market_id)).toEqual(server.openTickers);
    expect(markets.length).toBe(2600 - 52);
    const m3 = server.markets[3];
    expect(markets[3]).toEqual({
      venue: "kalshi",
      market_id: m3.ticker,
      outcome_ids: ["yes", "no"],
      title: `${m3.title} — ${m3.subtitle}`,
      close_ts: Date.parse(m3.close_time),
      status: "active",
      tags: [m3.event_ticker],
      created_ts: null,
      extra: { event_ticker: m3.event_ticker, volume: 30, open_interest: 3 },
    });
    // the universe file is one JSON line per market (what scan writes)
    const lines = markets
      .map((m) => JSON.stringify(m))
      .join("\n")
      .split("\n");
    expect(lines.length).toBe(markets.length);
    expect(JSON.parse(lines[0]).market_id).toBe(server.openTickers[0]);
  });

  test("a 429 is honoured: the next request waits Retry-After, then paging goes on", async () => {
    const a = await adapter({});
    const before = server.restLog.length;
    server.throttle(1, 3);
    const markets = await drive(clock, a.discover({ limit: 1500 }));
    const log = server.restLog.slice(before);
    expect(log.map((r) => r.status)).toEqual([429, 200, 200]);
    expect(log[1].at - log[0].at).toBeGreaterThanOrEqual(3000);
    expect(markets.length).toBe(1500);
  });
});

describe("kalshi feed against the loopback server", () => {
  let a: KalshiAdapter;
  let ref: RefBooks;
  const tickers = server.openTickers.slice(0, 4); // two in the dollar form, two in the cent form
  beforeEach(async () => {
    await a?.close();
  });
  afterAll(async () => {
    await a?.close();
  });

  test("no credentials: connect refuses with a UserError naming the variables", async () => {
    a = await adapter({});
    const e = await a.connect(() => {}).catch((x) => x);
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toContain("KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH are not set");
  });

  test("a bad signature is refused by the server (401) and reported clearly", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    }) as string;
    const refusedBefore = server.refused;
    a = await adapter({ KALSHI_API_KEY_ID: "test-key-id", KALSHI_PRIVATE_KEY_PATH: other });
    const e = await a.connect(() => {}).catch((x) => x);
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toContain("refused (HTTP 401)");
    expect(e.message).toContain("KALSHI_PRIVATE_KEY_PATH");
    expect(server.refused).toBe(refusedBefore + 1);
    expect(clock.pending()).toBe(0); // no retry loop left behind
  });

  test("snapshots and deltas (both forms) build books equal to the server's, asks derived from the other side", async () => {
    ref = new RefBooks();
    a = await adapter();
    await a.connect(ref.sink);
    a.subscribe(refs(tickers));
    await waitFor(() => ref.of("book").length === 8, "8 snapshot books");
    let ts = T0;
    for (let i = 0; i < 40; i++) {
      const t = tickers[i % 4];
      const side = i % 3 === 0 ? "no" : "yes";
      const b = server.books.get(t)![side];
      const prices = [...b.keys()];
      // mostly changes at existing prices (some removing the level), some new levels
      const p =
        i % 5 === 0 || prices.length === 0 ? 50 + (i % 7) - (side === "no" ? 30 : 0) : prices[i % prices.length];
      const d = i % 4 === 0 ? -(b.get(p) ?? 0) : 3 + i;
      server.delta(t, side, p, d === 0 ? 2 : d, (ts += 1000));
    }
    await waitFor(() => ref.of("level").length === 80, "80 level events");
    expect(ref.events.filter((e) => e.kind !== "level" && e.kind !== "book" && e.kind !== "connection")).toEqual([]);
    for (const t of tickers)
      for (const o of ["yes", "no"] as const) expect([t, o, ref.view(t, o)]).toEqual([t, o, expected(server, t, o)]);
    const lv = ref.of("level");
    expect(lv.every((e) => e.kind === "level" && e.bookSeq === false && e.mode === "add")).toBe(true);
    // cent-form deltas carry ts seconds × 1000, dollar-form ts_ms as sent
    const centTs = lv.find((e) => e.kind === "level" && e.marketId === tickers[1]);
    expect(centTs?.kind === "level" && centTs.sourceTs! % 1000).toBe(0);
    expect(ref.of("connection")).toMatchObject([{ state: "connected", connId: 0 }]);
  });

  test("churn goes through update_subscription on the one sid, never a new subscription per market", async () => {
    ref = new RefBooks();
    a = await adapter();
    const before = server.commands.length;
    await a.connect(ref.sink);
    a.subscribe(refs(tickers.slice(0, 2)));
    // changes while the subscribe is in flight are queued and sent on the sid
    a.subscribe(refs([tickers[2]]));
    await waitFor(() => server.subscribed().size === 3, "3 subscribed");
    a.unsubscribe(refs([tickers[0]]));
    a.subscribe(refs([tickers[3]]));
    await waitFor(() => server.subscribed().has(tickers[3]) && !server.subscribed().has(tickers[0]), "churn applied");
    const cmds = server.commands.slice(before);
    expect(cmds.map((c) => [c.cmd, c.params.action ?? null, c.params.market_tickers])).toEqual([
      ["subscribe", null, tickers.slice(0, 2)],
      ["update_subscription", "add_markets", [tickers[2]]],
      ["update_subscription", "delete_markets", [tickers[0]]],
      ["update_subscription", "add_markets", [tickers[3]]],
    ]);
    const sid = (cmds[1].params.sids as number[])[0];
    expect(cmds.slice(1).every((c) => (c.params.sids as number[])[0] === sid)).toBe(true);
    expect([...server.subscribed()].sort()).toEqual([tickers[1], tickers[2], tickers[3]].sort());
  });

  test("an update_subscription ok repeating the sid's current seq is not a rejection", async () => {
    ref = new RefBooks();
    a = await adapter();
    server.repeatSeqOnOk(true);
    try {
      await a.connect(ref.sink);
      a.subscribe(refs(tickers.slice(0, 2)));
      await waitFor(() => ref.of("book").length === 4, "snapshots");
      a.subscribe(refs([tickers[2]]));
      a.unsubscribe(refs([tickers[0]]));
      await waitFor(() => server.subscribed().has(tickers[2]) && !server.subscribed().has(tickers[0]), "churn applied");
      await waitFor(() => ref.of("info").length >= 2, "both ok replies");
      expect(ref.of("rejected")).toEqual([]);
      expect(ref.of("stale")).toEqual([]);
    } finally {
      server.repeatSeqOnOk(false);
    }
  });

  test("a seq gap marks the sid's books stale, asks for snapshots and recovers", async () => {
    ref = new RefBooks();
    a = await adapter();
    await a.connect(ref.sink);
    a.subscribe(refs(tickers.slice(0, 2)));
    await waitFor(() => ref.of("book").length === 4, "snapshots");
    const before = server.commands.length;
    server.skipSeq();
    server.delta(tickers[0], "yes", [...server.books.get(tickers[0])!.yes.keys()][0], 5, T0);
    await waitFor(() => ref.of("book").length === 8, "fresh snapshots after the gap");
    const kinds = ref.events.slice(5).map((e) => e.kind); // after connected + 4 snapshot books
    expect(kinds).toEqual(["stale", "level", "level", "book", "book", "book", "book"]);
    const stale = ref.events[5];
    expect(stale.kind === "stale" && stale.keys.length).toBe(4);
    expect(stale.kind === "stale" && stale.reason).toMatch(/seq gap on sid \d+: \d+ → \d+/);
    expect(server.commands.slice(before).map((c) => c.params.action)).toEqual(["get_snapshot"]);
    for (const t of tickers.slice(0, 2))
      for (const o of ["yes", "no"] as const) expect(ref.view(t, o)).toEqual(expected(server, t, o));
  });

  test("a refused ticker is rejected, a venue fault is a venue_error; malformed frames are rejected and the connection goes on", async () => {
    ref = new RefBooks();
    a = await adapter();
    await a.connect(ref.sink);
    a.subscribe(refs([tickers[0]]));
    await waitFor(() => ref.of("book").length === 2, "snapshots");
    a.subscribe(refs(["KXNOPE-1"]));
    await waitFor(() => ref.of("refused").length === 1, "error reply");
    expect(ref.of("refused")[0]).toEqual({
      kind: "refused",
      marketId: "KXNOPE-1",
      reason: "code 16 Market not found",
      retryAfterMs: REFUSED_RETRY_MS,
    });
    server.failNext(1, 17, "Internal error");
    a.subscribe(refs([tickers[1]]));
    await waitFor(() => ref.of("venue_error").length === 1, "error reply");
    expect(ref.of("venue_error")[0]).toEqual({
      kind: "venue_error",
      reason: "error_reply_17",
      detail: "add_markets: Internal error",
    });
    server.sendRaw("{not json");
    server.sendData(tickers[0], "orderbook_delta", { market_ticker: tickers[0], side: "maybe" });
    server.delta(tickers[0], "no", [...server.books.get(tickers[0])!.no.keys()][0], 1, T0);
    await waitFor(() => ref.of("level").length === 2, "delta after the malformed frames");
    expect(ref.of("rejected").map((e) => e.kind === "rejected" && e.reason)).toEqual(["invalid_json", "delta_bad_msg"]);
    expect(ref.view(tickers[0], "yes")).toEqual(expected(server, tickers[0], "yes"));
  });

  test("a silent connection is dropped after heartbeat_timeout_secs and the exact current set is resubscribed", async () => {
    ref = new RefBooks();
    a = await adapter();
    await a.connect(ref.sink);
    a.subscribe(refs(tickers.slice(0, 3)));
    a.unsubscribe(refs([tickers[1]]));
    await waitFor(
      () => ref.of("book").length >= 4 && server.subscribed().size === 2,
      "snapshots and the queued delete",
    );
    const before = server.commands.length;
    // pings keep it alive...
    await clock.advance(20_000);
    server.ping();
    await waitFor(() => true);
    await Bun.sleep(5);
    await clock.advance(20_000);
    expect(ref.of("connection").length).toBe(1);
    // ...silence kills it (30 s after the ping), and the reconnect follows after the backoff (0.5 × base 1000 ms)
    server.mute(true);
    await clock.advance(9_999);
    expect(ref.of("connection").length).toBe(1);
    await clock.advance(1);
    expect(ref.of("connection")[1]).toMatchObject({ state: "disconnected", reason: "silent for 30 s" });
    server.mute(false);
    await clock.advance(500);
    await waitFor(() => ref.of("connection").length === 3, "reconnected");
    await waitFor(() => server.commands.length > before, "resubscribe");
    expect(server.commands.slice(before).map((c) => [c.cmd, c.params.market_tickers])).toEqual([
      ["subscribe", [tickers[0], tickers[2]]],
    ]);
  });

  test("a dropped connection reconnects with a fresh signature and resubscribes", async () => {
    ref = new RefBooks();
    a = await adapter();
    await a.connect(ref.sink);
    a.subscribe(refs(tickers.slice(0, 2)));
    await waitFor(() => ref.of("book").length === 4, "snapshots");
    const logins = server.logins.length;
    const stale = server.refusedStale;
    // 20 s later (outside the server's 5 s window, inside the 30 s heartbeat): headers signed at connect are stale.
    await clock.advance(20_000);
    server.drop();
    await waitFor(() => ref.of("connection").length === 2, "disconnect seen");
    expect(ref.of("connection")[1]).toMatchObject({ state: "disconnected", markets: tickers.slice(0, 2) });
    const dropAt = clock.now();
    await clock.advance(1000);
    await waitFor(() => ref.of("book").length === 8, "snapshots after reconnect");
    expect(server.refusedStale).toBe(stale);
    // the reconnect's login was signed when it was made (0.5 × base 1000 ms after the drop), not replayed
    expect(server.logins.slice(logins)).toEqual([{ at: dropAt + 500, ts: dropAt + 500 }]);
    expect(ref.of("connection").map((e) => e.kind === "connection" && e.state)).toEqual([
      "connected",
      "disconnected",
      "connected",
    ]);
  });

  test("resync asks the venue for snapshots on the sid", async () => {
    ref = new RefBooks();
    a = await adapter();
    await a.connect(ref.sink);
    a.subscribe(refs(tickers.slice(0, 2)));
    await waitFor(() => ref.of("book").length === 4, "snapshots");
    a.resync([
      { marketId: tickers[1], outcomeId: "yes" },
      { marketId: tickers[1], outcomeId: "no" },
    ]);
    await waitFor(() => ref.of("book").length === 6, "resync snapshots");
    expect(server.commands.at(-1)?.params).toMatchObject({ action: "get_snapshot", market_tickers: [tickers[1]] });
  });
});

describe("kalshi resync without a sid", () => {
  test("a failed subscribe leaves no sid: resync falls back to the REST book", async () => {
    const ref = new RefBooks();
    const a = await adapter();
    await a.connect(ref.sink);
    const t = server.openTickers[5];
    server.failNext(1, 17, "Internal error"); // a venue fault: retried only after a pause
    a.subscribe(refs([t]));
    await waitFor(() => ref.of("venue_error").length === 1, "error reply");
    const before = server.restLog.length;
    a.resync([{ marketId: t, outcomeId: "yes" }]);
    await waitFor(() => ref.of("book").length === 2, "REST books"); // a fresh pacer: the first request goes at once
    expect(server.restLog.slice(before).map((r) => r.path)).toEqual([`/trade-api/v2/markets/${t}/orderbook`]);
    for (const o of ["yes", "no"] as const) expect(ref.view(t, o)).toEqual(expected(server, t, o));
    await a.close();
  });
});

describe("kalshi REST orderbook", () => {
  test("both forms give the server's books", async () => {
    const c = new SimClock(T0);
    const a = await adapter({}, c);
    for (const t of server.openTickers.slice(0, 2)) {
      const r = await drive(c, a.rest.orderbook(t));
      expect(Array.isArray(r)).toBe(true);
      if (!Array.isArray(r)) continue;
      for (const b of r) {
        const e = expected(server, t, b.outcomeId as "yes" | "no");
        const zip = (px: number[], sz: number[]) => px.map((p, i) => [p, sz[i]]);
        expect(zip(b.bidPx, b.bidSz).sort((x, y) => y[0] - x[0])).toEqual(e.bids);
        expect(zip(b.askPx, b.askSz).sort((x, y) => x[0] - y[0])).toEqual(e.asks);
      }
    }
  });
});
