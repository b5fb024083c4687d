/** VenueCollector on a fake adapter and the SimClock: targets, rotation, seq gaps, rejects, reconnects, the watchdog, stops. */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collector } from "../../src/collector/collector.ts";
import { COLLECTOR_METRICS as M } from "../../src/collector/metric-names.ts";
import { readJournal } from "../../src/collector/journal.ts";
import { journalPath } from "../../src/layout.ts";
import type { Targets } from "../../src/collector/subscriptions.ts";
import { SimClock } from "../../src/clock.ts";
import { COLLECT_DEFAULTS, type CollectSettings } from "../../src/config.ts";
import { Metrics } from "../../src/metrics.ts";
import { startUnlessStopped } from "../../src/collector/run.ts";
import type { EventSink } from "../../src/venue/types.ts";
import { bookEvent, FakeAdapter, levelEvent, refs } from "../helpers/fake-adapter.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";

const T0 = Date.UTC(2026, 0, 1);
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(opts: { settings?: Partial<CollectSettings>; targets?: (now: number) => Targets } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), "collector-"));
  dirs.push(dataDir);
  const clock = new SimClock(T0);
  const adapter = new FakeAdapter(clock);
  const sink = new FakeSink();
  const metrics = new Metrics();
  const settings = { ...COLLECT_DEFAULTS, ...opts.settings };
  const m = refs(4);
  const vc = testVenueCollector({
    settings,
    adapter,
    sink,
    clock,
    metrics,
    dataDir,
    logIntervalSecs: 10,
    targets: opts.targets ?? (() => ({ hot: [m[0]], warm: m.slice(1) })),
  });
  return { dataDir, clock, adapter, sink, metrics, vc, collector: new Collector([vc], sink) };
}

