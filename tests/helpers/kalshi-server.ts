/**
 * A loopback Kalshi (Bun.serve, port 0) speaking docs/venues/kalshi.md: REST listing and orderbook, the signed socket
 * (sids, subscribe / update_subscription / unsubscribe, dollar and cent forms); it refuses a whole command holding one
 * unknown or closed ticker without saying which, as the venue does. Fault knobs: KalshiServer. Books in integer cents.
 */
import type { Server, ServerWebSocket } from "bun";
import { constants, verify, type KeyObject } from "node:crypto";
import type { Clock } from "../../src/clock.ts";

export interface ServerMarket {
  ticker: string;
  event_ticker: string;
  title: string;
  subtitle: string;
  status: string;
  close_time: string;
  volume_fp: string;
  open_interest: number;
  /** true: sent in the old cent form (snapshots and deltas); false: the dollar form. */
  cents: boolean;
}

/** Bids per side: price in cents → size. */
export interface ServerBook {
  yes: Map<number, number>;
  no: Map<number, number>;
}

interface Conn {
  subs: Map<number, { tickers: Set<string>; seq: number }>;
}

export interface KalshiServerOptions {
  /** Clock used to stamp requests (the test's SimClock) and to decide which markets are past close. */
  clock: Clock;
  publicKey: KeyObject;
  keyId: string;
  /** Number of open markets listed; about 1 in 50 more are listed open but past close_time. */
  markets: number;
  /** Largest page the listing returns whatever `limit` asks. */
  maxPage?: number;
  /**
   * A login whose KALSHI-ACCESS-TIMESTAMP is further than this from the server's clock is refused (401), as the venue
   * refuses a stale signature: headers signed once and replayed on a later reconnect do not get in. Default 5 s.
   */
  timestampWindowMs?: number;
}

export interface KalshiServer {
  url: string;
  restUrl: string;
  wsUrl: string;
  markets: ServerMarket[];
  /** Tickers that are open (close_time in the future) at the start. */
  openTickers: string[];
  books: Map<string, ServerBook>;
  /** Every REST request: path+query and the clock time. */
  restLog: { path: string; at: number; status: number }[];
  /** Every WebSocket command received, stamped with the clock time. */
  commands: { id: number; cmd: string; params: Record<string, unknown>; at: number }[];
  /** Upgrade attempts refused with 401. */
  refused: number;
  /** Of those, refused because the timestamp was outside the window (the signature itself verified). */
  refusedStale: number;
  /** Accepted logins: the clock time and the KALSHI-ACCESS-TIMESTAMP they carried. */
  logins: { at: number; ts: number }[];
  /** Clock time of every WebSocket upgrade attempt. */
  upgradeAttempts: number[];
  /** While set, every upgrade is answered with this HTTP status (an outage: 503, 429…); null accepts again. */
  refuseUpgrades(status: number | null): void;
  /** Answer the next n `/markets` requests with 429 + Retry-After: secs. */
  throttle(n: number, retryAfterSecs: number): void;
  /** Answer the next n subscribe / update_subscription commands with this error (a venue fault, not a ticker; null: no code). */
  failNext(n: number, code: number | null, msg: string): void;
  /** The next n add_markets are applied (snapshots sent) but answered with error 6 "Already subscribed" instead of ok. */
  alreadySubscribedNext(n: number): void;
  /**
   * Handles the next command matching `match` only after `ms` of the clock (a venue slow to answer: the subscription
   * and its reply come then); commands after it are handled at once.
   */
  delayNext(match: (c: { cmd: string; params: Record<string, unknown> }) => boolean, ms: number): void;
  /** Subscriptions on every connection: sid → its tickers. */
  subscriptions(): Map<number, Set<string>>;
  /** Closes (true) or reopens a market: a closed one is refused like an unknown one. Past close_time at start: closed. */
  setClosed(ticker: string, closed: boolean): void;
  /** Tickers currently subscribed on any connection. */
  subscribed(): Set<string>;
  connections(): number;
  /** Applies a delta to the server book and sends it to every subscription that carries the ticker. */
  delta(ticker: string, side: "yes" | "no", priceCents: number, delta: number, tsMs: number): void;
  /** The next data message of every sid skips one seq number. */
  skipSeq(): void;
  /** While on, update_subscription "ok" replies carry the sid's current seq instead of the next one (as Kalshi does). */
  repeatSeqOnOk(on: boolean): void;
  /** While on, get_snapshot requests are held (a slow venue); turning it off answers them. */
  holdSnapshots(on: boolean): void;
  /** Stop sending anything (data and pings) until unmuted. */
  mute(on: boolean): void;
  ping(): void;
  /**
   * Resolves once every open connection has answered a ping sent now. A client's frames arrive in order, so anything
   * it sent before that pong has been received (and logged in `commands`): the event that proves the client had its
   * turn, where a test would otherwise sleep and hope.
   */
  barrier(): Promise<void>;
  /** Close every connection (1011). */
  drop(): void;
  sendRaw(text: string): void;
  /** Sends `{type, sid, seq, msg}` with the next seq of every subscription carrying the ticker (a malformed body, say). */
  sendData(ticker: string, type: string, msg: unknown): void;
  stop(): void;
}

