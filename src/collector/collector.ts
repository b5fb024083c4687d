/**
 * One venue's collection: adapter events → books → snapshotter → sink, the subscription set moved toward the
 * scheduler's targets within the churn limit, reconnect handling, the silent-feed watchdog, the journal and
 * the periodic status line. `Collector` runs several venues over one writer and finalizes it on stop.
 */
import type { ConsolaInstance } from "consola";
import type { Clock, Timer } from "../clock.ts";
import type { CollectSettings } from "../config.ts";
import { UserError } from "../errors.ts";
import { logger, RateLimitedLog } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { SnapshotSink } from "../schema.ts";
import type { BookKey, ConnectionEvent, VenueAdapter, VenueEvent } from "../venue/types.ts";
import type { MarketRef } from "../market.ts";
import { WRITER_METRICS as W } from "../storage/metric-names.ts";
import { Applied, BookStore } from "./book.ts";
import { SubscriptionJournal } from "./journal.ts";
import { COLLECTOR_METRICS as M } from "./metric-names.ts";
import { Snapshotter } from "./snapshotter.ts";
import { ChurnLimiter, SubscriptionPlan, type SubChange, type Targets } from "./subscriptions.ts";

export interface VenueCollectorOptions {
  venue: string;
  settings: CollectSettings;
  adapter: VenueAdapter;
  sink: SnapshotSink;
  clock: Clock;
  metrics: Metrics;
  dataDir: string;
  topK: number;
  /** Journal flush cadence (the writer's flush_secs). */
  flushSecs: number;
  logIntervalSecs: number;
  /** The scheduler: target set for this venue at a time (called at start and at every rotation boundary). */
  targets: (now: number) => Targets;
  log?: ConsolaInstance;
  /** The venue's churn budget, when the adapter was given it too (AdapterContext.churn) so its own commands share it. */
  churn?: ChurnLimiter;
}

/** Counters kept as plain fields on the hot path; published to the Metrics registry at each status line. */
interface Counters {
  updates: number;
  books: number;
  gaps: number;
  resyncs: number;
  reconnects: number;
  disconnects: number;
  venueErrors: number;
  info: number;
  watchdog: number;
  subscribes: number;
  unsubscribes: number;
  /** Connection attempts (opened or failed before opening) and those that failed. */
  connectAttempts: number;
  connectFailures: number;
  rejected: Map<string, number>;
}

interface ConnState {
  up: boolean;
  since: number;
  everDown: boolean;
  /** When it went down (lost, or attempts failing before the first open); undefined while up. */
  downSince?: number;
}

const iso = (ts: number) => new Date(ts).toISOString();

export class VenueCollector {
  readonly books = new BookStore();
  readonly plan = new SubscriptionPlan();
  readonly limiter: ChurnLimiter;
  readonly snapshotter: Snapshotter;
  readonly journal: SubscriptionJournal;
  readonly counters: Counters = {
    updates: 0,
    books: 0,
    gaps: 0,
    resyncs: 0,
    reconnects: 0,
    disconnects: 0,
    venueErrors: 0,
    info: 0,
    watchdog: 0,
    subscribes: 0,
    unsubscribes: 0,
    connectAttempts: 0,
    connectFailures: 0,
    rejected: new Map(),
  };
  /** Kinds of connection failure already logged (host + reason): each is named once, then only counted. */
  private readonly failureKinds = new Set<string>();
  /** The latest connection failure, for the summary of a venue that never collected. */
  lastConnectFailure: string | undefined;
  /** When the first book arrived: the venue reached "collecting". */
  firstBookAt: number | undefined;
  /** Connection downtime of connections that came back (ms, summed over connections). */
  private downMs = 0;
  private readonly conns = new Map<number, ConnState>();
  /** Which connection carries a market, when the adapter says. */
  private readonly marketConn = new Map<string, number>();
  private readonly timers = new Set<Timer>();
  private pumpTimer: Timer | null = null;
  private pumpAt = Infinity;
  private running = false;
  private readonly log: ConsolaInstance;
  private readonly warn: RateLimitedLog;
  private readonly quiet = new QuietTally();
  private published = new Map<string, number>();
  private lastStatus = { ts: 0, rows: 0 };
  /** The target set changed since the waiting markets were last journaled. */
  private targetsChanged = false;
  /** The scheduler's last answer: applied again when a refused market's exclusion ends. */
  private lastTargets: Targets | null = null;

