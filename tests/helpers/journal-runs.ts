/** A VenueCollector over a FakeAdapter that keeps two markets subscribed (m0 HOT, m1 WARM), for journal tests. */
import type { SimClock } from "../../src/clock.ts";
import { VenueCollector } from "../../src/collector/collector.ts";
import { COLLECT_DEFAULTS } from "../../src/config.ts";
import { Metrics } from "../../src/metrics.ts";
import { FakeAdapter, refs } from "./fake-adapter.ts";
import type { FakeSink } from "./fake-sink.ts";

const silentLog = { info() {}, warn() {}, error() {}, debug() {} } as never;

/** Journal flushes (and `alive` markers) every 5 s. */
export function twoMarketCollector(dataDir: string, clock: SimClock, sink: FakeSink, venue = "fake"): VenueCollector {
  const m = refs(2);
  return new VenueCollector({
    venue,
    settings: COLLECT_DEFAULTS,
    adapter: new FakeAdapter(clock),
    sink,
    clock,
    metrics: new Metrics(),
    dataDir,
    topK: 50,
    flushSecs: 5,
    logIntervalSecs: 600,
    targets: () => ({ hot: [m[0]], warm: [m[1]] }),
    log: silentLog,
  });
}
