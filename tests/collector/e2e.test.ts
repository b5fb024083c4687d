/**
 * End to end, in process on a SimClock: scan the mock universe, collect one simulated hour through the real
 * writer, then read everything back (nodejs-polars) and check it against the data-tree layout, the journal, the
 * rotation schedule and the churn limit.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { consola } from "consola";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pl from "nodejs-polars";
import { readJournal, type JournalEntry } from "../../src/collector/journal.ts";
import { runCollect, type CollectSummary } from "../../src/collector/run.ts";
import { SimClock } from "../../src/clock.ts";
import { parseConfig, type Config } from "../../src/config.ts";
import { scanAll } from "../../src/scanner/scanner.ts";
import { REQUIRED_COLUMNS, type SnapshotRow } from "../../src/schema.ts";
import { journalPath, snapshotPath } from "../../src/layout.ts";
import type { MarketInfo } from "../../src/market.ts";
import { POLARS_TYPES, polarsTypeNames } from "../helpers/column-types.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const HOUR = 3_600_000;
const END = T0 + HOUR;
const TOP_K = 10;
const HOT_MS = 2000;
const WARM_MS = 10_000;
const PERIOD_MS = 180_000;
const CHURN = 20;

let dir: string;
let config: Config;
let summary: CollectSummary[];
let universe: MarketInfo[];
let journal: JournalEntry[];
let rows: SnapshotRow[];
let files: string[];
let types: Record<string, string>;

beforeAll(async () => {
  consola.level = 0; // the run logs a status line per venue; keep test output clean
  dir = await mkdtemp(join(tmpdir(), "collect-e2e-"));
  config = parseConfig({
    data_dir: dir,
    top_k: TOP_K,
    writer: { bucket_minutes: 5, flush_secs: 5 },
    collector: {
      max_subs_per_venue: 30,
      hot_count: 6,
      rotation_period_secs: PERIOD_MS / 1000,
      snapshot_interval_ms_hot: HOT_MS,
      snapshot_interval_ms_warm: WARM_MS,
      subscription_churn_limit_per_minute: CHURN,
    },
    venues: { mock: { universe_size: 120, seed: 2, updates_per_sec: 2 } },
  });
  const clock = new SimClock(T0);
  const scanned = await scanAll(config, { clock, env: {} });
  expect(scanned[0].ok).toBe(true);
  universe = (await Bun.file(scanned[0].path!).text())
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  summary = await runCollect(config, { clock, durationMs: HOUR });
  journal = await readJournal(join(dir, journalPath("mock", T0)));
  files = [...new Bun.Glob("orderbook_snapshots/**/*.parquet").scanSync({ cwd: dir })].sort();
  const df = pl.concat(files.map((f) => pl.readParquet(join(dir, f))));
  types = polarsTypeNames(df.schema);
  rows = df.toRecords() as unknown as SnapshotRow[];
  consola.level = 3;
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One journal line per market change (the journal has one per outcome); the stop's unsubscribes are not churn. */
const perMarket = () => journal.filter((e) => e.outcome_id.endsWith("-yes") && e.reason !== "stop");

