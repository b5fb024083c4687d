/** The collector over the real mock venue (faults on), rows caught by a fake sink: drops, gaps, malformed frames. */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collector } from "../../src/collector/collector.ts";
import { COLLECTOR_METRICS as M } from "../../src/collector/metric-names.ts";
import { SimClock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import { Metrics } from "../../src/metrics.ts";
import { MockVenue } from "../../src/venue/mock.ts";
import type { ConnectionEvent, EventSink } from "../../src/venue/types.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function run(
  mock: Record<string, unknown>,
  ms: number,
  opts: { outageMs?: number; random?: () => number; resyncDelayMs?: number } = {},
) {
  const dataDir = await mkdtemp(join(tmpdir(), "collector-mock-"));
  dirs.push(dataDir);
  const cfg = parseConfig({
    collector: {
      max_subs_per_venue: 20,
      hot_count: 5,
      subscription_churn_limit_per_minute: 40,
      reconnect_base_ms: 1000,
      reconnect_cap_ms: 60_000,
    },
    venues: { mock: { universe_size: 60, seed: 3, updates_per_sec: 4, ...mock } },
  }).selected[0];
  const clock = new SimClock(T0);
  const venue = new MockVenue(
    cfg,
    { clock, env: {}, random: opts.random },
    opts.outageMs !== undefined ? { outageMs: () => opts.outageMs! } : {},
  );
  const active = (await venue.discover())
    .filter((m) => m.status === "active")
    .map((m) => ({ market_id: m.market_id, outcome_ids: m.outcome_ids }));
  const conn: { ts: number; ev: ConnectionEvent }[] = [];
  // Tap the event stream for connection events, then hand everything to the collector.
  const connect = venue.connect.bind(venue);
  venue.connect = (sink: EventSink) =>
    connect((ev, ts) => {
      if (ev.kind === "connection") conn.push({ ts, ev });
      sink(ev, ts);
    });
  if (opts.resyncDelayMs) {
    // A venue whose resync takes a while (a REST round trip): the gap is visible in the snapshots.
    const resync = venue.resync.bind(venue);
    venue.resync = (keys) => void clock.setTimer(opts.resyncDelayMs!, () => resync(keys));
  }
  const sink = new FakeSink();
  const metrics = new Metrics();
  const vc = testVenueCollector({
    venue: "mock",
    settings: cfg.collect,
    adapter: venue,
    sink,
    clock,
    metrics,
    dataDir,
    logIntervalSecs: 60,
    targets: () => ({ hot: active.slice(0, 5), warm: active.slice(5, 20) }),
  });
  const c = new Collector([vc], sink);
  await c.start();
  await clock.runUntil(T0 + ms);
  await c.stop();
  return { venue, sink, metrics, conn, vc };
}

/** Every row: sides sorted the right way, prices in 0..1, sizes positive and finite, px/sz the same length. */
function checkRowsSane(rows: FakeSink["rows"]) {
  const bad = rows.filter((r) => {
    if (r.bid_px.length !== r.bid_sz.length || r.ask_px.length !== r.ask_sz.length) return true;
    for (let i = 1; i < r.bid_px.length; i++) if (!(r.bid_px[i] < r.bid_px[i - 1])) return true;
    for (let i = 1; i < r.ask_px.length; i++) if (!(r.ask_px[i] > r.ask_px[i - 1])) return true;
    for (const x of [...r.bid_px, ...r.ask_px]) if (!(x >= 0 && x <= 1)) return true;
    for (const x of [...r.bid_sz, ...r.ask_sz]) if (!(x > 0 && Number.isFinite(x))) return true;
    return false;
  });
  expect(bad).toEqual([]);
}

