/**
 * Malformed-input fuzz: seeded streams of valid, mutated and random venue frames through each venue's real mapper
 * (and, for Kalshi, its feed's sid/seq handling) into a VenueCollector's books and snapshotter. After every message:
 * no throw, the book invariants hold, and the message either changed something or was counted; frames that are
 * invalid by construction must be counted as rejected and change no book. Memory is sampled along the way.
 */
import { SimClock } from "../../src/clock.ts";
import type { BookState } from "../../src/collector/book.ts";
import { VenueCollector } from "../../src/collector/collector.ts";
import { parseConfig } from "../../src/config.ts";
import { Metrics } from "../../src/metrics.ts";
import type { SnapshotInput } from "../../src/schema.ts";
import { KalshiFeed } from "../../src/venue/kalshi/feed.ts";
import { mapMockMessage } from "../../src/venue/mock-mapper.ts";
import { mulberry32 } from "../../src/venue/mock.ts";
import { mapFrame } from "../../src/venue/polymarket/mapper.ts";
import type { AdapterContext, EventSink, VenueAdapter } from "../../src/venue/types.ts";
import type { MarketRef } from "../../src/market.ts";
import { quietLog } from "./rig.ts";

export type FuzzVenue = "mock" | "polymarket" | "kalshi";

export interface FuzzResult {
  venue: FuzzVenue;
  messages: number;
  /** By mutation kind. */
  kinds: Record<string, number>;
  /** Counted by the collector as rejected (all reasons), and messages that produced no effect and no count. */
  rejected: number;
  silent: number;
  /** Well-formed frames with nothing in them (`[]`, a price_change with no changes): nothing to apply or reject. */
  noops: number;
  /** Frames invalid by construction that were applied or not counted. */
  invalidAccepted: number;
  invalidUncounted: number;
  invariantViolations: number;
  firstViolation: string | null;
  rowsChecked: number;
  crashes: number;
  heapGrowthMb: number;
  rssMb: number;
  rejectReasons: number;
  /** Messages that changed a book (applied level or book events). */
  applied: number;
  /** Up to a few examples of silent or uncounted messages, for diagnosis. */
  examples: string[];
}

const TOP_K = 10;

// ---- generic JSON mutation ------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

/** Every (parent, key) slot of a JSON tree. */
function slots(v: Json, out: [Json[] | Record<string, Json>, string | number][] = []): typeof out {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), slots(x, out)));
  else if (v !== null && typeof v === "object") for (const k of Object.keys(v)) out.push([v, k]), slots(v[k], out);
  return out;
}

const WEIRD_TYPES: (() => Json)[] = [
  () => null,
  () => true,
  () => "abc",
  () => [],
  () => ({}),
  () => 42,
  () => [1, "x", null],
  () => "",
  () => ({ a: { b: [] } }),
];
const BAD_NUMBERS: Json[] = [
  "NaN",
  "-1",
  "-0.5",
  "1e308",
  "1e400",
  "Infinity",
  "-Infinity",
  "0x10",
  "1,5",
  " ",
  "٣",
  1e308,
  -1,
  -0.01,
  1.5,
  2,
  1e21,
  "99999999999999999999",
];

function setSlot(parent: Json[] | Record<string, Json>, key: string | number, v: Json): void {
  (parent as Record<string | number, Json>)[key] = v;
}

// ---- per-venue generators -------------------------------------------------------------------------------------

interface Gen {
  refs: MarketRef[];
  /** A valid frame (object) for a subscribed market. */
  valid(r: () => number, now: number): Record<string, Json>;
  /** The object with its market id(s) replaced by one nobody subscribed. */
  unknownMarket(o: Record<string, Json>): void;
  /** Rewinds the frame's seq (duplicate or out of order), when it has one. */
  rewindSeq(o: Record<string, Json>, r: () => number): boolean;
}

const cents = (r: () => number, lo = 1, hi = 99) => lo + Math.floor(r() * (hi - lo + 1));

