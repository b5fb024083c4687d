/**
 * Kalshi WebSocket feed: one signed connection, one `orderbook_delta` subscription whose tickers change through
 * `update_subscription` (sid and queued changes: subscription.ts; seq per sid: seq.ts; refusals: refusals.ts).
 * Socket, reconnect and silence are the shared ReconnectingSocket; mapping is mapper.ts (docs/venues/kalshi.md).
 */
import type { CollectSettings } from "../../config.ts";
import type { KalshiOptions } from "./config.ts";
import { UserError } from "../../errors.ts";
import type { Timer } from "../../clock.ts";
import { logger, RateLimitedLog } from "../../log.ts";
import { ReconnectingSocket } from "../_socket.ts";
import { type AdapterContext, type BookKey, type EventSink, urlHost, type VenueEvent } from "../types.ts";
import type { MarketRef } from "../../market.ts";
import { authHeaders, loadCredentials, type KalshiCredentials } from "./auth.ts";
import type { KalshiRest } from "./discovery.ts";
import { decodeFrame, deltaEvents, OUTCOMES, snapshotEvents } from "./mapper.ts";
import { REFUSED_RETRY_MS, RefusalSearch } from "./refusals.ts";
import { SeqTracker } from "./seq.ts";
import { type Change, SubscriptionState } from "./subscription.ts";

const CHANNEL = "orderbook_delta";
/** An unanswered get_snapshot for a ticker is not repeated sooner than this. */
const SNAPSHOT_RETRY_MS = 10_000;
/**
 * Error codes that Kalshi documents as being about something other than the command's tickers (malformed command,
 * unknown sid or channel, authentication, channel error, internal error, timeout, buffer or market-count limits,
 * rate limit). These, and an error without a code, are venue faults: the command is retried after a pause. Any
 * other code on a subscribe / add_markets may be one bad ticker in the set, which it does not name.
 */
const NOT_ABOUT_TICKERS = new Set([1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 15, 17, 18, 25, 26, 27]);
/**
 * "Already subscribed" (seen in older captures): harmless for the set it answers. An add_markets so answered went
 * through; a subscribe so answered is retried like a venue fault (the sid it refers to is not named); never a refusal.
 */
const ALREADY_SUBSCRIBED = 6;
/** Tickers named in one refusal log line at most. */
const LOG_NAMES = 20;

export class KalshiFeed {
  private readonly log = logger("kalshi");
  private socket: ReconnectingSocket | null = null;
  private sink: EventSink = () => {};
  /** Markets we want, whatever the connection state: exactly what a reconnect subscribes. */
  private readonly targets = new Set<string>();
  /** Our sid, the subscribe in flight and the changes queued behind it. */
  private readonly sub = new SubscriptionState();
  private readonly seqs = new SeqTracker();
  /** Tickers with a get_snapshot in flight → when it was asked. */
  private readonly snapshotAsked = new Map<string, number>();
  /** Commands awaiting a reply → kind, and the tickers of a subscribe / add_markets (to narrow down a refusal). */
  private readonly commands = new Map<number, { kind: string; tickers?: string[] }>();
  private nextId = 1;
  /** Commands sent, by kind (tests and metrics read it). */
  readonly sent: Record<string, number> = {};
  /** Data frames dropped because they carried an sid that is not ours (a stray subscription's). */
  foreignFrames = 0;
  readonly refusals: RefusalSearch;
  private wake: Timer | null = null;
  private wakeAt = Infinity;
  /** Tickers found refused since the last log line (one line per search, rate-limited). */
  private refusedNames: string[] = [];
  private refusedWhy = "";
  /** Tickers found refused, not yet reported: `refused` events go out at the end of `pump`, once the search is
   * consistent (the receiver may unsubscribe them at once). */
  private refusedUnreported: { ticker: string; why: string }[] = [];
  private readonly warnLimited = new RateLimitedLog((m) => this.log.warn(m));