  constructor(private readonly o: VenueCollectorOptions) {
    const s = o.settings;
    this.limiter = o.churn ?? new ChurnLimiter(s.subscription_churn_limit_per_minute);
    this.snapshotter = new Snapshotter({
      venue: o.venue,
      clock: o.clock,
      sink: o.sink,
      topK: o.topK,
      hotIntervalMs: s.snapshot_interval_ms_hot,
      warmIntervalMs: s.snapshot_interval_ms_warm,
      staleAfterMs: s.stale_after_secs * 1000,
      onStall: (from, now) => this.journal.note({ ts: now, action: "stall", from }),
    });
    this.journal = new SubscriptionJournal(o.dataDir, o.venue, (id, from) => this.snapshotter.dueOf(id, from));
    this.log = o.log ?? logger(o.venue);
    this.warn = new RateLimitedLog((m) => this.log.warn(m));
  }

  get venue(): string {
    return this.o.venue;
  }

  /** Connects, sets the first targets and starts every timer. */
  async start(): Promise<void> {
    const { clock, settings: s } = this.o;
    this.running = true;
    this.lastStatus = { ts: clock.now(), rows: 0 };
    this.journal.started(clock.now(), {
      hot_ms: s.snapshot_interval_ms_hot,
      warm_ms: s.snapshot_interval_ms_warm,
      flush_ms: this.o.flushSecs * 1000,
    });
    await this.o.adapter.connect(this.onEvent);
    if (!this.running) return; // stopped while connecting: arm nothing
    this.snapshotter.start();
    this.retarget(clock.now());
    // Targets are recomputed on rotation boundaries (multiples of the period, as the scheduler slots them).
    const period = s.rotation_period_secs * 1000;
    const nextBoundary = (now: number) => Math.floor(now / period) * period + period;
    const rotate = () => {
      if (!this.running) return;
      const now = clock.now();
      this.retarget(now);
      this.after(nextBoundary(now) - now, rotate);
    };
    this.after(nextBoundary(clock.now()) - clock.now(), rotate);
    this.every(this.watchdogEveryMs(), () => this.watchdog(clock.now()));
    this.every(this.o.flushSecs * 1000, () => this.flushJournal());
    this.every(this.o.logIntervalSecs * 1000, () => void this.status(clock.now()));
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // The stop instant: a snapshot due then is taken (as on an unsubscribe), and the stop records carry it.
    const stopTs = this.o.clock.now();
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.pumpTimer?.cancel();
    this.pumpTimer = null;
    this.snapshotter.runDue(stopTs);
    this.snapshotter.stop();
    try {
      await this.o.adapter.close();
    } catch (e) {
      this.log.warn(`closing the connection failed: ${(e as Error).message}`);
    }
    // Journal the stop so the miner does not count the time until a restart as watched.
    for (const c of this.plan.current.values()) this.journal.record(stopTs, c.ref, "unsubscribe", "stop");
    for (const id of this.journal.waitingIds()) this.journal.untarget(stopTs, id, "stop");
    await this.flushJournal();
    this.logQuiet();
    this.publish(this.o.clock.now());
  }

  /** The adapter's event sink: the hot path. */
  readonly onEvent = (ev: VenueEvent, tsRecv: number): void => {
    switch (ev.kind) {
      case "level":
        this.applied(this.books.applyLevel(ev, tsRecv), ev.marketId, ev.outcomeId, "invalid level", tsRecv);
        return;
      case "book":
        this.counters.books++;
        this.firstBookAt ??= tsRecv;
        this.applied(this.books.applyBook(ev, tsRecv), ev.marketId, ev.outcomeId, "invalid book", tsRecv);
        return;
      case "stale":
        for (const k of ev.keys) this.books.get(k.marketId, k.outcomeId)?.markStale("adapter", ev.reason);
        return;
      case "connection":
        this.onConnection(ev, tsRecv);
        return;
      case "rejected":
        this.reject(ev.reason, tsRecv, ev.sample);
        return;
      case "venue_error":
        this.counters.venueErrors++;
        if (ev.connect) return this.connectFailed(ev.connect.connId, ev.connect.host, ev.reason, ev.detail, tsRecv);
        this.warn.warn(
          `venue_error:${ev.reason}`,
          `venue error: ${ev.reason}${ev.detail ? ` (${ev.detail})` : ""}`,
          tsRecv,
        );
        return;
      case "resolved":
        this.plan.exclude(ev.marketId);
        this.targetsChanged = true;
        this.pump(tsRecv);
        return;
      case "refused":
        this.refused(ev.marketId, ev.reason, ev.retryAfterMs, tsRecv);
        return;
      case "info":
        this.counters.info++;
        return;
    }
  };

