/**
 * Network faults against the loopback Polymarket and Kalshi servers (real sockets, simulated time) and the mock
 * venue: dropped connections, half-open sockets (the server goes mute without closing), a slow consumer (a burst
 * queued while the collector is not reading), and a 5-minute outage (every upgrade refused). Measured: time to
 * detect a dead connection, reconnect attempts per minute in the outage, exact resubscription, books stale meanwhile.
 */
import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { VenueCollector } from "../../src/collector/collector.ts";
import { parseConfig, type VenueConfig } from "../../src/config.ts";
import { Metrics } from "../../src/metrics.ts";
import type { SnapshotInput } from "../../src/schema.ts";
import { RATE_WINDOW_MS } from "../../src/venue/backoff.ts";
import { createAdapter } from "../../src/venue/index.ts";
import { MockVenue, mulberry32 } from "../../src/venue/mock.ts";
import type { VenueAdapter } from "../../src/venue/types.ts";
import type { MarketRef } from "../../src/market.ts";
import { startKalshiServer } from "../../tests/helpers/kalshi-server.ts";
import { conditionId, PolymarketServer, tokenIds } from "../../tests/helpers/polymarket-server.ts";
import { quietLog } from "./rig.ts";

export interface NetworkResult {
  venue: string;
  drops: number;
  halfOpen: number;
  slowConsumerBursts: number;
  outages: number;
  /** Longest time from a mute to the collector declaring the connection dead (sim ms). */
  maxDetectMs: number;
  detectBoundMs: number;
  /** Reconnect attempts in the 5-minute outage, and the most in any 60 s window. */
  outageAttempts: number;
  maxAttemptsPerMinute: number;
  configuredMaxPerMinute: number;
  /** After every reconnect, the venue's subscriptions equalled the target set exactly. */
  resubscribedExact: boolean;
  /** Snapshot rows emitted for a dropped connection's markets that were not marked stale. */
  freshRowsWhileDown: number;
  /** Books not stale when checked while their connection was down. */
  booksNotStaleWhileDown: number;
  /** After the burst, the collector's books equalled the server's. */
  burstBooksMatch: boolean;
  burstMessages: number;
  /** Longest sim time from the end of the outage to all books fresh again. */
  recoverMs: number;
}

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** What the scenario needs from a venue under test. */
interface Target {
  name: string;
  cfg: VenueConfig;
  adapter: VenueAdapter;
  refs: MarketRef[];
  /** Ids the server (or mock) has subscribed now, in the same terms as `expected`. */
  subscribed(): Set<string>;
  expected: Set<string>;
  drop(): void;
  /** Go mute (no data, no pings, no pongs) without closing; false undoes (new connections are never mute). */
  mute(on: boolean): void;
  refuse(on: boolean): void;
  attempts(): number[];
  /** Sends n updates at once; returns a check that the collector's books equal the server's. */
  burst?(n: number, vc: VenueCollector): () => boolean;
  /** Called every simulated second (keepalive pings the server owes). */
  tick?(): void;
  detectBoundMs: number;
  stop(): void;
}

function collectSettings(extra: Record<string, unknown>) {
  return {
    max_subs_per_venue: 20,
    hot_count: 5,
    subscription_churn_limit_per_minute: 1000,
    snapshot_interval_ms_hot: 1000,
    snapshot_interval_ms_warm: 5000,
    stale_after_secs: 600,
    silence_timeout_secs: 600,
    reconnect_base_ms: 1000,
    reconnect_cap_ms: 60_000,
    reconnect_max_per_minute: 10,
    ...extra,
  };
}

async function polymarketTarget(clock: SimClock, seed: number): Promise<Target> {
  const server = new PolymarketServer({ now: () => clock.now(), markets: 40 });
  const cfg = parseConfig({
    collector: collectSettings({}),
    venues: {
      polymarket: {
        ...server.venueOptions(),
        ping_interval_secs: 10,
        pong_timeout_secs: 30,
        connection_open_pause_ms: 0,
      },
    },
  }).selected[0];
  const adapter = await createAdapter(cfg, { clock, env: {}, random: mulberry32(seed) });
  const refs = Array.from({ length: 12 }, (_, i) => ({ market_id: conditionId(i + 1), outcome_ids: tokenIds(i + 1) }));
  return {
    name: "polymarket",
    cfg,
    adapter,
    refs,
    subscribed: () => server.subscribedAssets(),
    expected: new Set(refs.flatMap((r) => r.outcome_ids)),
    drop: () => [...server.conns.keys()].forEach((id) => server.drop(id)),
    mute: (on) => on && [...server.conns.keys()].forEach((id) => server.mute(id)),
    refuse: (on) => void (server.opts.ws429Always = on),
    attempts: () => server.upgradeAttempts,
    burst(n, vc) {
      server.randomUpdates(n);
      return () => refs.every((r) => r.outcome_ids.every((a) => sameBook(vc, r.market_id, a, server.expectedBook(a))));
    },
    detectBoundMs: 30_000 + 10_000,
    stop: () => server.stop(),
  };
}

