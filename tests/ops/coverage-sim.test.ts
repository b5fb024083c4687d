/**
 * Coverage on a simulated collection (mock venue with connection drops, the real writer, a SimClock): a forward
 * clock step, a crash (the process abandoned mid-flush-interval) and a restart, a disk that refuses writes for a
 * minute (the writer drops rows), a backward clock step. Expected snapshots are counted independently from what the
 * snapshotter handed the writer plus what it could not take; recorded rows with DuckDB; nothing is left unknown.
 * Files deleted locally after a verified upload (archived, from the upload ledger) still count as recorded.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { Collector, type VenueCollector } from "../../src/collector/collector.ts";
import { parseConfig } from "../../src/config.ts";
import { readJournalRecords } from "../../src/journal-records.ts";
import { journalPath } from "../../src/layout.ts";
import type { MarketRef } from "../../src/market.ts";
import { Metrics } from "../../src/metrics.ts";
import { dayCoverage, dayStatus } from "../../src/ops/status.ts";
import type { SnapshotInput } from "../../src/schema.ts";
import { readManifest } from "../../src/storage/manifest.ts";
import { SnapshotWriter } from "../../src/storage/writer.ts";
import { Ledger, verifiedCopies } from "../../src/upload/ledger.ts";
import { MockVenue } from "../../src/venue/mock.ts";
import { FaultyFs } from "../helpers/faulty-fs.ts";
import { runCli } from "../helpers/run-cli.ts";
import { duckdbRows } from "../helpers/sql-engines.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const cfg = parseConfig({
  writer: { flush_secs: 5, bucket_minutes: 5, max_buffer_rows: 60 },
  collector: {
    max_subs_per_venue: 20,
    hot_count: 2,
    subscription_churn_limit_per_minute: 4,
    rotation_period_secs: 60,
    reconnect_base_ms: 1000,
    reconnect_cap_ms: 20_000,
  },
  venues: { mock: { universe_size: 60, seed: 5, updates_per_sec: 2, drop_rate_per_hour: 6 } },
});
const v = cfg.selected[0];
const interval = (tier: string | undefined) =>
  tier === "hot" ? v.collect.snapshot_interval_ms_hot : v.collect.snapshot_interval_ms_warm;

/** Per-hour counts. */
class Hours extends Map<number, number> {
  add(ts: number, n = 1) {
    const h = ts - (ts % HOUR);
    this.set(h, (this.get(h) ?? 0) + n);
  }
}

/** HOT: two of the first four (changing every 2 min, so tiers change); WARM: the other two and 8 of the next 12. */
function targetsOf(pool: MarketRef[]) {
  return (now: number) => {
    const e = Math.floor(now / (2 * MIN));
    const hot = [pool[e % 4], pool[(e + 1) % 4]];
    const warm = [pool[(e + 2) % 4], pool[(e + 3) % 4]];
    for (let k = 0; k < 8; k++) warm.push(pool[4 + ((e * 3 + k) % 12)]);
    return { hot, warm };
  };
}

/** `taken`: snapshots the snapshotter handed the writer (appended, whatever became of them), per hour. */
async function startRun(dataDir: string, clock: SimClock, taken: Hours, faulty?: FaultyFs) {
  const venue = new MockVenue(v, { clock, env: {} });
  const pool = (await venue.discover())
    .filter((m) => m.status === "active")
    .slice(0, 16)
    .map((m) => ({ market_id: m.market_id, outcome_ids: m.outcome_ids }));
  const writer = await SnapshotWriter.open({
    dataDir,
    settings: cfg.writer,
    topK: cfg.top_k,
    clock,
    fs: faulty?.fs,
  });
  const sink = {
    append(s: SnapshotInput) {
      taken.add(s.tsRecv);
      writer.append(s);
    },
    durableBefore: () => writer.durableBefore(),
    takeDropped: (venue: string) => writer.takeDropped(venue),
    close: () => writer.close(),
  };
  const vc = testVenueCollector({
    venue: "mock",
    settings: v.collect,
    adapter: venue,
    sink,
    clock,
    metrics: new Metrics(),
    dataDir,
    flushSecs: cfg.writer.flush_secs,
    targets: targetsOf(pool),
  });
  const c = new Collector([vc], sink);
  writer.start();
  await c.start();
  return { vc, c, writer };
}

