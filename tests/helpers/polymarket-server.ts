/**
 * A loopback Polymarket (port 0): Gamma keyset + offset listing, CLOB `/book` and the market WebSocket in the
 * documented shapes. Its books are price-string → size maps, so `expectedBook` computes independently what the adapter
 * should hold. Fault knobs (429s, per-connection limits, silent or muted assets, drops, malformed frames): options.
 */
import type { Server, ServerWebSocket } from "bun";
import { rng } from "./books.ts";

export interface PolymarketServerOptions {
  /** Open markets in the universe. */
  markets?: number;
  /** Every Nth market (1-based) has unusable clobTokenIds/outcomes (alternating: unparseable, length mismatch). 0 = none. */
  badEvery?: number;
  /** 404 on /markets/keyset so the client falls back to the offset listing. */
  noKeyset?: boolean;
  /** Gamma ignores after_cursor and serves page one again (the documented `cursor` trap). */
  ignoreCursor?: boolean;
  /** The first N Gamma requests get 429 with Retry-After. */
  gamma429First?: number;
  retryAfterSecs?: number;
  /** The first N WebSocket upgrade attempts get HTTP 429. */
  ws429First?: number;
  /** Every upgrade attempt gets 429. */
  ws429Always?: boolean;
  maxAssetsPerConnection?: number;
  /** Time source for recorded events and venue timestamps (the test's SimClock). */
  now?: () => number;
  /** Levels per side in the generated books. */
  depth?: number;
}

export interface ServerBook {
  market: string;
  bids: Map<string, string>;
  asks: Map<string, string>;
}

export interface ServerConn {
  id: number;
  ws: ServerWebSocket<{ id: number }>;
  assets: Set<string>;
  muted: boolean;
  /** Answers PING but sends no data (the venue's half-dead socket). */
  dataMuted: boolean;
  pings: number;
}

export interface GammaMarketFixture {
  id: string;
  conditionId: string;
  question: string;
  slug: string;
  endDate: string;
  createdAt: string;
  active: boolean;
  closed: boolean;
  acceptingOrders: boolean;
  clobTokenIds: string;
  outcomes: string;
  volume: string;
  liquidityNum: number;
  events: { tags: { label: string; slug: string }[] }[];
}

const TAGS = ["Politics", "Sports", "Crypto", "Economy", "Culture"];

export function conditionId(i: number): string {
  return `0x${i.toString(16).padStart(64, "0")}`;
}
export function tokenIds(i: number): [string, string] {
  const base = 10n ** 20n + BigInt(i) * 2n;
  return [String(base), String(base + 1n)];
}

export class PolymarketServer {
  readonly opts: Required<Omit<PolymarketServerOptions, "now">> & { now: () => number };
  readonly universe: GammaMarketFixture[] = [];
  readonly books = new Map<string, ServerBook>();
  readonly conns = new Map<number, ServerConn>();
  /** Assets that get no data on the socket (still answered on REST, PONG still sent). */
  readonly silent = new Set<string>();
  // What the server saw, for assertions.
  readonly gammaRequests: URL[] = [];
  readonly bookRequests: string[] = [];
  readonly upgradeAttempts: number[] = [];
  readonly refused429: number[] = [];
  readonly received: { conn: number; msg: unknown; t: number }[] = [];
  /** Subscriptions that would have exceeded maxAssetsPerConnection (the connection is closed with 1008). */
  violations = 0;
  /** The next connection to open will answer PINGs only. */
  dataMuteNext = false;
  private server: Server<{ id: number }>;
  private nextConn = 1;
  private gammaCount = 0;
  private readonly rand = rng(7);

