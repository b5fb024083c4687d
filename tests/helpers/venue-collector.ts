/** A VenueCollector for tests, with the options most tests leave alone filled in (fake sink, silent log). */
import { VenueCollector, type VenueCollectorOptions } from "../../src/collector/collector.ts";
import { COLLECT_DEFAULTS } from "../../src/config.ts";
import { Metrics } from "../../src/metrics.ts";
import { FakeSink } from "./fake-sink.ts";

export const silentLog = { info() {}, warn() {}, error() {}, debug() {} } as never;

export function testVenueCollector(
  o: Pick<VenueCollectorOptions, "adapter" | "clock" | "dataDir" | "targets"> & Partial<VenueCollectorOptions>,
): VenueCollector {
  return new VenueCollector({
    venue: "fake",
    settings: COLLECT_DEFAULTS,
    sink: new FakeSink(),
    metrics: new Metrics(),
    topK: 50,
    flushSecs: 5,
    logIntervalSecs: 3600,
    log: silentLog,
    ...o,
  });
}