async function kalshiTarget(clock: SimClock, seed: number): Promise<Target> {
  const dir = join(import.meta.dir, "..", "..", "tests", "fixtures", "kalshi");
  const publicKey = createPublicKey(readFileSync(join(dir, "test-public-key.pem"), "utf8"));
  const server = startKalshiServer({ clock, publicKey, keyId: "k", markets: 60 });
  const cfg = parseConfig({
    collector: collectSettings({}),
    venues: {
      kalshi: { rest_url: server.restUrl, ws_url: server.wsUrl, heartbeat_timeout_secs: 30, rest_requests_per_sec: 20 },
    },
  }).selected[0];
  const env = { KALSHI_API_KEY_ID: "k", KALSHI_PRIVATE_KEY_PATH: join(dir, "test-private-key.pem") };
  const adapter = await createAdapter(cfg, { clock, env, random: mulberry32(seed) });
  const refs = server.openTickers.slice(0, 12).map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] }));
  const rand = mulberry32(seed ^ 0x55);
  return {
    name: "kalshi",
    cfg,
    adapter,
    refs,
    subscribed: () => server.subscribed(),
    expected: new Set(refs.map((r) => r.market_id)),
    drop: () => server.drop(),
    mute: (on) => server.mute(on),
    refuse: (on) => server.refuseUpgrades(on ? 503 : null),
    attempts: () => server.upgradeAttempts,
    burst(n, vc) {
      for (let i = 0; i < n; i++) {
        const t = refs[Math.floor(rand() * refs.length)].market_id;
        const side = rand() < 0.5 ? "yes" : "no";
        const book = server.books.get(t)![side];
        const best = Math.max(0, ...book.keys());
        // Stay below the other side's implied ask so the books never cross.
        const other = server.books.get(t)![side === "yes" ? "no" : "yes"];
        const ceiling = 99 - Math.max(0, ...other.keys());
        const price = Math.max(1, Math.min(ceiling, best - Math.floor(rand() * 4)));
        const cur = book.get(price) ?? 0;
        const delta = cur > 0 && rand() < 0.3 ? -cur : 1 + Math.floor(rand() * 50);
        server.delta(t, side, price, delta, clock.now());
      }
      return () =>
        refs.every((r) => {
          const b = server.books.get(r.market_id)!;
          const bids = (m: Map<number, number>) => [...m].filter(([, z]) => z > 0).sort((x, y) => y[0] - x[0]);
          const yes = bids(b.yes);
          const no = bids(b.no);
          return sameBook(vc, r.market_id, "yes", {
            bidPx: yes.map((x) => x[0] / 100),
            bidSz: yes.map((x) => x[1]),
            askPx: no.map((x) => (100 - x[0]) / 100),
            askSz: no.map((x) => x[1]),
          });
        });
    },
    tick: () => server.ping(),
    detectBoundMs: 30_000 + 1000,
    stop: () => server.stop(),
  };
}

function sameBook(
  vc: VenueCollector,
  market: string,
  outcome: string,
  want: { bidPx: number[]; bidSz: number[]; askPx: number[]; askSz: number[] },
): boolean {
  const b = vc.books.get(market, outcome);
  if (!b) return false;
  const eq = (a: Float64Array, n: number, w: number[]) =>
    n === w.length && w.every((x, i) => Math.abs(a[i] - x) < 1e-9);
  return (
    eq(b.bids.px, b.bids.len, want.bidPx) &&
    eq(b.bids.sz, b.bids.len, want.bidSz) &&
    eq(b.asks.px, b.asks.len, want.askPx) &&
    eq(b.asks.sz, b.asks.len, want.askSz)
  );
}

const setEq = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

/** Most entries of sorted `times` inside any window of RATE_WINDOW_MS. */
export function maxInWindow(times: number[]): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= RATE_WINDOW_MS) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

class Driver {
  constructor(
    readonly clock: SimClock,
    private readonly t: Target,
  ) {}
  private lastTick = 0;
  /** Advances simulated time in steps, giving loopback I/O a turn, until `pred` holds. */
  async until(pred: () => boolean, what: string, stepMs = 100, realLimitMs = 30_000): Promise<void> {
    const deadline = performance.now() + realLimitMs;
    while (!pred()) {
      if (performance.now() > deadline) throw new Error(`${this.t.name}: timed out waiting for ${what}`);
      await this.step(stepMs);
    }
  }
  async step(ms: number): Promise<void> {
    await this.clock.advance(ms);
    if (this.t.tick && this.clock.now() - this.lastTick >= 1000) {
      this.lastTick = this.clock.now();
      this.t.tick();
    }
    await Bun.sleep(1);
  }
}