  constructor(o: PolymarketServerOptions = {}) {
    this.opts = {
      markets: 250,
      badEvery: 0,
      noKeyset: false,
      ignoreCursor: false,
      gamma429First: 0,
      retryAfterSecs: 2,
      ws429First: 0,
      ws429Always: false,
      maxAssetsPerConnection: 500,
      depth: 5,
      now: () => Date.now(),
      ...o,
    } as never;
    for (let i = 1; i <= this.opts.markets; i++) this.universe.push(this.market(i));
    this.server = Bun.serve<{ id: number }>({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req, srv) => this.fetch(req, srv),
      websocket: {
        open: (ws) => {
          this.conns.set(ws.data.id, {
            id: ws.data.id,
            ws,
            assets: new Set(),
            muted: false,
            dataMuted: this.dataMuteNext,
            pings: 0,
          });
          this.dataMuteNext = false;
        },
        message: (ws, m) => this.onMessage(ws, typeof m === "string" ? m : m.toString()),
        close: (ws) => {
          this.conns.delete(ws.data.id);
        },
      },
    });
  }

  get port(): number {
    return this.server.port!;
  }
  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws/market`;
  }
  /** Venue options pointing at this server. */
  venueOptions(): { gamma_url: string; clob_url: string; ws_url: string } {
    return { gamma_url: this.httpUrl, clob_url: this.httpUrl, ws_url: this.wsUrl };
  }

  stop(): void {
    this.server.stop(true);
  }

  private market(i: number): GammaMarketFixture {
    const [yes, no] = tokenIds(i);
    const bad = this.opts.badEvery > 0 && i % this.opts.badEvery === 0;
    const badKind = Math.floor(i / Math.max(1, this.opts.badEvery)) % 2;
    const tag = TAGS[i % TAGS.length];
    return {
      id: String(500000 + i),
      conditionId: conditionId(i),
      question: `Will event ${i} happen?`,
      slug: `event-${i}`,
      endDate: new Date(Date.UTC(2026, 11, 1) + i * 3_600_000).toISOString(),
      createdAt: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
      active: true,
      closed: false,
      acceptingOrders: i % 10 !== 3,
      clobTokenIds: bad && badKind === 0 ? `["${yes}", "${no}"` : JSON.stringify([yes, no]),
      outcomes: bad && badKind === 1 ? JSON.stringify(["Yes"]) : JSON.stringify(["Yes", "No"]),
      volume: (i * 1234.5).toFixed(2),
      liquidityNum: i * 10.25,
      events: [{ tags: [{ label: tag, slug: tag.toLowerCase() }] }],
    };
  }

  /** The market's condition id for a token (tokens are generated from the market index). */
  marketOf(asset: string): string {
    const idx = Number((BigInt(asset) - 10n ** 20n) / 2n);
    return conditionId(idx);
  }

  /** The server's book for a token, generated on first use. */
  book(asset: string): ServerBook {
    let b = this.books.get(asset);
    if (!b) {
      b = { market: this.marketOf(asset), bids: new Map(), asks: new Map() };
      const r = rng(Number(BigInt(asset) % 100_000n));
      const mid = 20 + Math.floor(r() * 60);
      for (let k = 1; k <= this.opts.depth; k++) {
        b.bids.set(((mid - k) / 100).toFixed(2), (1 + Math.floor(r() * 500)).toString());
        b.asks.set(((mid + k) / 100).toFixed(2), (1 + Math.floor(r() * 500)).toString() + ".5");
      }
      this.books.set(asset, b);
    }
    return b;
  }

  /** Independent expectation: bids descending, asks ascending, numbers. */
  expectedBook(asset: string): { bidPx: number[]; bidSz: number[]; askPx: number[]; askSz: number[] } {
    const b = this.book(asset);
    const bids = [...b.bids].map(([p, s]) => [Number(p), Number(s)]).sort((x, y) => y[0] - x[0]);
    const asks = [...b.asks].map(([p, s]) => [Number(p), Number(s)]).sort((x, y) => x[0] - y[0]);
    return {
      bidPx: bids.map((x) => x[0]),
      bidSz: bids.map((x) => x[1]),
      askPx: asks.map((x) => x[0]),
      askSz: asks.map((x) => x[1]),
    };
  }

  private bookMessage(asset: string, withType: boolean): Record<string, unknown> {
    const b = this.book(asset);
    // The venue lists bids ascending and asks descending (best last); the client must sort.
    const bids = [...b.bids]
      .map(([price, size]) => ({ price, size }))
      .sort((x, y) => Number(x.price) - Number(y.price));
    const asks = [...b.asks]
      .map(([price, size]) => ({ price, size }))
      .sort((x, y) => Number(y.price) - Number(x.price));
    const msg: Record<string, unknown> = {
      market: b.market,
      asset_id: asset,
      timestamp: String(this.opts.now()),
      hash: "0xfeed",
      bids,
      asks,
    };
    return withType ? { event_type: "book", ...msg } : msg;
  }

  private fetch(req: Request, srv: Server<{ id: number }>): Response | undefined {
    const u = new URL(req.url);
    if (u.pathname === "/ws/market") {
      this.upgradeAttempts.push(this.opts.now());
      if (this.opts.ws429Always || this.upgradeAttempts.length <= this.opts.ws429First) {
        this.refused429.push(this.opts.now());
        return new Response("Too Many Requests", { status: 429 });
      }
      return srv.upgrade(req, { data: { id: this.nextConn++ } })
        ? undefined
        : new Response("upgrade expected", { status: 400 });
    }
    if (u.pathname === "/book") {
      const t = u.searchParams.get("token_id") ?? "";
      this.bookRequests.push(t);
      if (!/^\d+$/.test(t))
        return Response.json({ error: "No orderbook exists for the requested token id" }, { status: 404 });
      return Response.json(this.bookMessage(t, false));
    }
    if (u.pathname === "/markets/keyset" || u.pathname === "/markets") {
      this.gammaRequests.push(u);
      if (++this.gammaCount <= this.opts.gamma429First) {
        return new Response("rate limited", {
          status: 429,
          headers: { "retry-after": String(this.opts.retryAfterSecs) },
        });
      }
      const limit = Math.min(100, Number(u.searchParams.get("limit") ?? 20));
      if (u.pathname === "/markets/keyset") {
        if (this.opts.noKeyset) return new Response("not found", { status: 404 });
        const cur = this.opts.ignoreCursor ? null : u.searchParams.get("after_cursor");
        const offset = cur ? Number(atob(cur)) : 0;
        const page = this.universe.slice(offset, offset + limit);
        const next = offset + limit < this.universe.length ? btoa(String(offset + limit)) : undefined;
        return Response.json(next ? { markets: page, next_cursor: next } : { markets: page });
      }
      const offset = Number(u.searchParams.get("offset") ?? 0);
      return Response.json(this.universe.slice(offset, offset + limit));
    }
    return new Response("not found", { status: 404 });
  }

  private onMessage(ws: ServerWebSocket<{ id: number }>, text: string): void {
    const c = this.conns.get(ws.data.id);
    if (!c || c.muted) return;
    if (text === "PING") {
      c.pings++;
      ws.send("PONG");
      return;
    }
    let msg: { assets_ids?: string[]; type?: string; operation?: string };
    try {
      msg = JSON.parse(text);
    } catch {
      ws.send(JSON.stringify({ error: "invalid json" }));
      return;
    }
    this.received.push({ conn: c.id, msg, t: this.opts.now() });
    const ids = msg.assets_ids ?? [];
    if (msg.type === "market" || msg.operation === "subscribe") {
      const fresh = ids.filter((a) => !c.assets.has(a));
      if (c.assets.size + fresh.length > this.opts.maxAssetsPerConnection) {
        this.violations++;
        ws.close(1008, "too many assets");
        return;
      }
      for (const a of fresh) c.assets.add(a);
      const dump = (msg.type === "market" ? ids : fresh).filter((a) => !this.silent.has(a) && !c.dataMuted);
      // The initial dump comes as one array frame; later subscribes as one frame per book.
      if (msg.type === "market") {
        if (dump.length > 0) ws.send(JSON.stringify(dump.map((a) => this.bookMessage(a, true))));
      } else for (const a of dump) ws.send(JSON.stringify(this.bookMessage(a, true)));
    } else if (msg.operation === "unsubscribe") {
      for (const a of ids) c.assets.delete(a);
    }
  }

  /** Every asset some connection carries. */
  subscribedAssets(): Set<string> {
    const s = new Set<string>();
    for (const c of this.conns.values()) for (const a of c.assets) s.add(a);
    return s;
  }

  /**
   * Applies `n` random level changes (new total sizes, some "0" removals) to subscribed, non-silent books and
   * sends them as price_change frames: several assets per frame, sometimes two messages in an array frame.
   * With `oneFrame`, everything goes out as a single array frame per connection (applied atomically by a client).
   */
  randomUpdates(n: number, oneFrame = false): number {
    const assets = [...this.subscribedAssets()].filter((a) => !this.silent.has(a)).sort();
    if (assets.length === 0) return 0;
    let sent = 0;
    const held = new Map<ServerConn, unknown[]>();
    while (sent < n) {
      const k = Math.min(n - sent, 1 + Math.floor(this.rand() * 3));
      const byMarket = new Map<string, { asset_id: string; price: string; size: string; side: string }[]>();
      for (let j = 0; j < k; j++) {
        const asset = assets[Math.floor(this.rand() * assets.length)];
        const b = this.book(asset);
        const bid = this.rand() < 0.5;
        const side = bid ? b.bids : b.asks;
        const existing = [...side.keys()];
        let price: string;
        let size: string;
        if (existing.length > 0 && this.rand() < 0.3) {
          price = existing[Math.floor(this.rand() * existing.length)];
          size = "0";
        } else {
          // Stay on the right side of the book so it never crosses.
          const bestBid = Math.max(0, ...[...b.bids.keys()].map(Number));
          const bestAsk = Math.min(1, ...[...b.asks.keys()].map(Number));
          const lo = bid ? Math.max(1, Math.round(bestAsk * 100) - 12) : Math.round(bestBid * 100) + 1;
          const hi = bid ? Math.round(bestAsk * 100) - 1 : Math.min(99, Math.round(bestBid * 100) + 12);
          if (hi < lo) continue;
          price = ((lo + Math.floor(this.rand() * (hi - lo + 1))) / 100).toFixed(2);
          size = (1 + Math.floor(this.rand() * 900)).toString();
        }
        if (size === "0") side.delete(price);
        else side.set(price, size);
        const list = byMarket.get(b.market) ?? [];
        list.push({ asset_id: asset, price, size, side: bid ? "BUY" : "SELL" });
        byMarket.set(b.market, list);
        sent++;
      }
      const msgs = [...byMarket].map(([market, changes]) => ({
        market,
        price_changes: changes.map((ch) => ({ ...ch, hash: "0xabc", best_bid: "0", best_ask: "1" })),
        timestamp: String(this.opts.now()),
        event_type: "price_change",
      }));
      for (const c of this.conns.values()) {
        if (c.muted || c.dataMuted) continue;
        const mine = msgs.filter((m) => m.price_changes.some((ch) => c.assets.has(ch.asset_id)));
        if (oneFrame) held.set(c, [...(held.get(c) ?? []), ...mine]);
        else if (mine.length === 1) c.ws.send(JSON.stringify(mine[0]));
        else if (mine.length > 1) c.ws.send(JSON.stringify(mine));
      }
    }
    for (const [c, msgs] of held) if (msgs.length > 0) c.ws.send(JSON.stringify(msgs));
    return sent;
  }

  /** Sends raw text to every connection (malformed frames). */
  sendRaw(text: string): void {
    for (const c of this.conns.values()) c.ws.send(text);
  }
  /** Stops answering anything on this connection, PING included: a half-open socket. */
  mute(connId: number): void {
    const c = this.conns.get(connId);
    if (c) c.muted = true;
  }
  drop(connId: number): void {
    this.conns.get(connId)?.ws.close(1001, "going away");
  }
  /** Server-side connection carrying a token. */
  connOf(asset: string): ServerConn | undefined {
    for (const c of this.conns.values()) if (c.assets.has(asset)) return c;
    return undefined;
  }
}