/** For each subscribed book, its snapshots due within [a, b] on its schedule, the first `minus` left out, at `at(t)`. */
function dueIn(vc: VenueCollector, a: number, b: number, into: Hours, at: (t: number) => number, minus = 0) {
  for (const [id, cur] of vc.plan.current) {
    const step = interval(vc.snapshotter.tierOf(id));
    let t = vc.snapshotter.dueOf(id)!;
    if (t < a) t += Math.ceil((a - t) / step) * step;
    for (let n = 0; t <= b; t += step, n++) if (n >= minus) into.add(at(t), cur.ref.outcome_ids.length);
  }
}

interface Scenario {
  start: number;
  /** The wall clock jumps 90 s forward (run 1). */
  stepForward?: number;
  /** Run 1 dies (never stopped, its writer never closed): between two flush ticks, so rows since the last are lost. */
  crash: number;
  restart: number;
  /** Every staged write fails over [from, to) (run 2): the buffer overflows max_buffer_rows, rows are dropped. */
  diskFull?: [number, number];
  /** The wall clock steps back 7.3 s (run 2). */
  stepBack?: number;
  end: number;
}

/**
 * Runs the scenario, then for each UTC day it touches checks the coverage against the independent counts:
 * expected = taken + skipped across the forward step + due while dead + due while waiting for budget (by hand from
 * the journal's target records); recorded = DuckDB's count; unknown and extra 0. Returns the coverage rows.
 */