  private applied(r: Applied, marketId: string, outcomeId: string, invalid: string, ts: number): void {
    switch (r) {
      case Applied.Ok:
        this.counters.updates++;
        return;
      case Applied.Gap: {
        this.counters.updates++;
        this.counters.gaps++;
        this.counters.resyncs++;
        const b = this.books.get(marketId, outcomeId)!;
        this.warn.warn("seq gap", `${marketId}/${outcomeId}: ${b.staleReason}; resyncing`, ts);
        const key: BookKey = { marketId, outcomeId };
        this.o.adapter.resync([key]);
        return;
      }
      case Applied.GapPending:
        this.counters.updates++;
        this.counters.gaps++;
        return;
      case Applied.Duplicate:
        this.countRejected("duplicate or out-of-order seq");
        return;
      case Applied.Outdated:
        this.countRejected("book older than the current one");
        return;
      case Applied.Invalid:
        this.reject(invalid, ts, `${marketId}/${outcomeId}`);
        return;
      case Applied.Unknown:
        // Late messages for a market just unsubscribed are normal: counted, not logged.
        this.countRejected("not subscribed");
        return;
    }
  }

  private countRejected(reason: string): void {
    const m = this.counters.rejected;
    m.set(reason, (m.get(reason) ?? 0) + 1);
  }

  private reject(reason: string, ts: number, sample?: string): void {
    this.countRejected(reason);
    this.warn.warn(`rejected:${reason}`, `rejected message: ${reason}${sample ? `: ${sample.slice(0, 200)}` : ""}`, ts);
  }

  /**
   * The venue will not take a market: it leaves the subscribed set at once (journaled; nothing to send, the venue
   * never took it; the adapter is told, so it forgets it too) and is left out of the targets until it leaves and
   * re-enters them, or `retryAfterMs` passes (the adapter's own rule), so the watchdog never resubscribes it.
   */
  private refused(marketId: string, reason: string, retryAfterMs: number, now: number): void {
    this.reject("subscribe_refused", now, `${marketId} (${reason})`);
    const cur = this.plan.current.get(marketId);
    if (!cur) return; // left meanwhile
    const until = now + retryAfterMs;
    this.plan.refuse(marketId, until);
    this.targetsChanged = true;
    this.journal.record(now, cur.ref, "unsubscribe", "refused");
    this.counters.unsubscribes++;
    this.dropMarket(marketId, now);
    this.o.adapter.unsubscribe([cur.ref]);
    this.after(retryAfterMs, () => {
      if (this.plan.unrefuse(marketId, until) && this.lastTargets)
        this.applyTargets(this.lastTargets, this.o.clock.now());
    });
    this.pump(now);
  }

  /** A market no longer watched: its snapshot slot and books go. */
  private dropMarket(id: string, now: number): void {
    this.snapshotter.remove(id, now);
    this.books.removeMarket(id);
    this.marketConn.delete(id);
  }

  /** An attempt that never opened: counted; each kind of failure (host + reason) is logged once per outage. */
  private connectFailed(connId: number, host: string, reason: string, detail: string | undefined, ts: number): void {
    this.counters.connectAttempts++;
    this.counters.connectFailures++;
    let c = this.conns.get(connId);
    if (!c) {
      c = { up: false, since: ts, everDown: false };
      this.conns.set(connId, c);
    }
    c.downSince ??= ts;
    const what = `cannot connect to ${host}: ${detail ?? reason}`;
    this.lastConnectFailure = what;
    const kind = `${host}|${reason}`;
    if (this.failureKinds.has(kind)) return;
    this.failureKinds.add(kind);
    this.log.warn(
      `${what}; retrying with backoff (further failures of this kind until a connection opens are counted in the status line)`,
    );
  }

