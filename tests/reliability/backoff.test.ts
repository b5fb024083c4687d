/** Reconnect pacing, pure: the exponential ceiling, the cap, the full-jitter range and the reset after a stable connection. */
import { describe, expect, test } from "bun:test";
import { Backoff, backoffDelay } from "../../src/venue/backoff.ts";

const S = { baseMs: 1000, capMs: 8000, resetAfterMs: 60_000 };
const almostOne = () => 0.999_999;

describe("backoffDelay", () => {
  test("doubles from base and stops at capMs, whatever the attempt count", () => {
    // floor(0.999999 × min(8000, 1000 · 2^n)): hand-computed
    expect([0, 1, 2, 3, 4, 5, 10, 40, 1000].map((n) => backoffDelay(n, S, almostOne))).toEqual([
      999, 1999, 3999, 7999, 7999, 7999, 7999, 7999, 7999,
    ]);
  });

  test("full jitter: 0 at the bottom of the range, half the ceiling in the middle", () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, S, () => 0))).toEqual([0, 0, 0, 0]);
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, S, () => 0.5))).toEqual([500, 1000, 2000, 4000, 4000]);
  });

  test("a huge base·2^n does not overflow past the cap", () => {
    expect(backoffDelay(5000, { baseMs: 1, capMs: 60_000, resetAfterMs: 1 }, almostOne)).toBe(59_999);
  });

  test("the exponent stops at 2^30 (a cap above base·2^30 is never reached)", () => {
    expect(backoffDelay(40, { baseMs: 1, capMs: 2 ** 40, resetAfterMs: 1 }, () => 0.5)).toBe(2 ** 29);
  });
});

describe("Backoff", () => {
  test("maxPerMinute: the attempt max back must be a full 60 s window earlier (ring order)", () => {
    // jitter 0.5, base 1 s: delays 500, 1000, 2000 ms; with 2 per minute the third waits for 60 s after the first
    const b = new Backoff({ baseMs: 1000, capMs: 1e9, resetAfterMs: 1e9, maxPerMinute: 2 }, () => 0.5);
    expect(b.failed(0)).toBe(500); // at 500
    expect(b.failed(500)).toBe(1000); // at 1500
    expect(b.failed(1500)).toBe(59_000); // at 60 500 = 500 + 60 000
    expect(b.failed(60_500)).toBe(4000); // at 64 500: the slot it replaces (1500) is a minute old already
    expect(b.failed(64_500)).toBe(56_000); // at 120 500 = 60 500 + 60 000
  });

  test("maxPerMinute 1: one attempt per 60 s; 0 or unset: no ceiling", () => {
    const one = new Backoff({ baseMs: 1000, capMs: 8000, resetAfterMs: 1e9, maxPerMinute: 1 }, () => 0);
    expect([one.failed(0), one.failed(0), one.failed(60_000)]).toEqual([0, 60_000, 60_000]);
    for (const maxPerMinute of [0, undefined]) {
      const b = new Backoff({ baseMs: 1000, capMs: 8000, resetAfterMs: 1e9, maxPerMinute }, () => 0);
      expect([b.failed(0), b.failed(0), b.failed(0)]).toEqual([0, 0, 0]);
    }
  });

  test("consecutive failures climb the ladder; a connection that stayed up resetAfterMs starts it again", () => {
    const b = new Backoff(S, () => 0.5);
    expect([b.failed(0), b.failed(1), b.failed(2), b.failed(3)]).toEqual([500, 1000, 2000, 4000]);
    expect(b.attempts).toBe(4);
    b.connected(10_000);
    // up 59.999 s: not stable yet, the ladder goes on (cap 8000 × 0.5)
    expect(b.failed(69_999)).toBe(4000);
    expect(b.attempts).toBe(5);
    b.connected(100_000);
    // up exactly resetAfterMs: back to the first step
    expect(b.failed(160_000)).toBe(500);
    expect(b.attempts).toBe(1);
    // a failure without a connection in between does not reset
    expect(b.failed(500_000)).toBe(1000);
  });

  test("a stable connection long ago does not reset a later failure run", () => {
    const b = new Backoff(S, () => 0.5);
    b.connected(0);
    expect(b.failed(60_000)).toBe(500); // reset (was 0 anyway), connectedAt cleared
    expect(b.failed(200_000)).toBe(1000); // no connection since: no reset although 200 s passed
    expect(b.failed(400_000)).toBe(2000);
  });
});
