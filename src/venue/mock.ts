/**
 * Deterministic synthetic venue: universe and books from the seed, events on the injected clock through one timer
 * and one heap of next-update times (thousands of markets, as fast as a SimClock is driven); drops, seq gaps and
 * malformed messages injected at the configured rates.
 */
import { SimClock, type Clock, type Timer } from "../clock.ts";
import type { VenueConfig } from "../config.ts";
import type { MockOptions } from "./mock/config.ts";
import { Backoff } from "./backoff.ts";
import { corruptLevel, mapMockMessage, type MockWireLevel, type MockWireMessage } from "./mock-mapper.ts";
import { canFlip, renderTitle, rewordTitle, type TitleSpec, titleSpec } from "./mock-titles.ts";
import { fairValue, nextMove, type TwinTruth, twinLink, twinPairs } from "./mock-twins.ts";
import type { AdapterContext, BookKey, DiscoverOptions, EventSink, VenueAdapter, VenueEvent } from "./types.ts";
import type { MarketInfo, MarketRef } from "../market.ts";

// ---- seeded randomness -------------------------------------------------------------------------------------

/** 32-bit mix of two integers (seed, index) into a stream seed. */
export function hash32(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be59b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32 step on a state slot: small, fast, good enough for synthetic data. */
function step(state: Uint32Array, i: number): number {
  const s = (state[i] = (state[i] + 0x6d2b79f5) >>> 0);
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** A seeded source of numbers in [0,1). */
export function mulberry32(seed: number): () => number {
  const st = new Uint32Array([seed >>> 0]);
  return () => step(st, 0);
}

// ---- universe ------------------------------------------------------------------------------------------------

export type Activity = "quiet" | "normal" | "busy" | "wide" | "one_sided" | "empty";

interface Profile {
  /** Relative update rate (normalized over the universe so the mean is updates_per_sec). */
  rate: number;
  minLevels: number;
  maxLevels: number;
  /** Half-spread range in ticks. */
  spread: [number, number];
  sides: "both" | "bid" | "ask" | "none";
  sizeScale: number;
}

const PROFILES: Record<Activity, Profile> = {
  quiet: { rate: 0.05, minLevels: 2, maxLevels: 8, spread: [1, 4], sides: "both", sizeScale: 50 },
  normal: { rate: 1, minLevels: 6, maxLevels: 20, spread: [1, 2], sides: "both", sizeScale: 200 },
  busy: { rate: 8, minLevels: 20, maxLevels: 45, spread: [1, 1], sides: "both", sizeScale: 1000 },
  wide: { rate: 0.5, minLevels: 3, maxLevels: 10, spread: [8, 20], sides: "both", sizeScale: 100 },
  one_sided: { rate: 0.3, minLevels: 2, maxLevels: 10, spread: [2, 6], sides: "bid", sizeScale: 80 },
  empty: { rate: 0, minLevels: 0, maxLevels: 0, spread: [1, 1], sides: "none", sizeScale: 1 },
};
const ACTIVITY_WEIGHTS: [Activity, number][] = [
  ["quiet", 0.33],
  ["normal", 0.3],
  ["busy", 0.14],
  ["wide", 0.1],
  ["one_sided", 0.08],
  ["empty", 0.05],
];
const TAGS = ["politics", "sports", "crypto", "economics", "weather", "science", "entertainment", "tech"];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Where the mock puts "now" for its universe: the UTC day the adapter was created in, so a scan and a later
 * collect on the same day see the same close times. Closing-soon markets close through the day and into the
 * next, so at any hour some close within hours; the ones already past are reported closed.
 */
export const anchorOf = (now: number): number => Math.floor(now / DAY) * DAY;

export interface MockMarket extends MarketInfo {
  /** volume / liquidity: dollars, like the real venues' universe numbers, so every selection filter works here. */
  extra: { activity: Activity; rate_per_sec: number; volume: number; liquidity: number; twin_of?: TwinTruth };
}

/** What market i's title asks (its own seeded stream: the title draws nothing from the universe's stream). */
function specOf(seed: number, i: number, m: MarketInfo): TitleSpec {
  return titleSpec(mulberry32(hash32(seed ^ 0x7f4a7c15, i)), Math.max(0, TAGS.indexOf(m.tags[0])), m.close_ts ?? 0);
}

/** The universe for a seed and an anchor time: pure. */
export function mockUniverse(
  venue: string,
  o: Pick<MockOptions, "universe_size" | "seed" | "closed_share" | "updates_per_sec">,
  anchor: number,
): MockMarket[] {
  const out: MockMarket[] = [];
  const st = new Uint32Array(1);
  const rawRates: number[] = [];
  for (let i = 0; i < o.universe_size; i++) {
    st[0] = hash32(o.seed, i);
    const r = () => step(st, 0);
    let u = r();
    let activity: Activity = "normal";
    for (const [a, w] of ACTIVITY_WEIGHTS) {
      if (u < w) {
        activity = a;
        break;
      }
      u -= w;
    }
    const closed = r() < o.closed_share;
    const soon = r() < 0.1;
    const close_ts = closed
      ? anchor - Math.floor((1 + r() * 29) * DAY)
      : soon
        ? anchor + Math.floor(15 * 60_000 + r() * 36 * HOUR)
        : anchor + Math.floor((1 + r() * 179) * DAY);
    const recent = r() < 0.1;
    const created_ts = recent ? anchor - Math.floor(r() * 6 * HOUR) : anchor - Math.floor((1 + r() * 89) * DAY);
    const t1 = Math.floor(r() * TAGS.length);
    const t2 = Math.floor(r() * TAGS.length);
    const tags = t1 === t2 ? [TAGS[t1]] : [TAGS[t1], TAGS[t2]];
    const rate = PROFILES[activity].rate * (0.5 + 1.5 * r());
    rawRates.push(closed ? 0 : rate);
    const id = `mock-${String(i).padStart(6, "0")}`;
    // From a stream of its own, so the draws above (and every seed's universe) stay what they were.
    const money = mulberry32(hash32(o.seed ^ 0x5eed, i));
    const volume = Math.round(PROFILES[activity].sizeScale * 100 * 10 ** (money() * 3));
    const liquidity = Math.round(PROFILES[activity].sizeScale * 10 * (0.2 + money() * 4));
    out.push({
      venue,
      market_id: id,
      outcome_ids: [`${id}-yes`, `${id}-no`],
      title: "",
      close_ts,
      status: closed ? "closed" : "active",
      tags,
      created_ts,
      extra: { activity, rate_per_sec: 0, volume, liquidity },
    });
  }
  const active = rawRates.filter((x, i) => out[i].status === "active").length;
  const mean = rawRates.reduce((s, x) => s + x, 0) / Math.max(1, active);
  for (let i = 0; i < out.length; i++) {
    out[i].extra.rate_per_sec = mean > 0 ? (rawRates[i] / mean) * o.updates_per_sec : 0;
    out[i].title = renderTitle(specOf(o.seed, i, out[i]));
  }
  return out;
}

/** How a market's YES fair value moves: its own seeded jumps, or (a twin) its source's, lagged and maybe flipped. */
interface Follow {
  seed: number;
  market: number;
  base: number;
  moves: number;
  lagMs: number;
  flipped: boolean;
  offset: number;
}

/** The first book draw of market i, outcome 0: the YES mid its book hovers around when nothing moves it. */
function baseYesMid(seed: number, i: number, activity: Activity): number {
  const st = new Uint32Array([hash32(seed + 1, i)]);
  const u = step(st, 0);
  return PROFILES[activity].minLevels >= 20 ? 30 + Math.floor(u * 41) : 8 + Math.floor(u * 85);
}

/**
 * A mock venue's universe with, when it is a twin (`twin_source` resolved from twin_of), `twin_share` of its markets
 * rewritten as the source's questions; `follow` says whose fair value each market's books track (undefined: a fixed
 * mid, as without moves).
 */
export function mockVenueUniverse(
  venue: string,
  o: MockOptions,
  anchor: number,
): { markets: MockMarket[]; follow: (Follow | undefined)[] } {
  const markets = mockUniverse(venue, o, anchor);
  const follow: (Follow | undefined)[] = markets.map((m, i) =>
    o.moves_per_hour > 0
      ? {
          seed: o.seed,
          market: i,
          base: baseYesMid(o.seed, i, m.extra.activity),
          moves: o.moves_per_hour,
          lagMs: 0,
          flipped: false,
          offset: 0,
        }
      : undefined,
  );
  const src = o.twin_source;
  if (!src) return { markets, follow };
  const so = src.options;
  const sources = mockUniverse(src.venue, so, anchor);
  for (const [j, i] of twinPairs(o.seed, markets.length, sources.length, o.twin_share)) {
    const s = sources[i];
    const m = markets[j];
    const spec = specOf(so.seed, i, s);
    const link = twinLink(o.seed, j, i, canFlip(spec));
    m.title = rewordTitle(spec, mulberry32(hash32(o.seed ^ 0x3c6ef372, j)), link.flipped);
    m.close_ts = s.close_ts === null ? null : s.close_ts + link.closeShiftMs;
    m.status = s.status;
    m.tags = s.tags.map((t) => t[0].toUpperCase() + t.slice(1));
    m.extra.twin_of = {
      venue: src.venue,
      market_id: s.market_id,
      orientation: link.flipped ? "flipped" : "same",
      lag_ms: link.lagMs,
    };
    follow[j] = {
      seed: so.seed,
      market: i,
      base: baseYesMid(so.seed, i, s.extra.activity),
      moves: so.moves_per_hour,
      lagMs: link.lagMs,
      flipped: link.flipped,
      offset: link.offsetTicks,
    };
  }
  return { markets, follow };
}

// ---- books ---------------------------------------------------------------------------------------------------

const TICKS = 100; // prices i/100 for i in 1..99; 0 and 100 are "no bid"/"no ask" sentinels
const PRICE = Float64Array.from({ length: TICKS + 1 }, (_, i) => i / TICKS);

/** One outcome's book in the mock: size per tick; bids are ticks ≤ bestBid, asks ticks ≥ bestAsk. */
interface MockBook {
  market: number;
  outcomeId: string;
  size: Float64Array;
  bestBid: number;
  bestAsk: number;
  nBid: number;
  nAsk: number;
  /** Mid the book drifts back to, in ticks. */
  home: number;
  seq: number;
  /** Queued for a full "book" message. */
  pendingBook: boolean;
}

// ---- the adapter ---------------------------------------------------------------------------------------------

export interface MockStats {
  levels: number;
  books: number;
  gaps: number;
  malformed: number;
  rejected: number;
  drops: number;
  reconnectAttempts: number;
  reconnects: number;
}

export interface MockVenueOptions {
  /** Coalesce wake-ups to at most one per this many clock ms (events keep their own sourceTs); default 250 on a SimClock, else 20. */
  batchMs?: number;
  /** Length of the outage after a drop, during which reconnect attempts fail (default: random up to 20 s). */
  outageMs?: (random: () => number) => number;
}

export class MockVenue implements VenueAdapter {
  readonly name: string;
  readonly stats: MockStats = {
    levels: 0,
    books: 0,
    gaps: 0,
    malformed: 0,
    rejected: 0,
    drops: 0,
    reconnectAttempts: 0,
    reconnects: 0,
  };
  private readonly o: MockOptions;
  private readonly clock: Clock;
  private readonly universe: MockMarket[];
  private readonly follow: (Follow | undefined)[];
  /** Per market: when its fair value next jumps (its books are then rebuilt around the new value). */
  private readonly moveAt: Float64Array;
  private readonly byId = new Map<string, number>();
  private readonly rng: Uint32Array; // per market event stream
  private readonly faultRng: () => number;
  private readonly books: (MockBook | undefined)[] = [];
  private readonly subscribed: Uint8Array;
  private readonly gen: Int32Array;
  private readonly rates: Float64Array;
  private readonly profiles: Profile[];
  private readonly heap: DueHeap;
  private readonly backoff: Backoff;
  private readonly batchMs: number;
  private readonly outageMs: (random: () => number) => number;
  private sink: EventSink | null = null;
  private connected = false;
  private closed = false;
  private pending: MockBook[] = [];
  private timer: Timer | null = null;
  private timerAt = Infinity;
  private lastWake = -Infinity;
  private nextDropAt = Infinity;
  private reconnectAt = Infinity;
  private outageUntil = -Infinity;
  private corruptCount = 0;
  /** The level message of the update being sent, refilled per update: the mapper and corruptLevel copy what they keep. */
  private readonly wire: MockWireLevel = {
    type: "level",
    market: "",
    outcome: "",
    side: "bid",
    price: 0,
    size: 0,
    seq: 0,
    ts: 0,
  };

  constructor(cfg: VenueConfig, ctx: AdapterContext, opts: MockVenueOptions = {}) {
    this.name = cfg.name;
    this.o = cfg.options as MockOptions;
    this.clock = ctx.clock;
    // Simulated time: every wake-up costs real time (the SimClock settles I/O after each timer), so coalesce more.
    this.batchMs = opts.batchMs ?? (ctx.clock instanceof SimClock ? 250 : 20);
    this.outageMs = opts.outageMs ?? ((r) => r() * 20_000);
    const built = mockVenueUniverse(cfg.name, this.o, anchorOf(ctx.clock.now()));
    this.universe = built.markets;
    this.follow = built.follow;
    const n = this.universe.length;
    this.moveAt = new Float64Array(n).fill(Infinity);
    this.rng = new Uint32Array(n);
    this.rates = new Float64Array(n);
    this.profiles = this.universe.map((m) => PROFILES[m.extra.activity]);
    for (let i = 0; i < n; i++) {
      this.byId.set(this.universe[i].market_id, i);
      this.rng[i] = hash32(this.o.seed ^ 0x5bd1e995, i);
      this.rates[i] = this.universe[i].extra.rate_per_sec;
    }
    this.subscribed = new Uint8Array(n);
    this.gen = new Int32Array(n);
    this.heap = new DueHeap(64);
    const fault = mulberry32(hash32(this.o.seed, 0x7fffffff));
    this.faultRng = fault;
    const c = cfg.collect;
    this.backoff = new Backoff(
      {
        baseMs: c.reconnect_base_ms,
        capMs: c.reconnect_cap_ms,
        resetAfterMs: c.reconnect_reset_secs * 1000,
        maxPerMinute: c.reconnect_max_per_minute,
      },
      ctx.random ?? fault,
    );
  }

  async discover(opts: DiscoverOptions = {}): Promise<MarketInfo[]> {
    const now = this.clock.now();
    const list = opts.limit !== undefined ? this.universe.slice(0, opts.limit) : this.universe;
    // A market whose close time has passed since the anchor is reported closed, as a venue would.
    return list.map((m) => ({
      ...m,
      tags: [...m.tags],
      outcome_ids: [...m.outcome_ids],
      extra: { ...m.extra },
      status: m.status === "active" && m.close_ts! <= now ? "closed" : m.status,
    }));
  }

  async connect(sink: EventSink): Promise<void> {
    this.sink = sink;
    this.closed = false;
    this.goOnline(this.clock.now());
  }

  subscribe(markets: MarketRef[]): void {
    const now = this.clock.now();
    for (const ref of markets) {
      const i = this.byId.get(ref.market_id);
      if (i === undefined) {
        this.emit({ kind: "venue_error", reason: "unknown market", detail: ref.market_id }, now);
        continue;
      }
      if (this.subscribed[i]) continue;
      this.subscribed[i] = 1;
      this.gen[i]++;
      if (this.connected) this.activate(i, now);
    }
    this.rearm(now);
  }

  unsubscribe(markets: MarketRef[]): void {
    for (const ref of markets) {
      const i = this.byId.get(ref.market_id);
      if (i === undefined || !this.subscribed[i]) continue;
      this.subscribed[i] = 0;
      this.gen[i]++; // its heap entry is now dead
      for (const b of this.booksOf(i)) b.pendingBook = false;
    }
  }

  resync(keys: BookKey[]): void {
    for (const k of keys) {
      const i = this.byId.get(k.marketId);
      if (i === undefined || !this.subscribed[i]) continue;
      const b = this.booksOf(i).find((x) => x.outcomeId === k.outcomeId);
      if (b) this.queueBook(b);
    }
    this.rearm(this.clock.now());
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connected = false;
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = Infinity;
  }

  /** Markets this adapter has subscribed now. */
  subscribedIds(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.subscribed.length; i++) if (this.subscribed[i]) out.push(this.universe[i].market_id);
    return out;
  }

  /**
   * Emits everything due up to `now` (book messages, faults, level updates in time order). The timer calls it;
   * a benchmark may call it directly to run without a clock in the loop.
   */
  pump(now: number): void {
    if (this.closed || !this.sink) return;
    this.flushBooks(now);
    if (!this.connected) {
      if (this.reconnectAt <= now) this.tryReconnect(now);
      if (!this.connected) return;
    }
    const heap = this.heap;
    const until = Math.min(now, this.nextDropAt);
    while (heap.size > 0 && heap.topAt() <= until) {
      const at = heap.topAt();
      const raw = heap.topMarket();
      const g = heap.topGen();
      heap.pop();
      const isClose = raw < 0; // close entries carry -(market + 1)
      const i = isClose ? -raw - 1 : raw;
      if (g !== this.gen[i] || !this.subscribed[i]) continue;
      if (isClose) {
        // The market is over: say so once and stop generating for it (the collector stops watching it).
        this.subscribed[i] = 0;
        this.gen[i]++;
        this.emit({ kind: "resolved", marketId: this.universe[i].market_id }, now);
        continue;
      }
      const close = this.universe[i].close_ts;
      if (close !== null && at >= close) continue; // its close entry handles it
      this.update(i, at, now);
      this.schedule(i, at);
    }
    if (this.nextDropAt <= now) this.drop(now);
  }

  // ---- internals ------------------------------------------------------------------------------------------

  private emit(ev: VenueEvent, now: number): void {
    this.sink?.(ev, now);
  }

  private deliver(msg: unknown, now: number): void {
    const ev = mapMockMessage(msg);
    if (ev.kind === "rejected") this.stats.rejected++;
    this.sink!(ev, now);
  }

  private goOnline(now: number): void {
    this.connected = true;
    this.backoff.connected(now);
    this.nextDropAt =
      this.o.drop_rate_per_hour > 0 ? now + expo(this.faultRng, HOUR / this.o.drop_rate_per_hour) : Infinity;
    this.reconnectAt = Infinity;
    this.emit({ kind: "connection", state: "connected", connId: 0 }, now);
    this.heap.clear();
    for (let i = 0; i < this.subscribed.length; i++) {
      if (!this.subscribed[i]) continue;
      this.gen[i]++;
      this.activate(i, now);
    }
    this.rearm(now);
  }

  private drop(now: number): void {
    this.stats.drops++;
    this.connected = false;
    this.nextDropAt = Infinity;
    for (const b of this.pending) b.pendingBook = false;
    this.pending = [];
    this.outageUntil = now + this.outageMs(this.faultRng);
    this.reconnectAt = now + this.backoff.failed(now);
    this.emit(
      {
        kind: "connection",
        state: "disconnected",
        connId: 0,
        markets: this.subscribedIds(),
        reason: "mock: connection dropped",
      },
      now,
    );
  }

  private tryReconnect(now: number): void {
    this.stats.reconnectAttempts++;
    if (now < this.outageUntil) {
      this.reconnectAt = now + this.backoff.failed(now);
      this.emit({ kind: "connection", state: "disconnected", connId: 0, reason: "mock: reconnect refused" }, now);
      return;
    }
    this.stats.reconnects++;
    this.goOnline(now);
    this.flushBooks(now);
  }

  /** Starts a subscribed market: its book messages (unless it is over), its first update and its close. */
  private activate(i: number, now: number): void {
    const m = this.universe[i];
    const over = m.status !== "active" || (m.close_ts !== null && m.close_ts <= now);
    if (!over) {
      this.queueBooks(i);
      this.schedule(i, now);
    }
    if (over || m.close_ts !== null) this.heap.push(over ? now : m.close_ts!, -i - 1, this.gen[i]);
  }

  private schedule(i: number, from: number): void {
    const rate = this.rates[i];
    if (!(rate > 0)) return;
    this.heap.push(from + (-Math.log(1 - step(this.rng, i)) * 1000) / rate, i, this.gen[i]);
  }

  /** Outcome k's book of market i (no array allocation: the hot path calls this per event). */
  private bookAt(i: number, k: 0 | 1): MockBook {
    const b = this.books[2 * i + k];
    return b ?? this.booksOf(i)[k];
  }

  private booksOf(i: number): MockBook[] {
    let b0 = this.books[2 * i];
    if (!b0) {
      const now = this.clock.now();
      b0 = this.books[2 * i] = this.initBook(i, 0, now);
      this.books[2 * i + 1] = this.initBook(i, 1, now);
      this.moveAt[i] = this.nextMoveAt(i, now);
    }
    return [b0, this.books[2 * i + 1]!];
  }

  /** Market i's YES fair value in ticks at t, or null when its books hover around their own fixed draw. */
  private yesHome(i: number, t: number): number | null {
    const f = this.follow[i];
    if (!f) return null;
    const v = fairValue(f.seed, f.market, f.base, f.moves, t - f.lagMs);
    return Math.max(2, Math.min(TICKS - 2, (f.flipped ? TICKS - v : v) + f.offset));
  }

  private nextMoveAt(i: number, t: number): number {
    const f = this.follow[i];
    return f ? nextMove(f.seed, f.market, f.moves, t - f.lagMs) + f.lagMs : Infinity;
  }

  /** The fair value jumped: both books are rebuilt around it and sent whole at once (seq continues). */
  private rehome(i: number, at: number, now: number): void {
    for (let k = 0; k < 2; k++) {
      const old = this.books[2 * i + k]!;
      old.pendingBook = false;
      const b = this.initBook(i, k, at);
      b.seq = old.seq + 1;
      this.books[2 * i + k] = b;
      this.queueBook(b);
    }
    this.moveAt[i] = this.nextMoveAt(i, at);
    this.flushBooks(now);
  }

  private initBook(i: number, outcome: number, t: number): MockBook {
    const m = this.universe[i];
    const p = PROFILES[m.extra.activity];
    const st = new Uint32Array([hash32(this.o.seed + outcome + 1, i)]);
    const r = () => step(st, 0);
    const drawn = p.minLevels >= 20 ? 30 + Math.floor(r() * 41) : 8 + Math.floor(r() * 85);
    const yesMid = this.yesHome(i, t) ?? drawn;
    const home = outcome === 0 ? yesMid : TICKS - yesMid;
    const half = p.spread[0] + Math.floor(r() * (p.spread[1] - p.spread[0] + 1));
    const b: MockBook = {
      market: i,
      outcomeId: m.outcome_ids[outcome],
      size: new Float64Array(TICKS + 1),
      bestBid: 0,
      bestAsk: TICKS,
      nBid: 0,
      nAsk: 0,
      home,
      seq: 0,
      pendingBook: false,
    };
    if (p.sides === "none") return b;
    const want = p.minLevels + Math.floor(r() * (p.maxLevels - p.minLevels + 1));
    const sides = p.sides === "both" ? ["bid", "ask"] : [p.sides];
    for (const side of sides) {
      let t = side === "bid" ? Math.max(1, home - half) : Math.min(TICKS - 1, home + half);
      if (side === "ask" && t <= b.bestBid) t = b.bestBid + 1;
      for (let n = 0; n < want && t >= 1 && t <= TICKS - 1; t += side === "bid" ? -1 : 1) {
        if (p.minLevels < 20 && r() < 0.2) continue; // gaps in thin books
        b.size[t] = newSize(r, p.sizeScale);
        n++;
        if (side === "bid") {
          if (b.bestBid === 0) b.bestBid = t;
          b.nBid++;
        } else {
          if (b.bestAsk === TICKS) b.bestAsk = t;
          b.nAsk++;
        }
      }
    }
    return b;
  }

  private queueBooks(i: number): void {
    for (const b of this.booksOf(i)) this.queueBook(b);
  }

  private queueBook(b: MockBook): void {
    if (b.pendingBook) return;
    b.pendingBook = true;
    this.pending.push(b);
  }

  private flushBooks(now: number): void {
    if (!this.connected || this.pending.length === 0) return;
    const list = this.pending;
    this.pending = [];
    for (const b of list) {
      if (!b.pendingBook) continue;
      b.pendingBook = false;
      this.stats.books++;
      const bid_px: number[] = [];
      const bid_sz: number[] = [];
      const ask_px: number[] = [];
      const ask_sz: number[] = [];
      for (let t = b.bestBid; t >= 1; t--) if (b.size[t] > 0) bid_px.push(PRICE[t]), bid_sz.push(b.size[t]);
      for (let t = b.bestAsk; t <= TICKS - 1; t++) if (b.size[t] > 0) ask_px.push(PRICE[t]), ask_sz.push(b.size[t]);
      const m = this.universe[b.market];
      this.deliver(
        {
          type: "book",
          market: m.market_id,
          outcome: b.outcomeId,
          bid_px,
          bid_sz,
          ask_px,
          ask_sz,
          seq: b.seq,
          ts: now,
        } satisfies MockWireMessage,
        now,
      );
    }
  }

  /** One book change on one of market i's outcomes, at time `at`. */
  private update(i: number, at: number, now: number): void {
    if (at >= this.moveAt[i]) this.rehome(i, at, now);
    const rng = this.rng;
    const p = this.profiles[i];
    const b = this.bookAt(i, step(rng, i) < 0.5 ? 0 : 1);
    const s = b.size;
    const u = step(rng, i);
    let side: "bid" | "ask";
    if (p.sides === "both") side = step(rng, i) < 0.5 ? "bid" : "ask";
    else if (p.sides === "none") return;
    else side = p.sides;
    const isBid = side === "bid";
    const n = isBid ? b.nBid : b.nAsk;
    const best = isBid ? b.bestBid : b.bestAsk;
    let tick: number;
    let size: number;
    const spread = b.bestAsk - b.bestBid;
    const mid = (b.bestBid + (b.bestAsk === TICKS ? b.bestBid + 2 : b.bestAsk)) / 2;
    const towardHome = isBid ? mid < b.home + 3 : mid > b.home - 3;
    if (n === 0 || (u < 0.08 && spread > 1 && n < p.maxLevels && towardHome)) {
      // Improve: a new best inside the spread (or the first level of an empty side), leaning back toward home.
      if (n === 0)
        tick = isBid
          ? Math.max(1, Math.min(b.home - 1, b.bestAsk - 1))
          : Math.min(TICKS - 1, Math.max(b.home + 1, b.bestBid + 1));
      else tick = isBid ? best + 1 : best - 1;
      if (tick < 1 || tick > TICKS - 1 || tick >= b.bestAsk || tick <= b.bestBid) return;
      size = sizeFrom(step(rng, i), p.sizeScale);
    } else if (u >= 0.08 && u < 0.16 && n > p.minLevels && (isBid ? mid > b.home - 3 : mid < b.home + 3)) {
      // Pull the best level: the price moves away (only when that does not push the mid far from home).
      tick = best;
      size = 0;
    } else {
      // Change a level near the top: geometric distance from the best.
      const k = Math.floor(-Math.log(1 - step(rng, i)) * (p.minLevels >= 20 ? 8 : 2));
      tick = isBid ? best - k : best + k;
      if (tick < 1) tick = best;
      if (tick > TICKS - 1) tick = best;
      const r = step(rng, i);
      if (s[tick] > 0) size = r < 0.15 && n > p.minLevels && tick !== best ? 0 : sizeFrom(step(rng, i), p.sizeScale);
      else if (n < p.maxLevels) size = sizeFrom(step(rng, i), p.sizeScale);
      else {
        tick = best;
        size = sizeFrom(step(rng, i), p.sizeScale);
      }
    }
    // Apply to our own state.
    const had = s[tick] > 0;
    s[tick] = size;
    if (isBid) {
      if (!had && size > 0) b.nBid++;
      else if (had && size === 0) b.nBid--;
      if (size > 0 && tick > b.bestBid) b.bestBid = tick;
      else if (size === 0 && tick === b.bestBid) {
        let t = tick - 1;
        while (t >= 1 && !(s[t] > 0)) t--;
        b.bestBid = Math.max(0, t);
      }
    } else {
      if (!had && size > 0) b.nAsk++;
      else if (had && size === 0) b.nAsk--;
      if (size > 0 && tick < b.bestAsk) b.bestAsk = tick;
      else if (size === 0 && tick === b.bestAsk) {
        let t = tick + 1;
        while (t <= TICKS - 1 && !(s[t] > 0)) t++;
        b.bestAsk = Math.min(TICKS, t);
      }
    }
    b.seq++;
    // Faults: a malformed frame is extra noise (no seq, no state); a gap is a real lost update.
    const o = this.o;
    const w = this.wire;
    w.market = this.universe[i].market_id;
    w.outcome = b.outcomeId;
    w.side = side;
    w.price = PRICE[tick];
    w.size = size;
    w.seq = b.seq;
    w.ts = Math.floor(at);
    if (o.malformed_rate > 0 && this.faultRng() < o.malformed_rate) {
      this.stats.malformed++;
      this.deliver(corruptLevel(w, this.corruptCount++), now);
    }
    if (o.gap_rate > 0 && this.faultRng() < o.gap_rate) {
      this.stats.gaps++;
      return; // applied to our book, never sent: the next message's seq skips one
    }
    this.stats.levels++;
    this.deliver(w, now);
  }

  /** Keeps the one timer set to the next thing due (coalesced to batchMs). */
  private rearm(now: number): void {
    if (this.closed || !this.sink) return;
    let next = Infinity;
    if (this.connected) {
      if (this.pending.length > 0) next = now;
      if (this.heap.size > 0) next = Math.min(next, this.heap.topAt());
      next = Math.min(next, this.nextDropAt);
    } else next = this.reconnectAt;
    if (next === Infinity) return;
    if (this.pending.length === 0) next = Math.max(next, this.lastWake + this.batchMs);
    next = Math.max(Math.ceil(next), now);
    if (this.timer && this.timerAt <= next) return;
    this.timer?.cancel();
    this.timerAt = next;
    this.timer = this.clock.setTimer(next - now, this.wake);
  }

  private readonly wake = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.clock.now();
    this.lastWake = now;
    this.pump(now);
    this.rearm(now);
  };
}