  /** Why the venue never reached "collecting" (no book ever arrived), or undefined once it did. */
  notCollectingReason(): string | undefined {
    if (this.firstBookAt !== undefined) return undefined;
    const { up, total } = this.connectedCount();
    if (up === 0 && this.lastConnectFailure)
      return `${this.lastConnectFailure} (${this.counters.connectFailures} of ${this.counters.connectAttempts} attempts failed)`;
    if (this.lastTargets && this.lastTargets.hot.length + this.lastTargets.warm.length === 0)
      return "no market to subscribe: the universe and filter left none eligible";
    if (total === 0) return "never connected";
    if (up === 0) return "disconnected, no book received";
    return "connected, but no book arrived";
  }

  /** Connection downtime so far (ms): closed outages plus the ones still open at `now`. */
  downtimeMs(now: number): number {
    let ms = this.downMs;
    for (const c of this.conns.values()) if (c.downSince !== undefined) ms += now - c.downSince;
    return ms;
  }

  private onConnection(ev: ConnectionEvent, ts: number): void {
    if (ev.state === "closed") {
      // Retired on purpose (emptied): forget it, so it no longer counts in connected N/N; its books are not stale.
      const gone = this.conns.get(ev.connId);
      if (gone && !gone.up && gone.everDown) this.journal.note({ ts, action: "up", conn: ev.connId });
      this.conns.delete(ev.connId);
      for (const [m, id] of this.marketConn) if (id === ev.connId) this.marketConn.delete(m);
      return;
    }
    let c = this.conns.get(ev.connId);
    if (!c) {
      c = { up: false, since: ts, everDown: false };
      this.conns.set(ev.connId, c);
    }
    if (ev.markets) for (const m of ev.markets) this.marketConn.set(m, ev.connId);
    const affected = (fn: (marketId: string) => void) => {
      if (ev.markets) for (const m of ev.markets) fn(m);
      else for (const id of this.plan.current.keys()) fn(id);
    };
    if (ev.state === "disconnected") {
      if (!c.up && c.everDown) return;
      c.up = false;
      c.everDown = true;
      c.since = ts;
      c.downSince ??= ts;
      this.counters.disconnects++;
      this.journal.note({ ts, action: "down", conn: ev.connId });
      const why = `disconnected since ${iso(ts)}${ev.reason ? ` (${ev.reason})` : ""}`;
      affected((id) => {
        const m = this.books.market(id);
        if (m) for (const b of m.values()) b.markStale("disconnected", why);
      });
      this.log.warn(`connection ${ev.connId} lost${ev.reason ? `: ${ev.reason}` : ""}`);
      return;
    }
    if (c.up) return;
    const wasDown = c.everDown;
    const downSince = c.since;
    c.up = true;
    // Connected again: the next outage's failures are news, each kind logged once more.
    this.failureKinds.clear();
    c.since = ts;
    this.counters.connectAttempts++;
    if (c.downSince !== undefined) this.downMs += ts - c.downSince;
    c.downSince = undefined;
    if (!wasDown) return; // first connect: the subscription pump does the subscribing
    this.journal.note({ ts, action: "up", conn: ev.connId });
    this.counters.reconnects++;
    // Resubscribe exactly the current set carried by this connection; books stay stale until a fresh book.
    const refs: MarketRef[] = [];
    affected((id) => {
      const cur = this.plan.current.get(id);
      if (!cur) return;
      refs.push(cur.ref);
      const m = this.books.market(id);
      if (m) {
        for (const b of m.values()) {
          b.lastMessageTs = ts;
          if (b.staleKind === "disconnected")
            b.markStale("awaiting", `no book since reconnect at ${iso(ts)} (disconnected at ${iso(downSince)})`);
        }
      }
    });
    if (refs.length > 0) {
      this.o.adapter.subscribe(refs);
      for (const r of refs) this.journal.record(ts, r, "subscribe", "resync");
    }
    this.log.info(
      `connection ${ev.connId} back after ${((ts - downSince) / 1000).toFixed(1)} s; resubscribed ${refs.length} markets`,
    );
  }

  /** Up when the market's connection is known and up; else when every known connection is up. */
  private connectionUp(marketId: string): boolean {
    const id = this.marketConn.get(marketId);
    if (id !== undefined) return this.conns.get(id)?.up ?? false;
    if (this.conns.size === 0) return false;
    for (const c of this.conns.values()) if (!c.up) return false;
    return true;
  }

