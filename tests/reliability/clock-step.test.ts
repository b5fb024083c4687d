/** A wall-clock step back must not stall snapshots until the clock catches up (timers are relative, as in real life). */
import { describe, expect, test } from "bun:test";
import { SimClock } from "../../src/clock.ts";
import { BookState } from "../../src/collector/book.ts";
import { Snapshotter } from "../../src/collector/snapshotter.ts";
import type { SnapshotInput } from "../../src/schema.ts";
import { SteppedClock } from "../../scripts/chaos/clock-steps.ts";

/** One HOT book (every 1 s) snapshotted on a clock that the test can step, over a SimClock. */
function steppedSnapshotter(append: (s: SnapshotInput, sim: SimClock) => void) {
  const sim = new SimClock(Date.UTC(2026, 0, 1, 0, 10));
  const clock = new SteppedClock(sim);
  const snap = new Snapshotter({
    venue: "mock",
    clock,
    topK: 5,
    hotIntervalMs: 1000,
    warmIntervalMs: 5000,
    staleAfterMs: 60_000,
    sink: { append: (s: SnapshotInput) => append(s, sim) },
  });
  const t0 = clock.now();
  snap.add("m1", [new BookState("m1", "yes", t0)], "hot", t0);
  snap.start();
  return { sim, clock, t0 };
}

describe("snapshotter after a wall-clock step", () => {
  test("back 5 minutes: snapshots resume within two intervals, stamped with the stepped time", async () => {
    const rows: { ts: number; at: number }[] = [];
    const { sim, clock, t0 } = steppedSnapshotter((s, sim) => void rows.push({ ts: s.tsRecv, at: sim.now() }));
    await sim.advance(3000);
    expect(rows.map((r) => r.ts)).toEqual([t0 + 1000, t0 + 2000, t0 + 3000]);
    clock.step(-5 * 60_000);
    const stepAt = sim.now();
    await sim.advance(3000);
    const after = rows.slice(3);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after[0].at - stepAt).toBeLessThanOrEqual(2000); // the timer already armed, then one interval (not 5 minutes)
    expect(after[0].ts).toBeLessThan(t0); // rows carry the (stepped) wall time
  });
  test("forward 10 minutes: no burst of catch-up snapshots", async () => {
    let n = 0;
    const { sim, clock } = steppedSnapshotter(() => void n++);
    await sim.advance(2000);
    clock.step(10 * 60_000);
    await sim.advance(2000);
    expect(n).toBeLessThanOrEqual(5);
  });
});