const dollars = (cents: number) => (cents / 100).toFixed(4);
const fp = (n: number) => n.toFixed(2);

export function startKalshiServer(o: KalshiServerOptions): KalshiServer {
  const maxPage = o.maxPage ?? 1000;
  const now0 = o.clock.now();
  const markets: ServerMarket[] = [];
  const openTickers: string[] = [];
  const books = new Map<string, ServerBook>();
  for (let i = 0; i < o.markets; i++) {
    const ev = `KXEV${Math.floor(i / 5)}`;
    const past = i % 50 === 49;
    const m: ServerMarket = {
      ticker: `${ev}-M${i}`,
      event_ticker: ev,
      title: `Market ${i}?`,
      subtitle: i % 3 === 0 ? `option ${i % 7}` : "",
      status: "active",
      close_time: new Date(now0 + (past ? -30_000 : 86_400_000 + i * 60_000)).toISOString(),
      volume_fp: fp(i * 10),
      open_interest: i,
      cents: i % 2 === 1,
    };
    markets.push(m);
    if (!past) openTickers.push(m.ticker);
    // a few bids per side, NO bids below 100 − best YES bid so the implied books do not cross
    const yes = new Map<number, number>();
    const no = new Map<number, number>();
    const mid = 20 + (i % 60);
    for (let k = 0; k < 3; k++) {
      yes.set(mid - 1 - k * 2, 10 * (k + 1) + (i % 5));
      no.set(100 - mid - 1 - k * 3, 5 * (k + 1) + (i % 7));
    }
    books.set(m.ticker, { yes, no });
  }
  const byTicker = new Map(markets.map((m) => [m.ticker, m]));
  const closed = new Set(markets.filter((m) => Date.parse(m.close_time) <= now0).map((m) => m.ticker));
  let delay: { match: (c: { cmd: string; params: Record<string, unknown> }) => boolean; ms: number } | null = null;
  let failLeft = 0;
  let failReply: { code: number | null; msg: string } = { code: 0, msg: "" };
  let alreadyLeft = 0;
  const restLog: KalshiServer["restLog"] = [];
  const commands: KalshiServer["commands"] = [];
  const sockets = new Set<ServerWebSocket<Conn>>();
  let nextSid = 1;
  let refused = 0;
  let refusedStale = 0;
  const logins: { at: number; ts: number }[] = [];
  const window = o.timestampWindowMs ?? 5000;
  const upgradeAttempts: number[] = [];
  let refuseStatus: number | null = null;
  let throttleLeft = 0;
  let throttleSecs = 0;
  let skip = false;
  let okRepeats = false;
  let muted = false;
  let hold = false;
  const held: (() => void)[] = [];
  let nextBarrier = 0;
  const barriers = new Map<string, { left: number; done: () => void }>();

  const send = (ws: ServerWebSocket<Conn>, msg: unknown) => {
    if (!muted) ws.send(JSON.stringify(msg));
  };
  const nextSeq = (sub: { seq: number }) => {
    sub.seq += skip ? 2 : 1;
    skip = false;
    return sub.seq;
  };
  const snapshotMsg = (t: string) => {
    const b = books.get(t)!;
    const m = byTicker.get(t)!;
    const side = (s: Map<number, number>) => [...s.entries()].filter(([, z]) => z > 0).sort((a, b) => a[0] - b[0]);
    const msg: Record<string, unknown> = { market_ticker: t, market_id: `id-${t}` };
    for (const name of ["yes", "no"] as const) {
      const lv = side(b[name]);
      if (lv.length === 0) continue; // Kalshi omits an empty side
      if (m.cents) msg[name] = lv;
      else msg[`${name}_dollars_fp`] = lv.map(([p, z]) => [dollars(p), fp(z)]);
    }
    return msg;
  };
  const sendSnapshots = (ws: ServerWebSocket<Conn>, sid: number, tickers: Iterable<string>) => {
    const sub = ws.data.subs.get(sid)!;
    for (const t of tickers) send(ws, { type: "orderbook_snapshot", sid, seq: nextSeq(sub), msg: snapshotMsg(t) });
  };

  /** The signature over `timestamp + "GET" + the exact request path` (no query), and the timestamp within the window. */
  const verifySignature = (req: Request): boolean => {
    const key = req.headers.get("KALSHI-ACCESS-KEY");
    const ts = req.headers.get("KALSHI-ACCESS-TIMESTAMP");
    const sig = req.headers.get("KALSHI-ACCESS-SIGNATURE");
    if (key !== o.keyId || !ts || !sig || !/^\d{13}$/.test(ts)) return false;
    const path = new URL(req.url).pathname;
    const ok = verify(
      "sha256",
      Buffer.from(`${ts}GET${path}`),
      { key: o.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      Buffer.from(sig, "base64"),
    );
    if (!ok) return false;
    if (Math.abs(Number(ts) - o.clock.now()) > window) {
      refusedStale++;
      return false;
    }
    logins.push({ at: o.clock.now(), ts: Number(ts) });
    return true;
  };

  const server: Server<Conn> = Bun.serve<Conn>({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req, srv) {
      const url = new URL(req.url);
      if (url.pathname === "/trade-api/ws/v2") {
        upgradeAttempts.push(o.clock.now());
        if (refuseStatus !== null) return new Response("unavailable", { status: refuseStatus });
        if (!verifySignature(req)) {
          refused++;
          return new Response(JSON.stringify({ error: { code: "authentication_error" } }), { status: 401 });
        }
        return srv.upgrade(req, { data: { subs: new Map() } })
          ? undefined
          : new Response("upgrade failed", { status: 400 });
      }
      const log = (status: number) => restLog.push({ path: url.pathname + url.search, at: o.clock.now(), status });
      if (url.pathname === "/trade-api/v2/markets") {
        if (throttleLeft > 0) {
          throttleLeft--;
          log(429);
          return new Response("too many requests", { status: 429, headers: { "Retry-After": String(throttleSecs) } });
        }
        log(200);
        const limit = Math.min(Number(url.searchParams.get("limit") ?? 100), maxPage);
        const start = Number(url.searchParams.get("cursor") || "0");
        const page = markets.slice(start, start + limit);
        const next = start + limit < markets.length ? String(start + limit) : "";
        return Response.json({ markets: page, cursor: next });
      }
      const ob = /^\/trade-api\/v2\/markets\/([^/]+)\/orderbook$/.exec(url.pathname);
      if (ob) {
        log(200);
        const t = decodeURIComponent(ob[1]);
        const b = books.get(t);
        if (!b) return Response.json({ error: { code: "not_found" } }, { status: 404 });
        const lv = (s: Map<number, number>) => [...s.entries()].filter(([, z]) => z > 0).sort((a, b) => a[0] - b[0]);
        if (byTicker.get(t)!.cents) return Response.json({ orderbook: { yes: lv(b.yes), no: lv(b.no) } });
        return Response.json({
          orderbook_fp: {
            yes_dollars: lv(b.yes).map(([p, z]) => [dollars(p), fp(z)]),
            no_dollars: lv(b.no).map(([p, z]) => [dollars(p), fp(z)]),
          },
        });
      }
      log(404);
      return new Response("not found", { status: 404 });
    },
    websocket: {
      open(ws) {
        sockets.add(ws);
      },
      close(ws) {
        sockets.delete(ws);
      },
      pong(_ws, data) {
        const b = barriers.get(String(data));
        if (b && --b.left === 0) {
          barriers.delete(String(data));
          b.done();
        }
      },
      message(ws, raw) {
        const c = JSON.parse(String(raw)) as { id: number; cmd: string; params: Record<string, unknown> };
        commands.push({ ...c, at: o.clock.now() });
        if (delay?.match(c)) {
          const ms = delay.ms;
          delay = null;
          o.clock.setTimer(ms, () => handle(ws, c));
          return;
        }
        handle(ws, c);
      },
    },
  });

  function handle(ws: ServerWebSocket<Conn>, c: { id: number; cmd: string; params: Record<string, unknown> }): void {
    if (ws.readyState !== 1) return;
    const p = c.params ?? {};
    const tickers = (p.market_tickers as string[] | undefined) ?? [];
    const unknown = tickers.filter((t) => !books.has(t) || closed.has(t));
    const err = (code: number | null, msg: string) =>
      send(ws, { id: c.id, type: "error", msg: code === null ? { msg } : { code, msg } });
    if ((c.cmd === "subscribe" || c.cmd === "update_subscription") && failLeft > 0) {
      failLeft--;
      return err(failReply.code, failReply.msg);
    }
    // The reply does not name the ticker (as Kalshi's does not).
    const notFound = () => err(16, "Market not found");
    if (c.cmd === "subscribe") {
      if (unknown.length > 0) return notFound();
      const sid = nextSid++;
      ws.data.subs.set(sid, { tickers: new Set(tickers), seq: 0 });
      send(ws, { id: c.id, type: "subscribed", msg: { channel: "orderbook_delta", sid } });
      return sendSnapshots(ws, sid, tickers);
    }
    const sids = (p.sids as number[] | undefined) ?? [];
    const sub = ws.data.subs.get(sids[0]);
    if (!sub) return err(8, "Unknown subscription id");
    if (c.cmd === "unsubscribe") {
      ws.data.subs.delete(sids[0]);
      return send(ws, { id: c.id, sid: sids[0], type: "unsubscribed" });
    }
    if (c.cmd !== "update_subscription") return err(5, "Unknown command");
    if (unknown.length > 0) return notFound();
    if (p.action === "add_markets") {
      for (const t of tickers) sub.tickers.add(t);
      if (alreadyLeft > 0) {
        alreadyLeft--;
        err(6, "Already subscribed");
        return sendSnapshots(ws, sids[0], tickers);
      }
      send(ws, {
        id: c.id,
        sid: sids[0],
        seq: okRepeats ? sub.seq : nextSeq(sub),
        type: "ok",
        msg: { market_tickers: [...sub.tickers] },
      });
      return sendSnapshots(ws, sids[0], tickers);
    }
    if (p.action === "delete_markets") {
      for (const t of tickers) sub.tickers.delete(t);
      return send(ws, {
        id: c.id,
        sid: sids[0],
        seq: okRepeats ? sub.seq : nextSeq(sub),
        type: "ok",
        msg: { market_tickers: [...sub.tickers] },
      });
    }
    if (p.action === "get_snapshot") {
      const answer = () =>
        sendSnapshots(
          ws,
          sids[0],
          tickers.filter((t) => sub.tickers.has(t)),
        );
      return hold ? void held.push(answer) : answer();
    }
    return err(9, "Invalid action");
  }

  const base = `http://127.0.0.1:${server.port}`;
  return {
    url: base,
    restUrl: `${base}/trade-api/v2`,
    wsUrl: `ws://127.0.0.1:${server.port}/trade-api/ws/v2`,
    markets,
    openTickers,
    books,
    restLog,
    commands,
    get refused() {
      return refused;
    },
    get refusedStale() {
      return refusedStale;
    },
    logins,
    upgradeAttempts,
    refuseUpgrades(status) {
      refuseStatus = status;
    },
    throttle(n, secs) {
      throttleLeft = n;
      throttleSecs = secs;
    },
    failNext(n, code, msg) {
      failLeft = n;
      failReply = { code, msg };
    },
    alreadySubscribedNext(n) {
      alreadyLeft = n;
    },
    delayNext(match, ms) {
      delay = { match, ms };
    },
    subscriptions() {
      const m = new Map<number, Set<string>>();
      for (const ws of sockets) for (const [sid, sub] of ws.data.subs) m.set(sid, new Set(sub.tickers));
      return m;
    },
    setClosed(ticker, on) {
      if (on) closed.add(ticker);
      else closed.delete(ticker);
    },
    subscribed() {
      const s = new Set<string>();
      for (const ws of sockets) for (const sub of ws.data.subs.values()) for (const t of sub.tickers) s.add(t);
      return s;
    },
    connections: () => sockets.size,
    delta(ticker, side, price, delta, tsMs) {
      const b = books.get(ticker)![side];
      const size = (b.get(price) ?? 0) + delta;
      if (size > 0) b.set(price, size);
      else b.delete(price);
      const cents = byTicker.get(ticker)!.cents;
      const msg = cents
        ? { market_ticker: ticker, price, delta, side, ts: Math.floor(tsMs / 1000) }
        : { market_ticker: ticker, price_dollars: dollars(price), delta_fp: fp(delta), side, ts_ms: tsMs };
      for (const ws of sockets) {
        for (const [sid, sub] of ws.data.subs)
          if (sub.tickers.has(ticker)) send(ws, { type: "orderbook_delta", sid, seq: nextSeq(sub), msg });
      }
    },
    skipSeq() {
      skip = true;
    },
    repeatSeqOnOk(on) {
      okRepeats = on;
    },
    holdSnapshots(on) {
      hold = on;
      if (!on) for (const answer of held.splice(0)) answer();
    },
    mute(on) {
      muted = on;
    },
    ping() {
      if (!muted) for (const ws of sockets) ws.ping();
    },
    barrier() {
      if (sockets.size === 0) return Promise.resolve();
      const id = `barrier-${++nextBarrier}`;
      return new Promise<void>((done) => {
        barriers.set(id, { left: sockets.size, done });
        for (const ws of sockets) ws.ping(id);
      });
    },
    drop() {
      for (const ws of sockets) ws.close(1011, "server going away");
    },
    sendRaw(text) {
      for (const ws of sockets) ws.send(text);
    },
    sendData(ticker, type, msg) {
      for (const ws of sockets) {
        for (const [sid, sub] of ws.data.subs)
          if (sub.tickers.has(ticker)) send(ws, { type, sid, seq: nextSeq(sub), msg });
      }
    },
    stop() {
      server.stop(true);
    },
  };
}
