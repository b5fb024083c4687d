/**
 * End to end against the loopback Kalshi: scan writes the universe; the collector (real adapter, real Parquet writer)
 * records a simulated stretch with deltas, a seq gap whose snapshot is slow to come, and churn; the rows read back
 * from Parquet match the books the server holds, computed independently here (yes asks = NO bids at 1 − p).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { Collector } from "../../src/collector/collector.ts";
import { runCollect } from "../../src/collector/run.ts";
import { parseConfig } from "../../src/config.ts";
import { readLatestUniverse, scanAll } from "../../src/scanner/scanner.ts";
import { SnapshotWriter } from "../../src/storage/writer.ts";
import { listDatasetFiles } from "../../src/layout.ts";
import { readSnapshotFile } from "../../src/parquet/read.ts";
import { createAdapter } from "../../src/venue/index.ts";
import type { SnapshotRow } from "../../src/schema.ts";
import { drive } from "../helpers/sim-driver.ts";
import { waitFor } from "../helpers/wait.ts";
import { KALSHI_TEST_ENV, KALSHI_TEST_T0, kalshiLoopback } from "../helpers/kalshi-loopback.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";

const env = KALSHI_TEST_ENV;
const T0 = KALSHI_TEST_T0;
const { clock, server } = kalshiLoopback(1200);
const dataDir = await mkdtemp(join(tmpdir(), "kalshi-e2e-"));
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const config = parseConfig(
  {
    data_dir: dataDir,
    collector: {
      max_subs_per_venue: 8,
      hot_count: 3,
      subscription_churn_limit_per_minute: 100,
      snapshot_interval_ms_hot: 1000,
      snapshot_interval_ms_warm: 2000,
    },
    venues: { kalshi: { rest_url: server.restUrl, ws_url: server.wsUrl, rest_requests_per_sec: 20 } },
  },
  "test",
);

/** The rows a book must produce, from the server's cent books: bids descending, asks = other side's bids at 1 − p ascending. */
function expectedBook(ticker: string, outcome: "yes" | "no") {
  const b = server.books.get(ticker)!;
  const own = [...(outcome === "yes" ? b.yes : b.no)].sort((x, y) => y[0] - x[0]);
  const other = [...(outcome === "yes" ? b.no : b.yes)].sort((x, y) => y[0] - x[0]); // best NO bid → best YES ask
  return {
    bid_px: own.map(([p]) => p / 100),
    bid_sz: own.map(([, z]) => z),
    ask_px: other.map(([p]) => (100 - p) / 100),
    ask_sz: other.map(([, z]) => z),
  };
}