  connectedCount(): { up: number; total: number } {
    let up = 0;
    for (const c of this.conns.values()) if (c.up) up++;
    return { up, total: this.conns.size };
  }

  /** Recomputes the target set, retiers at once, and starts moving subscriptions toward it. */
  retarget(now: number): void {
    let t: Targets;
    try {
      t = this.o.targets(now);
    } catch (e) {
      this.log.error(`computing targets failed, keeping the current set: ${(e as Error).message}`);
      return;
    }
    this.lastTargets = t;
    this.applyTargets(t, now);
  }

  private applyTargets(t: Targets, now: number): void {
    for (const r of this.plan.setTarget(t)) {
      // Journaled first: a new day's carry, written ahead of it, is the schedule before the change.
      this.journal.tier(now, r.market, r.tier);
      this.snapshotter.setTier(r.market.market_id, r.tier);
    }
    this.targetsChanged = true;
    this.pump(now);
  }

  /**
   * Journals the targets left waiting for churn budget (`target`) and those that left the target set while waiting
   * (`untarget`): the snapshots not yet subscribed in status --coverage. A subscribe closes a wait by itself.
   */
  private journalWaiting(now: number): void {
    this.targetsChanged = false;
    for (const id of this.journal.waitingIds())
      if (!this.plan.isTargeted(id) && !this.plan.current.has(id)) this.journal.untarget(now, id, "untargeted");
    for (const t of this.plan.waiting())
      if (!this.journal.isWaiting(t.ref.market_id)) this.journal.target(now, t.ref, t.tier);
  }

  /** Applies whatever changes the churn budget allows now, and arms one timer for when more budget frees up. */
  pump(now: number): void {
    if (!this.running) return;
    const changes = this.plan.next(now, this.limiter);
    if (changes.length > 0) this.apply(changes, now);
    if (this.targetsChanged) this.journalWaiting(now);
    if (this.plan.pending() > 0) {
      const at = Math.max(now + 1, this.limiter.nextFreeAt(now, this.plan.nextNeed()));
      if (at !== this.pumpAt) {
        this.pumpTimer?.cancel();
        this.pumpAt = at;
        this.pumpTimer = this.o.clock.setTimer(at - now, () => {
          this.pumpTimer = null;
          this.pumpAt = Infinity;
          this.pump(this.o.clock.now());
        });
      }
    }
  }

  /** Sends the changes in order, batching consecutive ones of the same action. */
  private apply(changes: SubChange[], now: number): void {
    const adapter = this.o.adapter;
    let i = 0;
    while (i < changes.length) {
      const action = changes[i].action;
      const batch: MarketRef[] = [];
      for (; i < changes.length && changes[i].action === action; i++) {
        const c = changes[i];
        const id = c.market.market_id;
        batch.push(c.market);
        this.journal.record(now, c.market, c.action, c.reason, c.action === "subscribe" ? c.tier : undefined);
        const resub = c.reason === "watchdog";
        if (action === "subscribe") {
          this.counters.subscribes++;
          if (resub) {
            // Keep the books (and their seq); the fresh book the venue sends clears the stale mark.
            const m = this.books.market(id);
            if (m) for (const b of m.values()) b.lastMessageTs = now;
          } else {
            const books = this.books.addMarket(id, c.market.outcome_ids, now);
            this.snapshotter.add(id, books, c.tier, now);
          }
        } else {
          this.counters.unsubscribes++;
          if (!resub) this.dropMarket(id, now);
        }
      }
      if (action === "subscribe") adapter.subscribe(batch);
      else adapter.unsubscribe(batch);
    }
  }

  private watchdogEveryMs(): number {
    return Math.max(1000, Math.min(30_000, (this.o.settings.silence_timeout_secs * 1000) / 4));
  }

