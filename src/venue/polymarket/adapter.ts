/** The Polymarket VenueAdapter: Gamma discovery, the market-channel feed, the mapper, and REST `/book` resync. */
import type { VenueConfig } from "../../config.ts";
import type { PolymarketOptions } from "./config.ts";
import { logger } from "../../log.ts";
import { PacedRest } from "../_rest.ts";
import type { AdapterContext, AdapterFactory, BookKey, DiscoverOptions, EventSink, VenueAdapter } from "../types.ts";
import type { MarketInfo, MarketRef } from "../../market.ts";
import { urlHost } from "../types.ts";
import { discoverMarkets } from "./discovery.ts";
import { PolymarketFeed } from "./feed.ts";
import { mapBook, mapFrame } from "./mapper.ts";

const log = logger("polymarket");

/**
 * A token (re)subscribed on an open socket that has not had its `book` after this long is fetched over REST:
 * the venue's known failure is a socket that answers PONG but stops sending some books, and a resubscribe
 * alone does not fix that.
 */
export const BOOK_WAIT_MS = 10_000;

export class PolymarketAdapter implements VenueAdapter {
  readonly name: string;
  readonly rest: PacedRest;
  private readonly opts: PolymarketOptions;
  private feed: PolymarketFeed | null = null;
  private sink: EventSink | null = null;
  private readonly inflight = new Set<string>();
  /** Tokens of subscribed markets, and the tokens still waiting for their first book since (re)subscribing. */
  private readonly tokens = new Map<string, string[]>();
  private readonly awaiting = new Map<string, string>();
  private readonly abort = new AbortController();

  constructor(
    private readonly cfg: VenueConfig<"polymarket">,
    private readonly ctx: AdapterContext,
  ) {
    this.name = cfg.name;
    this.opts = cfg.options;
    this.rest = new PacedRest({
      clock: ctx.clock,
      maxRequests: this.opts.rest_requests_per_10s,
      windowMs: 10_000,
      random: ctx.random,
    });
  }

  async discover(opts: DiscoverOptions = {}): Promise<MarketInfo[]> {
    const r = await discoverMarkets({
      gammaUrl: this.opts.gamma_url,
      rest: this.rest,
      venue: this.name,
      limit: opts.limit,
      signal: opts.signal,
    });
    const rejected = Object.entries(r.rejected);
    if (rejected.length > 0) log.warn(`discovery rejected ${rejected.map(([k, n]) => `${n} ${k}`).join(", ")}`);
    const notTradable = Object.entries(r.notTradable);
    if (notTradable.length > 0) log.info(`not tradable: ${notTradable.map(([k, n]) => `${n} ${k}`).join(", ")}`);
    if (r.stoppedOnRepeat) log.warn("Gamma repeated a page or cursor; pagination stopped there");
    log.info(`discovered ${r.markets.length} markets in ${r.pages} ${r.mode} pages`);
    return r.markets;
  }

  async connect(sink: EventSink): Promise<void> {
    this.sink = sink;
    const c = this.cfg.collect;
    this.feed = new PolymarketFeed({
      url: this.opts.ws_url,
      clock: this.ctx.clock,
      random: this.ctx.random,
      maxAssets: this.opts.max_assets_per_connection,
      openPauseMs: this.opts.connection_open_pause_ms,
      pingIntervalMs: this.opts.ping_interval_secs * 1000,
      deadAfterMs: this.opts.pong_timeout_secs * 1000,
      connectTimeoutMs: c.connect_timeout_secs * 1000,
      backoff: {
        baseMs: c.reconnect_base_ms,
        capMs: c.reconnect_cap_ms,
        resetAfterMs: c.reconnect_reset_secs * 1000,
        maxPerMinute: c.reconnect_max_per_minute,
      },
      onFrame: (text, _connId, ts) => {
        const events = mapFrame(text);
        for (let i = 0; i < events.length; i++) {
          const ev = events[i];
          if (ev.kind === "book" && this.awaiting.size > 0) this.awaiting.delete(ev.outcomeId);
          sink(ev, ts);
        }
      },
      onConnection: (ev, ts) => {
        if (ev.state === "connected" && ev.markets) this.awaitBooks(ev.markets);
        sink(ev, ts);
      },
      onOpenFailed: (connId, reason, rateLimited) =>
        sink(
          {
            kind: "venue_error",
            reason: rateLimited ? "ws_open_429" : "ws_open_failed",
            detail: `connection ${connId}: ${reason}`,
            connect: { connId, host: urlHost(this.opts.ws_url) },
          },
          this.ctx.clock.now(),
        ),
    });
  }

