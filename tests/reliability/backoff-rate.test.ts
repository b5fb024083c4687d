/** The reconnect ceiling: whatever the jitter draws, no 60 s window holds more than maxPerMinute attempts. */
import { describe, expect, test } from "bun:test";
import { Backoff } from "../../src/venue/backoff.ts";

/** Largest number of attempt times inside any window [t, t + 60 s). */
function maxInWindow(times: number[]): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= 60_000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe("Backoff maxPerMinute", () => {
  test("an unlucky jitter (always 0) is held to the ceiling; without it, attempts burst", () => {
    const run = (maxPerMinute?: number) => {
      const b = new Backoff({ baseMs: 1000, capMs: 60_000, resetAfterMs: 60_000, maxPerMinute }, () => 0);
      const times: number[] = [];
      let now = 0;
      while (now < 5 * 60_000) {
        now += b.failed(now); // every attempt fails immediately
        times.push(now);
        if (times.length > 10_000) break;
      }
      return times;
    };
    expect(run().length).toBeGreaterThan(10_000); // zero delays: a tight loop
    const capped = run(6);
    expect(maxInWindow(capped)).toBe(6);
    expect(capped.length).toBe(5 * 6 + 1); // 6 per minute over 5 minutes, the 31st lands at exactly 5:00
  });

  test("with ordinary jitter the ceiling only delays what would exceed it", () => {
    let seed = 1;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const b = new Backoff({ baseMs: 100, capMs: 2000, resetAfterMs: 60_000, maxPerMinute: 20 }, random);
    const times: number[] = [];
    let now = 0;
    for (let i = 0; i < 500; i++) times.push((now += b.failed(now)));
    expect(maxInWindow(times)).toBeLessThanOrEqual(20);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]);
  });
});
