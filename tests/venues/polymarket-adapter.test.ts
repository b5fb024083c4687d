/** The Polymarket adapter against the loopback Gamma and market channel: discovery paging, bad markets, the feed. */
import { afterEach, describe, expect, test } from "bun:test";
import { SimClock } from "../../src/clock.ts";
import { parseConfig, type VenueConfig } from "../../src/config.ts";
import { PacedRest } from "../../src/venue/_rest.ts";
import { createAdapter } from "../../src/venue/index.ts";
import { BOOK_WAIT_MS, type PolymarketAdapter } from "../../src/venue/polymarket/adapter.ts";
import { discoverMarkets } from "../../src/venue/polymarket/discovery.ts";
import type { BookSnapshotEvent, VenueEvent } from "../../src/venue/types.ts";
import type { MarketRef } from "../../src/market.ts";
import { conditionId, PolymarketServer, type PolymarketServerOptions, tokenIds } from "../helpers/polymarket-server.ts";

let server: PolymarketServer | null = null;
let adapter: PolymarketAdapter | null = null;
afterEach(async () => {
  await adapter?.close();
  adapter = null;
  server?.stop();
  server = null;
});

function setup(serverOpts: PolymarketServerOptions = {}, venue: Record<string, unknown> = {}) {
  const clock = new SimClock(Date.UTC(2026, 2, 1));
  server = new PolymarketServer({ now: () => clock.now(), ...serverOpts });
  const cfg = parseConfig({ venues: { polymarket: { ...server.venueOptions(), ...venue } } }, "test").venues.find(
    (x) => x.name === "polymarket",
  )!;
  return { clock, server, cfg: cfg as VenueConfig<"polymarket"> };
}

async function start(clock: SimClock, cfg: VenueConfig, random = () => 0.5) {
  adapter = (await createAdapter(cfg, { clock, env: {}, random })) as PolymarketAdapter;
  const events: { ev: VenueEvent; ts: number }[] = [];
  await adapter.connect((ev, ts) => events.push({ ev, ts }));
  return { adapter, events };
}

/** Advances simulated time in small steps, giving real loopback I/O a turn between steps, until `pred` holds. */
async function until(clock: SimClock, pred: () => boolean, what: string, stepMs = 50): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (!pred()) {
    if (performance.now() > deadline)
      throw new Error(`timed out waiting for ${what} (sim ${new Date(clock.now()).toISOString()})`);
    await clock.advance(stepMs);
    await Bun.sleep(1);
  }
}

/** Drives a promise to completion on the simulated clock. */
async function drive<T>(clock: SimClock, p: Promise<T>): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  p.then(
    (x) => ((done = true), (value = x)),
    (e) => ((done = true), (error = e)),
  );
  await until(clock, () => done, "promise");
  if (error) throw error;
  return value as T;
}

const ref = (i: number): MarketRef => ({ market_id: conditionId(i), outcome_ids: tokenIds(i) });
const books = (events: { ev: VenueEvent }[]) =>
  events.map((e) => e.ev).filter((e): e is BookSnapshotEvent => e.kind === "book");
const kinds = (events: { ev: VenueEvent }[], kind: VenueEvent["kind"]) =>
  events.map((e) => e.ev).filter((e) => e.kind === kind);

/** A test-side book built only from the events (Map per side), to compare with the server's own state. */
function replay(events: { ev: VenueEvent }[], asset: string) {
  let bids = new Map<number, number>();
  let asks = new Map<number, number>();
  for (const { ev } of events) {
    if (ev.kind === "book" && ev.outcomeId === asset) {
      bids = new Map(ev.bidPx.map((p, i) => [p, ev.bidSz[i]]));
      asks = new Map(ev.askPx.map((p, i) => [p, ev.askSz[i]]));
    } else if (ev.kind === "level" && ev.outcomeId === asset) {
      const side = ev.side === "bid" ? bids : asks;
      if (ev.size <= 0) side.delete(ev.price);
      else side.set(ev.price, ev.size);
    }
  }
  const b = [...bids].sort((x, y) => y[0] - x[0]);
  const a = [...asks].sort((x, y) => x[0] - y[0]);
  return { bidPx: b.map((x) => x[0]), bidSz: b.map((x) => x[1]), askPx: a.map((x) => x[0]), askSz: a.map((x) => x[1]) };
}

