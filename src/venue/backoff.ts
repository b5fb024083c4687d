/**
 * Reconnect pacing shared by every venue: exponential backoff with full jitter, capped, reset after a stable period,
 * and a hard ceiling on attempts per minute (full jitter alone can draw several near-zero delays in a row).
 */

export interface BackoffSettings {
  baseMs: number;
  capMs: number;
  /** A connection that stayed up this long resets the attempt count. */
  resetAfterMs: number;
  /** At most this many reconnect attempts in any 60 s window (unset: no ceiling beyond the backoff itself). */
  maxPerMinute?: number;
}

export const RATE_WINDOW_MS = 60_000;

/** Full jitter: uniform in [0, min(cap, base·2^attempt)). `attempt` counts from 0. */
export function backoffDelay(attempt: number, s: BackoffSettings, random: () => number = Math.random): number {
  const ceiling = Math.min(s.capMs, s.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Tracks consecutive failures; pure apart from the times it is told. */
export class Backoff {
  private attempt = 0;
  private connectedAt: number | null = null;
  /** Times of the last maxPerMinute scheduled attempts (ring). */
  private readonly recent: number[] = [];
  private head = 0;
  constructor(
    private readonly s: BackoffSettings,
    private readonly random: () => number = Math.random,
  ) {}
  /** Call when a connection opens. */
  connected(now: number): void {
    this.connectedAt = now;
  }
  /** Call when a connection fails or drops; returns how long to wait before the next attempt. */
  failed(now: number): number {
    if (this.connectedAt !== null && now - this.connectedAt >= this.s.resetAfterMs) this.attempt = 0;
    this.connectedAt = null;
    const delay = backoffDelay(this.attempt++, this.s, this.random);
    const max = this.s.maxPerMinute;
    if (!max || max <= 0) return delay;
    let at = now + delay;
    if (this.recent.length < max) this.recent.push(at);
    else {
      // The attempt `max` back must be a full window before this one.
      at = Math.max(at, this.recent[this.head] + RATE_WINDOW_MS);
      this.recent[this.head] = at;
      this.head = (this.head + 1) % max;
    }
    return at - now;
  }
  get attempts(): number {
    return this.attempt;
  }
}
