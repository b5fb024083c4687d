/**
 * End to end over loopback: the collector with the real Polymarket adapter against the loopback venue, on a
 * simulated clock. The server keeps its own books (price-string maps) and a history of them; every snapshot
 * row must equal the server's book at the row's time, computed independently here (sort + top_k).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consola } from "consola";
import pl from "nodejs-polars";
import { Collector } from "../../src/collector/collector.ts";
import { runCollect } from "../../src/collector/run.ts";
import { type Clock, SimClock } from "../../src/clock.ts";
import { scanAll } from "../../src/scanner/scanner.ts";
import type { SnapshotRow } from "../../src/schema.ts";
import { parseConfig } from "../../src/config.ts";
import { createAdapter } from "../../src/venue/index.ts";
import type { EventSink } from "../../src/venue/types.ts";
import type { MarketRef } from "../../src/market.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { conditionId, PolymarketServer, tokenIds } from "../helpers/polymarket-server.ts";
import { scanThenCollect } from "../helpers/scan-collect.ts";
import { settled, stepUntil } from "../helpers/sim-driver.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";

const T0 = Date.UTC(2026, 2, 1, 12);
const dirs: string[] = [];
let server: PolymarketServer | null = null;
afterEach(async () => {
  server?.stop();
  server = null;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

type Book = ReturnType<PolymarketServer["expectedBook"]>;

/** Advances simulated time in 50 ms steps, giving the loopback I/O a real turn after each, until `pred` holds. */
describe("collect polymarket against the loopback venue", () => {
  test("snapshot rows match the books the server sent, silent tokens included (REST resync)", async () => {
    const clock = new SimClock(T0);
    server = new PolymarketServer({ markets: 40, depth: 8, now: () => clock.now(), maxAssetsPerConnection: 8 });
    const topK = 5;
    const silentToken = tokenIds(3)[1];
    server.silent.add(silentToken);
    const dataDir = await mkdtemp(join(tmpdir(), "pm-collect-"));
    dirs.push(dataDir);
    const cfg = parseConfig({
      top_k: topK,
      collector: { max_subs_per_venue: 10, hot_count: 4, subscription_churn_limit_per_minute: 40 },
      venues: { polymarket: { ...server.venueOptions(), max_assets_per_connection: 8, connection_open_pause_ms: 500 } },
    }).venues.find((v) => v.name === "polymarket")!;

    const adapter = await createAdapter(cfg, { clock, env: {}, random: () => 0.5 });
    let levels = 0;
    const connect = adapter.connect.bind(adapter);
    adapter.connect = (sink: EventSink) => connect((ev, ts) => ((levels += ev.kind === "level" ? 1 : 0), sink(ev, ts)));
    const markets: MarketRef[] = Array.from({ length: 10 }, (_, i) => ({
      market_id: conditionId(i + 1),
      outcome_ids: tokenIds(i + 1),
    }));
    const sink = new FakeSink();
    const vc = testVenueCollector({
      venue: "polymarket",
      settings: cfg.collect,
      adapter,
      sink,
      clock,
      dataDir,
      topK,
      logIntervalSecs: 600,
      targets: () => ({ hot: markets.slice(0, 4), warm: markets.slice(4) }),
    });
    const collector = new Collector([vc], sink);

    // history[asset] = [(time, book)…]: what the server's book was from that simulated time on.
    const history = new Map<string, { t: number; book: Book }[]>();
    const record = () => {
      for (const m of markets)
        for (const a of m.outcome_ids) {
          const h = history.get(a) ?? [];
          h.push({ t: clock.now(), book: server!.expectedBook(a) });
          history.set(a, h);
        }
    };
    const realWait = async (pred: () => boolean, what: string) => {
      const deadline = performance.now() + 15_000;
      while (!pred()) {
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await Bun.sleep(1);
      }
    };
    const advanceUntil = (pred: () => boolean, what: string) => stepUntil(clock, pred, what);
    const advance = async (ms: number) => {
      for (let t = 0; t < ms; t += 50) {
        await clock.advance(50);
        await Bun.sleep(1);
      }
    };

    record();
    await collector.start();
    // 10 markets = 20 tokens on connections of ≤ 8 tokens (a market never split): 3 connections.
    await advanceUntil(() => server!.subscribedAssets().size === 20, "all 20 tokens subscribed");
    await advance(1000);
    let sent = 0;
    for (let s = 0; s < 90; s++) {
      sent += server.randomUpdates(25);
      record();
      await realWait(() => levels >= sent, `updates of second ${s}`);
      await advance(1000);
    }
    await collector.stop();

    expect(server.violations).toBe(0);
    expect(server.bookRequests).toContain(silentToken);
    const expectedAt = (asset: string, t: number): Book => {
      const h = history.get(asset)!;
      let b = h[0].book;
      // A batch recorded at t is sent after the timers due at t have fired, so a row at t predates it.
      for (const e of h) if (e.t < t) b = e.book;
      const top = (px: number[], sz: number[]) => [px.slice(0, topK), sz.slice(0, topK)];
      const [bidPx, bidSz] = top(b.bidPx, b.bidSz);
      const [askPx, askSz] = top(b.askPx, b.askSz);
      return { bidPx, bidSz, askPx, askSz };
    };
    let compared = 0;
    for (const m of markets) {
      for (const a of m.outcome_ids) {
        const rows = sink.of(m.market_id, a).filter((r) => r.status === "ok");
        // Hot books every 2 s, warm every 10 s, over ~90 s.
        expect(rows.length).toBeGreaterThanOrEqual(a === silentToken ? 5 : 7);
        for (let i = 1; i < rows.length; i++) expect(rows[i].seq).toBeGreaterThanOrEqual(rows[i - 1].seq);
        for (const r of rows) {
          expect(r.venue).toBe("polymarket");
          expect({ bidPx: r.bid_px, bidSz: r.bid_sz, askPx: r.ask_px, askSz: r.ask_sz }).toEqual(
            expectedAt(a, r.ts_recv),
          );
          expect(r.best_bid_px).toBe(r.bid_px[0]);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(150);
    // The silent token's book came over REST while the socket stayed up: no reconnect was needed.
    expect(server.upgradeAttempts.length).toBe(3);
  }, 60_000);

  test("surveillance collect (runCollect + Parquet writer) writes snapshot files whose rows match the server's books", async () => {
    const sim = new SimClock(T0);
    // Not `instanceof SimClock`: runCollect then sleeps on it instead of racing it ahead of the loopback I/O.
    const clock: Clock = {
      now: () => sim.now(),
      sleep: (ms, sig) => sim.sleep(ms, sig),
      setTimer: (ms, fn) => sim.setTimer(ms, fn),
    };
    server = new PolymarketServer({ markets: 12, depth: 8, now: () => sim.now(), maxAssetsPerConnection: 8 });
    const topK = 5;
    const dataDir = await mkdtemp(join(tmpdir(), "pm-collect-files-"));
    dirs.push(dataDir);
    const config = parseConfig({
      data_dir: dataDir,
      top_k: topK,
      writer: { bucket_minutes: 1 },
      metrics: { log_interval_secs: 3600 },
      collector: { max_subs_per_venue: 10, hot_count: 4, subscription_churn_limit_per_minute: 40 },
      venues: {
        mock: { enabled: false },
        polymarket: { ...server.venueOptions(), max_assets_per_connection: 8, connection_open_pause_ms: 500 },
      },
    });
    const step = (pred: () => boolean, what: string) => stepUntil(sim, pred, what);
    // states[k] holds from bursts[k] on; states[0] is the initial dump.
    const bursts = [-Infinity];
    const states: Map<string, Book>[] = [];
    let snap = () => new Map<string, Book>();
    consola.level = 0;
    try {
      const scan = settled(scanAll(config, { clock, env: {} }));
      await step(() => scan.done, "scan");
      expect(scan.error).toBeUndefined();
      const run = settled(runCollect(config, { clock, durationMs: 150_000, env: {} }));
      await step(() => server!.subscribedAssets().size === 20, "10 markets subscribed");
      const assets = [...server.subscribedAssets()];
      snap = () => new Map(assets.map((a) => [a, server!.expectedBook(a)]));
      states.push(snap());
      for (let k = 0; k < 5; k++) {
        const t = sim.now();
        await step(() => sim.now() >= t + 20_000, "20 s");
        // One array frame per connection: a client applies a burst all at once or not yet.
        server.randomUpdates(30, true);
        bursts.push(sim.now());
        states.push(snap());
      }
      await step(() => run.done, "collect to finish");
      expect(run.error).toBeUndefined();
    } finally {
      consola.level = 3;
    }
    const files = [...new Bun.Glob("orderbook_snapshots/venue=polymarket/**/*.parquet").scanSync({ cwd: dataDir })];
    expect(files.length).toBeGreaterThanOrEqual(2);
    const rows = pl.concat(files.map((f) => pl.readParquet(join(dataDir, f)))).toRecords() as unknown as SnapshotRow[];
    const cut = (b: Book) => ({
      bidPx: b.bidPx.slice(0, topK),
      bidSz: b.bidSz.slice(0, topK),
      askPx: b.askPx.slice(0, topK),
      askSz: b.askSz.slice(0, topK),
    });
    let exact = 0;
    const seen = new Set<string>();
    for (const r of rows.filter((x) => x.status === "ok")) {
      const ts = Number(r.ts_recv);
      let k = 0;
      while (k + 1 < bursts.length && bursts[k + 1] < ts) k++;
      const got = { bidPx: [...r.bid_px], bidSz: [...r.bid_sz], askPx: [...r.ask_px], askSz: [...r.ask_sz] };
      const now = cut(states[k].get(r.outcome_id)!);
      if (ts - bursts[k] >= 10_000) {
        expect(got).toEqual(now);
        exact++;
      } else {
        // Within 10 simulated seconds of a burst the frame may still be in flight: the state before or after it.
        expect([JSON.stringify(cut(states[k - 1].get(r.outcome_id)!)), JSON.stringify(now)]).toContain(
          JSON.stringify(got),
        );
      }
      expect(r.market_id).toBe(server.marketOf(r.outcome_id));
      seen.add(r.outcome_id);
    }
    expect(seen.size).toBe(20);
    expect(exact).toBeGreaterThan(200);
    // the bursts did change the books, so matching them means something
    expect(states.at(-1)).not.toEqual(states[0]);
  }, 90_000);

  test("rotation churns through dynamic subscribe/unsubscribe on the sockets and stays within the churn limit", async () => {
    const sim = new SimClock(T0);
    const clock: Clock = {
      now: () => sim.now(),
      sleep: (ms, sig) => sim.sleep(ms, sig),
      setTimer: (ms, fn) => sim.setTimer(ms, fn),
    };
    server = new PolymarketServer({ markets: 40, now: () => sim.now(), maxAssetsPerConnection: 8 });
    const dataDir = await mkdtemp(join(tmpdir(), "pm-churn-"));
    dirs.push(dataDir);
    const limit = 8;
    const config = parseConfig({
      data_dir: dataDir,
      metrics: { log_interval_secs: 3600 },
      collector: {
        max_subs_per_venue: 10,
        hot_count: 4,
        rotation_period_secs: 60,
        subscription_churn_limit_per_minute: limit,
      },
      venues: {
        mock: { enabled: false },
        polymarket: { ...server.venueOptions(), max_assets_per_connection: 8, connection_open_pause_ms: 500 },
      },
    });
    await scanThenCollect(config, { sim, clock, env: {}, durationMs: 6 * 60_000, sink: new FakeSink(), stepMs: 200 });
    // One change per market per message: an initial subscribe or a subscribe op adds, an unsubscribe op removes.
    const changes: { t: number; op: string; market: string }[] = [];
    for (const r of server.received) {
      const m = r.msg as { type?: string; operation?: string; assets_ids: string[] };
      const op = m.type === "market" ? "subscribe" : m.operation!;
      for (const market of new Set(m.assets_ids.map((a) => server!.marketOf(a)))) changes.push({ t: r.t, op, market });
    }
    expect(server.violations).toBe(0);
    expect(changes.filter((c) => c.op === "unsubscribe").length).toBeGreaterThanOrEqual(6); // it did rotate
    // The first fill (all 10 markets in the sockets' initial messages, opened 500 ms apart) is not churn.
    const fill = changes.slice(0, 10);
    expect(fill.every((c) => c.op === "subscribe" && c.t - fill[0].t <= 3 * 500 + 1000)).toBe(true);
    expect(new Set(fill.map((c) => c.market)).size).toBe(10);
    // Sliding 60 s windows over the changes after it, less 1 s for loopback delivery skew between the client's
    // send and the server's stamp.
    for (const c of changes.slice(10))
      expect(changes.slice(10).filter((d) => d.t > c.t - 59_000 && d.t <= c.t).length).toBeLessThanOrEqual(limit);
    // Replaying the ops gives the set the server holds, and it never exceeded max_subs_per_venue (+1 during a swap).
    const held = new Set<string>();
    for (const c of changes) {
      if (c.op === "subscribe") held.add(c.market);
      else held.delete(c.market);
      expect(held.size).toBeLessThanOrEqual(11);
    }
    expect(held.size).toBe(10);
  }, 120_000);
});