async function simulate(sc: Scenario) {
  const dataDir = mkdtempSync(join(tmpdir(), "coverage-sim-"));
  dirs.push(dataDir);
  const taken = new Hours();
  const skipped = new Hours();
  const dead = new Hours();

  const clock1 = new SimClock(sc.start);
  const r1 = await startRun(dataDir, clock1, taken);
  if (sc.stepForward !== undefined) {
    const at = sc.stepForward;
    clock1.setTimer(at - sc.start, () => {
      // Every book catches up at the new time with one snapshot; the rest of what was due meanwhile is skipped.
      dueIn(r1.vc, at, at + 90_000, skipped, () => at + 90_000, 1);
      clock1.set(at + 90_000);
    });
  }
  await clock1.runUntil(sc.crash);
  await r1.vc.journal.flush(); // the journal's last append lands, as it would have before the kill
  // What the dead process would have snapshotted until the restart.
  dueIn(r1.vc, sc.crash + 1, sc.restart - 1, dead, (t) => t);

  // Run 2 recovers the staged rows of run 1 and is stopped cleanly.
  const clock2 = new SimClock(sc.restart);
  const faulty = new FaultyFs(() => clock2.now());
  const r2 = await startRun(dataDir, clock2, taken, faulty);
  if (sc.diskFull) {
    clock2.setTimer(sc.diskFull[0] - sc.restart, () => faulty.fail("create", "ENOSPC"));
    clock2.setTimer(sc.diskFull[1] - sc.restart, () => faulty.clear());
  }
  const back = sc.stepBack;
  if (back !== undefined) clock2.setTimer(back - sc.restart, () => clock2.set(back - 7300));
  await clock2.runUntil(sc.end);
  await r2.c.stop();

  // Not subscribed, by hand from the journal: a `target` at t0 waits until its subscribe/untarget at t1 (or the end
  // of its run: the last record before the next start), due at t0 + k * interval (k >= 1) before t1.
  const firstDay = sc.start - (sc.start % DAY);
  const waiting = new Hours();
  const since = new Map<string, { ts: number; tier: unknown }>();
  const endWait = (k: string, t1: number) => {
    const w = since.get(k)!;
    for (let t = w.ts + interval(w.tier as string); t < t1; t += interval(w.tier as string)) waiting.add(t);
    since.delete(k);
  };
  let last = sc.start;
  for (const r of readJournalRecords(dataDir, "mock", firstDay, sc.end)!) {
    const k = `${r.market_id} ${r.outcome_id}`;
    if (r.action === "start") for (const open of [...since.keys()]) endWait(open, last);
    if (r.action === "target" && r.reason !== "carry") since.set(k, { ts: r.ts, tier: r.tier });
    else if ((r.action === "subscribe" || r.action === "untarget") && since.has(k)) endWait(k, r.ts);
    last = r.ts;
  }
  expect(since.size).toBe(0);

  // Recorded: DuckDB over the final files (nothing is left staged after the clean stop).
  const counted = new Map(
    (
      await duckdbRows(
        `SELECT (ts_recv // ${HOUR}) * ${HOUR} AS h, count(*)::INTEGER AS n FROM read_parquet('${dataDir}/orderbook_snapshots/**/*.parquet', hive_partitioning = false) GROUP BY h`,
      )
    ).map((x) => [Number(x.h), Number(x.n)]),
  );
  const all = [];
  for (let dayTs = firstDay; dayTs < sc.end; dayTs += DAY) {
    const status = await dayStatus(dataDir, dayTs, { bucketMinutes: cfg.writer.bucket_minutes });
    const cov = dayCoverage(dataDir, status, dayTs, {
      venues: ["mock"],
      now: Infinity,
      cadence: () => ({ hot_ms: 2000, warm_ms: 10_000, flush_ms: 5000 }),
    });
    for (const r of cov.filter((x) => x.hour !== "day")) {
      const h = dayTs + Number(r.hour) * HOUR;
      const indep = (taken.get(h) ?? 0) + (skipped.get(h) ?? 0) + (dead.get(h) ?? 0) + (waiting.get(h) ?? 0);
      const at = new Date(h).toISOString().slice(0, 13);
      expect({ at, expected: r.expected, recorded: r.recorded }).toEqual({
        at,
        expected: indep,
        recorded: counted.get(h) ?? 0,
      });
      expect({ at, unknown: r.unknown, extra: r.extra }).toEqual({ at, unknown: 0, extra: 0 });
      expect(r.not_subscribed).toBe(waiting.get(h) ?? 0);
      expect(r.stalled).toBe(skipped.get(h) ?? 0);
      expect(r.missing).toBe(r.not_subscribed + r.crash + r.in_flight + r.stalled + r.writer_dropped);
    }
    all.push({ dayTs, dataDir, cov, day: cov.find((r) => r.hour === "day")! });
  }
  // Every hour with rows or with snapshots due is in a day's coverage.
  const covered = all.flatMap((d) => d.cov.filter((r) => r.hour !== "day").map((r) => d.dayTs + Number(r.hour) * HOUR));
  expect(covered.sort()).toEqual([...new Set([...counted.keys(), ...taken.keys(), ...dead.keys()])].sort());
  return { all, dead: sum(dead) };
}

test("drops, clock steps both ways, a crash and restart, a full disk: expected matches an independent count, unknown 0", async () => {
  const { all, dead } = await simulate({
    start: T0 + 40 * MIN,
    stepForward: T0 + 55 * MIN,
    crash: T0 + 70 * MIN + 2500,
    restart: T0 + 80 * MIN,
    diskFull: [T0 + 90 * MIN, T0 + 91 * MIN],
    stepBack: T0 + 100 * MIN,
    end: T0 + 130 * MIN,
  });
  expect(all.map((d) => d.cov.map((r) => r.hour))).toEqual([["00", "01", "02", "day"]]);
  // The scenario exercised every cause.
  const { day, cov, dataDir } = all[0];
  expect(day.crash).toBeGreaterThan(dead);
  expect(day.stalled).toBeGreaterThan(0);
  expect(day.not_subscribed).toBeGreaterThan(0);
  expect(day.writer_dropped).toBeGreaterThan(0);
  expect(day.disconnected).toBeGreaterThan(0);
  expect(day.in_flight).toBe(0);
  expect(day.coverage_pct!).toBeGreaterThan(80);

  // The command says the same, as JSON (snake_case) and as a table.
  const args = ["status", "--data-dir", dataDir, "--date", "2026-01-01", "--coverage"];
  const json = await runCli([...args, "--json"]);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout).coverage).toEqual(cov);
  const table = await runCli(args);
  expect(table.stdout).toMatch(/\nvenue +hour +expected +recorded +coverage +missing +not_subscribed +crash/);
  expect(table.stdout).toMatch(new RegExp(`\\nmock +day +${day.expected} +${day.recorded} `));
}, 120_000);