export async function runNetwork(
  venue: "polymarket" | "kalshi",
  o: { seed: number; drops?: number; halfOpen?: number; bursts?: number; burstSize?: number; outageMs?: number },
): Promise<NetworkResult> {
  const clock = new SimClock(T0);
  const t = venue === "polymarket" ? await polymarketTarget(clock, o.seed) : await kalshiTarget(clock, o.seed);
  const d = new Driver(clock, t);
  const rows = { freshWhileDown: 0 };
  // A row taken while the connection is down must say "stale".
  const sink = {
    append(s: SnapshotInput) {
      const c = vc.connectedCount();
      if (c.up < c.total && !s.staleReason) rows.freshWhileDown++;
    },
  };
  const vc: VenueCollector = new VenueCollector({
    venue: t.name,
    settings: t.cfg.collect,
    adapter: t.adapter,
    sink,
    clock,
    metrics: new Metrics(),
    dataDir: "/nonexistent-chaos",
    topK: 10,
    flushSecs: 3600,
    logIntervalSecs: 3600,
    targets: () => ({ hot: t.refs.slice(0, 5), warm: t.refs.slice(5) }),
    log: quietLog,
  });
  // The journal is not under test here; keep it from touching the disk.
  (vc.journal as unknown as { flush: () => Promise<void> }).flush = async () => {};
  const res: NetworkResult = {
    venue,
    drops: 0,
    halfOpen: 0,
    slowConsumerBursts: 0,
    outages: 0,
    maxDetectMs: 0,
    detectBoundMs: t.detectBoundMs,
    outageAttempts: 0,
    maxAttemptsPerMinute: 0,
    configuredMaxPerMinute: t.cfg.collect.reconnect_max_per_minute,
    resubscribedExact: true,
    freshRowsWhileDown: 0,
    booksNotStaleWhileDown: 0,
    burstBooksMatch: true,
    burstMessages: 0,
    recoverMs: 0,
  };
  const allFresh = () =>
    [...vc.books.all()].length === t.refs.length * 2 && [...vc.books.all()].every((b) => b.staleKind === null);
  const notStale = () => [...vc.books.all()].filter((b) => b.staleKind === null).length;
  /** Books not marked stale, counted only while the connection is actually down (it may be back already). */
  const notStaleWhileDown = () => {
    const c = vc.connectedCount();
    return c.up < c.total ? notStale() : 0;
  };
  const healthy = () => allFresh() && setEq(t.subscribed(), t.expected);
  /** Waits for the disconnect, checks staleness, then for an exact resubscription with fresh books. */
  const recover = async (what: string, r0: number) => {
    await d
      .until(() => vc.counters.reconnects > r0 && healthy(), `${what}: reconnect and resubscribe`)
      .catch((e) => {
        const sub = t.subscribed();
        throw new Error(
          `${(e as Error).message} (reconnects ${vc.counters.reconnects - r0}, subscribed ${sub.size}/${t.expected.size}, fresh ${notStale()}/${[...vc.books.all()].length})`,
        );
      });
    if (!setEq(t.subscribed(), t.expected)) res.resubscribedExact = false;
  };
  const waitDown = async (what: string, t0: number) => {
    const d0 = vc.counters.disconnects;
    await d.until(() => vc.counters.disconnects > d0, `${what}: disconnect noticed`);
    res.booksNotStaleWhileDown += notStaleWhileDown();
    return clock.now() - t0;
  };
  try {
    const started = vc.start();
    await d.until(() => healthy(), "first subscription");
    await started;
    for (let i = 0; i < (o.drops ?? 3); i++) {
      const r0 = vc.counters.reconnects;
      t.drop();
      res.drops++;
      await waitDown("drop", clock.now());
      await recover("drop", r0);
    }
    for (let i = 0; i < (o.halfOpen ?? 2); i++) {
      const r0 = vc.counters.reconnects;
      t.mute(true);
      res.halfOpen++;
      const ms = await waitDown("half-open", clock.now());
      res.maxDetectMs = Math.max(res.maxDetectMs, ms);
      t.mute(false);
      await recover("half-open", r0);
    }
    for (let i = 0; i < (o.bursts ?? 2) && t.burst; i++) {
      const d0 = vc.counters.disconnects;
      const n = o.burstSize ?? 5000;
      const check = t.burst(n, vc);
      res.slowConsumerBursts++;
      res.burstMessages += n;
      Bun.sleepSync(100); // the consumer is busy while the burst queues up
      await d.until(check, "burst applied", 10);
      if (vc.counters.disconnects !== d0) res.burstBooksMatch = false;
    }
    // The outage: every upgrade refused for outageMs of simulated time.
    const outageMs = o.outageMs ?? 5 * MIN;
    t.refuse(true);
    const r0 = vc.counters.reconnects;
    const a0 = t.attempts().length;
    const t0 = clock.now();
    t.drop();
    res.outages++;
    await waitDown("outage", t0);
    while (clock.now() < t0 + outageMs) {
      await d.step(250);
      if (clock.now() % 30_000 < 250) res.booksNotStaleWhileDown += notStaleWhileDown();
    }
    const during = t
      .attempts()
      .slice(a0)
      .filter((x) => x <= t0 + outageMs);
    res.outageAttempts = during.length;
    res.maxAttemptsPerMinute = maxInWindow(during);
    t.refuse(false);
    const tEnd = clock.now();
    await recover("outage end", r0);
    res.recoverMs = clock.now() - tEnd;
    res.freshRowsWhileDown = rows.freshWhileDown;
  } finally {
    await vc.stop().catch(() => {});
    t.stop();
  }
  return res;
}