  /** Marks silent books stale and queues their market for a resubscribe. */
  watchdog(now: number): void {
    const base = this.o.settings.silence_timeout_secs * 1000;
    let queued = false;
    for (const [id] of this.plan.current) {
      if (this.plan.isResubscribePending(id) || !this.connectionUp(id)) continue;
      const m = this.books.market(id);
      if (!m) continue;
      let silent = false;
      for (const b of m.values()) {
        if (now - b.lastMessageTs >= base * 2 ** Math.min(b.quietStrikes, 5)) silent = true;
      }
      if (!silent) continue;
      for (const b of m.values()) {
        b.markStale("silent", `silent feed: no message since ${iso(b.lastMessageTs)}`);
        b.quietStrikes++;
      }
      this.counters.watchdog++;
      this.plan.requestResubscribe(id, "watchdog");
      this.quiet.add(id, Math.round((now - Math.min(...[...m.values()].map((b) => b.lastMessageTs))) / 1000));
      queued = true;
    }
    if (queued) this.pump(now);
  }

  /** Appends the journal with an `alive` marker: a crash after this loses at most one flush interval of watched time. */
  async flushJournal(): Promise<void> {
    const now = this.o.clock.now();
    const sink = this.o.sink;
    for (const [hour, rows] of sink.takeDropped?.(this.o.venue) ?? [])
      this.journal.note({ ts: now, action: "dropped", hour, rows });
    this.journal.alive(now, sink.durableBefore?.());
    try {
      await this.journal.flush();
    } catch (e) {
      this.warn.warn(
        "journal",
        `subscription journal append failed (kept, will retry): ${(e as Error).message}`,
        this.o.clock.now(),
      );
    }
  }

  /** Pushes the counters into the shared registry (counters as deltas since the last publish). */
  publish(now: number): void {
    const { metrics, venue } = this.o;
    const L = { venue };
    const c = this.counters;
    const bump = (name: string, value: number, labels: Record<string, string> = L) => {
      const k = `${name}|${JSON.stringify(labels)}`;
      const d = value - (this.published.get(k) ?? 0);
      if (d !== 0 || !this.published.has(k)) metrics.inc(name, labels, d); // at 0 from the first publish
      this.published.set(k, value);
    };
    const { up } = this.connectedCount();
    metrics.set(M.connected, L, up, "connections up");
    const tiers = this.plan.countByTier();
    metrics.set(M.subscriptions, { venue, tier: "hot" }, tiers.hot, "markets subscribed");
    metrics.set(M.subscriptions, { venue, tier: "warm" }, tiers.warm, "markets subscribed");
    metrics.set(M.churnUsed, L, this.limiter.used(now), "subscription changes in the last 60 s");
    metrics.set(M.pending, L, this.plan.pending(), "subscription changes waiting for churn budget");
    bump(M.updates, c.updates);
    bump(M.snapshots, this.snapshotter.rows);
    bump(M.staleSnapshots, this.snapshotter.staleRows);
    bump(M.reconnects, c.reconnects);
    bump(M.gaps, c.gaps);
    bump(M.resyncs, c.resyncs);
    bump(M.watchdog, c.watchdog);
    bump(M.venueErrors, c.venueErrors);
    bump(M.connectAttempts, c.connectAttempts);
    bump(M.connectFailures, c.connectFailures);
    bump(M.changes, c.subscribes, { venue, action: "subscribe" });
    bump(M.changes, c.unsubscribes, { venue, action: "unsubscribe" });
    for (const [reason, n] of c.rejected) bump(M.rejected, n, { venue, reason });
  }

  rejectedTotal(): number {
    let n = 0;
    for (const v of this.counters.rejected.values()) n += v;
    return n;
  }

  /** The watchdog's resubscribes since the last status line, as one line (a quiet venue would log one per market). */
  private logQuiet(): void {
    const line = this.quiet.take();
    if (line) this.log.warn(line);
  }

  /** The periodic status line; values come from the registry so they match /metrics. */
  status(now: number): string {
    this.logQuiet();
    this.publish(now);
    const { metrics, venue, settings } = this.o;
    const L = { venue };
    const rows = metrics.get(M.snapshots, L);
    const dt = (now - this.lastStatus.ts) / 1000;
    const rate = dt > 0 ? (rows - this.lastStatus.rows) / dt : 0;
    this.lastStatus = { ts: now, rows };
    const { total } = this.connectedCount();
    const w = writerFigures(metrics, venue);
    const line =
      `connected ${metrics.get(M.connected, L)}/${total}` +
      ` (${metrics.get(M.connectAttempts, L)} attempts, ${metrics.get(M.connectFailures, L)} failed)` +
      ` | subs ${metrics.get(M.subscriptions, { venue, tier: "hot" })} hot / ${metrics.get(M.subscriptions, { venue, tier: "warm" })} warm (${metrics.get(M.pending, L)} changes pending)` +
      ` | snapshots/s ${rate.toFixed(1)}` +
      ` | rows buffered ${w.buffered}` +
      ` | flushes ${w.flushes} (${w.rows} rows, ${(w.bytes / 1e6).toFixed(2)} MB, ${w.ms.toFixed(0)} ms)` +
      ` | reconnects ${metrics.get(M.reconnects, L)}` +
      ` | rejected ${metrics.sum(M.rejected, L)}` +
      ` | churn ${metrics.get(M.churnUsed, L)}/${settings.subscription_churn_limit_per_minute}`;
    this.log.info(line);
    return line;
  }