test("across midnight: a run carried into the next day's file dies there; each day's coverage adds up, unknown 0", async () => {
  const { all } = await simulate({
    start: T0 + 23 * HOUR + 45 * MIN,
    crash: T0 + DAY + 5 * MIN + 2500,
    restart: T0 + DAY + 12 * MIN,
    end: T0 + DAY + 20 * MIN,
  });
  expect(all.map((d) => d.cov.map((r) => r.hour))).toEqual([
    ["23", "day"],
    ["00", "day"],
  ]);
  expect(all[1].day.crash).toBeGreaterThan(0);
  // Without the first day's journal (deleted, say) the second day's file alone gives the same figures: its carry
  // records continue each schedule at its due time, and carry the markets still waiting.
  const { dataDir, dayTs, cov } = all[1];
  rmSync(journalDayDir(dataDir, T0), { recursive: true });
  const status = await dayStatus(dataDir, dayTs, { bucketMinutes: cfg.writer.bucket_minutes });
  expect(
    dayCoverage(dataDir, status, dayTs, {
      venues: ["mock"],
      now: Infinity,
      cadence: () => ({ hot_ms: 2000, warm_ms: 10_000, flush_ms: 5000 }),
    }),
  ).toEqual(cov);
}, 120_000);

test("a run that dies before midnight and restarts after: the crash window spans both days, unknown 0", async () => {
  const { all } = await simulate({
    start: T0 + 23 * HOUR + 45 * MIN,
    crash: T0 + 23 * HOUR + 58 * MIN + 2500,
    restart: T0 + DAY + 3 * MIN,
    end: T0 + DAY + 10 * MIN,
  });
  expect(all.map((d) => d.day.crash > 0)).toEqual([true, true]);
}, 120_000);

test("archived files (deleted locally after a verified upload) still count as recorded: the coverage is unchanged", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "coverage-archived-"));
  dirs.push(dataDir);
  const start = T0 + 10 * MIN;
  const clock = new SimClock(start);
  const r = await startRun(dataDir, clock, new Hours());
  await clock.runUntil(start + 20 * MIN);
  await r.c.stop();
  const opts = { venues: ["mock"], now: Infinity, cadence: () => ({ hot_ms: 2000, warm_ms: 10_000, flush_ms: 5000 }) };
  const coverage = async () => {
    const s = await dayStatus(dataDir, T0, { bucketMinutes: 5, archived: await verifiedCopies(dataDir) });
    return dayCoverage(dataDir, s, T0, opts);
  };
  const before = await coverage();
  const day = before.find((x) => x.hour === "day")!;
  expect(day.recorded).toBeGreaterThan(0);
  expect(day.unknown).toBe(0);

  // Half the final files verified in the bucket, then deleted locally (as retention or the disk guard does).
  const files = (await readManifest(dataDir)).entries.map((e) => e.path);
  expect(files.length).toBeGreaterThan(2);
  const ledger = await Ledger.open(dataDir, "s3://bkt/rec");
  for (const rel of files.filter((_, i) => i % 2 === 0)) {
    const st = statSync(join(dataDir, rel));
    await ledger.record({ path: rel, size: st.size, mtime_ms: st.mtimeMs, sha256: "x", verified_at: clock.now() });
    unlinkSync(join(dataDir, rel));
  }
  const after = await coverage();
  expect(after).toEqual(before);
  expect(after.find((x) => x.hour === "day")!).toMatchObject({ recorded: day.recorded, unknown: 0 });
}, 120_000);

const journalDayDir = (dataDir: string, ts: number) => dirname(join(dataDir, journalPath("mock", ts)));

const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
