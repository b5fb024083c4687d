/**
 * Which tickers of a refused `subscribe` / add_markets the venue will not take (its error names none): the set is
 * halved into probes, depth-first, within the churn budget; a ticker is refused only when it was refused alone.
 * The probe bound (2·(n−1); max(2, 2·d·⌈log2 n⌉) for d bad) and the retry rules: docs/venues/kalshi.md.
 */
import { SlidingWindowLimiter } from "../../sliding-window.ts";

/** A refused ticker still wanted is tried again after this long. */
export const REFUSED_RETRY_MS = 3_600_000;
/** A probe unanswered this long is given up and queued again (the venue answers every command it takes). */
export const PROBE_REPLY_TIMEOUT_MS = 30_000;
/**
 * After a command failed for a reason other than its tickers (rate limit, internal error), or a refused set turned
 * out to hold no refused ticker, its tickers are tried again after this long, doubled for each further such failure
 * in a row up to PROBE_PAUSE_MAX_MS.
 */
export const PROBE_PAUSE_MS = 30_000;
export const PROBE_PAUSE_MAX_MS = 600_000;

/** One refused set being searched: its probes still to go through. */
interface Refusal {
  open: number;
  /** One of its probes was refused, or lost tickers: it was not transient (or cannot be told). */
  settled: boolean;
}

interface Probe {
  tickers: string[];
  /** No ticker left it since it was made; a refusal of it is about its own tickers only while true. */
  intact: boolean;
  /** The refused set this probe is a part of (null: tickers added untested, or a retry). */
  of: Refusal | null;
}

export class RefusalSearch {
  /** Refused tickers → when; insertion order is time order (a ticker is refused only when not already). */
  private readonly refused = new Map<string, number>();
  /** Probes to try, the last one first. */
  private stack: Probe[] = [];
  /** Tickers in queued probes: not subscribed yet, so not to be deleted or asked for snapshots. */
  private readonly waiting = new Set<string>();
  private inFlight: { id: number; probe: Probe; at: number } | null = null;
  /** Probes given up unanswered, by command id (a late reply may still come): bounded, oldest dropped. */
  private readonly expired = new Map<number, Probe>();
  private pausedUntil = 0;
  /** Commands lost in a row (not about their tickers): the pause doubles with each. */
  private losses = 0;
  private readonly limiter: SlidingWindowLimiter;
  private why = "";
  /** Probes sent so far (tests and logs read it). */
  probes = 0;

  constructor(
    /** The venue's churn budget in markets (shared with the collector), or its limit per minute for a private one. */
    budget: number | SlidingWindowLimiter,
    /** Whether a ticker is still in the target set. */
    private readonly isTarget: (ticker: string) => boolean,
    /** Called once per ticker found refused, with the venue's reason. */
    private readonly onRefused: (ticker: string, why: string) => void,
    private readonly retryMs = REFUSED_RETRY_MS,
  ) {
    this.limiter = typeof budget === "number" ? new SlidingWindowLimiter(budget) : budget;
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
    if (probe?.of) probe.of.settled = true;
    this.losses = 0;
    this.why = why;
    // (a late reply to a probe given up: its tickers are queued again already)
    const still = tickers.filter((t) => this.isTarget(t) && !this.refused.has(t) && !this.waiting.has(t));
    if (still.length === 0) return;
    // A ticker that left meanwhile may have been the culprit: then the rest is only untested, tried as it is.
    if (still.length < tickers.length || !(probe?.intact ?? true))
      return this.push({ tickers: still, intact: true, of: null });
    // Refused alone: that ticker is refused.
    if (still.length === 1) return this.refuse(still[0], now);
    this.split(still, { open: 2, settled: false });
  }

  /** The command `id` went through; true when it was the probe in flight. */
  succeeded(id: number, now: number): boolean {
    if (this.inFlight?.id !== id) return false;
    const r = this.inFlight.probe.of;
    this.inFlight = null;
    if (r && --r.open === 0 && !r.settled) {
      // Every part of a refused set went through: the refusal was not about a ticker.
      this.pause(now);
      return true;
    }
    this.losses = 0;
    return true;
  }

  /**
   * The command `id` carrying `tickers` failed for a reason other than its tickers: they are tried again (the probe
   * as it was) after a pause that doubles while such failures go on.
   */
  lost(id: number, tickers: string[], now: number): void {
    if (this.inFlight?.id === id) {
      this.requeueInFlight();
      this.inFlight = null;
    } else this.add(tickers.filter((t) => this.isTarget(t) && !this.refused.has(t) && !this.waiting.has(t)));
    this.pause(now);
  }

