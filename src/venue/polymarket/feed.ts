/**
 * Polymarket market channel: owns the sockets, knows nothing of books. Markets are packed onto connections of at most
 * `maxAssets` tokens, a new one opened (spaced by an OpenGate) only when the others are full; each reconnects alone,
 * resubscribing exactly its current assets.
 */
import type { Clock } from "../../clock.ts";
import { OpenGate, ReconnectingSocket } from "../_socket.ts";
import type { BackoffSettings } from "../backoff.ts";
import type { ConnectionEvent } from "../types.ts";
import type { MarketRef } from "../../market.ts";
import type { DynamicSubscribe, InitialSubscribe } from "./wire.ts";

export interface FeedOptions {
  url: string;
  clock: Clock;
  random?: () => number;
  maxAssets: number;
  openPauseMs: number;
  pingIntervalMs: number;
  deadAfterMs: number;
  backoff: BackoffSettings;
  /** Opening-handshake timeout per attempt (ReconnectingSocket's connectTimeoutMs). */
  connectTimeoutMs?: number;
  onFrame(text: string, connId: number, tsRecv: number): void;
  onConnection(ev: ConnectionEvent, tsRecv: number): void;
  onOpenFailed?(connId: number, reason: string, rateLimited: boolean): void;
}

const EMPTY_CONNECTION_GRACE_MS = 5_000;

class Connection {
  readonly markets = new Map<string, string[]>();
  assetCount = 0;
  started = false;
  failedAttempts = 0;
  /** Clock time of the last data frame (not PONG): a socket that answers PING but sends nothing is still dead to us. */
  lastDataAt = -Infinity;
  sock!: ReconnectingSocket;
  constructor(readonly id: number) {}
  assets(): string[] {
    return [...this.markets.values()].flat();
  }
}

export class PolymarketFeed {
  private readonly conns = new Map<number, Connection>();
  private readonly byMarket = new Map<string, Connection>();
  private readonly gate: OpenGate;
  private nextId = 1;
  private closed = false;

  constructor(private readonly o: FeedOptions) {
    this.gate = new OpenGate(o.clock, o.openPauseMs);
  }

  /** Connections currently held (open or reconnecting). */
  get connectionCount(): number {
    return this.conns.size;
  }
  /** Total open attempts over every connection. */
  get openAttempts(): number {
    let n = 0;
    for (const c of this.conns.values()) n += c.sock.opens + c.failedAttempts;
    return n;
  }
  /** Which connection carries a market (tests and resync). */
  connectionOf(marketId: string): number | undefined {
    return this.byMarket.get(marketId)?.id;
  }

  subscribe(markets: MarketRef[]): void {
    if (this.closed) return;
    const added = new Map<Connection, string[]>();
    for (const m of markets) {
      if (this.byMarket.has(m.market_id) || m.outcome_ids.length === 0) continue;
      const n = m.outcome_ids.length;
      let conn: Connection | undefined;
      for (const c of this.conns.values())
        if (c.assetCount + n <= this.o.maxAssets) {
          conn = c;
          break;
        }
      conn ??= this.newConnection();
      conn.markets.set(m.market_id, [...m.outcome_ids]);
      conn.assetCount += n;
      this.byMarket.set(m.market_id, conn);
      const list = added.get(conn) ?? [];
      list.push(m.market_id);
      added.set(conn, list);
    }
    for (const [c, ids] of added) {
      if (!c.started) {
        c.started = true;
        void c.sock.start(); // its initial subscribe carries everything
      } else if (c.sock.connected) {
        this.sendOp(
          c,
          "subscribe",
          ids.flatMap((id) => c.markets.get(id)!),
        );
        // Tells the collector which connection now carries these markets (an up connection is not re-counted).
        this.o.onConnection({ kind: "connection", state: "connected", connId: c.id, markets: ids }, this.o.clock.now());
      }
    }
  }

  unsubscribe(marketIds: string[]): void {
    const removed = new Map<Connection, string[]>();
    for (const id of marketIds) {
      const conn = this.byMarket.get(id);
      if (!conn) continue;
      const ids = conn.markets.get(id)!;
      conn.markets.delete(id);
      conn.assetCount -= ids.length;
      this.byMarket.delete(id);
      const list = removed.get(conn) ?? [];
      list.push(...ids);
      removed.set(conn, list);
    }
    for (const [c, ids] of removed) {
      this.sendOp(c, "unsubscribe", ids);
      // An empty connection is closed, after a grace period: a watchdog resubscribe (unsubscribe + subscribe in
      // one go) must not cost a socket.
      if (c.markets.size === 0) {
        this.o.clock.setTimer(EMPTY_CONNECTION_GRACE_MS, () => {
          if (c.markets.size > 0 || this.conns.get(c.id) !== c) return;
          void c.sock.close();
          this.conns.delete(c.id);
          this.o.onConnection({ kind: "connection", state: "closed", connId: c.id, markets: [] }, this.o.clock.now());
        });
      }
    }
  }

  /** Clock time of the last data frame on a connection (-Infinity when none yet or unknown connection). */
  lastDataAt(connId: number): number {
    return this.conns.get(connId)?.lastDataAt ?? -Infinity;
  }

  /** Drops one connection and lets it reconnect (the others are untouched). */
  reconnect(connId: number, reason: string): void {
    this.conns.get(connId)?.sock.reconnect(reason);
  }

  close(): void {
    this.closed = true;
    for (const c of this.conns.values()) void c.sock.close();
    this.conns.clear();
    this.byMarket.clear();
  }

  private newConnection(): Connection {
    const c = new Connection(this.nextId++);
    this.conns.set(c.id, c);
    c.sock = new ReconnectingSocket({
      url: this.o.url,
      clock: this.o.clock,
      random: this.o.random,
      backoff: this.o.backoff,
      keepalive: { intervalMs: this.o.pingIntervalMs, message: "PING" },
      silenceTimeoutMs: this.o.deadAfterMs,
      connectTimeoutMs: this.o.connectTimeoutMs,
      beforeAttempt: () => this.gate.acquire(),
      onOpen: () => {
        const sub: InitialSubscribe = {
          assets_ids: c.assets(),
          type: "market",
          initial_dump: true,
          custom_feature_enabled: true,
        };
        c.sock.send(JSON.stringify(sub));
        this.o.onConnection(
          { kind: "connection", state: "connected", connId: c.id, markets: [...c.markets.keys()] },
          this.o.clock.now(),
        );
      },
      onMessage: (text) => {
        if (text === "PONG") return;
        const now = this.o.clock.now();
        c.lastDataAt = now;
        this.o.onFrame(text, c.id, now);
      },
      onClose: (reason) => {
        this.o.onConnection(
          { kind: "connection", state: "disconnected", connId: c.id, markets: [...c.markets.keys()], reason },
          this.o.clock.now(),
        );
      },
      onAttemptFailed: (r) => {
        c.failedAttempts++;
        this.o.onOpenFailed?.(c.id, r.reason ?? "open failed", r.status === 429);
      },
    });
    return c;
  }

  private sendOp(c: Connection, operation: DynamicSubscribe["operation"], ids: string[]): void {
    if (ids.length === 0) return;
    const msg: DynamicSubscribe = { operation, assets_ids: ids };
    c.sock.send(JSON.stringify(msg));
  }
}