function mockGen(): Gen {
  const refs = Array.from({ length: 8 }, (_, i) => ({
    market_id: `mock-${String(i).padStart(6, "0")}`,
    outcome_ids: [`mock-${String(i).padStart(6, "0")}-yes`, `mock-${String(i).padStart(6, "0")}-no`],
  }));
  const seq = new Map<string, number>();
  return {
    refs,
    valid(r, now) {
      const m = pick(r, refs);
      const o = pick(r, m.outcome_ids);
      const s = (seq.get(o) ?? 0) + 1;
      seq.set(o, s);
      if (r() < 0.1) {
        const mid = cents(r, 10, 90);
        const n = Math.floor(r() * 30);
        const side = (dir: number) =>
          Array.from({ length: n }, (_, k) => (mid + dir * (k + 1)) / 100).filter((p) => p > 0 && p < 1);
        const bid_px = side(-1);
        const ask_px = side(1);
        return {
          type: "book",
          market: m.market_id,
          outcome: o,
          bid_px,
          bid_sz: bid_px.map(() => cents(r, 1, 500)),
          ask_px,
          ask_sz: ask_px.map(() => cents(r, 1, 500)),
          seq: s,
          ts: now,
        } as Record<string, Json>;
      }
      return {
        type: "level",
        market: m.market_id,
        outcome: o,
        side: r() < 0.5 ? "bid" : "ask",
        price: cents(r) / 100,
        size: r() < 0.2 ? 0 : cents(r, 1, 900),
        seq: s,
        ts: now,
      };
    },
    unknownMarket(o) {
      o.market = "mock-999999";
      o.outcome = "mock-999999-yes";
    },
    rewindSeq(o, r) {
      if (typeof o.seq !== "number") return false;
      o.seq = Math.max(0, o.seq - Math.floor(r() * 3));
      return true;
    },
  };
}

function polymarketGen(): Gen {
  const refs = Array.from({ length: 8 }, (_, i) => ({
    market_id: `0x${(i + 1).toString(16).padStart(64, "0")}`,
    outcome_ids: [`${10n ** 20n + BigInt(2 * i)}`, `${10n ** 20n + BigInt(2 * i + 1)}`],
  }));
  return {
    refs,
    valid(r, now) {
      const m = pick(r, refs);
      const a = pick(r, m.outcome_ids);
      const mid = cents(r, 10, 90);
      if (r() < 0.1) {
        const n = Math.floor(r() * 20);
        const lv = (dir: number) =>
          Array.from({ length: n }, (_, k) => mid + dir * (k + 1))
            .filter((p) => p > 0 && p < 100)
            .map((p) => ({ price: (p / 100).toFixed(2), size: String(cents(r, 1, 900)) }));
        return {
          event_type: "book",
          asset_id: a,
          market: m.market_id,
          bids: lv(-1),
          asks: lv(1),
          timestamp: String(now),
          hash: "0x1",
        } as Record<string, Json>;
      }
      if (r() < 0.05)
        return {
          event_type: "last_trade_price",
          asset_id: a,
          market: m.market_id,
          price: "0.5",
          size: "10",
          side: "BUY",
          timestamp: String(now),
        } as Record<string, Json>;
      const k = 1 + Math.floor(r() * 3);
      const changes: Json[] = Array.from({ length: k }, () => ({
        asset_id: pick(r, m.outcome_ids),
        price: (cents(r) / 100).toFixed(2),
        size: r() < 0.2 ? "0" : String(cents(r, 1, 900)),
        side: r() < 0.5 ? "BUY" : "SELL",
        hash: "0x2",
        best_bid: "0.4",
        best_ask: "0.6",
      }));
      return {
        event_type: "price_change",
        market: m.market_id,
        price_changes: changes,
        timestamp: String(now),
      } as Record<string, Json>;
    },
    unknownMarket(o) {
      o.market = `0x${"f".repeat(64)}`;
      if (typeof o.asset_id === "string") o.asset_id = "424242";
      if (Array.isArray(o.price_changes))
        for (const c of o.price_changes) if (c && typeof c === "object" && !Array.isArray(c)) c.asset_id = "424242";
    },
    rewindSeq: () => false, // Polymarket has no sequence numbers
  };
}

