/** Reconnect pacing shared by every venue: exponential backoff with full jitter, capped, reset after a stable period. */

export interface BackoffSettings {
  baseMs: number;
  capMs: number;
  /** A connection that stayed up this long resets the attempt count. */
  resetAfterMs: number;
}

/** Full jitter: uniform in [0, min(cap, base·2^attempt)). `attempt` counts from 0. */
export function backoffDelay(attempt: number, s: BackoffSettings, random: () => number = Math.random): number {
  const ceiling = Math.min(s.capMs, s.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Tracks consecutive failures; pure apart from the times it is told. */
export class Backoff {
  private attempt = 0;
  private connectedAt: number | null = null;
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
    return backoffDelay(this.attempt++, this.s, this.random);
  }
  get attempts(): number {
    return this.attempt;
  }
}