describe("polymarket discovery against the loopback Gamma", () => {
  test("pages through a multi-page universe with after_cursor, rejecting and counting bad markets", async () => {
    const { clock, server } = setup({ markets: 1234, badEvery: 97 });
    const rest = new PacedRest({ clock, maxRequests: 100, windowMs: 10_000 });
    const r = await drive(clock, discoverMarkets({ gammaUrl: server.httpUrl, rest, venue: "polymarket" }));
    expect(r.mode).toBe("keyset");
    expect(r.pages).toBe(13);
    const bad = Math.floor(1234 / 97);
    expect(r.markets.length).toBe(1234 - bad);
    expect(Object.values(r.rejected).reduce((a, b) => a + b, 0)).toBe(bad);
    expect(r.rejected.bad_token_ids).toBeGreaterThan(0);
    expect(r.rejected.token_outcome_mismatch).toBeGreaterThan(0);
    // every request after the first carried the previous page's cursor as after_cursor
    expect(
      server.gammaRequests.slice(1).every((u) => u.searchParams.has("after_cursor") && !u.searchParams.has("cursor")),
    ).toBe(true);
    expect(server.gammaRequests[0].searchParams.get("closed")).toBe("false");
    const m5 = r.markets.find((m) => m.market_id === conditionId(5))!;
    expect(m5).toEqual({
      venue: "polymarket",
      market_id: conditionId(5),
      outcome_ids: tokenIds(5),
      title: "Will event 5 happen?",
      close_ts: Date.UTC(2026, 11, 1) + 5 * 3_600_000,
      status: "active",
      tags: ["Politics"],
      created_ts: Date.UTC(2025, 0, 1) + 5 * 60_000,
      extra: { slug: "event-5", outcomes: ["Yes", "No"], volume: 6172.5, liquidity: 51.25 },
    });
    expect(r.markets.find((m) => m.market_id === conditionId(13))!.status).toBe("paused"); // acceptingOrders false
  });

  test("stops when the venue ignores the cursor and repeats page one", async () => {
    const { clock, server } = setup({ markets: 450, ignoreCursor: true });
    const rest = new PacedRest({ clock, maxRequests: 100, windowMs: 10_000 });
    const r = await drive(clock, discoverMarkets({ gammaUrl: server.httpUrl, rest, venue: "polymarket" }));
    expect(r.stoppedOnRepeat).toBe(true);
    expect(r.markets.length).toBe(100);
    expect(server.gammaRequests.length).toBe(2);
  });

  test("falls back to the legacy offset listing when keyset is missing", async () => {
    const { clock, server } = setup({ markets: 250, noKeyset: true });
    const rest = new PacedRest({ clock, maxRequests: 100, windowMs: 10_000 });
    const r = await drive(clock, discoverMarkets({ gammaUrl: server.httpUrl, rest, venue: "polymarket" }));
    expect(r.mode).toBe("offset");
    expect(r.markets.map((m) => m.market_id)).toEqual(Array.from({ length: 250 }, (_, i) => conditionId(i + 1)));
  });

  test("honours 429 Retry-After and paces under rest_requests_per_10s on the injected clock", async () => {
    const { clock, server, cfg } = setup(
      { markets: 600, gamma429First: 2, retryAfterSecs: 3 },
      { rest_requests_per_10s: 2 },
    );
    const { adapter } = await start(clock, cfg);
    const t0 = clock.now();
    const markets = await drive(clock, adapter.discover({ limit: 450 }));
    expect(markets.length).toBe(450);
    // 2 refused + 5 pages, at most 2 per 10 s window: the 7th request cannot start before 30 s
    expect(server.gammaRequests.length).toBe(7);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(30_000);
    expect(adapter.rest.rateLimited).toBe(2);
  });
});

