/**
 * The silent-feed watchdog's patience, on a SimClock: a level update resets it to silence_timeout_secs, a resubscribe
 * answered only by a full book doubles it, and the doubling stops at 32×. Expected times are worked out by hand.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collector } from "../../src/collector/collector.ts";
import { SimClock } from "../../src/clock.ts";
import { COLLECT_DEFAULTS } from "../../src/config.ts";
import { bookEvent, FakeAdapter, levelEvent, refs } from "../helpers/fake-adapter.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";

const T0 = Date.UTC(2026, 0, 1);
const S = 1000;
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(silenceSecs: number, markets: number) {
  const dataDir = await mkdtemp(join(tmpdir(), "watchdog-"));
  dirs.push(dataDir);
  const clock = new SimClock(T0);
  const adapter = new FakeAdapter(clock);
  const m = refs(markets);
  const vc = testVenueCollector({
    settings: { ...COLLECT_DEFAULTS, silence_timeout_secs: silenceSecs, stale_after_secs: 86_400 },
    adapter,
    clock,
    dataDir,
    targets: () => ({ hot: m, warm: [] }),
  });
  const collector = new Collector([vc], new FakeSink());
  /** Seconds after T0 of each watchdog unsubscribe of `id`. */
  const resubsOf = (id: string) =>
    adapter
      .ops("unsubscribe")
      .filter((c) => c.ids.includes(id))
      .map((c) => (c.ts - T0) / S);
  return { clock, adapter, collector, resubsOf };
}

const book = (adapter: FakeAdapter, id: string) => {
  adapter.emit(bookEvent(id, "yes", [[0.4, 1]], [[0.6, 1]]));
  adapter.emit(bookEvent(id, "no", [[0.4, 1]], [[0.6, 1]]));
};

describe("watchdog patience", () => {
  test("a level update after a quiet strike resets the patience to silence_timeout_secs", async () => {
    // silence 60 s, checks every 15 s. m0 and m1 both go quiet, are resubscribed at 60 s and answer with a book at
    // 61 s (a strike each: patience 120 s). At 100 s m0 gets a level update (strikes back to 0: 60 s again), m1 not.
    const { clock, adapter, collector, resubsOf } = await setup(60, 2);
    await collector.start();
    book(adapter, "m0");
    book(adapter, "m1");
    await clock.runUntil(T0 + 61 * S);
    book(adapter, "m0");
    book(adapter, "m1");
    await clock.runUntil(T0 + 100 * S);
    adapter.emit(levelEvent("m0", "yes", "bid", 0.41, 2));
    adapter.emit(levelEvent("m0", "no", "bid", 0.41, 2));
    await clock.runUntil(T0 + 200 * S);
    await collector.stop();
    // m0: the "no" book's last message was its level at 100 s, the yes book's too: silent from 160 s, check at 165 s.
    // (Without the reset: 100 + 120 = 220 s, outside the run.)
    expect(resubsOf("m0").filter((t) => t < 200)).toEqual([60, 165]);
    // m1: last message the book at 61 s, patience 120 s → 181 s, found by the 195 s check.
    expect(resubsOf("m1").filter((t) => t < 200)).toEqual([60, 195]);
  });

  test("a book that never answers: patience doubles per resubscribe up to 32× and then stays there", async () => {
    // silence 4 s → checks every 1 s; patience 4, 8, 16, 32, 64, 128 s and then 128 s for ever (32 × 4 s).
    const { clock, adapter, collector, resubsOf } = await setup(4, 1);
    await collector.start();
    book(adapter, "m0");
    await clock.runUntil(T0 + 1000 * S);
    await collector.stop();
    // 4, +8, +16, +32, +64, +128 (32×), then +128 each time (uncapped: +256, +512)
    expect(resubsOf("m0").filter((t) => t < 1000)).toEqual([4, 12, 28, 60, 124, 252, 380, 508, 636, 764, 892]);
  });
});