function kalshiGen(): Gen {
  const refs = Array.from({ length: 8 }, (_, i) => ({ market_id: `KXFUZZ-${i}`, outcome_ids: ["yes", "no"] }));
  let seq = 0;
  return {
    refs,
    valid(r, now) {
      const t = pick(r, refs).market_id;
      seq++;
      if (r() < 0.1) {
        const yb = cents(r, 10, 60);
        const nb = cents(r, 5, 99 - yb - 1);
        const lv = (top: number) =>
          Array.from({ length: 1 + Math.floor(r() * 8) }, (_, k) => top - k)
            .filter((p) => p >= 1)
            .map((p) => [(p / 100).toFixed(4), `${cents(r, 1, 900)}.00`]);
        return {
          type: "orderbook_snapshot",
          sid: 1,
          seq,
          msg: { market_ticker: t, market_id: "x", yes_dollars_fp: lv(yb), no_dollars_fp: lv(nb) },
        } as Record<string, Json>;
      }
      return {
        type: "orderbook_delta",
        sid: 1,
        seq,
        msg: {
          market_ticker: t,
          price_dollars: (cents(r) / 100).toFixed(4),
          delta_fp: `${r() < 0.3 ? "-" : ""}${cents(r, 1, 300)}.00`,
          side: r() < 0.5 ? "yes" : "no",
          ts_ms: now,
        },
      } as Record<string, Json>;
    },
    unknownMarket(o) {
      const m = o.msg;
      if (m && typeof m === "object" && !Array.isArray(m)) m.market_ticker = "KXNOBODY-1";
    },
    rewindSeq(o, r) {
      if (typeof o.seq !== "number") return false;
      o.seq = Math.max(0, o.seq - 1 - Math.floor(r() * 3));
      return true;
    },
  };
}

// ---- the run ----------------------------------------------------------------------------------------------------

/** Book invariants: sides strictly sorted (bids desc, asks asc), finite positive sizes, no NaN prices, len ≤ capacity. */
export function bookViolation(b: BookState): string | null {
  for (const [side, desc] of [
    [b.bids, true],
    [b.asks, false],
  ] as const) {
    if (side.len > side.px.length || side.px.length !== side.sz.length)
      return `${b.marketId}/${b.outcomeId}: px/sz length`;
    for (let i = 0; i < side.len; i++) {
      const p = side.px[i];
      const s = side.sz[i];
      if (!(p >= 0 && p < Infinity)) return `${b.marketId}/${b.outcomeId}: price ${p}`;
      if (!(s > 0 && s < Infinity)) return `${b.marketId}/${b.outcomeId}: size ${s}`;
      if (i > 0 && (desc ? !(side.px[i - 1] > p) : !(side.px[i - 1] < p)))
        return `${b.marketId}/${b.outcomeId}: unsorted ${desc ? "bids" : "asks"}`;
    }
  }
  return null;
}

/** A snapshot row as the writer receives it: ≤ top_k levels, px/sz aligned, sorted, no NaN. */
function rowViolation(s: SnapshotInput): string | null {
  for (const [side, desc] of [
    [s.bids, true],
    [s.asks, false],
  ] as const) {
    if (side.len > TOP_K) return `${s.marketId}: ${side.len} levels > top_k`;
    for (let i = 0; i < side.len; i++) {
      if (Number.isNaN(side.px[i]) || Number.isNaN(side.sz[i])) return `${s.marketId}: NaN in row`;
      if (i > 0 && (desc ? !(side.px[i - 1] > side.px[i]) : !(side.px[i - 1] < side.px[i])))
        return `${s.marketId}: unsorted row`;
    }
  }
  return null;
}