describe("polymarket feed against the loopback market channel", () => {
  test("initial subscribe, book dump, dynamic subscribe/unsubscribe on the same socket, books match the server", async () => {
    const { clock, server, cfg } = setup();
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(1), ref(2), ref(3)]);
    await until(clock, () => books(events).length >= 6, "initial books");
    expect(server.received[0].msg).toEqual({
      assets_ids: [...tokenIds(1), ...tokenIds(2), ...tokenIds(3)],
      type: "market",
      initial_dump: true,
      custom_feature_enabled: true,
    });
    expect(kinds(events, "connection")).toEqual([
      { kind: "connection", state: "connected", connId: 1, markets: [conditionId(1), conditionId(2), conditionId(3)] },
    ]);

    adapter.subscribe([ref(4)]);
    adapter.unsubscribe([ref(7), ref(2)]); // m7 was never held: skipped, m2 still goes
    await until(clock, () => server.received.length >= 3 && books(events).length >= 8, "dynamic ops");
    expect(server.received.slice(1).map((r) => r.msg)).toEqual([
      { operation: "subscribe", assets_ids: tokenIds(4) },
      { operation: "unsubscribe", assets_ids: tokenIds(2) },
    ]);
    expect(server.upgradeAttempts.length).toBe(1);
    expect([...server.subscribedAssets()].sort()).toEqual([...tokenIds(1), ...tokenIds(3), ...tokenIds(4)].sort());

    const sent = server.randomUpdates(400);
    await until(clock, () => kinds(events, "level").length >= sent, "updates");
    for (const a of server.subscribedAssets()) expect(replay(events, a)).toEqual(server.expectedBook(a));
    expect(kinds(events, "rejected")).toEqual([]);
  });

  test("packs markets onto connections of max_assets_per_connection, opened one at a time; one reconnect leaves the others alone", async () => {
    const { clock, server, cfg } = setup(
      { maxAssetsPerConnection: 10 },
      { max_assets_per_connection: 10, connection_open_pause_ms: 2000 },
    );
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe(Array.from({ length: 12 }, (_, i) => ref(i + 1)));
    await until(
      clock,
      () => kinds(events, "connection").length >= 3 && books(events).length >= 24,
      "three connections",
    );
    expect(server.violations).toBe(0);
    expect(server.upgradeAttempts.length).toBe(3);
    for (let i = 1; i < 3; i++)
      expect(server.upgradeAttempts[i] - server.upgradeAttempts[i - 1]).toBeGreaterThanOrEqual(2000);
    const conns = kinds(events, "connection") as Extract<VenueEvent, { kind: "connection" }>[];
    expect(conns.map((c) => c.markets!.length)).toEqual([5, 5, 2]);
    expect(new Set(conns.flatMap((c) => c.markets))).toEqual(
      new Set(Array.from({ length: 12 }, (_, i) => conditionId(i + 1))),
    );

    const victim = server.connOf(tokenIds(6)[0])!;
    const others = [...server.conns.values()].filter((c) => c !== victim).map((c) => c.id);
    const receivedBefore = server.received.length;
    server.drop(victim.id);
    await until(clock, () => kinds(events, "connection").length >= 5, "reconnect");
    const [down, up] = kinds(events, "connection").slice(3) as Extract<VenueEvent, { kind: "connection" }>[];
    expect(down.state).toBe("disconnected");
    expect(up.state).toBe("connected");
    expect(up.connId).toBe(down.connId);
    expect(up.markets).toEqual(conns.find((c) => c.connId === down.connId)!.markets!);
    // the other two connections are the same server-side sockets and got no new subscribe
    for (const id of others) expect(server.conns.has(id)).toBe(true);
    const resent = server.received.slice(receivedBefore);
    expect(resent.length).toBe(1);
    expect(others).not.toContain(resent[0].conn);
    expect((resent[0].msg as { assets_ids: string[] }).assets_ids).toEqual(
      up.markets!.flatMap((m) => tokenIds(Number.parseInt(m, 16))),
    );
  });

  test("a 429 on connection bursts is backed off with growing delays, not retried in a loop", async () => {
    const { clock, server, cfg } = setup({ ws429Always: true }, { connection_open_pause_ms: 1000 });
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(1)]);
    const t0 = clock.now();
    await until(clock, () => clock.now() - t0 >= 120_000, "two simulated minutes", 200);
    const n = server.upgradeAttempts.length;
    // backoff base 1000 ms, cap 60 s, jitter fixed at 0.5, floor = the 1 s open pause: ~9 attempts in 120 s
    expect(n).toBeGreaterThanOrEqual(5);
    expect(n).toBeLessThanOrEqual(12);
    const gaps = server.upgradeAttempts.slice(1).map((t, i) => t - server.upgradeAttempts[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
    expect(gaps[gaps.length - 1]).toBeGreaterThanOrEqual(8000);
    expect(kinds(events, "venue_error").every((e) => e.kind === "venue_error" && e.reason === "ws_open_429")).toBe(
      true,
    );
    expect(kinds(events, "venue_error").length).toBe(n);
  });

  test("reconnect_cap_ms caps the delay: a long outage retries at the cap, not at base·2^n", async () => {
    const { clock, server, cfg } = setup(
      { ws429Always: true },
      { connection_open_pause_ms: 100, reconnect_cap_ms: 4000, reconnect_max_per_minute: 1000 },
    );
    const { adapter } = await start(clock, cfg);
    adapter.subscribe([ref(1)]);
    const t0 = clock.now();
    await until(clock, () => clock.now() - t0 >= 60_000, "a simulated minute", 50);
    // The server stamps an attempt when it arrives, up to one 50 ms step after the timer fired.
    const gaps = server.upgradeAttempts.slice(1).map((t, i) => Math.round((t - server.upgradeAttempts[i]) / 100) / 10);
    // jitter fixed at 0.5: 0.5 s (+ the open pause), 1 s, then 0.5 × the 4 s cap = 2 s every time (uncapped: 4 s, 8 s, 16 s…)
    expect(gaps[1]).toBe(1);
    expect(gaps.length).toBeGreaterThanOrEqual(25);
    expect(gaps.slice(2).filter((g) => g !== 2)).toEqual([]);
  });

  test("a market already held is not subscribed again, one without outcome ids never; one with a single id is", async () => {
    const { clock, server, cfg } = setup();
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(1)]);
    await until(clock, () => books(events).length >= 2, "the books of market 1");
    adapter.subscribe([ref(1), { market_id: conditionId(3), outcome_ids: [] }]);
    // a market with a single outcome id is subscribed like any other
    adapter.subscribe([{ market_id: conditionId(4), outcome_ids: [tokenIds(4)[0]] }]);
    adapter.subscribe([ref(2)]); // its books prove the commands before it were handled
    await until(clock, () => books(events).length >= 5, "the books of markets 4 and 2");
    const assets = server.received.flatMap((r) => (r.msg as { assets_ids?: string[] }).assets_ids ?? []);
    expect(assets.sort()).toEqual([...tokenIds(1), tokenIds(4)[0], ...tokenIds(2)].sort());
    expect(server.upgradeAttempts.length).toBe(1);
  });

  test("after a few 429s the connection opens and subscribes", async () => {
    const { clock, server, cfg } = setup({ ws429First: 3 });
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(1)]);
    await until(clock, () => books(events).length >= 2, "books after 429s");
    expect(server.refused429.length).toBe(3);
    expect(server.upgradeAttempts.length).toBe(4);
    expect(adapter.feedState!.openAttempts).toBe(4); // 3 refused + 1 opened, as the status line reports
    expect(adapter.feedState!.connectionCount).toBe(1);
  });

  test("after close() the feed holds no connection and opens none for a later subscribe", async () => {
    const { clock, server, cfg } = setup();
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(1)]);
    await until(clock, () => books(events).length >= 2, "books");
    const feed = adapter.feedState!;
    feed.close();
    expect(feed.connectionCount).toBe(0);
    expect(feed.connectionOf(conditionId(1))).toBeUndefined();
    feed.subscribe([ref(2)]);
    expect(feed.connectionCount).toBe(0);
    await clock.advance(10_000);
    expect(server.upgradeAttempts.length).toBe(1);
  });

  test("a silent book is resynced through REST /book without dropping the socket", async () => {
    const { clock, server, cfg } = setup();
    const [yes, no] = tokenIds(7);
    server.silent.add(yes);
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(7)]);
    await until(clock, () => books(events).length >= 1, "the NO book");
    expect(books(events).map((b) => b.outcomeId)).toEqual([no]);
    adapter.resync([{ marketId: conditionId(7), outcomeId: yes }]);
    await until(clock, () => books(events).length >= 2, "the REST book");
    const b = books(events)[1];
    expect(server.bookRequests).toEqual([yes]);
    expect(b.marketId).toBe(conditionId(7));
    expect({ bidPx: b.bidPx, bidSz: b.bidSz, askPx: b.askPx, askSz: b.askSz }).toEqual(server.expectedBook(yes));
    expect(b.bidPx.length).toBeGreaterThan(1); // the server lists bids ascending: sorting was needed
    expect(server.upgradeAttempts.length).toBe(1);
    expect(kinds(events, "connection").length).toBe(1);
  });

  test("a token whose book never comes after subscribing is fetched over REST after BOOK_WAIT_MS", async () => {
    const { clock, server, cfg } = setup();
    const [yes, no] = tokenIds(8);
    server.silent.add(no);
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(8)]);
    await until(clock, () => books(events).length >= 1, "the YES book");
    const t0 = clock.now();
    await until(clock, () => books(events).length >= 2, "the NO book via REST");
    expect(clock.now() - t0).toBeGreaterThanOrEqual(BOOK_WAIT_MS - 1000);
    expect(server.bookRequests).toEqual([no]);
    expect(books(events).map((b) => b.outcomeId)).toEqual([yes, no]);
    expect(server.upgradeAttempts.length).toBe(1);
  });

  test("a socket that answers PING but sends no data is replaced after BOOK_WAIT_MS; books come over REST meanwhile", async () => {
    const { clock, server, cfg } = setup();
    server.dataMuteNext = true;
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(11), ref(12)]);
    await until(clock, () => server.conns.size === 1, "first connection");
    const t0 = clock.now();
    await until(clock, () => books(events).length >= 4, "books via REST");
    expect(clock.now() - t0).toBeGreaterThanOrEqual(BOOK_WAIT_MS - 1000);
    expect(server.bookRequests.sort()).toEqual([...tokenIds(11), ...tokenIds(12)].sort());
    await until(clock, () => books(events).length >= 8, "books from the new socket");
    expect(server.upgradeAttempts.length).toBe(2);
    const conn = kinds(events, "connection") as Extract<VenueEvent, { kind: "connection" }>[];
    expect(conn.map((c) => c.state)).toEqual(["connected", "disconnected", "connected"]);
    expect(conn[1].reason).toContain("no data");
    for (const a of [...tokenIds(11), ...tokenIds(12)]) expect(replay(events, a)).toEqual(server.expectedBook(a));
  });

  test("a resubscribe (unsubscribe + subscribe at once, as the watchdog does) keeps the socket and gets fresh books", async () => {
    const { clock, server, cfg } = setup();
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(9)]);
    await until(clock, () => books(events).length >= 2, "books");
    adapter.unsubscribe([ref(9)]);
    adapter.subscribe([ref(9)]);
    await until(clock, () => books(events).length >= 4, "fresh books");
    const t0 = clock.now();
    await until(clock, () => clock.now() - t0 >= 20_000, "grace period", 200);
    expect(server.upgradeAttempts.length).toBe(1);
    expect(server.conns.size).toBe(1);
    expect(server.received.slice(1).map((r) => (r.msg as { operation: string }).operation)).toEqual([
      "unsubscribe",
      "subscribe",
    ]);
    expect(kinds(events, "connection").filter((e) => e.kind === "connection" && e.state === "disconnected")).toEqual(
      [],
    );
  });

  test("an emptied connection is closed after the grace period", async () => {
    const { clock, server, cfg } = setup();
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(10)]);
    await until(clock, () => books(events).length >= 2, "books");
    adapter.unsubscribe([ref(10)]);
    await until(clock, () => server.conns.size === 0, "server sees the close", 200);
    expect(adapter.feedState!.connectionCount).toBe(0);
    // The collector learns the connection is gone (else it counts it as up forever).
    const conn = kinds(events, "connection") as Extract<VenueEvent, { kind: "connection" }>[];
    expect(conn.map((c) => [c.state, c.connId])).toEqual([
      ["connected", conn[0].connId],
      ["closed", conn[0].connId],
    ]);
  });

  test("a dead connection (no PONG, no data) is detected after pong_timeout_secs and replaced", async () => {
    const { clock, server, cfg } = setup({}, { ping_interval_secs: 10, pong_timeout_secs: 30 });
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(1), ref(2)]);
    await until(clock, () => books(events).length >= 4, "books");
    // a healthy connection answers PINGs and stays up
    const t0 = clock.now();
    await until(clock, () => clock.now() - t0 >= 45_000, "45 s of healthy pings", 100);
    expect(kinds(events, "connection").length).toBe(1);
    const conn = [...server.conns.values()][0];
    expect(conn.pings).toBeGreaterThanOrEqual(4);
    server.mute(conn.id);
    const t1 = clock.now();
    await until(clock, () => kinds(events, "connection").length >= 2, "dead detection", 100);
    const down = events.find((e) => e.ev.kind === "connection" && e.ev.state === "disconnected")!;
    expect(down.ts - t1).toBeGreaterThanOrEqual(20_000);
    expect(down.ts - t1).toBeLessThanOrEqual(31_000);
    expect((down.ev as { reason: string }).reason).toContain("silent");
    await until(
      clock,
      () => kinds(events, "connection").length >= 3 && books(events).length >= 8,
      "reconnected with books",
    );
    const last = server.received.at(-1)!.msg as { assets_ids: string[] };
    expect(last.assets_ids).toEqual([...tokenIds(1), ...tokenIds(2)]);
  });

  test("malformed frames are rejected and the connection carries on", async () => {
    const { clock, server, cfg } = setup();
    const { adapter, events } = await start(clock, cfg);
    adapter.subscribe([ref(1)]);
    await until(clock, () => books(events).length >= 2, "books");
    server.sendRaw("{not json");
    server.sendRaw(
      JSON.stringify({
        event_type: "price_change",
        market: conditionId(1),
        price_changes: [{ asset_id: tokenIds(1)[0], price: "abc", size: "1", side: "BUY" }],
      }),
    );
    server.randomUpdates(5);
    await until(clock, () => kinds(events, "level").length >= 5, "updates after garbage");
    expect(kinds(events, "rejected").map((e) => (e as { reason: string }).reason)).toEqual([
      "invalid_json",
      "bad_price_change_entry",
    ]);
    for (const a of tokenIds(1)) expect(replay(events, a)).toEqual(server.expectedBook(a));
    expect(kinds(events, "connection").length).toBe(1);
  });
});
