/**
 * Which tickers of a refused command the venue will not take. Kalshi refuses a whole `subscribe` (or
 * `update_subscription` add_markets) when one ticker is unknown or closed, and its error reply does not name the
 * ticker. Re-sending the set on every later change would storm the venue and leave the good tickers uncollected,
 * so the refused set is searched instead:
 *
 * - it is split in halves and each half is tried as a probe (depth-first, one probe in flight at a time);
 * - a half that is refused is split again; a single ticker that is refused is marked refused;
 * - when the first half of a refused set goes through, the second must hold a culprit: it is split without being
 *   tried (a single one is refused outright).
 *
 * One bad ticker among n costs at most 2·log2(n) probes after the refused command (d bad ones about 2·d·log2(n)).
 * Probes are paced: at most `limitPerMinute` in any 60 s (the collector's churn limit, counted in commands). A
 * refused ticker is not sent again until it leaves the targets (re-entering tries it afresh) or `retryMs` passes
 * (a market may open later; a refusal may have been a venue hiccup): then the due ones are tried as one probe.
 */
import { SlidingWindowLimiter } from "../../sliding-window.ts";

/** A refused ticker still wanted is tried again after this long. */
export const REFUSED_RETRY_MS = 3_600_000;
/** A probe unanswered this long is given up and queued again (the venue answers every command it takes). */
export const PROBE_REPLY_TIMEOUT_MS = 30_000;
/**
 * After a command failed for a reason other than its tickers (rate limit, internal error), its tickers are tried
 * again after this long, doubled for each further such failure in a row up to PROBE_PAUSE_MAX_MS.
 */
export const PROBE_PAUSE_MS = 30_000;
export const PROBE_PAUSE_MAX_MS = 600_000;

interface Probe {
  tickers: string[];
  /** Known to hold a ticker the venue refuses (its sibling went through): split without trying it. */
  bad: boolean;
  /** No ticker left it since it was made; an inference about it (or from it) holds only while true. */
  intact: boolean;
  /** The other half of the same refused set: if this one goes through, that one holds the culprit. */
  sibling: Probe | null;
}

export class RefusalSearch {
  /** Refused tickers → when; insertion order is time order (a ticker is refused only when not already). */
  private readonly refused = new Map<string, number>();
  /** Probes to try, the last one first. */
  private stack: Probe[] = [];
  /** Tickers in queued probes: not subscribed yet, so not to be deleted or asked for snapshots. */
  private readonly waiting = new Set<string>();
  private inFlight: { id: number; probe: Probe; at: number } | null = null;
  private pausedUntil = 0;
  /** Commands lost in a row (not about their tickers): the pause doubles with each. */
  private losses = 0;
  private readonly limiter: SlidingWindowLimiter;
  private why = "";
  /** Probes sent so far (tests and logs read it). */
  probes = 0;

  constructor(
    limitPerMinute: number,
    /** Whether a ticker is still in the target set. */
    private readonly isTarget: (ticker: string) => boolean,
    /** Called once per ticker found refused, with the venue's reason. */
    private readonly onRefused: (ticker: string, why: string) => void,
    private readonly retryMs = REFUSED_RETRY_MS,
  ) {
    this.limiter = new SlidingWindowLimiter(limitPerMinute);
  }

  isRefused(ticker: string): boolean {
    return this.refused.has(ticker);
  }
  isWaiting(ticker: string): boolean {
    return this.waiting.has(ticker);
  }
  /** A probe is awaiting its reply. */
  busy(): boolean {
    return this.inFlight !== null;
  }
  /** No probe queued or in flight. */
  idle(): boolean {
    return this.inFlight === null && this.stack.length === 0;
  }

  /** The venue refused the command `id` carrying `tickers` because of (some of) them. */
  failed(id: number, tickers: string[], why: string, now: number): void {
    const probe = this.inFlight?.id === id ? this.inFlight.probe : null;
    if (probe) this.inFlight = null;
    this.losses = 0;
    this.why = why;
    // (a late reply to a probe given up: its tickers are queued again already)
    const still = tickers.filter((t) => this.isTarget(t) && !this.refused.has(t) && !this.waiting.has(t));
    if (still.length === 0) return;
    // A ticker that left meanwhile may have been the culprit: then the rest is only untested, not known bad.
    if (still.length === tickers.length && (probe?.intact ?? true)) this.split(still, now);
    else this.push({ tickers: still, bad: false, intact: true, sibling: null });
  }

  /** The command `id` went through; true when it was the probe in flight. */
  succeeded(id: number): boolean {
    if (this.inFlight?.id !== id) return false;
    const p = this.inFlight.probe;
    this.inFlight = null;
    this.losses = 0;
    if (p.intact && p.sibling?.intact) p.sibling.bad = true;
    return true;
  }

