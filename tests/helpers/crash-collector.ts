/**
 * Child process for the journal crash test: collects venues `fake`-style (FakeAdapter, FakeSink) on a SimClock from
 * `startTs` to `crashTs`, waits for the journal appends to land, prints `ready`, then idles until the parent SIGKILLs
 * it, so the stop path (stop records, final flush) never runs. Args: dataDir startTs crashTs venue[,venue…]
 */
import { SimClock } from "../../src/clock.ts";
import { Collector } from "../../src/collector/collector.ts";
import { FakeSink } from "./fake-sink.ts";
import { twoMarketCollector } from "./journal-runs.ts";

const [dataDir, startTs, crashTs, venueList] = process.argv.slice(2);
const clock = new SimClock(Number(startTs));
const sink = new FakeSink();
const venues = venueList.split(",").map((venue) => twoMarketCollector(dataDir, clock, sink, venue));
await new Collector(venues, sink).start();
await clock.runUntil(Number(crashTs));
// The flush tick at crashTs started its append without awaiting it; flushes are serialized, so this waits for it.
for (const v of venues) await v.journal.flush();
process.stdout.write("ready\n");
setInterval(() => {}, 1 << 30);