describe("collect one simulated hour of the mock venue", () => {
  test("precondition: no scheduled market closes within the hour (so HOT never changes and counts are exact)", () => {
    const active = universe.filter((m) => m.status === "active");
    expect(active.filter((m) => m.close_ts! > T0 && m.close_ts! <= END + 60_000)).toEqual([]);
  });

  test("one file per 5-minute bucket, exactly at the documented layout, nothing else in the dataset tree", () => {
    const want: string[] = [];
    for (let t = T0; t <= END; t += 5 * 60_000) want.push(snapshotPath("mock", t, 5));
    expect(files).toEqual(want.sort());
    expect(files[0]).toBe("orderbook_snapshots/venue=mock/date=2026-01-01/hour=12/snapshots_2026-01-01T12-00.parquet");
    const all = [...new Bun.Glob("orderbook_snapshots/**/*").scanSync({ cwd: dir })];
    expect(all.sort()).toEqual(want.sort());
  });

  test("schema: the exact column order and types", () => {
    expect(Object.keys(types).slice(0, REQUIRED_COLUMNS.length)).toEqual([...REQUIRED_COLUMNS]);
    expect(types).toMatchObject(POLARS_TYPES);
    expect(summary[0].snapshots).toBe(rows.length);
  });

  test("every row: sides sorted, capped at top_k, best/mid/spread/depth/status consistent with the lists", () => {
    const bad: unknown[] = [];
    const same = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) < 1e-9;
    for (const r of rows) {
      const b = r.bid_px;
      const a = r.ask_px;
      let ok = b.length === r.bid_sz.length && a.length === r.ask_sz.length && b.length <= TOP_K && a.length <= TOP_K;
      for (let i = 1; i < b.length; i++) ok &&= b[i] < b[i - 1];
      for (let i = 1; i < a.length; i++) ok &&= a[i] > a[i - 1];
      for (const s of [...r.bid_sz, ...r.ask_sz]) ok &&= s > 0;
      ok &&= same(r.best_bid_px, b.length ? b[0] : NaN) && same(r.best_ask_px, a.length ? a[0] : NaN);
      ok &&=
        same(r.mid, b.length && a.length ? (b[0] + a[0]) / 2 : NaN) &&
        same(r.spread, b.length && a.length ? a[0] - b[0] : NaN);
      ok &&=
        same(
          r.bid_depth3,
          r.bid_sz.slice(0, 3).reduce((x, y) => x + y, 0),
        ) &&
        same(
          r.ask_depth3,
          r.ask_sz.slice(0, 3).reduce((x, y) => x + y, 0),
        );
      // status and err from the side lengths, by hand (stale wins; its reason is the collector's text)
      if (r.status === "stale") ok &&= typeof r.err === "string" && r.err.length > 0;
      else if (b.length === 0 && a.length === 0) ok &&= r.status === "empty" && r.err === "no bids and no asks";
      else if (b.length === 0) ok &&= r.status === "partial" && r.err === "no bids";
      else if (a.length === 0) ok &&= r.status === "partial" && r.err === "no asks";
      else ok &&= r.status === "ok" && r.err === null;
      ok &&= Number(r.ts_recv) >= T0 && Number(r.ts_recv) <= END && r.venue === "mock";
      if (!ok) bad.push(r);
    }
    expect(bad.slice(0, 3)).toEqual([]);
    // seq never goes backwards for a book
    const last = new Map<string, number>();
    let backwards = 0;
    for (const r of [...rows].sort((x, y) => Number(x.ts_recv) - Number(y.ts_recv))) {
      const k = `${r.market_id}/${r.outcome_id}`;
      if (Number(r.seq) < (last.get(k) ?? 0)) backwards++;
      last.set(k, Number(r.seq));
    }
    expect(backwards).toBe(0);
    // the mix the mock is meant to produce shows up
    const statuses = new Set(rows.map((r) => r.status));
    expect(statuses.has("ok")).toBe(true);
    expect(statuses.has("stale")).toBe(true);
  });

  test("rows per book = its HOT/WARM interval × the time it was subscribed (from the journal)", () => {
    // Intervals from the journal: subscribe (hot/warm/rotation) … unsubscribe (hot/rotation). Watchdog pairs keep the slot.
    const expected = new Map<string, number>();
    const open = new Map<string, { ts: number; every: number }>();
    for (const e of journal) {
      if (e.reason === "watchdog" || e.reason === "resync") continue;
      const k = `${e.market_id}/${e.outcome_id}`;
      if (e.action === "subscribe") {
        expect(open.has(k)).toBe(false);
        open.set(k, { ts: e.ts, every: e.reason === "hot" ? HOT_MS : WARM_MS });
      } else {
        const o = open.get(k)!;
        expected.set(k, (expected.get(k) ?? 0) + Math.floor((e.ts - o.ts) / o.every));
        open.delete(k);
      }
    }
    for (const [k, o] of open) expected.set(k, (expected.get(k) ?? 0) + Math.floor((END - o.ts) / o.every));
    const actual = new Map<string, number>();
    for (const r of rows) {
      const k = `${r.market_id}/${r.outcome_id}`;
      actual.set(k, (actual.get(k) ?? 0) + 1);
    }
    for (const [k, n] of expected) if (n === 0) expected.delete(k);
    expect(Object.fromEntries([...actual].sort())).toEqual(Object.fromEntries([...expected].sort()));
    expect(actual.size).toBeGreaterThan(60);
  });

  test("HOT is subscribed first and stays; WARM rotates at every period boundary", () => {
    const changes = perMarket();
    const hot = changes.filter((e) => e.reason === "hot");
    expect(hot.length).toBe(6);
    expect(hot.every((e) => e.ts === T0 && e.action === "subscribe")).toBe(true);
    expect(changes.slice(0, 6).map((e) => e.reason)).toEqual(Array(6).fill("hot"));
    // The first fill (24 WARM markets) goes out at start with HOT, whatever the churn limit, and says "warm".
    const warm = changes.filter((e) => e.reason === "warm");
    expect(warm.map((e) => [e.ts - T0, e.action])).toEqual(Array(24).fill([0, "subscribe"]));
    const rot = changes.filter((e) => e.reason === "rotation");
    expect(rot.length).toBeGreaterThan(0);
    // No rotation before the first boundary; every period after it starts swapping WARM markets.
    expect(Math.min(...rot.map((e) => e.ts))).toBeGreaterThanOrEqual(T0 + PERIOD_MS);
    for (let b = T0 + PERIOD_MS; b < END; b += PERIOD_MS) {
      const inPeriod = rot.filter((e) => e.ts >= b && e.ts < b + PERIOD_MS && e.action === "subscribe");
      expect(inPeriod.length).toBeGreaterThan(0);
    }
    // Each subscribe of a swap comes before its unsubscribe, and the set never outgrows max_subs_per_venue.
    const subscribed = new Set<string>();
    let max = 0;
    for (const e of changes) {
      if (e.reason === "watchdog" || e.reason === "resync") continue;
      if (e.action === "subscribe") subscribed.add(e.market_id);
      else subscribed.delete(e.market_id);
      max = Math.max(max, subscribed.size);
    }
    expect(max).toBeLessThanOrEqual(31);
    expect(subscribed.size).toBe(30);
    // the stop unsubscribes exactly that set
    const stops = journal.filter((e) => e.outcome_id.endsWith("-yes") && e.reason === "stop");
    expect(stops.every((e) => e.action === "unsubscribe")).toBe(true);
    expect(stops.map((e) => e.market_id).sort()).toEqual([...subscribed].sort());
  });

  test("never more than subscription_churn_limit_per_minute changes in any 60 s window", () => {
    // The first fill (every change at T0, reasons hot/warm) is not churn; every change after it is.
    const all = perMarket();
    expect(all.filter((e) => e.ts === T0).every((e) => e.reason === "hot" || e.reason === "warm")).toBe(true);
    const ts = all.filter((e) => e.ts > T0).map((e) => e.ts);
    let worst = 0;
    for (const t of ts) worst = Math.max(worst, ts.filter((u) => u > t - 60_000 && u <= t).length);
    expect(worst).toBeLessThanOrEqual(CHURN);
    expect(worst).toBeGreaterThanOrEqual(CHURN - 1); // the rotations do use the budget
  });
});
