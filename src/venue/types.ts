/** The one interface every venue implements: adapters speak protocol, the collector does everything else. */
import type { Clock } from "../clock.ts";
import type { VenueConfig } from "../config.ts";
import type { MarketInfo, MarketRef } from "../market.ts";
import type { SlidingWindowLimiter } from "../sliding-window.ts";

export interface BookKey {
  marketId: string;
  outcomeId: string;
}

/** Full book for one outcome; replaces whatever the collector holds. Sides in any order; the book sorts. */
export interface BookSnapshotEvent {
  kind: "book";
  marketId: string;
  outcomeId: string;
  bidPx: number[];
  bidSz: number[];
  askPx: number[];
  askSz: number[];
  /** Venue sequence number, or null when the venue has none (the collector then counts messages). */
  seq: number | null;
  sourceTs: number | null;
}

/** One price level change. mode "set": size is the new total at that price; "add": size is a signed delta. ≤ 0 removes. */
export interface LevelEvent {
  kind: "level";
  marketId: string;
  outcomeId: string;
  side: "bid" | "ask";
  price: number;
  size: number;
  mode: "set" | "add";
  seq: number | null;
  /** True when seq is per book and consecutive, so the book itself can detect a gap (mock). */
  bookSeq: boolean;
  sourceTs: number | null;
}

/** The adapter knows these books are out of date (e.g. a Kalshi sid seq gap); a fresh "book" clears it. */
export interface StaleEvent {
  kind: "stale";
  keys: BookKey[];
  reason: string;
}

export interface ConnectionEvent {
  kind: "connection";
  /** "closed": the adapter retired the connection on purpose (nothing left on it); it is forgotten, not down. */
  state: "connected" | "disconnected" | "closed";
  /** Which of the adapter's connections (Polymarket may hold several). */
  connId: number;
  /** Markets carried by that connection, when the adapter knows. Books of a dropped connection become stale. */
  markets?: string[];
  reason?: string;
}

/** A message that could not be used: counted by reason, logged at a bounded rate, never applied. */
export interface RejectedEvent {
  kind: "rejected";
  reason: string;
  sample?: string;
}

/** The venue answered a command with an error (Kalshi error reply, HTTP failure): counted and logged. */
export interface VenueErrorEvent {
  kind: "venue_error";
  reason: string;
  detail?: string;
  /** Set when a connection attempt failed before opening: the collector counts attempts and names the host once. */
  connect?: { connId: number; host: string };
}

/** The host:port of a WebSocket URL, for "cannot connect to HOST" lines. */
export function urlHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The market is over (Polymarket market_resolved): stop watching it. */
export interface ResolvedEvent {
  kind: "resolved";
  marketId: string;
}

/**
 * The venue will not take this market (Kalshi: a subscribe refused for it alone). The adapter keeps it refused (sends
 * nothing for it) until it is unsubscribed, or for `retryAfterMs`: the collector stops watching it meanwhile.
 */
export interface RefusedEvent {
  kind: "refused";
  marketId: string;
  reason: string;
  retryAfterMs: number;
}

/** Informational messages that change no book (tick size, last trade…): counted. */
export interface InfoEvent {
  kind: "info";
  type: string;
}

export type VenueEvent =
  | BookSnapshotEvent
  | LevelEvent
  | StaleEvent
  | ConnectionEvent
  | RejectedEvent
  | VenueErrorEvent
  | ResolvedEvent
  | RefusedEvent
  | InfoEvent;

/** Receives every event with our receive time (ms, from the injected clock). */
export type EventSink = (ev: VenueEvent, tsRecv: number) => void;

export interface DiscoverOptions {
  /** Stop after this many markets (live smoke runs). */
  limit?: number;
  signal?: AbortSignal;
}

export interface VenueAdapter {
  readonly name: string;
  /** The market universe (open markets with their outcomes). */
  discover(opts?: DiscoverOptions): Promise<MarketInfo[]>;
  /** Opens the connection(s) and starts delivering events to `sink`; reconnects by itself (shared backoff). */
  connect(sink: EventSink): Promise<void>;
  subscribe(markets: MarketRef[]): void;
  unsubscribe(markets: MarketRef[]): void;
  /** Ask for fresh full books for these outcomes (REST or a snapshot request), without dropping the socket. */
  resync(keys: BookKey[]): void;
  close(): Promise<void>;
}

export interface AdapterContext {
  clock: Clock;
  /** Environment for credentials (named in the config); defaults to process.env at the edge. */
  env: Record<string, string | undefined>;
  /** Random source in [0,1) (backoff jitter); injectable for tests. */
  random?: () => number;
  /**
   * The venue's subscription churn budget (markets per 60 s) when a collector runs it: commands the adapter sends on
   * its own (Kalshi refusal probes) draw from it too, so the venue never sees more than the limit.
   */
  churn?: SlidingWindowLimiter;
}

export type AdapterFactory = (cfg: VenueConfig, ctx: AdapterContext) => Promise<VenueAdapter>;