  /** Untested tickers to go through the probes (added while there is no subscription to add them to). */
  add(tickers: string[]): void {
    if (tickers.length === 0) return;
    this.stack.unshift({ tickers, intact: true, of: null });
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
        p.intact = false;
        if (p.of) p.of.settled = true;
      }
    }
    const f = this.inFlight?.probe;
    if (f && f.tickers.some((t) => gone.has(t))) {
      f.intact = false;
      if (f.of) f.of.settled = true;
    }
    return unsent;
  }

  /** The connection is gone: probes and replies with it (a reconnect subscribes every wanted ticker at once). */
  reset(): void {
    this.stack = [];
    this.waiting.clear();
    this.inFlight = null;
    this.expired.clear();
    this.pausedUntil = 0;
    this.losses = 0;
  }

  /** Gives up a probe unanswered for too long (queued again); returns its command id, or null. */
  expire(now: number): number | null {
    if (!this.inFlight || now - this.inFlight.at < PROBE_REPLY_TIMEOUT_MS) return null;
    const id = this.inFlight.id;
    this.requeueInFlight();
    if (this.expired.size >= 100) this.expired.delete(this.expired.keys().next().value!);
    this.expired.set(id, this.inFlight.probe);
    this.inFlight = null;
    return id;
  }

  /** Whether `id` is a probe given up by `expire` (its reply, if any, is late). */
  wasExpired(id: number): boolean {
    return this.expired.has(id);
  }

  /** Forgets a probe given up by `expire` (its late reply was dealt with otherwise). */
  forgetExpired(id: number): void {
    this.expired.delete(id);
  }

  /**
   * The late success of a probe given up by `expire`. When its requeued copy was not sent again yet (still queued,
   * untouched), the success is taken (true): the copy is withdrawn. Otherwise (re-sent, changed, or unknown) false:
   * the caller undoes what the late command did.
   */
  adoptLate(id: number, now: number): boolean {
    const p = this.expired.get(id);
    this.expired.delete(id);
    const i = p ? this.stack.indexOf(p) : -1;
    if (!p || i < 0 || !p.intact) return false;
    this.stack.splice(i, 1);
    for (const t of p.tickers) this.waiting.delete(t);
    if (p.of && --p.of.open === 0 && !p.of.settled) this.pause(now);
    else this.losses = 0;
    return true;
  }

  /**
   * Sends the next probe if the pacing allows (`send` returns the command id); a probe larger than the whole budget
   * is halved first. Refused tickers whose back-off has passed are queued again first.
   */
  next(now: number, send: (tickers: string[]) => number): void {
    this.retryDue(now);
    if (this.inFlight || now < this.pausedUntil) return;
    while (this.stack.length > 0) {
      const p = this.stack[this.stack.length - 1];
      const n = p.tickers.length;
      if (n > 0 && n <= this.limiter.limit && this.limiter.available(now) < n) return;
      this.stack.pop();
      for (const t of p.tickers) this.waiting.delete(t);
      if (n === 0) {
        if (p.of && --p.of.open === 0) p.of.settled = true; // emptied: nothing to conclude
        continue;
      }
      if (n > this.limiter.limit) {
        // Never fits the budget: its halves are tried instead (still parts of the same refused set).
        if (p.of) p.of.open++;
        this.split(p.tickers, p.of);
        continue;
      }
      this.limiter.record(now, n);
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
    const top = this.stack.at(-1);
    const need = top ? Math.max(1, Math.min(top.tickers.length, this.limiter.limit)) : 0;
    let at = top ? Math.max(this.pausedUntil, this.limiter.nextFreeAt(now, need)) : Infinity;
    const first = this.refused.values().next();
    if (!first.done) at = Math.min(at, first.value + this.retryMs);
    return Math.max(at, now + 1);
  }

  private refuse(ticker: string, now: number): void {
    this.refused.delete(ticker); // keeps the map in time order
    this.refused.set(ticker, now);
    this.onRefused(ticker, this.why);
  }

  private pause(now: number): void {
    this.pausedUntil = now + Math.min(PROBE_PAUSE_MAX_MS, PROBE_PAUSE_MS * 2 ** this.losses);
    this.losses = Math.min(this.losses + 1, 16);
  }

  /** Halves of a set, each to be tried as a probe (the first on top). */
  private split(tickers: string[], of: Refusal | null): void {
    const mid = tickers.length >> 1;
    this.push({ tickers: tickers.slice(mid), intact: true, of });
    this.push({ tickers: tickers.slice(0, mid), intact: true, of });
  }

  /**
   * The probe in flight back on the stack (given up or lost), without the tickers that left the targets meanwhile:
   * drop() could not take them out of a probe already sent, and sending them again would stream unwanted markets.
   */
  private requeueInFlight(): void {
    const p = this.inFlight!.probe;
    p.tickers = p.tickers.filter((t) => this.isTarget(t));
    this.push(p);
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
