/**
 * A sliding-window rate limiter, pure (times are passed in): the collector's subscription churn limit and the Kalshi
 * adapter's refusal probes both count events per 60 s window with it.
 */
/** At most `limit` changes in any window of `windowMs`: a change at t counts against (t - windowMs, t]. */
export class SlidingWindowLimiter {
  /** Times of recent changes, oldest first (a queue: `head` is the first live one). */
  private times: number[] = [];
  private head = 0;

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
  ) {}

  private prune(now: number): void {
    // The wall clock stepped back (NTP, VM resume): changes stamped "in the future" would block the window for as long
    // as the step. Re-stamp them at now: they still count for a full window, which never lets more through.
    for (let i = this.times.length - 1; i >= this.head && this.times[i] > now; i--) this.times[i] = now;
    const cutoff = now - this.windowMs;
    while (this.head < this.times.length && this.times[this.head] <= cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  /** Changes counted in the window ending at `now`. */
  used(now: number): number {
    this.prune(now);
    return this.times.length - this.head;
  }

  available(now: number): number {
    return Math.max(0, this.limit - this.used(now));
  }

  record(now: number, n = 1): void {
    this.prune(now); // keeps the times in order when the clock stepped back
    for (let i = 0; i < n; i++) this.times.push(now);
  }

  /** Earliest time ≥ now at which `n` (≤ limit) changes fit. */
  nextFreeAt(now: number, n = 1): number {
    const used = this.used(now);
    const need = used + n - this.limit;
    if (need <= 0) return now;
    // The need-th oldest change must leave the window.
    return this.times[this.head + need - 1] + this.windowMs;
  }
}
