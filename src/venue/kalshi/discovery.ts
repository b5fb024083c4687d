/** Kalshi public REST: the open-market universe (cursor pagination) and one market's order book (for resync). No auth. */
import * as v from "valibot";
import type { Clock } from "../../clock.ts";
import type { KalshiOptions } from "./config.ts";
import { PacedRest } from "../_rest.ts";
import type { BookSnapshotEvent, DiscoverOptions, RejectedEvent } from "../types.ts";
import type { MarketInfo } from "../../market.ts";
import { marketInfo, restBookEvents } from "./mapper.ts";
import { MarketsPageSchema } from "./wire.ts";

export interface DiscoveryResult {
  markets: MarketInfo[];
  pages: number;
  /** Listed markets left out, by reason (past_close_time, invalid_market, duplicate). */
  skipped: Record<string, number>;
}

export class KalshiRest {
  readonly http: PacedRest;
  constructor(
    private readonly o: KalshiOptions,
    private readonly clock: Clock,
    random?: () => number,
  ) {
    // one request per 1/rate seconds: evenly spaced, no bursts at the start of each second
    this.http = new PacedRest({ clock, maxRequests: 1, windowMs: 1000 / o.rest_requests_per_sec, random });
  }

  private url(path: string): string {
    return `${this.o.rest_url.replace(/\/+$/, "")}${path}`;
  }

  /** `/markets?limit=1000&status=open&cursor=C` until the cursor comes back empty (or repeats, which would loop). */
  async discover(opts: DiscoverOptions = {}): Promise<DiscoveryResult> {
    const markets: MarketInfo[] = [];
    const seen = new Set<string>();
    const cursors = new Set<string>();
    const skipped: Record<string, number> = {};
    const skip = (why: string) => void (skipped[why] = (skipped[why] ?? 0) + 1);
    let cursor = "";
    let pages = 0;
    for (;;) {
      const q = `/markets?limit=1000&status=open${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const body = await this.http.getJson(this.url(q), opts.signal);
      pages++;
      const page = v.safeParse(MarketsPageSchema, body);
      if (!page.success)
        throw new Error(
          `kalshi: /markets page ${pages} is not a market listing (${v.getDotPath(page.issues[0]) ?? "body"}: ${page.issues[0].message})`,
        );
      const now = this.clock.now();
      for (const raw of page.output.markets ?? []) {
        const m = marketInfo(raw, now);
        if ("skip" in m) skip(m.skip);
        else if (seen.has(m.market_id)) skip("duplicate");
        else {
          seen.add(m.market_id);
          markets.push(m);
          if (opts.limit !== undefined && markets.length >= opts.limit) return { markets, pages, skipped };
        }
      }
      cursor = page.output.cursor ?? "";
      if (cursor === "" || cursors.has(cursor)) break;
      cursors.add(cursor);
    }
    return { markets, pages, skipped };
  }

  /** `/markets/{ticker}/orderbook` in either form → books for yes and no. */
  async orderbook(
    ticker: string,
    signal?: AbortSignal,
  ): Promise<[BookSnapshotEvent, BookSnapshotEvent] | RejectedEvent> {
    const body = await this.http.getJson(this.url(`/markets/${encodeURIComponent(ticker)}/orderbook`), signal);
    return restBookEvents(ticker, body, null);
  }
}
