/**
 * Kalshi WebSocket feed: one signed connection, one `orderbook_delta` subscription (sid) whose tickers change through
 * `update_subscription` add_markets / delete_markets, seq checked per sid (a gap → stale + get_snapshot). Socket,
 * reconnect and silence detection are the shared ReconnectingSocket; mapping is mapper.ts.
 */
import type { CollectSettings, KalshiOptions } from "../../config.ts";
import { UserError } from "../../errors.ts";
import { logger } from "../../log.ts";
import { ReconnectingSocket } from "../_socket.ts";
import type { AdapterContext, BookKey, EventSink, MarketRef, VenueEvent } from "../types.ts";
import { authHeaders, loadCredentials, type KalshiCredentials } from "./auth.ts";
import type { KalshiRest } from "./discovery.ts";
import { decodeFrame, deltaEvents, OUTCOMES, snapshotEvents } from "./mapper.ts";

const CHANNEL = "orderbook_delta";
/** An unanswered get_snapshot for a ticker is not repeated sooner than this. */
const SNAPSHOT_RETRY_MS = 10_000;
/** A seq this far past the last one is garbage, not a gap (no sid carries a million messages between two frames). */
const MAX_SEQ_JUMP = 1_000_000;

export class KalshiFeed {
  private readonly log = logger("kalshi");
  private socket: ReconnectingSocket | null = null;
  private sink: EventSink = () => {};
  /** Markets we want, whatever the connection state: exactly what a reconnect subscribes. */
  private readonly targets = new Set<string>();
  private sid: number | null = null;
  /** id of the in-flight `subscribe` command; changes meanwhile are queued and sent once the sid is known. */
  private subscribeId: number | null = null;
  private readonly queuedAdd = new Set<string>();
  private readonly queuedDel = new Set<string>();
  private readonly lastSeq = new Map<number, number>();
  /** Tickers with a get_snapshot in flight → when it was asked. */
  private readonly snapshotAsked = new Map<string, number>();
  private readonly commands = new Map<number, string>();
  private nextId = 1;
  /** Commands sent, by kind (tests and metrics read it). */
  readonly sent: Record<string, number> = {};

  constructor(
    private readonly o: KalshiOptions,
    private readonly collect: CollectSettings,
    private readonly ctx: AdapterContext,
    private readonly rest: KalshiRest,
  ) {}

  private emit(ev: VenueEvent): void {
    this.sink(ev, this.ctx.clock.now());
  }

  /** Opens the signed socket. Missing credentials or a refused login → UserError naming the variables. */
  async connect(sink: EventSink): Promise<void> {
    const creds: KalshiCredentials = loadCredentials(this.o, this.ctx.env);
    this.sink = sink;
    let first = true;
    const socket = new ReconnectingSocket({
      url: this.o.ws_url,
      clock: this.ctx.clock,
      random: this.ctx.random,
      backoff: { baseMs: this.collect.reconnect_base_ms, capMs: this.collect.reconnect_cap_ms, resetAfterMs: this.collect.reconnect_reset_secs * 1000, maxPerMinute: this.collect.reconnect_max_per_minute },
      silenceTimeoutMs: this.o.heartbeat_timeout_secs * 1000,
      connectTimeoutMs: this.collect.connect_timeout_secs * 1000,
      headers: () => authHeaders(creds, this.ctx.clock.now(), "GET", this.o.ws_url),
      onOpen: () => this.opened(),
      onMessage: (text) => this.onFrame(text),
      onClose: (reason) => this.closed(reason),
      onAttemptFailed: (r) => {
        const refused = r.status === 401 || r.status === 403;
        if (first && refused) return false;
        this.log.warn(`connection attempt failed: ${r.reason ?? "unknown"}; retrying with backoff`);
        this.emit({ kind: "venue_error", reason: refused ? "auth_refused" : "connect_failed", detail: r.reason });
      },
    });
    this.socket = socket;
    const r = await socket.start();
    first = false;
    if (!r.ok && (r.status === 401 || r.status === 403)) {
      await socket.close();
      this.socket = null;
      throw new UserError(
        `kalshi: the WebSocket login was refused (HTTP ${r.status}): the signature made with ${this.o.private_key_env} did not verify for the key id in ${this.o.key_id_env}`,
        1,
        `Check that ${this.o.key_id_env} is the id of the API key whose private key ${this.o.private_key_env} names, and that this machine's clock is right.`,
      );
    }
  }