  constructor(
    private readonly o: KalshiOptions,
    private readonly collect: CollectSettings,
    private readonly ctx: AdapterContext,
    private readonly rest: KalshiRest,
  ) {
    // Probes draw from the collector's churn budget when it shares one (in markets), else from a budget of their own.
    const budget = ctx.churn ?? collect.subscription_churn_limit_per_minute;
    this.refusals = new RefusalSearch(
      budget,
      (t) => this.targets.has(t),
      (t, why) => this.refused(t, why),
    );
  }

  /** In the target set and subscribed or about to be (not refused, not waiting for a probe). */
  private wanted(t: string): boolean {
    return this.targets.has(t) && !this.refusals.isRefused(t) && !this.refusals.isWaiting(t);
  }
  private wantedList(): string[] {
    return [...this.targets].filter((t) => this.wanted(t));
  }

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
      backoff: {
        baseMs: this.collect.reconnect_base_ms,
        capMs: this.collect.reconnect_cap_ms,
        resetAfterMs: this.collect.reconnect_reset_secs * 1000,
        maxPerMinute: this.collect.reconnect_max_per_minute,
      },
      silenceTimeoutMs: this.o.heartbeat_timeout_secs * 1000,
      connectTimeoutMs: this.collect.connect_timeout_secs * 1000,
      headers: () => authHeaders(creds, this.ctx.clock.now(), "GET", this.o.ws_url),
      onOpen: () => this.opened(),
      onMessage: (text) => this.onFrame(text),
      onClose: (reason) => this.closed(reason),
      onAttemptFailed: (r) => {
        const refused = r.status === 401 || r.status === 403;
        if (first && refused) return false;
        // Logged by the collector (once per kind of failure, with the host), counted in its status line.
        this.emit({
          kind: "venue_error",
          reason: refused ? "auth_refused" : "connect_failed",
          // A login refused mid-run (key revoked, clock skew) gets the advice given at start-up.
          detail: refused ? `${r.reason ?? `HTTP ${r.status}`}. ${this.loginAdvice()}` : r.reason,
          connect: { connId: 0, host: urlHost(this.o.ws_url) },
        });
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
        this.loginAdvice(),
      );
    }
  }

  private loginAdvice(): string {
    return `Check that ${this.o.key_id_env} is the id of the API key whose private key ${this.o.private_key_env} names, and that this machine's clock is right.`;
  }

  private opened(): void {
    this.sub.reset();
    this.seqs.clear();
    this.snapshotAsked.clear();
    this.refusals.reset();
    const tickers = this.wantedList();
    const refused = this.targets.size - tickers.length;
    this.log.info(
      `connected; subscribing ${tickers.length} markets${refused > 0 ? ` (${refused} refused earlier left out)` : ""}`,
    );
    this.emit({ kind: "connection", state: "connected", connId: 0, markets: [...this.targets] });
    this.sendSubscribe(tickers);
    this.pump();
  }

  private closed(reason: string): void {
    this.sub.lost();
    this.refusals.reset();
    this.log.warn(`disconnected (${reason}); reconnecting with backoff`);
    this.emit({ kind: "connection", state: "disconnected", connId: 0, markets: [...this.targets], reason });
  }

  private command(kind: string, cmd: string, params: Record<string, unknown>, tickers?: string[]): number {
    const id = this.nextId++;
    if (this.commands.size >= 1000) this.commands.delete(this.commands.keys().next().value!); // not every command is answered
    this.commands.set(id, { kind, tickers });
    this.sent[kind] = (this.sent[kind] ?? 0) + 1;
    this.socket?.send(JSON.stringify({ id, cmd, params }));
    return id;
  }

  private sendSubscribe(tickers: string[]): number {
    if (tickers.length === 0) return -1;
    this.sub.subscribeId = this.command(
      "subscribe",
      "subscribe",
      { channels: [CHANNEL], market_tickers: tickers },
      tickers,
    );
    return this.sub.subscribeId;
  }

  private update(action: "add_markets" | "delete_markets" | "get_snapshot", tickers: string[]): number {
    const sid = this.sub.sid;
    if (tickers.length === 0 || sid === null) return -1;
    const carried = action === "add_markets" ? tickers : undefined;
    return this.command(action, "update_subscription", { sids: [sid], market_tickers: tickers, action }, carried);
  }

  subscribe(markets: MarketRef[]): void {
    const added = markets.map((m) => m.market_id).filter((t) => !this.targets.has(t));
    for (const t of added) this.targets.add(t);
    this.change(added, "add_markets");
  }

  unsubscribe(markets: MarketRef[]): void {
    const removed = markets.map((m) => m.market_id).filter((t) => this.targets.has(t));
    for (const t of removed) this.targets.delete(t);
    // Refused or still waiting for a probe: never subscribed, nothing to delete (and a re-entry tries it afresh).
    const unsent = this.refusals.drop(removed);
    this.change(
      removed.filter((t) => !unsent.has(t)),
      "delete_markets",
    );
    if (unsent.size > 0) this.pump();
  }

  /** A change of the target set: on the existing sid when there is one, queued while the subscribe is in flight. */
  private change(tickers: string[], action: Change): void {
    if (tickers.length === 0 || !this.socket?.connected) return; // a (re)connect subscribes the current set
    const route = this.sub.route();
    if (route === "sid") return void this.update(action, tickers);
    if (route === "queue") return this.sub.queue(action, tickers);
    if (!this.refusals.idle()) {
      // A refusal is being narrowed down with no subscription yet: additions take their turn as a probe.
      if (action === "add_markets") this.refusals.add(tickers);
      return this.pump();
    }
    this.sendSubscribe(this.wantedList());
  }

  /** Fresh books without dropping the socket: a snapshot request on the sid, else the REST book. */
  resync(keys: BookKey[]): void {
    const tickers = [...new Set(keys.map((k) => k.marketId))].filter(
      (t) => this.targets.has(t) && !this.refusals.isRefused(t),
    );
    if (tickers.length === 0 || !this.socket?.connected) return;
    if (this.sub.sid !== null) return this.requestSnapshots(tickers.filter((t) => this.wanted(t)));
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
        if (d.sid !== this.sub.sid) return this.foreign(d.sid, d.kind);
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
        if (d.sid !== undefined && d.sid !== this.sub.sid) return this.foreign(d.sid, d.reason);
        if (d.sid !== undefined && d.seq !== undefined && !this.checkSeq(d.sid, d.seq)) return;
        if (d.ticker !== undefined) return this.lostUpdate(d.ticker, d.reason, d.sample);
        return this.emit({ kind: "rejected", reason: d.reason, sample: d.sample });
      case "subscribed":
        if (d.channel !== undefined && d.channel !== CHANNEL) return;
        if (d.id !== undefined && d.id !== this.sub.subscribeId) return this.lateSubscribed(d.id, d.sid);
        return this.adopt(d.id, d.sid);
      case "error":
        return this.errorReply(d.id, d.code, d.text);
      case "reply":
        if (d.id !== undefined && this.refusals.wasExpired(d.id)) this.lateAdded(d.id);
        else if (d.id !== undefined) {
          this.commands.delete(d.id);
          if (this.refusals.succeeded(d.id, this.ctx.clock.now())) this.pump();
        }
        // replies on a sid (update_subscription "ok") carry a seq too: Kalshi repeats the sid's current one (not a
        // fault, nothing was lost); a later one is checked like data (a gap still counts)
        if (d.sid !== undefined && d.seq !== undefined && d.sid !== this.sub.sid) return this.foreign(d.sid, d.type);
        if (
          d.sid !== undefined &&
          d.seq !== undefined &&
          !this.seqs.isCurrent(d.sid, d.seq) &&
          !this.checkSeq(d.sid, d.seq)
        )
          return;
        return this.emit({ kind: "info", type: d.type });
    }
  }

  /** The subscribe in flight (or, with no id, the venue's only one) went through: `sid` is ours; queued changes go on it. */
  private adopt(id: number | undefined, sid: number): void {
    const queued = this.sub.adopt(sid);
    if (id !== undefined) {
      this.commands.delete(id);
      this.refusals.succeeded(id, this.ctx.clock.now());
    }
    this.update(
      "add_markets",
      queued.add.filter((t) => this.targets.has(t)),
    );
    this.update(
      "delete_markets",
      queued.del.filter((t) => !this.targets.has(t)),
    );
    this.pump();
  }

  /**
   * A `subscribed` to a command that is not the subscribe in flight: a probe given up unanswered whose reply came
   * late. Taken when nothing replaced it yet (no sid, nothing in flight, its probe not re-sent); otherwise the venue
   * would stream that sid alongside ours, so it is unsubscribed at once (its frames until then are dropped as foreign).
   */
  private lateSubscribed(id: number, sid: number): void {
    const now = this.ctx.clock.now();
    if (this.sub.route() === "none" && this.refusals.adoptLate(id, now)) return this.adopt(id, sid);
    this.refusals.forgetExpired(id); // its requeued copy stands
    this.commands.delete(id);
    this.warnLimited.warn(
      "late subscribed",
      `late reply to subscribe (id ${id}): sid ${sid} is not ours (replaced meanwhile); unsubscribing it`,
      now,
    );
    this.command("unsubscribe", "unsubscribe", { sids: [sid] });
  }

  /**
   * A late `ok` to an add_markets probe given up unanswered: its tickers are on our sid after all. Its requeued copy
   * is withdrawn when not re-sent yet; tickers that left the targets meanwhile are deleted again (else they would
   * stream unwanted).
   */
  private lateAdded(id: number): void {
    const c = this.commands.get(id);
    this.commands.delete(id);
    if (this.refusals.adoptLate(id, this.ctx.clock.now())) this.pump();
    if (c?.kind === "add_markets" && c.tickers)
      this.update(
        "delete_markets",
        c.tickers.filter((t) => !this.targets.has(t)),
      );
  }

  /** A frame of an sid that is not ours (a stray subscription being unsubscribed): dropped, counted, logged rate-limited. */
  private foreign(sid: number, what: string): void {
    this.foreignFrames++;
    const now = this.ctx.clock.now();
    this.warnLimited.warn(
      "foreign sid",
      `dropping frames of sid ${sid} (not ours: ${this.sub.sid ?? "none"}), e.g. ${what}; ${this.foreignFrames} so far`,
      now,
    );
    this.emit({ kind: "info", type: "foreign_sid" });
  }

  /**
   * An error reply. To a subscribe / add_markets with a code that may mean one of its tickers: narrowed down by
   * probes (refusals.ts), reported per refused ticker as `refused`. Otherwise a `venue_error`, logged rate-limited;
   * the tickers of a subscribe / add_markets failed so are tried again after a pause (refusals.ts).
   */
  private errorReply(id: number | undefined, code: number | undefined, text: string): void {
    const c = id !== undefined ? this.commands.get(id) : undefined;
    if (code === ALREADY_SUBSCRIBED && id !== undefined && id !== this.sub.subscribeId && c !== undefined) {
      this.commands.delete(id);
      if (this.refusals.succeeded(id, this.ctx.clock.now())) this.pump();
      return this.emit({ kind: "info", type: "already_subscribed" });
    }
    if (id !== undefined) this.commands.delete(id);
    if (id !== undefined && id === this.sub.subscribeId) {
      // Nothing is subscribed: additions queued behind it wait for the next subscribe, deletions are moot.
      this.refusals.add(this.sub.subscribeFailed().filter((t) => this.targets.has(t)));
    }
    const now = this.ctx.clock.now();
    if (
      id !== undefined &&
      c?.tickers &&
      code !== undefined &&
      code !== ALREADY_SUBSCRIBED &&
      !NOT_ABOUT_TICKERS.has(code)
    ) {
      this.log.debug(
        `${c.kind} of ${c.tickers.length} markets refused (code ${code ?? "?"} ${text}); narrowing it down`,
      );
      this.refusals.failed(id, c.tickers, `code ${code ?? "?"} ${text}`, now);
      return this.pump();
    }
    if (id !== undefined && c?.tickers) this.refusals.lost(id, c.tickers, now);
    const cmd = c?.kind ?? (id !== undefined ? "unknown command" : "no command");
    this.warnLimited.warn(
      `error_reply_${code ?? "unknown"}`,
      `error reply to ${cmd} (id ${id ?? "-"}): code ${code ?? "?"} ${text}`,
      now,
    );
    this.emit({ kind: "venue_error", reason: `error_reply_${code ?? "unknown"}`, detail: `${cmd}: ${text}` });
    this.pump();
  }

  /** A ticker the venue will not take: reported as `refused` (at the end of `pump`), named in the search's log line. */
  private refused(ticker: string, why: string): void {
    this.refusedNames.push(ticker);
    this.refusedWhy = why;
    this.refusedUnreported.push({ ticker, why });
  }

  /**
   * Drives the refusal search: gives up an unanswered probe, sends the next one when nothing else is in flight and
   * the pacing allows, logs what was refused once the search is done, and arms one timer for whatever is next.
   */
  private pump(): void {
    const now = this.ctx.clock.now();
    const expired = this.refusals.expire(now);
    if (expired !== null && expired === this.sub.subscribeId) this.sub.subscribeId = null;
    const canSend = this.socket?.connected === true && this.sub.subscribeId === null;
    if (canSend)
      this.refusals.next(now, (tickers) =>
        this.sub.sid !== null ? this.update("add_markets", tickers) : this.sendSubscribe(tickers),
      );
    if (this.refusedNames.length > 0 && this.refusals.idle()) {
      const n = this.refusedNames;
      const names =
        n.slice(0, LOG_NAMES).join(", ") + (n.length > LOG_NAMES ? `, … (${n.length - LOG_NAMES} more)` : "");
      this.warnLimited.warn(
        "subscribe refused",
        `the venue refused ${n.length} market${n.length > 1 ? "s" : ""} (${this.refusedWhy}): ${names}; not asked again until they leave and re-enter the targets, or for ${REFUSED_RETRY_MS / 60_000} min`,
        now,
      );
      this.refusedNames = [];
    }
    this.arm(this.refusals.wakeAt(now, this.socket?.connected === true && this.sub.subscribeId === null), now);
    const report = this.refusedUnreported;
    this.refusedUnreported = [];
    for (const r of report)
      this.emit({ kind: "refused", marketId: r.ticker, reason: r.why, retryAfterMs: REFUSED_RETRY_MS });
  }

  private arm(at: number, now: number): void {
    if (at === this.wakeAt) return;
    this.wake?.cancel();
    this.wake = null;
    this.wakeAt = at;
    if (at === Infinity) return;
    this.wake = this.ctx.clock.setTimer(at - now, () => {
      this.wake = null;
      this.wakeAt = Infinity;
      this.pump();
    });
  }

  /** Per-sid seq (seq.ts): +1 is normal; a jump is a gap (stale + snapshots); a repeat or step back is dropped (false). */
  private checkSeq(sid: number, seq: number): boolean {
    const v = this.seqs.take(sid, seq);
    if (v.kind === "implausible" || v.kind === "not_increasing") {
      const sample = `sid ${sid} seq ${seq} after ${v.last ?? "-"}`;
      this.emit({
        kind: "rejected",
        reason: v.kind === "implausible" ? "seq_implausible" : "seq_not_increasing",
        sample,
      });
      return false;
    }
    if (v.kind === "gap") this.gap(sid, v.last, seq);
    return true;
  }

  /** A data message for one market could not be applied: that market's books are stale until a snapshot. */
  private lostUpdate(ticker: string, reason: string, sample: string): void {
    this.emit({ kind: "rejected", reason, sample });
    if (!this.wanted(ticker)) return;
    this.emit({
      kind: "stale",
      keys: OUTCOMES.map((o) => ({ marketId: ticker, outcomeId: o })),
      reason: `unusable message (${reason})`,
    });
    this.requestSnapshots([ticker]);
  }

  /** Messages of this sid were lost: every book it carries is suspect until a fresh snapshot. */
  private gap(sid: number, last: number, seq: number): void {
    const markets = this.wantedList();
    this.emit({
      kind: "stale",
      keys: markets.flatMap((m) => OUTCOMES.map((o) => ({ marketId: m, outcomeId: o }))),
      reason: `seq gap on sid ${sid}: ${last} → ${seq}`,
    });
    this.requestSnapshots(markets); // only our sid's frames get here (others are dropped as foreign)
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
    this.wake?.cancel();
    this.wake = null;
    this.wakeAt = Infinity;
    await this.socket?.close();
    this.socket = null;
  }
}