export async function runFuzz(venue: FuzzVenue, o: { messages: number; seed: number }): Promise<FuzzResult> {
  const r = mulberry32(o.seed ^ 0x2545f491);
  const clock = new SimClock(Date.UTC(2026, 0, 1));
  const gen = venue === "mock" ? mockGen() : venue === "polymarket" ? polymarketGen() : kalshiGen();
  const res: FuzzResult = {
    venue,
    messages: 0,
    kinds: {},
    rejected: 0,
    silent: 0,
    noops: 0,
    invalidAccepted: 0,
    invalidUncounted: 0,
    invariantViolations: 0,
    firstViolation: null,
    rowsChecked: 0,
    crashes: 0,
    heapGrowthMb: 0,
    rssMb: 0,
    rejectReasons: 0,
    applied: 0,
    examples: [],
  };
  const violation = (v: string | null) => {
    if (v === null) return;
    res.invariantViolations++;
    res.firstViolation ??= v;
  };
  // The adapter side: frames go in through `feed`, events come out to the collector.
  let sink: EventSink = () => {};
  let feed: (text: string) => void;
  if (venue === "mock") feed = (t) => sink(mapMockMessage(t), clock.now());
  else if (venue === "polymarket") feed = (t) => mapFrame(t).forEach((ev) => sink(ev, clock.now()));
  else {
    const cfg = parseConfig({ venues: { kalshi: {} } }).selected[0];
    const ctx: AdapterContext = { clock, env: {} };
    const kf = new KalshiFeed(cfg.options as never, cfg.collect, ctx, {} as never);
    const inner = kf as unknown as {
      sink: EventSink;
      sub: { sid: number };
      targets: Set<string>;
      socket: unknown;
      onFrame(t: string): void;
    };
    inner.sub.sid = 1;
    for (const ref of gen.refs) inner.targets.add(ref.market_id);
    inner.socket = { send: () => true, reconnect: () => {}, connected: true };
    Object.defineProperty(inner, "sink", { get: () => sink });
    feed = (t) => inner.onFrame(t);
  }
  const adapter: VenueAdapter = {
    name: venue,
    discover: async () => [],
    connect: async (s) => void (sink = s),
    subscribe() {},
    unsubscribe() {},
    resync() {},
    close: async () => {},
  };
  const cfg = parseConfig({
    collector: {
      max_subs_per_venue: 100,
      hot_count: 8,
      subscription_churn_limit_per_minute: 10_000,
      snapshot_interval_ms_hot: 50,
      snapshot_interval_ms_warm: 50,
    },
  }).selected[0];
  const vc = new VenueCollector({
    venue,
    settings: cfg.collect,
    adapter,
    clock,
    metrics: new Metrics(),
    dataDir: "/nonexistent-chaos",
    topK: TOP_K,
    flushSecs: 3600,
    logIntervalSecs: 1e6,
    targets: () => ({ hot: gen.refs, warm: [] }),
    log: quietLog,
    sink: { append: (s) => (res.rowsChecked++, violation(rowViolation(s))) },
  });
  (vc.journal as unknown as { flush: () => Promise<void> }).flush = async () => {};
  await vc.start();
  // Mark the feed connected so books are snapshotted as they are.
  sink({ kind: "connection", state: "connected", connId: 0 }, clock.now());
  // Count everything the collector does with a message.
  const c = vc.counters;
  let events = 0;
  const tap = sink;
  sink = (ev, ts) => {
    events++;
    tap(ev, ts);
  };
  const effect = () => c.updates + c.books + vc.rejectedTotal() + c.info + c.venueErrors + events;
  const touchedBooks = (): BookState[] => [...vc.books.all()];

  let last: Record<string, Json> | null = null;
  const timeByKind: Record<string, number> = {};
  const sample = (): { heap: number; rss: number } => {
    Bun.gc(true);
    const m = process.memoryUsage();
    return { heap: m.heapUsed, rss: m.rss };
  };
  let base = { heap: 0, rss: 0 };
  let peakRss = 0;
  for (let i = 0; i < o.messages; i++) {
    if (i === Math.floor(o.messages / 10)) base = sample();
    const now = clock.now();
    let kind: string;
    let text: string;
    let invalid = false; // invalid by construction: must be rejected and counted
    const u = r();
    const v = gen.valid(r, now);
    if (u < 0.35) {
      kind = "valid";
      text = JSON.stringify(v);
      last = v;
    } else if (u < 0.45) {
      kind = "truncated";
      const full = JSON.stringify(v);
      text = full.slice(0, Math.floor(r() * (full.length - 1)));
      invalid = !parses(text);
    } else if (u < 0.6) {
      kind = "wrong_type";
      const ss = slots(v);
      const [p, k] = pick(r, ss);
      setSlot(p, k, pick(r, WEIRD_TYPES)());
      text = JSON.stringify(v);
    } else if (u < 0.72) {
      kind = "bad_number";
      const ss = slots(v).filter(([p, k]) => /price|size|px|sz|delta|seq|dollars/.test(String(k)) || Array.isArray(p));
      if (ss.length > 0) {
        const [p, k] = pick(r, ss);
        setSlot(p, k, pick(r, BAD_NUMBERS));
      }
      text = JSON.stringify(v);
    } else if (u < 0.8) {
      kind = "unknown_market";
      gen.unknownMarket(v);
      text = JSON.stringify(v);
      invalid = true;
    } else if (u < 0.88) {
      kind = "seq_dup_or_back";
      const again = last ? structuredClone(last) : v;
      if (!gen.rewindSeq(again, r)) kind = "replayed";
      text = JSON.stringify(again);
    } else if (u < 0.9995) {
      kind = "garbage";
      text = garbage(r);
      invalid = !parses(text);
    } else {
      kind = "enormous";
      text = enormous(r, v);
      invalid = !parses(text);
    }
    res.kinds[kind] = (res.kinds[kind] ?? 0) + 1;
    const before = effect();
    const updates0 = c.updates + c.books;
    const rejected0 = vc.rejectedTotal();
    const tf = performance.now();
    try {
      feed(text);
      timeByKind[kind] = (timeByKind[kind] ?? 0) + performance.now() - tf;
    } catch (e) {
      res.crashes++;
      res.firstViolation ??= `crash on ${kind}: ${(e as Error).message}`;
    }
    res.messages++;
    const note = () => res.examples.length < 6 && res.examples.push(`${kind}: ${text.slice(0, 120)}`);
    if (effect() === before) {
      if (isNoop(text)) res.noops++;
      else res.silent++, note();
    }
    if (c.updates + c.books > updates0) res.applied++;
    if (invalid) {
      // Unknown-market data is counted as rejected ("not subscribed"); unknown-market info (last trade…) as info.
      const counted = kind === "unknown_market" ? effect() > before : vc.rejectedTotal() > rejected0;
      if (!counted) res.invalidUncounted++, note();
      if (c.updates + c.books > updates0 && kind !== "unknown_market") res.invalidAccepted++;
    }
    for (const b of touchedBooks()) violation(bookViolation(b));
    if ((i & 1023) === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    await clock.advance(1);
  }
  if (process.env.FUZZ_PROFILE) console.error(timeByKind, vc.counters);
  const end = sample();
  await vc.stop();
  res.rejected = vc.rejectedTotal();
  res.rejectReasons = vc.counters.rejected.size;
  res.heapGrowthMb = (end.heap - base.heap) / 1e6;
  res.rssMb = Math.max(peakRss, end.rss) / 1e6;
  return res;
}

/** A frame that parses to an empty batch: an empty array, or messages whose change lists are all empty. */
function isNoop(t: string): boolean {
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return false;
  }
  const empty = (m: unknown): boolean =>
    Array.isArray((m as { price_changes?: unknown })?.price_changes) &&
    (m as { price_changes: unknown[] }).price_changes.length === 0;
  return Array.isArray(v) ? v.every(empty) : empty(v);
}