describe("collector over the mock venue", () => {
  test("a dropped connection reconnects with growing delays, books are stale until fresh books, then ok", async () => {
    // random ≈ 1: full-jitter delays sit at their ceilings 1 s, 2 s, 4 s, 8 s, 16 s…; the outage lasts 30 s.
    const { conn, sink, metrics } = await run({ drop_rate_per_hour: 3 }, 2 * 3600_000, {
      outageMs: 30_000,
      random: () => 0.999,
    });
    const downs = conn.filter((c) => c.ev.state === "disconnected");
    const ups = conn.filter((c) => c.ev.state === "connected");
    const drops = downs.filter((c) => c.ev.reason === "mock: connection dropped");
    expect(drops.length).toBeGreaterThanOrEqual(2);
    for (const d of drops) {
      // Attempts after this drop until it is back: gaps double, never a storm.
      const back = ups.find((u) => u.ts > d.ts)!;
      const attempts = downs
        .filter((x) => x.ts > d.ts && x.ts <= back.ts)
        .map((x) => x.ts)
        .concat([back.ts]);
      const gaps = attempts.map((t, i) => t - (i === 0 ? d.ts : attempts[i - 1]));
      expect(gaps).toEqual([999, 1998, 3996, 7992, 15984]);
      // Stale rows during the outage say why; rows after the fresh books are ok again.
      const during = sink.rows.filter((r) => r.ts_recv > d.ts && r.ts_recv < back.ts);
      expect(during.length).toBeGreaterThan(0);
      for (const r of during) expect(r.status).toBe("stale");
      expect(
        during.some((r) => r.err === `disconnected since ${new Date(d.ts).toISOString()} (mock: connection dropped)`),
      ).toBe(true);
      const after = sink.rows.filter((r) => r.ts_recv >= back.ts + 10_000 && r.ts_recv < back.ts + 20_000);
      expect(after.filter((r) => r.status === "ok").length).toBeGreaterThan(after.length / 2);
    }
    expect(metrics.get(M.reconnects, { venue: "mock" })).toBe(ups.length - 1);
    checkRowsSane(sink.rows);
  }, 60_000);

  test("seq gaps lead to a resync and stale rows until the fresh book lands", async () => {
    const { venue, sink, metrics } = await run({ gap_rate: 0.002 }, 1800_000, { resyncDelayMs: 5000 });
    expect(venue.stats.gaps).toBeGreaterThan(5);
    const gaps = metrics.get(M.gaps, { venue: "mock" });
    const resyncs = metrics.get(M.resyncs, { venue: "mock" });
    expect(gaps).toBeGreaterThan(0);
    expect(gaps).toBeLessThanOrEqual(venue.stats.gaps);
    expect(resyncs).toBeGreaterThan(0);
    expect(resyncs).toBeLessThanOrEqual(gaps);
    const gapRows = sink.rows.filter((r) => r.status === "stale" && r.err?.startsWith("seq gap: expected "));
    expect(gapRows.length).toBeGreaterThan(0);
    // Every stale run ends once the (5 s late) book lands: the next row of that book 15 s on is not the same gap.
    let checked = 0;
    for (const g of gapRows) {
      const next = sink.of(g.market_id, g.outcome_id).find((r) => r.ts_recv >= g.ts_recv + 15_000);
      if (!next) continue;
      checked++;
      expect(next.err).not.toBe(g.err);
    }
    expect(checked).toBeGreaterThan(0);
    expect(metrics.sum(M.rejected, { venue: "mock" })).toBe(0);
    checkRowsSane(sink.rows);
  }, 60_000);

  test("malformed messages are counted by reason and dropped; books stay sane", async () => {
    const { venue, sink, metrics } = await run({ malformed_rate: 0.05 }, 1800_000);
    expect(venue.stats.rejected).toBeGreaterThan(10);
    expect(metrics.sum(M.rejected, { venue: "mock" })).toBe(venue.stats.rejected);
    checkRowsSane(sink.rows);
    expect(metrics.get(M.gaps, { venue: "mock" })).toBe(0);
  }, 60_000);
});