  private opened(): void {
    this.sid = null;
    this.subscribeId = null;
    this.queuedAdd.clear();
    this.queuedDel.clear();
    this.lastSeq.clear();
    this.snapshotAsked.clear();
    this.log.info(`connected; subscribing ${this.targets.size} markets`);
    this.emit({ kind: "connection", state: "connected", connId: 0, markets: [...this.targets] });
    if (this.targets.size > 0) this.sendSubscribe();
  }

  private closed(reason: string): void {
    this.sid = null;
    this.subscribeId = null;
    this.log.warn(`disconnected (${reason}); reconnecting with backoff`);
    this.emit({ kind: "connection", state: "disconnected", connId: 0, markets: [...this.targets], reason });
  }

  private command(kind: string, cmd: string, params: Record<string, unknown>): number {
    const id = this.nextId++;
    if (this.commands.size >= 1000) this.commands.delete(this.commands.keys().next().value!); // not every command is answered
    this.commands.set(id, kind);
    this.sent[kind] = (this.sent[kind] ?? 0) + 1;
    this.socket?.send(JSON.stringify({ id, cmd, params }));
    return id;
  }

  private sendSubscribe(): void {
    this.subscribeId = this.command("subscribe", "subscribe", { channels: [CHANNEL], market_tickers: [...this.targets] });
  }

  private update(action: "add_markets" | "delete_markets" | "get_snapshot", tickers: string[]): void {
    if (tickers.length === 0 || this.sid === null) return;
    this.command(action, "update_subscription", { sids: [this.sid], market_tickers: tickers, action });
  }

  subscribe(markets: MarketRef[]): void {
    const added = markets.map((m) => m.market_id).filter((t) => !this.targets.has(t));
    for (const t of added) this.targets.add(t);
    this.change(added, "add_markets");
  }

  unsubscribe(markets: MarketRef[]): void {
    const removed = markets.map((m) => m.market_id).filter((t) => this.targets.has(t));
    for (const t of removed) this.targets.delete(t);
    this.change(removed, "delete_markets");
  }

  /** A change of the target set: on the existing sid when there is one, queued while the subscribe is in flight. */
  private change(tickers: string[], action: "add_markets" | "delete_markets"): void {
    if (tickers.length === 0 || !this.socket?.connected) return; // a (re)connect subscribes the current set
    if (this.sid !== null) return this.update(action, tickers);
    if (this.subscribeId !== null) {
      const [q, other] = action === "add_markets" ? [this.queuedAdd, this.queuedDel] : [this.queuedDel, this.queuedAdd];
      for (const t of tickers) if (!other.delete(t)) q.add(t);
      return;
    }
    if (this.targets.size > 0) this.sendSubscribe();
  }

  /** Fresh books without dropping the socket: a snapshot request on the sid, else the REST book. */
  resync(keys: BookKey[]): void {
    const tickers = [...new Set(keys.map((k) => k.marketId))].filter((t) => this.targets.has(t));
    if (tickers.length === 0 || !this.socket?.connected) return;
    if (this.sid !== null) return this.requestSnapshots(tickers);
    for (const t of tickers) {
      this.rest.orderbook(t).then(
        (r) => (Array.isArray(r) ? r.forEach((b) => this.emit(b)) : this.emit(r)),
        (e: Error) => this.emit({ kind: "venue_error", reason: "rest_orderbook_failed", detail: `${t}: ${e.message}` }),
      );
    }
  }

