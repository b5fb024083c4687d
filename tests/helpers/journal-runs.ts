/** A VenueCollector over a FakeAdapter that keeps two markets subscribed (m0 HOT, m1 WARM), for journal tests. */
import type { SimClock } from "../../src/clock.ts";
import type { VenueCollector } from "../../src/collector/collector.ts";
import { FakeAdapter, refs } from "./fake-adapter.ts";
import type { FakeSink } from "./fake-sink.ts";
import { testVenueCollector } from "./venue-collector.ts";

/** Journal flushes (and `alive` markers) every 5 s. */
export function twoMarketCollector(dataDir: string, clock: SimClock, sink: FakeSink, venue = "fake"): VenueCollector {
  const m = refs(2);
  return testVenueCollector({
    venue,
    adapter: new FakeAdapter(clock),
    sink,
    clock,
    dataDir,
    logIntervalSecs: 600,
    targets: () => ({ hot: [m[0]], warm: [m[1]] }),
  });
}
