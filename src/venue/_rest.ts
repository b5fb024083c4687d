/**
 * Paced JSON GETs for venue REST APIs, shared by the venues: at most `maxRequests` per `windowMs` (sliding
 * window on the injected clock), HTTP 429 honoured with Retry-After (seconds or an HTTP date), 5xx and network
 * failures retried with the shared full-jitter backoff, a bounded number of times.
 */
import type { Clock } from "../clock.ts";
import { backoffDelay } from "./backoff.ts";

export interface RestOptions {
  clock: Clock;
  maxRequests: number;
  windowMs: number;
  random?: () => number;
  /** Attempts per request before giving up (default 6). */
  maxAttempts?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  headers?: (url: URL) => Record<string, string>;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}

export class PacedRest {
  private readonly sent: number[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** Requests sent, 429s received (metrics and tests). */
  requests = 0;
  rateLimited = 0;

  constructor(private readonly o: RestOptions) {}

  /** Waits for a slot in the window; slots are handed out in call order. */
  private slot(signal?: AbortSignal): Promise<void> {
    const turn = this.chain.then(async () => {
      for (;;) {
        const now = this.o.clock.now();
        while (this.sent.length > 0 && now - this.sent[0] >= this.o.windowMs) this.sent.shift();
        if (this.sent.length < this.o.maxRequests) break;
        await this.o.clock.sleep(this.sent[0] + this.o.windowMs - now, signal);
      }
      this.sent.push(this.o.clock.now());
    });
    this.chain = turn.catch(() => {});
    return turn;
  }

  /** GET → parsed JSON. Throws HttpError for a non-retryable status (404…) or when attempts run out. */
  async getJson(url: string | URL, signal?: AbortSignal): Promise<unknown> {
    const u = new URL(url);
    const max = this.o.maxAttempts ?? 6;
    const random = this.o.random ?? Math.random;
    let last = "";
    for (let attempt = 0; attempt < max; attempt++) {
      await this.slot(signal);
      this.requests++;
      let res: Response;
      try {
        res = await fetch(u, { signal, headers: this.o.headers?.(u) });
      } catch (e) {
        if (signal?.aborted) throw e;
        last = (e as Error).message;
        await this.o.clock.sleep(backoffDelay(attempt, this.settings(), random), signal);
        continue;
      }
      if (res.ok) return await res.json();
      await res.body?.cancel().catch(() => {});
      last = `HTTP ${res.status}`;
      if (res.status === 429) {
        this.rateLimited++;
        const after = retryAfterMs(res.headers.get("retry-after"), this.o.clock.now());
        await this.o.clock.sleep(after ?? Math.max(1000, backoffDelay(attempt, this.settings(), random)), signal);
        continue;
      }
      if (res.status >= 500) {
        await this.o.clock.sleep(backoffDelay(attempt, this.settings(), random), signal);
        continue;
      }
      throw new HttpError(res.status, u.toString(), `GET ${u.origin}${u.pathname}: HTTP ${res.status}`);
    }
    throw new HttpError(0, u.toString(), `GET ${u.origin}${u.pathname}: gave up after ${max} attempts (${last})`);
  }

  private settings() {
    return { baseMs: this.o.retryBaseMs ?? 500, capMs: this.o.retryCapMs ?? 30_000, resetAfterMs: 0 };
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | null {
  if (header === null || header.trim() === "") return null;
  const secs = Number(header);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
