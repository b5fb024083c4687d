/** minutes_watched after a collector crash: the downtime until the restart is not watched time; old journals keep their meaning. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { watchedMinutes, type JournalEvent } from "../../src/analytics/journal.ts";
import { mine } from "../../src/analytics/miner.ts";
import { SimClock } from "../../src/clock.ts";
import { Collector, type VenueCollector } from "../../src/collector/collector.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { twoMarketCollector } from "../helpers/journal-runs.ts";
import { writeRowsWithWriter } from "../helpers/write-rows.ts";

const T0 = Date.UTC(2026, 0, 1);
const M = 60_000;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function run(dataDir: string, clock: SimClock, sink: FakeSink): { vc: VenueCollector; c: Collector } {
  const vc = twoMarketCollector(dataDir, clock, sink);
  return { vc, c: new Collector([vc], sink) };
}

describe("minutes_watched after a crash", () => {
  test("mine: a run that died at 00:30 without its stop records and a restart at 01:30 do not make the hour watched", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "watched-crash-"));
    dirs.push(dataDir);
    const crash = T0 + 30 * M;
    const restart = crash + 60 * M;
    const stop = restart + 15 * M;
    // First run: collects, then "crashes": never stopped (no stop records, no final flush), its clock never advances again.
    const clock1 = new SimClock(T0);
    const sink1 = new FakeSink();
    const first = run(dataDir, clock1, sink1);
    await first.c.start();
    await clock1.runUntil(crash);
    await first.vc.journal.flush(); // the append the last flush tick started lands, as it would have before a real crash
    // Second run an hour later, stopped gracefully.
    const clock2 = new SimClock(restart);
    const sink2 = new FakeSink();
    const second = run(dataDir, clock2, sink2);
    await second.c.start();
    await clock2.runUntil(stop);
    await second.c.stop();
    const rows = [...sink1.rows, ...sink2.rows];
    await writeRowsWithWriter(dataDir, rows);

    const r = await mine({ dataDir, from: T0, to: T0 + 1440 * M, top: 10, writeStats: false });
    expect(r.venues[0].minutesSource).toBe("journal");
    const books = r.books.get("fake")!;
    expect(books.length).toBe(4);
    for (const b of books) {
      // Journal intervals [T0, crash] and [restart, stop], clipped to the mined data's first and last snapshot.
      const first = Math.min(...rows.map((x) => x.ts_recv));
      const last = Math.max(...rows.map((x) => x.ts_recv));
      const expected = (crash - Math.max(T0, first) + (Math.min(stop, last) - restart)) / M;
      expect(expected).toBeGreaterThan(44);
      expect(b.minutes_watched).toBeCloseTo(expected, 9);
    }
  }, 60_000);

  test("an old journal (no run markers) keeps its meaning next to a newer run that crashed", () => {
    const ev = (
      min: number,
      action: "subscribe" | "unsubscribe" | "start" | "alive",
      market?: string,
      reason?: string,
    ): JournalEvent =>
      action === "start" || action === "alive"
        ? { ts: T0 + min * M, action }
        : { ts: T0 + min * M, market_id: market!, outcome_id: "yes", action, reason };
    const events: JournalEvent[] = [
      // An old collector (no markers) subscribes a, then crashes: as before, a counts until it is unsubscribed.
      ev(0, "subscribe", "a", "hot"),
      ev(5, "subscribe", "old", "warm"),
      ev(8, "unsubscribe", "old", "rotation"),
      // A new run at 60 resubscribes a (already open in the old meaning), and is stopped at 75.
      ev(60, "start"),
      ev(60, "subscribe", "a", "hot"),
      ev(65, "alive"),
      ev(75, "unsubscribe", "a", "stop"),
      ev(75, "alive"),
      // A new run at 80 watches b, last shows life at 90, crashes; the next run at 120 watches b until its stop at 130.
      ev(80, "start"),
      ev(80, "subscribe", "b", "hot"),
      ev(85, "alive"),
      ev(90, "alive"),
      ev(120, "start"),
      ev(120, "subscribe", "b", "hot"),
      ev(125, "alive"),
      ev(130, "unsubscribe", "b", "stop"),
      ev(130, "alive"),
      // A last run subscribes c at 140 and crashes after its marker at 150: the journal's end closes c there.
      ev(140, "start"),
      ev(140, "subscribe", "c", "hot"),
      ev(150, "alive"),
    ];
    const w = watchedMinutes(events, T0, T0 + 200 * M);
    expect(w.get("a\u0000yes")).toBe(75);
    expect(w.get("old\u0000yes")).toBe(3);
    expect(w.get("b\u0000yes")).toBe(10 + 10);
    expect(w.get("c\u0000yes")).toBe(10);
    // Without any marker (an old journal alone) an open subscription still runs to the end of the range.
    expect(watchedMinutes(events.slice(0, 3), T0, T0 + 200 * M).get("a\u0000yes")).toBe(200);
  });
});