  subscribe(markets: MarketRef[]): void {
    const feed = this.requireFeed();
    for (const m of markets) if (!this.tokens.has(m.market_id)) this.tokens.set(m.market_id, [...m.outcome_ids]);
    feed.subscribe(markets);
  }

  unsubscribe(markets: MarketRef[]): void {
    for (const m of markets) {
      for (const t of this.tokens.get(m.market_id) ?? []) this.awaiting.delete(t);
      this.tokens.delete(m.market_id);
    }
    this.requireFeed().unsubscribe(markets.map((m) => m.market_id));
  }

  /** These markets were just subscribed on an open socket: REST-fetch any token whose book does not follow. */
  private awaitBooks(marketIds: string[]): void {
    const batch: BookKey[] = [];
    for (const id of marketIds) {
      for (const t of this.tokens.get(id) ?? []) {
        this.awaiting.set(t, id);
        batch.push({ marketId: id, outcomeId: t });
      }
    }
    if (batch.length === 0) return;
    const since = this.ctx.clock.now();
    this.ctx.clock.setTimer(BOOK_WAIT_MS, () => {
      const late = batch.filter((k) => this.awaiting.get(k.outcomeId) === k.marketId);
      if (late.length === 0) return;
      this.resync(late);
      // A subscribe always gets a book back: a connection that sent no data at all since then (PONGs aside) is the
      // venue's half-dead socket; it is replaced, the other connections are left alone.
      const feed = this.feed;
      if (!feed) return;
      const silentConns = new Set<number>();
      for (const k of late) {
        const id = feed.connectionOf(k.marketId);
        if (id !== undefined && feed.lastDataAt(id) < since) silentConns.add(id);
      }
      for (const id of silentConns)
        feed.reconnect(id, `no data for ${BOOK_WAIT_MS / 1000} s after subscribing (PONGs only)`);
    });
  }

  /** Fetches `/book` for each token (paced) and emits it as a `book` event; the sockets stay up. */
  resync(keys: BookKey[]): void {
    for (const k of keys) {
      if (this.inflight.has(k.outcomeId)) continue;
      this.inflight.add(k.outcomeId);
      void this.resyncOne(k).finally(() => this.inflight.delete(k.outcomeId));
    }
  }

  /** The REST book of one token as a normalized event (null when unusable; the reason goes to the sink). */
  private async resyncOne(k: BookKey): Promise<void> {
    const u = new URL(`${this.opts.clob_url.replace(/\/$/, "")}/book`);
    u.searchParams.set("token_id", k.outcomeId);
    let body: unknown;
    try {
      body = await this.rest.getJson(u, this.abort.signal);
    } catch (e) {
      if (this.abort.signal.aborted) return;
      this.sink?.(
        { kind: "venue_error", reason: "rest_book_failed", detail: `${k.outcomeId}: ${(e as Error).message}` },
        this.ctx.clock.now(),
      );
      return;
    }
    if (this.abort.signal.aborted) return;
    this.awaiting.delete(k.outcomeId);
    const ev =
      typeof body === "object" && body !== null && !Array.isArray(body)
        ? mapBook(body as Record<string, unknown>)
        : "bad_rest_book";
    const now = this.ctx.clock.now();
    if (typeof ev === "string")
      this.sink?.(
        { kind: "rejected", reason: `rest_${ev.replace(/^rest_/, "")}`, sample: JSON.stringify(body)?.slice(0, 200) },
        now,
      );
    // The REST answer names the market; the collector keys books by the market it subscribed, so keep ours.
    else this.sink?.({ ...ev, marketId: k.marketId || ev.marketId }, now);
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.feed?.close();
    this.feed = null;
  }

  /** Exposed for tests: the feed's connection bookkeeping. */
  get feedState(): PolymarketFeed | null {
    return this.feed;
  }

  private requireFeed(): PolymarketFeed {
    if (!this.feed) throw new Error("polymarket: connect() before subscribe()");
    return this.feed;
  }
}

export const createPolymarketAdapter: AdapterFactory = async (cfg, ctx) =>
  new PolymarketAdapter(cfg as VenueConfig<"polymarket">, ctx);
export default createPolymarketAdapter;