  /**
   * The command `id` carrying `tickers` failed for a reason other than its tickers: they are tried again (the probe
   * as it was) after a pause that doubles while such failures go on.
   */
  lost(id: number, tickers: string[], now: number): void {
    if (this.inFlight?.id === id) {
      this.push(this.inFlight.probe);
      this.inFlight = null;
    } else this.add(tickers.filter((t) => this.isTarget(t) && !this.refused.has(t) && !this.waiting.has(t)));
    this.pausedUntil = now + Math.min(PROBE_PAUSE_MAX_MS, PROBE_PAUSE_MS * 2 ** this.losses);
    this.losses = Math.min(this.losses + 1, 16);
  }

  /** Untested tickers to go through the probes (added while there is no subscription to add them to). */
  add(tickers: string[]): void {
    if (tickers.length === 0) return;
    this.stack.unshift({ tickers, bad: false, intact: true, sibling: null });
    for (const t of tickers) this.waiting.add(t);
  }

  /** Tickers leaving the targets: forgotten here. Returns those never subscribed (refused or still queued). */
  drop(tickers: string[]): Set<string> {
    const gone = new Set(tickers);
    const unsent = new Set<string>();
    for (const t of tickers) {
      if (this.refused.delete(t) || this.waiting.delete(t)) unsent.add(t);
    }
    if (unsent.size > 0) {
      for (const p of this.stack) {
        const kept = p.tickers.filter((t) => !gone.has(t));
        if (kept.length === p.tickers.length) continue;
        p.tickers = kept;
        p.bad = false;
        p.intact = false;
      }
    }
    const f = this.inFlight?.probe;
    if (f && f.tickers.some((t) => gone.has(t))) f.intact = false;
    return unsent;
  }

  /** The connection is gone: probes and replies with it (a reconnect subscribes every wanted ticker at once). */
  reset(): void {
    this.stack = [];
    this.waiting.clear();
    this.inFlight = null;
    this.pausedUntil = 0;
    this.losses = 0;
  }

  /** Gives up a probe unanswered for too long (queued again); returns its command id, or null. */
  expire(now: number): number | null {
    if (!this.inFlight || now - this.inFlight.at < PROBE_REPLY_TIMEOUT_MS) return null;
    const id = this.inFlight.id;
    this.push(this.inFlight.probe);
    this.inFlight = null;
    return id;
  }

  /**
   * Sends the next probe if the pacing allows (`send` returns the command id), settling known-bad probes on the
   * way; refused tickers whose back-off has passed are queued again first.
   */
  next(now: number, send: (tickers: string[]) => number): void {
    this.retryDue(now);
    if (this.inFlight || now < this.pausedUntil) return;
    while (this.stack.length > 0) {
      const p = this.stack[this.stack.length - 1];
      if (p.tickers.length > 0 && !p.bad && this.limiter.available(now) === 0) return;
      this.stack.pop();
      for (const t of p.tickers) this.waiting.delete(t);
      if (p.tickers.length === 0) continue;
      if (p.bad) {
        this.split(p.tickers, now);
        continue;
      }
      this.limiter.record(now);
      this.probes++;
      this.inFlight = { id: send(p.tickers), probe: p, at: now };
      return;
    }
  }

  /**
   * When `next` / `expire` may have something to do (Infinity: nothing until a reply or a change). While the caller
   * cannot send (disconnected, a subscribe in flight) only an unanswered probe's deadline counts: the caller asks
   * again once it can.
   */
  wakeAt(now: number, canSend: boolean): number {
    if (this.inFlight) return Math.max(this.inFlight.at + PROBE_REPLY_TIMEOUT_MS, now + 1);
    if (!canSend) return Infinity;
    let at = this.stack.length > 0 ? Math.max(this.pausedUntil, this.limiter.nextFreeAt(now)) : Infinity;
    const first = this.refused.values().next();
    if (!first.done) at = Math.min(at, first.value + this.retryMs);
    return Math.max(at, now + 1);
  }

  /** A set known to hold a refused ticker: a single one is refused, a larger one split in halves (first on top). */
  private split(tickers: string[], now: number): void {
    if (tickers.length === 1) {
      this.refused.delete(tickers[0]); // keeps the map in time order
      this.refused.set(tickers[0], now);
      this.onRefused(tickers[0], this.why);
      return;
    }
    const mid = tickers.length >> 1;
    const b: Probe = { tickers: tickers.slice(mid), bad: false, intact: true, sibling: null };
    const a: Probe = { tickers: tickers.slice(0, mid), bad: false, intact: true, sibling: b };
    this.push(b);
    this.push(a);
  }

  private push(p: Probe): void {
    this.stack.push(p);
    for (const t of p.tickers) this.waiting.add(t);
  }

  private retryDue(now: number): void {
    const due: string[] = [];
    for (const [t, at] of this.refused) {
      if (now - at < this.retryMs) break;
      due.push(t);
    }
    for (const t of due) this.refused.delete(t);
    this.add(due.filter((t) => this.isTarget(t)));
  }
}
