/** The Kalshi adapter: public REST discovery plus the signed WebSocket feed. */
import type { VenueConfig } from "../../config.ts";
import { logger } from "../../log.ts";
import type { AdapterContext, AdapterFactory, BookKey, DiscoverOptions, EventSink, VenueAdapter } from "../types.ts";
import type { MarketInfo, MarketRef } from "../../market.ts";
import { KalshiRest } from "./discovery.ts";
import { KalshiFeed } from "./feed.ts";

export class KalshiAdapter implements VenueAdapter {
  readonly name: string;
  readonly rest: KalshiRest;
  readonly feed: KalshiFeed;
  private readonly log = logger("kalshi");

  constructor(cfg: VenueConfig<"kalshi">, ctx: AdapterContext) {
    this.name = cfg.name;
    this.rest = new KalshiRest(cfg.options, ctx.clock, ctx.random);
    this.feed = new KalshiFeed(cfg.options, cfg.collect, ctx, this.rest);
  }

  async discover(opts?: DiscoverOptions): Promise<MarketInfo[]> {
    const throttledBefore = this.rest.http.rateLimited;
    const r = await this.rest.discover(opts);
    const throttled = this.rest.http.rateLimited - throttledBefore;
    if (throttled > 0)
      this.log.warn(`REST throttled (429) ${throttled} times during discovery; waited as told by Retry-After`);
    const skipped = Object.entries(r.skipped)
      .map(([k, n]) => `${n} ${k}`)
      .join(", ");
    this.log.info(
      `discovered ${r.markets.length} open markets in ${r.pages} pages${skipped ? ` (skipped: ${skipped})` : ""}`,
    );
    return r.markets;
  }
  connect(sink: EventSink): Promise<void> {
    return this.feed.connect(sink);
  }
  subscribe(markets: MarketRef[]): void {
    this.feed.subscribe(markets);
  }
  unsubscribe(markets: MarketRef[]): void {
    this.feed.unsubscribe(markets);
  }
  resync(keys: BookKey[]): void {
    this.feed.resync(keys);
  }
  close(): Promise<void> {
    return this.feed.close();
  }
}

export const createKalshiAdapter: AdapterFactory = async (cfg, ctx) =>
  new KalshiAdapter(cfg as VenueConfig<"kalshi">, ctx);
