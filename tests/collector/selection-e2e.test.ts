/**
 * Market selection end to end on the mock (SimClock): pins and a filter through scan → collect → files. Pinned
 * markets are in every bucket file at HOT cadence, nothing outside the filter is in any file, and a restart has
 * every target market subscribed at its first instant (the first fill is not churn).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { consola } from "consola";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pl from "nodejs-polars";
import { readJournal, type JournalEntry } from "../../src/collector/journal.ts";
import { journalPath } from "../../src/layout.ts";
import { runCollect } from "../../src/collector/run.ts";
import { SimClock } from "../../src/clock.ts";
import { parseConfig, type Config } from "../../src/config.ts";
import { Metrics } from "../../src/metrics.ts";
import { scanAll } from "../../src/scanner/scanner.ts";
import type { MarketInfo } from "../../src/market.ts";
import { SELECTION_METRICS } from "../../src/scheduler/metric-names.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const MIN = 60_000;
const RUN_MS = 20 * MIN;
const BUCKET_MS = 5 * MIN;
const HOT_MS = 2000;
const MIN_VOLUME = 20_000;

let dir: string;
let universe: MarketInfo[];
let pins: string[];
let config: Config;
let files: { name: string; rows: { market_id: string; outcome_id: string; ts_recv: number }[] }[];
let restartJournal: JournalEntry[];
let restartAt: number;
const metrics = new Metrics();

/** The filter's clauses, written out independently of src/: politics, volume ≥ MIN_VOLUME, open. */
const passes = (m: MarketInfo) =>
  m.status === "active" &&
  m.tags.some((t) => t.toLowerCase() === "politics") &&
  typeof m.extra?.volume === "number" &&
  m.extra.volume >= MIN_VOLUME;

const cfg = (churn: number) =>
  parseConfig({
    data_dir: dir,
    top_k: 5,
    writer: { bucket_minutes: 5, flush_secs: 5 },
    collector: {
      max_subs_per_venue: 12,
      hot_count: 4,
      rotation_period_secs: 180,
      snapshot_interval_ms_hot: HOT_MS,
      snapshot_interval_ms_warm: 10_000,
      subscription_churn_limit_per_minute: churn,
    },
    venues: {
      mock: {
        universe_size: 300,
        seed: 7,
        updates_per_sec: 1,
        pin: pins,
        filter: { tags_any: ["Politics"], min_volume: MIN_VOLUME },
      },
    },
  });

beforeAll(async () => {
  consola.level = 0;
  dir = await mkdtemp(join(tmpdir(), "selection-e2e-"));
  pins = [];
  const clock = new SimClock(T0);
  const scanned = await scanAll(cfg(20), { clock, env: {} });
  universe = (await Bun.file(scanned[0].path!).text())
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  // Two pins the filter would not take (not politics), one that is not in the universe.
  pins = universe
    .filter((m) => m.status === "active" && !m.tags.includes("politics"))
    .slice(0, 2)
    .map((m) => m.market_id);
  pins.push("mock-missing");
  config = cfg(20);
  await runCollect(config, { clock, durationMs: RUN_MS, metrics });
  files = [...new Bun.Glob("orderbook_snapshots/**/*.parquet").scanSync({ cwd: dir })].sort().map((name) => ({
    name,
    rows: pl.readParquet(join(dir, name)).select("market_id", "outcome_id", "ts_recv").toRecords() as unknown as {
      market_id: string;
      outcome_id: string;
      ts_recv: number;
    }[],
  }));
  // A restart an hour later, with a churn limit that would take minutes to fill 12 markets if it counted.
  restartAt = T0 + 60 * MIN;
  const clock2 = new SimClock(restartAt);
  await runCollect(cfg(2), { clock: clock2, durationMs: 2 * MIN });
  restartJournal = (await readJournal(join(dir, journalPath("mock", restartAt)))).filter((e) => e.ts >= restartAt);
  consola.level = 3;
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The files of the buckets the run covered whole (the stop instant itself may open one more). */
const full = () => files.filter((f) => f.rows.some((r) => Number(r.ts_recv) < T0 + RUN_MS));

describe("choosing what is recorded, on the mock", () => {
  test("preconditions: the filter leaves more markets than max_subs, and the pins fail it", () => {
    expect(universe.filter(passes).length).toBeGreaterThan(12);
    expect(universe.filter(passes).length).toBeLessThan(universe.length / 3);
    for (const id of pins.slice(0, 2)) expect(passes(universe.find((m) => m.market_id === id)!)).toBe(false);
    expect(full().length).toBe(RUN_MS / BUCKET_MS);
  });

  test("pinned markets are in every bucket file at HOT cadence", () => {
    for (const f of full()) {
      for (const id of pins.slice(0, 2)) {
        for (const outcome of [`${id}-yes`, `${id}-no`]) {
          const n = f.rows.filter((r) => r.market_id === id && r.outcome_id === outcome).length;
          // One row per HOT interval over the 5-minute bucket (the first bucket starts with the subscription).
          expect(n).toBeGreaterThanOrEqual(BUCKET_MS / HOT_MS - 1);
          expect(n).toBeLessThanOrEqual(BUCKET_MS / HOT_MS + 1);
        }
      }
    }
  });

  test("no market outside the filter (or the pins) appears in any file", () => {
    const allowed = new Set([...universe.filter(passes).map((m) => m.market_id), ...pins]);
    const seen = new Set<string>();
    for (const f of files) for (const r of f.rows) seen.add(r.market_id);
    expect([...seen].filter((id) => !allowed.has(id))).toEqual([]);
    expect(seen.size).toBeGreaterThan(4); // pins + ranked HOT + rotated WARM
  });

  test("the missing pin is counted in the gauge; eligible markets are gauged", () => {
    expect(metrics.get(SELECTION_METRICS.pinsMissing, { venue: "mock" })).toBe(1);
    expect(metrics.get(SELECTION_METRICS.eligible, { venue: "mock" })).toBe(universe.filter(passes).length);
  });

  test("after a restart every target market has a journal subscribe at once, whatever the churn limit", () => {
    const subs = restartJournal.filter((e) => e.action === "subscribe" && e.outcome_id.endsWith("-yes"));
    const first = subs.filter((e) => e.ts === restartAt);
    expect(first.length).toBe(12); // max_subs_per_venue, at the first instant
    expect(new Set(first.map((e) => e.reason))).toEqual(new Set(["hot", "warm"]));
    for (const id of pins.slice(0, 2)) expect(first.find((e) => e.market_id === id)?.reason).toBe("hot");
  });
});