/** The mock venue in-process: a drop followed by a refusing outage; attempts counted from its refusals. */
export async function runMockOutage(o: { seed: number; outageMs?: number }): Promise<NetworkResult> {
  const clock = new SimClock(T0);
  const outageMs = o.outageMs ?? 5 * MIN;
  const cfg = parseConfig({
    collector: collectSettings({}),
    venues: { mock: { universe_size: 100, seed: o.seed, updates_per_sec: 2, drop_rate_per_hour: 2 } },
  }).selected[0];
  const venue = new MockVenue(cfg, { clock, env: {} }, { outageMs: () => outageMs });
  const refs = (await venue.discover())
    .filter((m) => m.status === "active")
    .slice(0, 20)
    .map((m) => ({ market_id: m.market_id, outcome_ids: m.outcome_ids }));
  const attempts: number[] = [];
  let downAt = 0;
  let down = false;
  let up = true;
  let freshWhileDown = 0;
  const connect = venue.connect.bind(venue);
  venue.connect = (sink) =>
    connect((ev, ts) => {
      if (ev.kind === "connection") {
        if (ev.state === "disconnected" && ev.reason === "mock: reconnect refused") attempts.push(ts);
        if (ev.state === "disconnected" && ev.reason === "mock: connection dropped") (downAt = ts), (down = true);
        up = ev.state === "connected";
      }
      sink(ev, ts);
    });
  const vc = new VenueCollector({
    venue: "mock",
    settings: cfg.collect,
    adapter: venue,
    clock,
    metrics: new Metrics(),
    dataDir: "/nonexistent-chaos",
    topK: 10,
    flushSecs: 3600,
    logIntervalSecs: 3600,
    targets: () => ({ hot: refs.slice(0, 5), warm: refs.slice(5) }),
    log: quietLog,
    sink: { append: (s: SnapshotInput) => void (!up && !s.staleReason && freshWhileDown++) },
  });
  (vc.journal as unknown as { flush: () => Promise<void> }).flush = async () => {};
  await vc.start();
  let notStale = 0;
  // Run until the first drop, then through its outage, checking the books every 30 s.
  while (!down) await clock.advance(1000);
  const until = downAt + outageMs;
  while (clock.now() < until) {
    await clock.advance(30_000);
    if (clock.now() < until) for (const b of vc.books.all()) if (b.staleKind === null) notStale++;
  }
  const r0 = vc.counters.reconnects;
  while (vc.counters.reconnects === r0) await clock.advance(1000);
  const t1 = clock.now();
  while (![...vc.books.all()].every((b) => b.staleKind === null)) await clock.advance(100);
  const recoverMs = clock.now() - t1;
  const exact = setEq(new Set(venue.subscribedIds()), new Set(refs.map((r) => r.market_id)));
  await vc.stop();
  const during = attempts.filter((x) => x <= until);
  return {
    venue: "mock",
    drops: 1,
    halfOpen: 0,
    slowConsumerBursts: 0,
    outages: 1,
    maxDetectMs: 0,
    detectBoundMs: 0,
    outageAttempts: during.length,
    maxAttemptsPerMinute: maxInWindow(during),
    configuredMaxPerMinute: cfg.collect.reconnect_max_per_minute,
    resubscribedExact: exact,
    freshRowsWhileDown: freshWhileDown,
    booksNotStaleWhileDown: notStale,
    burstBooksMatch: true,
    burstMessages: 0,
    recoverMs,
  };
}
