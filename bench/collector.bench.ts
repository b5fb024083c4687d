/**
 * The collector's hot path with the mock venue at max speed (1,000 markets, top_k 50): mock + collector live, the
 * collector alone on replayed events, the snapshotter into the column buffers (docs/collecting.md, Benchmark).
 */
import { VenueCollector } from "../src/collector/collector.ts";
import { SimClock } from "../src/clock.ts";
import { parseConfig } from "../src/config.ts";
import { Metrics } from "../src/metrics.ts";
import type { SnapshotInput, SnapshotSink } from "../src/schema.ts";
import { ColumnBuffer } from "../src/storage/column-buffer.ts";
import { MockVenue } from "../src/venue/mock.ts";
import type { EventSink, VenueEvent } from "../src/venue/types.ts";

const MARKETS = 1000;
const TOP_K = 50;
const T0 = Date.UTC(2026, 0, 1);
const cfg = parseConfig({
  top_k: TOP_K,
  collector: {
    max_subs_per_venue: MARKETS,
    hot_count: 200,
    subscription_churn_limit_per_minute: 1_000_000,
    snapshot_interval_ms_hot: 100,
    snapshot_interval_ms_warm: 500,
    silence_timeout_secs: 3600,
  },
  venues: { mock: { universe_size: MARKETS, updates_per_sec: 200, closed_share: 0 } },
}).selected[0];

let peak = 0;
const rss = () => (peak = Math.max(peak, process.memoryUsage.rss()));
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const quiet = { info() {}, warn() {}, error() {}, debug() {} } as never;

const BUFFER_ROWS = 16_384;
/** The writer's column buffers, recycled when full so memory stays flat (what a flush would do). */
class ColumnSink implements SnapshotSink {
  private buf = new ColumnBuffer(TOP_K, BUFFER_ROWS);
  rows = 0;
  append(s: SnapshotInput): void {
    this.buf.append(s);
    this.rows++;
    if (this.buf.length >= BUFFER_ROWS) this.buf.reset();
  }
}

/** Wall and CPU time of `fn` in seconds (CPU time is the fairer figure on a loaded machine). */
function timed(fn: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}
const rates = (n: number, t: { wall: number; cpu: number }, unit: string) =>
  `${fmt(n / t.wall).padStart(11)} ${unit}/s wall, ${fmt(n / t.cpu).padStart(11)} ${unit}/s CPU`;

async function setup(sink: SnapshotSink, tap?: (ev: VenueEvent, ts: number) => void) {
  const clock = new SimClock(T0);
  const venue = new MockVenue(cfg, { clock, env: {} });
  const universe = (await venue.discover())
    .filter((m) => m.status === "active")
    .map((m) => ({ market_id: m.market_id, outcome_ids: m.outcome_ids }));
  if (tap) {
    const connect = venue.connect.bind(venue);
    venue.connect = (s: EventSink) => connect((ev, ts) => (tap(ev, ts), s(ev, ts)));
  }
  const vc = new VenueCollector({
    venue: "mock",
    settings: cfg.collect,
    adapter: venue,
    sink,
    clock,
    metrics: new Metrics(),
    dataDir: "/nonexistent",
    topK: TOP_K,
    flushSecs: 3600,
    logIntervalSecs: 3600,
    log: quiet,
    targets: () => ({ hot: universe.slice(0, 200), warm: universe.slice(200) }),
  });
  await vc.start();
  return { clock, venue, vc, books: vc.books.size };
}

// ---- live: mock + collector + snapshots into column buffers, one loop -------------------------------------------
{
  const sink = new ColumnSink();
  const { clock, venue, vc, books } = await setup(sink);
  const SIM_MS = 20_000;
  const pump = { wall: 0, cpu: 0 };
  const snap = { wall: 0, cpu: 0 };
  for (let t = T0; t <= T0 + SIM_MS; t += 50) {
    clock.set(t);
    const a = timed(() => venue.pump(t));
    const b = timed(() => vc.snapshotter.runDue(t));
    pump.wall += a.wall;
    pump.cpu += a.cpu;
    snap.wall += b.wall;
    snap.cpu += b.cpu;
    if ((t - T0) % 1000 === 0) rss();
  }
  const updates = vc.counters.updates;
  console.log(
    `books subscribed                ${books.toLocaleString()} (top_k ${TOP_K}), ${SIM_MS / 1000} s simulated`,
  );
  console.log(
    `live: mock+collector apply      ${fmt(updates).padStart(10)} updates ${rates(updates, pump, "updates")} (mock generation included)`,
  );
  console.log(
    `live: snapshots → columns       ${fmt(sink.rows).padStart(10)} rows    ${rates(sink.rows, snap, "rows")}`,
  );
  await vc.stop();
  console.log(`peak RSS after the live run     ${(peak / 1e6).toFixed(0)} MB`);
}

// ---- replay: the collector alone --------------------------------------------------------------------------------
{
  const recorded: VenueEvent[] = [];
  const stamps: number[] = [];
  const rec = await setup(new ColumnSink(), (ev, ts) => {
    recorded.push(ev);
    stamps.push(ts);
  });
  for (let t = T0; t <= T0 + 1500; t += 50) rec.venue.pump(t);
  await rec.vc.stop();
  const { vc } = await setup(new ColumnSink());
  // Each pass starts with the subscribe-time full books, so every pass applies every level again.
  const PASSES = 6;
  const t = timed(() => {
    for (let r = 0; r < PASSES; r++) for (let i = 0; i < recorded.length; i++) vc.onEvent(recorded[i], stamps[i]);
  });
  rss();
  console.log(
    `replay: collector.onEvent       ${fmt(recorded.length * PASSES).padStart(10)} events  ${rates(vc.counters.updates, t, "updates")}`,
  );
  await vc.stop();
}

// ---- snapshots alone ------------------------------------------------------------------------------------------------
{
  const sink = new ColumnSink();
  const { clock, venue, vc } = await setup(sink);
  for (let t = T0; t <= T0 + 5000; t += 50) venue.pump(t); // books filled
  let t = T0;
  const tm = timed(() => {
    const t0 = performance.now();
    while (performance.now() - t0 < 3000) {
      t += 100;
      clock.set(t);
      vc.snapshotter.runDue(t);
    }
  });
  rss();
  console.log(`snapshotter → column buffers    ${fmt(sink.rows).padStart(10)} rows    ${rates(sink.rows, tm, "rows")}`);
  await vc.stop();
}
console.log(`peak RSS ${(peak / 1e6).toFixed(0)} MB (the replay phase holds ~0.3 M recorded events in memory)`);