describe("VenueCollector", () => {
  test("subscribes the targets, journals them, snapshots at tier pace, stops cleanly", async () => {
    const { dataDir, clock, adapter, sink, vc, collector } = await setup();
    await collector.start();
    expect(adapter.ops("subscribe")).toEqual([{ ts: T0, op: "subscribe", ids: ["m0", "m1", "m2", "m3"] }]);
    adapter.emit(bookEvent("m0", "yes", [[0.4, 1]], [[0.6, 1]], 1));
    await clock.runUntil(T0 + 20_000);
    expect(sink.of("m0", "yes").length).toBe(10);
    expect(sink.of("m1", "yes").length).toBe(2);
    expect(sink.of("m0", "yes")[0].status).toBe("ok");
    expect(sink.of("m1", "yes")[0].status).toBe("stale");
    await collector.stop();
    expect(sink.closed).toBe(true);
    expect(adapter.ops("close").length).toBe(1);
    const j = await readJournal(join(dataDir, journalPath("fake", T0)));
    expect(j.length).toBe(16);
    expect(j[0]).toEqual({
      ts: T0,
      venue: "fake",
      market_id: "m0",
      outcome_id: "yes",
      action: "subscribe",
      reason: "hot",
      tier: "hot",
    });
    expect(j[2].reason).toBe("warm");
    expect(j[2].tier).toBe("warm");
    // the stop unsubscribes every current book, at the stop time
    expect(
      j
        .slice(8)
        .map((e) => `${e.ts - T0} ${e.market_id} ${e.outcome_id} ${e.action} ${e.reason}`)
        .sort(),
    ).toEqual(
      j
        .slice(0, 8)
        .map((e) => `20000 ${e.market_id} ${e.outcome_id} unsubscribe stop`)
        .sort(),
    );
    const before = sink.rows.length;
    await clock.runUntil(T0 + 60_000);
    expect(sink.rows.length).toBe(before);
    void vc;
  });

  test("rotation at period boundaries within the churn limit", async () => {
    const all = refs(30);
    const targets = (now: number) => {
      const slot = Math.floor((now - T0) / 180_000);
      return { hot: all.slice(0, 2), warm: all.slice(2 + (slot % 4) * 6, 8 + (slot % 4) * 6) };
    };
    const { dataDir, clock, adapter, collector } = await setup({
      settings: { subscription_churn_limit_per_minute: 5 },
      targets,
    });
    await collector.start();
    await clock.runUntil(T0 + 3600_000);
    await collector.stop();
    const j = await readJournal(join(dataDir, journalPath("fake", T0)));
    const yes = j.filter((e) => e.outcome_id === "yes" && e.reason !== "stop");
    // The first fill (all 8 at the start, reasons hot/warm) is not churn; every change after it is.
    const fill = yes.filter((e) => e.ts === T0);
    expect(fill.map((e) => e.reason)).toEqual(["hot", "hot", "warm", "warm", "warm", "warm", "warm", "warm"]);
    const changes = yes.filter((e) => e.ts > T0);
    const ts = changes.map((e) => e.ts);
    for (const t of ts) expect(ts.filter((u) => u > t - 60_000 && u <= t).length).toBeLessThanOrEqual(5);
    // Each rotation (every 180 s) swaps 6 WARM markets: 12 changes, i.e. 3 minutes at 5/min.
    const rotations = changes.filter((e) => e.reason === "rotation" && e.action === "subscribe").map((e) => e.ts - T0);
    // Budget is free again at every boundary (the last rotation finished 60 s before), so each starts on time.
    for (let k = 1; k < 20; k++) expect(rotations.find((t) => t >= k * 180_000)).toBe(k * 180_000);
    // At the boundary the 5 units make two swaps (subscribe then unsubscribe); the fifth waits for a pair.
    const at180 = changes.filter((e) => e.ts === 180_000 + T0).map((e) => e.action);
    expect(at180).toEqual(["subscribe", "unsubscribe", "subscribe", "unsubscribe"]);
    expect(adapter.subscribed.size).toBe(8);
    expect(adapter.subscribed.has("m0")).toBe(true);
  });

  test("a seq gap asks the adapter to resync once; rows are stale until the new book", async () => {
    const { clock, adapter, sink, collector, metrics } = await setup();
    await collector.start();
    adapter.emit(bookEvent("m0", "yes", [[0.4, 1]], [[0.6, 1]], 1));
    adapter.emit(levelEvent("m0", "yes", "bid", 0.41, 2, 2));
    await clock.runUntil(T0 + 2000);
    adapter.emit(levelEvent("m0", "yes", "bid", 0.42, 2, 9));
    adapter.emit(levelEvent("m0", "yes", "bid", 0.43, 2, 12));
    await clock.runUntil(T0 + 6000);
    expect(adapter.ops("resync")).toEqual([{ ts: T0 + 2000, op: "resync", ids: ["m0/yes"] }]);
    adapter.emit(bookEvent("m0", "yes", [[0.5, 1]], [[0.6, 1]], 20));
    await clock.runUntil(T0 + 8000);
    expect(sink.of("m0", "yes").map((r) => [r.status, r.err])).toEqual([
      ["ok", null],
      ["stale", "seq gap: expected 3 got 9"],
      ["stale", "seq gap: expected 3 got 9"],
      ["ok", null],
    ]);
    await collector.stop();
    expect(metrics.get(M.gaps, { venue: "fake" })).toBe(2);
    expect(metrics.get(M.resyncs, { venue: "fake" })).toBe(1);
  });

  test("rejected and malformed messages are counted by reason and dropped", async () => {
    const { clock, adapter, sink, collector, metrics } = await setup();
    await collector.start();
    adapter.emit(bookEvent("m0", "yes", [[0.4, 1]], [], 1));
    adapter.emit({ kind: "rejected", reason: "bad json", sample: "{oops" });
    adapter.emit({ kind: "rejected", reason: "bad json", sample: "{oops" });
    adapter.emit(levelEvent("m0", "yes", "bid", NaN, 1, 2));
    adapter.emit(levelEvent("m0", "yes", "bid", 0.4, 5, 1));
    adapter.emit(levelEvent("zz", "yes", "bid", 0.4, 5, 1));
    await clock.runUntil(T0 + 2000);
    await collector.stop();
    expect(sink.of("m0", "yes")[0].bid_sz).toEqual([1]);
    expect(metrics.get(M.rejected, { venue: "fake", reason: "bad json" })).toBe(2);
    expect(metrics.get(M.rejected, { venue: "fake", reason: "invalid level" })).toBe(1);
    expect(metrics.get(M.rejected, { venue: "fake", reason: "duplicate or out-of-order seq" })).toBe(1);
    expect(metrics.get(M.rejected, { venue: "fake", reason: "not subscribed" })).toBe(1);
    expect(metrics.get(M.updates, { venue: "fake" })).toBe(1);
  });

  test("a connection the adapter closes on purpose is forgotten (not counted, books not stale)", async () => {
    const { clock, adapter, sink, vc, collector } = await setup();
    await collector.start();
    adapter.emit({ kind: "connection", state: "connected", connId: 7, markets: ["m0"] });
    expect(vc.connectedCount()).toEqual({ up: 2, total: 2 });
    adapter.emit(bookEvent("m0", "yes", [[0.4, 1]], [[0.6, 1]], 1));
    adapter.emit({ kind: "connection", state: "closed", connId: 7, markets: [] });
    expect(vc.connectedCount()).toEqual({ up: 1, total: 1 });
    await clock.runUntil(T0 + 4000);
    await collector.stop();
    expect(sink.of("m0", "yes").map((r) => r.status)).toEqual(["ok", "ok"]);
  });

  test("disconnect marks the connection's books stale; reconnect resubscribes exactly the current set", async () => {
    const { dataDir, clock, adapter, sink, collector, metrics } = await setup();
    await collector.start();
    adapter.emit(bookEvent("m0", "yes", [[0.4, 1]], [[0.6, 1]], 1));
    await clock.runUntil(T0 + 2000);
    adapter.emit({ kind: "connection", state: "disconnected", connId: 0, reason: "socket closed" });
    await clock.runUntil(T0 + 5000);
    adapter.emit({ kind: "connection", state: "connected", connId: 0 });
    await clock.runUntil(T0 + 6000);
    adapter.emit(bookEvent("m0", "yes", [[0.4, 1]], [[0.6, 1]], 5));
    await clock.runUntil(T0 + 8000);
    await collector.stop();
    const subs = adapter.ops("subscribe");
    expect(subs.length).toBe(2);
    expect(subs[1]).toEqual({ ts: T0 + 5000, op: "subscribe", ids: ["m0", "m1", "m2", "m3"] });
    expect(sink.of("m0", "yes").map((r) => [r.ts_recv - T0, r.status, r.err])).toEqual([
      [2000, "ok", null],
      [4000, "stale", "disconnected since 2026-01-01T00:00:02.000Z (socket closed)"],
      [6000, "stale", "no book since reconnect at 2026-01-01T00:00:05.000Z (disconnected at 2026-01-01T00:00:02.000Z)"],
      [8000, "ok", null],
    ]);
    expect(metrics.get(M.reconnects, { venue: "fake" })).toBe(1);
    const j = await readJournal(join(dataDir, journalPath("fake", T0)));
    expect(j.filter((e) => e.reason === "resync").length).toBe(8);
  });

  test("watchdog: a silent book with the connection up goes stale and is resubscribed, with growing patience", async () => {
    const { dataDir, clock, adapter, sink, collector } = await setup({ settings: { silence_timeout_secs: 60 } });
    await collector.start();
    for (const id of ["m0", "m1", "m2", "m3"])
      for (const o of ["yes", "no"]) adapter.emit(bookEvent(id, o, [[0.4, 1]], [[0.6, 1]], 1));
    // Only m0 keeps ticking; m1 answers its resubscribe with a book at 61 s; m2 and m3 never answer.
    for (let t = 5000, s = 2; t <= 300_000; t += 5000, s++) {
      await clock.runUntil(T0 + t);
      adapter.emit(levelEvent("m0", "yes", "bid", 0.4, s, s));
      adapter.emit(levelEvent("m0", "no", "bid", 0.4, s, s));
      if (t === 60_000) {
        await clock.runUntil(T0 + 61_000);
        adapter.emit(bookEvent("m1", "yes", [[0.4, 1]], [[0.6, 1]], 1));
        adapter.emit(bookEvent("m1", "no", [[0.4, 1]], [[0.6, 1]], 1));
      }
    }
    await collector.stop();
    const unsubAt = (id: string) =>
      adapter
        .ops("unsubscribe")
        .filter((c) => c.ids.includes(id))
        .map((c) => c.ts - T0);
    // Checks run every 15 s; patience doubles after each resubscribe (60 s, 120 s, 240 s…).
    expect(unsubAt("m0")).toEqual([]);
    expect(unsubAt("m1")).toEqual([60_000, 195_000]);
    expect(unsubAt("m2")).toEqual([60_000, 180_000]);
    const resubs = adapter.calls.filter((c) => c.ts === T0 + 60_000);
    expect(resubs.map((c) => [c.op, c.ids.join()])).toEqual([
      ["unsubscribe", "m1"],
      ["subscribe", "m1"],
      ["unsubscribe", "m2"],
      ["subscribe", "m2"],
      ["unsubscribe", "m3"],
      ["subscribe", "m3"],
    ]);
    const row = (id: string, t: number) => sink.of(id, "yes").find((r) => r.ts_recv === T0 + t)!;
    expect([row("m1", 50_000).status, row("m1", 70_000).status]).toEqual(["ok", "ok"]);
    expect(row("m2", 70_000).status).toBe("stale");
    expect(row("m2", 70_000).err).toBe("silent feed: no message since 2026-01-01T00:00:00.000Z");
    expect(row("m0", 300_000).status).toBe("ok");
    const j = await readJournal(join(dataDir, journalPath("fake", T0)));
    expect(
      j
        .filter((e) => e.reason === "watchdog" && e.market_id === "m1" && e.outcome_id === "yes")
        .map((e) => [e.ts - T0, e.action]),
    ).toEqual([
      [60_000, "unsubscribe"],
      [60_000, "subscribe"],
      [195_000, "unsubscribe"],
      [195_000, "subscribe"],
    ]);
  });

  test("the watchdog does nothing while the connection is down", async () => {
    const { clock, adapter, collector } = await setup({ settings: { silence_timeout_secs: 60 } });
    await collector.start();
    adapter.emit({ kind: "connection", state: "disconnected", connId: 0 });
    await clock.runUntil(T0 + 300_000);
    expect(adapter.ops("unsubscribe")).toEqual([]);
    await collector.stop();
  });

  test("status line reports the figures from the registry", async () => {
    const { clock, adapter, collector, vc } = await setup();
    await collector.start();
    adapter.emit({ kind: "rejected", reason: "bad json" });
    await clock.runUntil(T0 + 10_000);
    const line = vc.status(clock.now());
    expect(line).toContain("connected 1/1");
    expect(line).toContain("subs 1 hot / 3 warm (0 changes pending)");
    expect(line).toContain("rejected 1");
    expect(line).toContain("churn 0/20"); // the first fill is not churn
    await collector.stop();
  });

  test("a resolved market is unsubscribed, its rows stop, and later targets never bring it back", async () => {
    const { clock, adapter, sink, collector } = await setup({ settings: { silence_timeout_secs: 3600 } });
    await collector.start();
    await clock.runUntil(T0 + 30_000);
    adapter.emit({ kind: "resolved", marketId: "m2" });
    expect(adapter.ops("unsubscribe")).toEqual([{ ts: T0 + 30_000, op: "unsubscribe", ids: ["m2"] }]);
    await clock.runUntil(T0 + 400_000); // two rotation boundaries: the same targets come back, m2 stays out
    await collector.stop();
    expect(adapter.ops("subscribe").length).toBe(1);
    expect(Math.max(...sink.of("m2").map((r) => r.ts_recv - T0))).toBe(30_000);
    expect(sink.of("m3").length).toBe(2 * 40);
  });

  /** A venue whose connect never completes (a stalled upgrade) until it is closed. */
  class StallingAdapter extends FakeAdapter {
    private release: (() => void) | null = null;
    override connect(_sink: EventSink): Promise<void> {
      return new Promise((resolve) => (this.release = resolve));
    }
    override async close(): Promise<void> {
      this.release?.();
      await super.close();
    }
  }

  async function twoVenues() {
    const dataDir = await mkdtemp(join(tmpdir(), "collector-"));
    dirs.push(dataDir);
    const clock = new SimClock(T0);
    const sink = new FakeSink();
    const metrics = new Metrics();
    const m = refs(2);
    const make = (venue: string, adapter: FakeAdapter) =>
      testVenueCollector({
        venue,
        settings: COLLECT_DEFAULTS,
        adapter,
        sink,
        clock,
        metrics,
        dataDir,
        logIntervalSecs: 10,
        targets: () => ({ hot: [m[0]], warm: [m[1]] }),
      });
    const stalled = new StallingAdapter(clock);
    const healthy = new FakeAdapter(clock);
    const collector = new Collector([make("stalled", stalled), make("healthy", healthy)], sink);
    return { clock, sink, stalled, healthy, collector };
  }

  test("venues start concurrently: one whose connect stalls does not hold back the others", async () => {
    const { clock, healthy, collector } = await twoVenues();
    void collector.start();
    await clock.advance(0);
    expect(healthy.ops("connect").length).toBe(1);
    expect(healthy.ops("subscribe").length).toBe(1);
    await collector.stop();
  });

  test("a stop request during a stalled start wins: the writer is finalized and no timer is left armed", async () => {
    const { clock, sink, stalled, collector } = await twoVenues();
    const ac = new AbortController();
    const started = startUnlessStopped(collector, ac.signal);
    await clock.advance(1000);
    ac.abort();
    expect(await started).toBe(false);
    await collector.stop();
    expect(sink.closed).toBe(true);
    expect(stalled.ops("close").length).toBe(1);
    await clock.advance(0);
    expect(clock.pending()).toBe(0); // the stalled venue, released by close, arms nothing after the stop
  });
});