  private onFrame(text: string): void {
    const d = decodeFrame(text);
    switch (d.kind) {
      case "delta":
      case "snapshot": {
        if (!this.checkSeq(d.sid, d.seq)) return;
        const evs = d.kind === "delta" ? deltaEvents(d.msg, d.seq) : snapshotEvents(d.msg, d.seq);
        if (Array.isArray(evs)) {
          if (d.kind === "snapshot") this.snapshotAsked.delete(d.msg.market_ticker);
          const now = this.ctx.clock.now();
          this.sink(evs[0], now);
          this.sink(evs[1], now);
        } else this.lostUpdate(d.msg.market_ticker, evs.reason, evs.sample ?? "");
        return;
      }
      case "rejected":
        if (d.sid !== undefined && d.seq !== undefined && !this.checkSeq(d.sid, d.seq)) return;
        if (d.ticker !== undefined) return this.lostUpdate(d.ticker, d.reason, d.sample);
        return this.emit({ kind: "rejected", reason: d.reason, sample: d.sample });
      case "subscribed":
        if (d.channel !== undefined && d.channel !== CHANNEL) return;
        if (d.id !== undefined && d.id !== this.subscribeId) return;
        this.sid = d.sid;
        this.subscribeId = null;
        this.update("add_markets", [...this.queuedAdd].filter((t) => this.targets.has(t)));
        this.update("delete_markets", [...this.queuedDel].filter((t) => !this.targets.has(t)));
        this.queuedAdd.clear();
        this.queuedDel.clear();
        return;
      case "error": {
        const cmd = d.id !== undefined ? (this.commands.get(d.id) ?? "unknown command") : "no command";
        if (d.id !== undefined && d.id === this.subscribeId) this.subscribeId = null; // the next change retries
        this.log.warn(`error reply to ${cmd} (id ${d.id ?? "-"}): code ${d.code ?? "?"} ${d.text}`);
        this.emit({ kind: "venue_error", reason: `error_reply_${d.code ?? "unknown"}`, detail: `${cmd}: ${d.text}` });
        return;
      }
      case "reply":
        if (d.id !== undefined) this.commands.delete(d.id);
        // replies on a sid (update_subscription "ok") take a seq number too
        if (d.sid !== undefined && d.seq !== undefined && !this.checkSeq(d.sid, d.seq)) return;
        return this.emit({ kind: "info", type: d.type });
    }
  }

  /** Per-sid seq: +1 is normal; a jump is a gap (stale + snapshots); a repeat or step back is dropped (false). */
  private checkSeq(sid: number, seq: number): boolean {
    const last = this.lastSeq.get(sid);
    if (!Number.isSafeInteger(seq) || seq < 0 || (last !== undefined && seq - last > MAX_SEQ_JUMP)) {
      // Taken as the new position, a garbage seq (1e308) would make every later message look old, for good.
      this.emit({ kind: "rejected", reason: "seq_implausible", sample: `sid ${sid} seq ${seq} after ${last ?? "-"}` });
      return false;
    }
    if (last !== undefined && seq !== last + 1) {
      if (seq <= last) {
        this.emit({ kind: "rejected", reason: "seq_not_increasing", sample: `sid ${sid} seq ${seq} after ${last}` });
        return false;
      }
      this.gap(sid, last, seq);
    }
    this.lastSeq.set(sid, seq);
    return true;
  }

  /** A data message for one market could not be applied: that market's books are stale until a snapshot. */
  private lostUpdate(ticker: string, reason: string, sample: string): void {
    this.emit({ kind: "rejected", reason, sample });
    if (!this.targets.has(ticker)) return;
    this.emit({ kind: "stale", keys: OUTCOMES.map((o) => ({ marketId: ticker, outcomeId: o })), reason: `unusable message (${reason})` });
    this.requestSnapshots([ticker]);
  }

  /** Messages of this sid were lost: every book it carries is suspect until a fresh snapshot. */
  private gap(sid: number, last: number, seq: number): void {
    const markets = [...this.targets];
    this.emit({ kind: "stale", keys: markets.flatMap((m) => OUTCOMES.map((o) => ({ marketId: m, outcomeId: o }))), reason: `seq gap on sid ${sid}: ${last} → ${seq}` });
    if (this.sid === null) return; // the subscribe in flight brings fresh snapshots
    if (sid === this.sid) this.requestSnapshots(markets);
    else this.socket?.reconnect(`seq gap on unknown sid ${sid}`);
  }

  /**
   * get_snapshot for these tickers, skipping those already asked for and not yet answered (for up to 10 s), so an
   * unusable snapshot or a burst of gaps cannot turn into a storm of requests.
   */
  private requestSnapshots(tickers: string[]): void {
    const now = this.ctx.clock.now();
    const ask = tickers.filter((t) => {
      const at = this.snapshotAsked.get(t);
      return at === undefined || now - at >= SNAPSHOT_RETRY_MS;
    });
    for (const t of ask) this.snapshotAsked.set(t, now);
    this.update("get_snapshot", ask);
  }

  async close(): Promise<void> {
    await this.socket?.close();
    this.socket = null;
  }
}