function parses(t: string): boolean {
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

function garbage(r: () => number): string {
  const u = r();
  if (u < 0.3)
    return Array.from({ length: Math.floor(r() * 80) }, () => String.fromCharCode(Math.floor(r() * 0x3000))).join("");
  if (u < 0.5)
    return pick(r, [
      "",
      "null",
      "[]",
      "{}",
      "0",
      '"x"',
      "[[[]]]",
      "true",
      '{"type":null}',
      "[1,2,3]",
      "PONG",
      '{"event_type":"book"}',
    ]);
  if (u < 0.7) return "{" + '"a":'.repeat(Math.floor(r() * 5)) + "}";
  return JSON.stringify(randomJson(r, 3));
}

function randomJson(r: () => number, depth: number): Json {
  const u = r();
  if (depth <= 0 || u < 0.3) return pick(r, [null, true, r() * 1e6 - 5e5, "s", "", "0.5", -1] as Json[]);
  if (u < 0.6) return Array.from({ length: Math.floor(r() * 4) }, () => randomJson(r, depth - 1));
  const keys = [
    "type",
    "event_type",
    "market",
    "asset_id",
    "seq",
    "sid",
    "msg",
    "price",
    "size",
    "bids",
    "asks",
    "market_ticker",
    "x",
  ];
  return Object.fromEntries(
    Array.from({ length: Math.floor(r() * 5) }, () => [pick(r, keys), randomJson(r, depth - 1)]),
  );
}

/** A few MB of frame: a huge string field, a book with 200k levels, or deep nesting. */
function enormous(r: () => number, v: Record<string, Json>): string {
  const u = r();
  if (u < 0.34) return JSON.stringify({ ...v, junk: "x".repeat(2_000_000) });
  if (u < 0.67) {
    const big = Array.from({ length: 200_000 }, (_, k) => k);
    return JSON.stringify({ ...v, bids: big, asks: big, bid_px: big, bid_sz: big, price_changes: big });
  }
  return "[".repeat(200_000) + "]".repeat(200_000);
}