describe("kalshi end to end", () => {
  test("scan writes the universe of open markets from every page", async () => {
    const results = await drive(clock, scanAll(config, { clock, env: {} }));
    expect(results.map((r) => [r.venue, r.ok, r.markets])).toEqual([["kalshi", true, 1200 - 24]]);
    const universe = (await readLatestUniverse(dataDir, "kalshi", clock.now()))!;
    expect(universe.map((m) => m.market_id)).toEqual(server.openTickers);
    expect(universe.every((m) => m.status === "active" && m.outcome_ids.join() === "yes,no" && m.close_ts! > T0)).toBe(
      true,
    );
  });

  test("collect: rows match the server's books; a gap gives stale rows until the snapshot, then ok", async () => {
    const tickers = server.openTickers.slice(0, 8);
    const refs = tickers.map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] }));
    const cfg = config.selected[0];
    const adapter = await createAdapter(cfg, { clock, env, random: () => 0.5 });
    const writer = await SnapshotWriter.open({ dataDir, settings: config.writer, topK: 50, clock });
    const vc = testVenueCollector({
      venue: "kalshi",
      settings: cfg.collect,
      adapter,
      sink: writer,
      clock,
      dataDir,
      logIntervalSecs: 60,
      targets: () => ({ hot: refs.slice(0, 3), warm: refs.slice(3) }),
    });
    const collector = new Collector([vc], writer);
    await collector.start();
    await waitFor(() => vc.counters.books === 16, "16 snapshot books");
    expect([...server.subscribed()].sort()).toEqual([...tickers].sort());

    const start = clock.now();
    let n = 0;
    const deltas = async (count: number) => {
      const before = vc.counters.updates;
      for (let i = 0; i < count; i++, n++) {
        const t = tickers[n % tickers.length];
        const side = n % 3 === 0 ? "no" : "yes";
        const book = server.books.get(t)![side];
        const prices = [...book.keys()];
        const p =
          n % 4 === 0 || prices.length === 0
            ? side === "yes"
              ? 5 + (n % 10)
              : 3 + (n % 10)
            : prices[n % prices.length];
        server.delta(t, side, p, n % 5 === 0 ? -(book.get(p) ?? 1) : 1 + (n % 9), clock.now());
      }
      await waitFor(() => vc.counters.updates >= before + 2 * count, "deltas applied");
    };
    // 20 s of trading
    for (let s = 0; s < 20; s++) {
      await deltas(10);
      await clock.advance(1000);
    }
    // a seq gap while the venue is slow to answer get_snapshot: the books are stale on the next snapshots
    server.holdSnapshots(true);
    server.skipSeq();
    await deltas(1);
    const gapAt = clock.now();
    await clock.advance(3000);
    server.holdSnapshots(false);
    await waitFor(() => vc.counters.books >= 32, "snapshots after the gap");
    const recoveredAt = clock.now();
    for (let s = 0; s < 5; s++) {
      await deltas(10);
      await clock.advance(1000);
    }
    await clock.advance(3000); // quiet: every book is snapshotted with its final state
    const endAt = clock.now();
    await collector.stop();

    const rows: SnapshotRow[] = listDatasetFiles(dataDir, { venues: ["kalshi"] }).flatMap((f) =>
      readSnapshotFile(f.abs),
    );
    expect(rows.length).toBeGreaterThan(100);
    // every row is a sane two-sided book in dollars
    for (const r of rows) {
      expect(r.venue).toBe("kalshi");
      for (let i = 1; i < r.bid_px.length; i++) expect(r.bid_px[i]).toBeLessThan(r.bid_px[i - 1]);
      for (let i = 1; i < r.ask_px.length; i++) expect(r.ask_px[i]).toBeGreaterThan(r.ask_px[i - 1]);
      for (const p of [...r.bid_px, ...r.ask_px]) expect(p > 0 && p < 1 && Math.round(p * 1e4) / 1e4 === p).toBe(true);
    }
    // the last row of each book equals the server's book
    for (const t of tickers) {
      for (const o of ["yes", "no"] as const) {
        const mine = rows.filter((r) => r.market_id === t && r.outcome_id === o).sort((a, b) => a.ts_recv - b.ts_recv);
        const last = mine.at(-1)!;
        expect(last.ts_recv).toBeGreaterThan(endAt - 3000);
        const e = expectedBook(t, o);
        expect(last.status).toBe(
          e.bid_px.length && e.ask_px.length ? "ok" : e.bid_px.length || e.ask_px.length ? "partial" : "empty",
        );
        expect([t, o, { bid_px: last.bid_px, bid_sz: last.bid_sz, ask_px: last.ask_px, ask_sz: last.ask_sz }]).toEqual([
          t,
          o,
          expectedBook(t, o),
        ]);
      }
    }
    // stale rows between the gap and the snapshot, ok ones before and after
    const between = rows.filter((r) => r.ts_recv > gapAt && r.ts_recv < recoveredAt);
    expect(between.length).toBeGreaterThan(0);
    expect(between.every((r) => r.status === "stale" && /seq gap/.test(r.err ?? ""))).toBe(true);
    const fresh = (r: SnapshotRow) => r.status !== "stale";
    expect(
      rows
        .filter((r) => r.ts_recv > start && r.ts_recv <= gapAt && !fresh(r))
        .map((r) => [r.ts_recv - start, r.market_id, r.outcome_id, r.status, r.err]),
    ).toEqual([]);
    expect(rows.filter((r) => r.ts_recv > recoveredAt).every(fresh)).toBe(true);
    expect(rows.filter((r) => r.status === "ok").length).toBeGreaterThan(rows.length / 2);
  }, 30_000);

  test("collect without Kalshi credentials: Kalshi is refused with one line naming the variables, the mock venue goes on", async () => {
    const dd = await mkdtemp(join(tmpdir(), "kalshi-nocreds-"));
    try {
      const both = parseConfig(
        {
          data_dir: dd,
          collector: { max_subs_per_venue: 8, hot_count: 3 },
          venues: {
            mock: { universe_size: 20 },
            kalshi: { rest_url: server.restUrl, ws_url: server.wsUrl, rest_requests_per_sec: 20 },
          },
        },
        "test",
      );
      const c = new SimClock(T0);
      expect((await drive(c, scanAll(both, { clock: c, env: {} }))).map((r) => r.ok)).toEqual([true, true]);
      const lines: string[] = [];
      const { consola } = await import("consola");
      // capture what tagged loggers print as errors (the refusal line)
      const tagged = consola.withTag;
      consola.withTag = ((tag: string) =>
        Object.assign(tagged.call(consola, tag), {
          error: (m: string) => lines.push(`[${tag}] ${m}`),
        })) as typeof consola.withTag;
      let summary: Awaited<ReturnType<typeof runCollect>>;
      try {
        summary = await runCollect(both, { clock: c, durationMs: 20_000, env: {} });
      } finally {
        consola.withTag = tagged;
      }
      const byVenue = Object.fromEntries(summary.map((s) => [s.venue, s.snapshots]));
      expect(byVenue.mock).toBeGreaterThan(0);
      expect(byVenue.kalshi).toBe(0);
      const refused = lines.filter((l) => l.startsWith("[kalshi]"));
      expect(refused.length).toBe(1);
      expect(refused[0]).toContain("KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH are not set");
    } finally {
      await rm(dd, { recursive: true, force: true });
    }
  });

  test("rotation churn goes through update_subscription on one sid and stays within the churn limit", async () => {
    const limit = 10;
    const cfg = parseConfig(
      {
        data_dir: dataDir,
        collector: {
          max_subs_per_venue: 8,
          hot_count: 3,
          subscription_churn_limit_per_minute: limit,
          rotation_period_secs: 60,
          snapshot_interval_ms_warm: 5000,
        },
        venues: { kalshi: { rest_url: server.restUrl, ws_url: server.wsUrl } },
      },
      "test",
    ).selected[0];
    const refs = server.openTickers.slice(100, 140).map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] }));
    const t0 = clock.now();
    // the warm set moves by 5 markets each minute: 10 changes per rotation, as many as the limit allows
    const targets = (now: number) => {
      const k = Math.floor((now - t0) / 60_000) * 5;
      return { hot: refs.slice(0, 3), warm: refs.slice(3 + k, 8 + k) };
    };
    const adapter = await createAdapter(cfg, { clock, env, random: () => 0.5 });
    const sink = { append() {}, async close() {} };
    const vc = testVenueCollector({
      venue: "kalshi",
      settings: cfg.collect,
      adapter,
      sink,
      clock,
      dataDir,
      logIntervalSecs: 600,
      targets,
    });
    const before = server.commands.length;
    await vc.start();
    for (let s = 0; s < 300; s++) {
      if (s % 10 === 0) server.ping(); // Kalshi's heartbeat, every 10 s
      await clock.advance(1000);
      await Bun.sleep(1); // let the commands and the snapshots they bring cross the loopback
    }
    const held = () => {
      const c = vc.plan.countByTier();
      return c.hot + c.warm;
    };
    await waitFor(() => server.subscribed().size === held(), "server caught up");
    await vc.stop();
    const cmds = server.commands.slice(before);
    expect(vc.counters.reconnects).toBe(0);
    expect(cmds.filter((c) => c.cmd === "subscribe").length).toBe(1);
    const updates = cmds.filter((c) => c.cmd === "update_subscription");
    expect(new Set(updates.map((c) => c.params.action))).toEqual(new Set(["add_markets", "delete_markets"]));
    expect(new Set(updates.map((c) => (c.params.sids as number[])[0])).size).toBe(1);
    // every market added or removed (the first subscribe included) counts against the limit in any 60 s window
    const changes = cmds.flatMap((c) =>
      c.params.action === "get_snapshot" ? [] : (c.params.market_tickers as string[]).map(() => c.at),
    );
    for (const at of changes)
      expect(changes.filter((x) => x >= at && x < at + 60_000).length).toBeLessThanOrEqual(limit);
    expect(changes.length).toBeGreaterThan(2 * limit); // the rotation really ran for several minutes
    expect(server.subscribed().size).toBeLessThanOrEqual(8);
  }, 30_000);
});