function newSize(r: () => number, scale: number): number {
  return sizeFrom(r(), scale);
}

function sizeFrom(u: number, scale: number): number {
  return Math.max(1, Math.round(scale * (0.05 + 2 * u * u)));
}

function expo(r: () => number, mean: number): number {
  return -Math.log(1 - r()) * mean;
}

/** Min-heap of (time, market, generation) in typed arrays: no per-entry objects. */
class DueHeap {
  private at: Float64Array;
  private mk: Int32Array;
  private gn: Int32Array;
  size = 0;
  constructor(cap: number) {
    this.at = new Float64Array(cap);
    this.mk = new Int32Array(cap);
    this.gn = new Int32Array(cap);
  }
  clear(): void {
    this.size = 0;
  }
  topAt(): number {
    return this.at[0];
  }
  topMarket(): number {
    return this.mk[0];
  }
  topGen(): number {
    return this.gn[0];
  }
  push(t: number, m: number, g: number): void {
    if (this.size === this.at.length) this.grow();
    const at = this.at;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (at[p] <= t) break;
      this.move(p, i);
      i = p;
    }
    this.put(i, t, m, g);
  }
  pop(): void {
    const at = this.at;
    const n = --this.size;
    if (n === 0) return;
    const t = at[n];
    const m = this.mk[n];
    const g = this.gn[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && at[c + 1] < at[c]) c++;
      if (at[c] >= t) break;
      this.move(c, i);
      i = c;
    }
    this.put(i, t, m, g);
  }
  private move(from: number, to: number): void {
    this.at[to] = this.at[from];
    this.mk[to] = this.mk[from];
    this.gn[to] = this.gn[from];
  }
  private put(i: number, t: number, m: number, g: number): void {
    this.at[i] = t;
    this.mk[i] = m;
    this.gn[i] = g;
  }
  private grow(): void {
    const cap = this.at.length * 2;
    const at = new Float64Array(cap);
    const mk = new Int32Array(cap);
    const gn = new Int32Array(cap);
    at.set(this.at);
    mk.set(this.mk);
    gn.set(this.gn);
    this.at = at;
    this.mk = mk;
    this.gn = gn;
  }
}

export async function createMockAdapter(cfg: VenueConfig, ctx: AdapterContext): Promise<VenueAdapter> {
  return new MockVenue(cfg, ctx);
}