  private after(ms: number, fn: () => void): void {
    const t = this.o.clock.setTimer(ms, () => {
      this.timers.delete(t);
      if (this.running) fn();
    });
    this.timers.add(t);
  }

  private every(ms: number, fn: () => void | Promise<void>): void {
    const tick = () => {
      void fn();
      this.after(ms, tick);
    };
    this.after(ms, tick);
  }
}

/** Silent markets the watchdog queued for a resubscribe, summed into one line: count, silence range, first ids. */
export class QuietTally {
  private ids: string[] = [];
  private n = 0;
  private minS = Infinity;
  private maxS = 0;
  constructor(private readonly show = 5) {}

  add(marketId: string, silentS: number): void {
    this.n++;
    if (this.ids.length < this.show && !this.ids.includes(marketId)) this.ids.push(marketId);
    this.minS = Math.min(this.minS, silentS);
    this.maxS = Math.max(this.maxS, silentS);
  }

  /** The line for what was added since the last take (undefined when nothing was), and a fresh start. */
  take(): string | undefined {
    if (this.n === 0) return undefined;
    const silence = this.minS === this.maxS ? `${this.minS} s` : `${this.minS}-${this.maxS} s`;
    const more = this.n > this.ids.length ? `, … ${this.n - this.ids.length} more` : "";
    const line = `watchdog: ${this.n} resubscribe${this.n === 1 ? "" : "s"} queued for markets silent ${silence} with the connection up (${this.ids.join(", ")}${more})`;
    this.ids = [];
    this.n = 0;
    this.minS = Infinity;
    this.maxS = 0;
    return line;
  }
}

/** The writer's figures for the status line, read from the registry under the names the writer publishes. */
export function writerFigures(
  metrics: Metrics,
  venue: string,
): { buffered: number; flushes: number; rows: number; bytes: number; ms: number } {
  const L = { venue };
  return {
    buffered: metrics.get(W.rowsBuffered),
    flushes: metrics.get(W.flushes),
    rows: metrics.get(W.rowsStaged, L),
    bytes: metrics.get(W.bytesStaged, L),
    ms: metrics.get(W.flushSeconds) * 1000,
  };
}

/** A sink that can be finalized (the Parquet writer). */
export interface ClosableSink extends SnapshotSink {
  close(): Promise<unknown>;
}

/** Several venues over one writer; `stop()` stops them all and then finalizes the writer. */
export class Collector {
  private stopped = false;
  constructor(
    readonly venues: VenueCollector[],
    private readonly sink: ClosableSink,
  ) {}

  /** Venues that refused to start (missing credentials…): logged in one line each, left out while the others run. */
  readonly refused: { venue: string; error: UserError }[] = [];

  async start(): Promise<void> {
    // Concurrently: one venue whose connect stalls must not hold the others back.
    const results = await Promise.allSettled(this.venues.map((v) => v.start()));
    let fatal: { e: unknown } | undefined;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (r.status === "fulfilled") continue;
      const v = this.venues[i];
      const e = r.reason;
      if (!(e instanceof UserError)) {
        fatal ??= { e };
        continue;
      }
      logger(v.venue).error(`not collecting ${v.venue}: ${e.message}${e.advice ? `. ${e.advice}` : ""}`);
      this.refused.push({ venue: v.venue, error: e });
      await v.stop();
    }
    if (fatal) throw fatal.e;
    if (this.refused.length === this.venues.length && this.refused.length > 0) throw this.refused[0].error;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const v of this.venues) await v.stop();
    await this.sink.close();
  }
}
