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
});

describe("Backoff", () => {
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
