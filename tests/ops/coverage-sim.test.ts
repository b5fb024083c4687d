/**
 * Coverage on a simulated collection (mock venue with connection drops, the real writer, a SimClock): a forward
 * clock step, a crash (the process abandoned mid-flush-interval) and a restart, a disk that refuses writes for a
 * minute (the writer drops rows), a backward clock step. Expected snapshots are counted independently from what the
 * snapshotter handed the writer plus what it could not take; recorded rows with DuckDB; nothing is left unknown.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { consola } from "consola";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { Collector, type VenueCollector } from "../../src/collector/collector.ts";
import { parseConfig } from "../../src/config.ts";
import { readJournalRecords } from "../../src/journal-records.ts";
import type { MarketRef } from "../../src/market.ts";
import { Metrics } from "../../src/metrics.ts";
import { dayCoverage, dayStatus } from "../../src/ops/status.ts";
import type { SnapshotInput } from "../../src/schema.ts";
import { SnapshotWriter } from "../../src/storage/writer.ts";
import { MockVenue } from "../../src/venue/mock.ts";
import { FaultyFs } from "../helpers/faulty-fs.ts";
import { runCli } from "../helpers/run-cli.ts";
import { duckdbRows } from "../helpers/sql-engines.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const HOUR = 3_600_000;
const S1 = T0 + 40 * MIN; // run 1 starts
const STEP_FWD = T0 + 55 * MIN; // the wall clock jumps 90 s forward
const CRASH = T0 + 70 * MIN + 2500; // between two flush ticks: the rows since the last one are lost
const S2 = T0 + 80 * MIN; // run 2 starts
const DISK_BAD = [T0 + 90 * MIN, T0 + 91 * MIN]; // every staged write fails
const STEP_BACK = T0 + 100 * MIN; // the wall clock steps back 7.3 s
const END = T0 + 130 * MIN;

const dirs: string[] = [];
// The full disk makes the writer log its retries and drops: expected here, kept off the test output.
beforeAll(() => void (consola.level = 0));
afterAll(() => {
  consola.level = 3;
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

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
/** Snapshots the snapshotter handed the writer (appended, whatever became of them), per hour. */
const taken = new Hours();
/** Snapshots it could not take: skipped across the forward step, due while the process was dead. */
const skipped = new Hours();
const dead = new Hours();

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

async function startRun(dataDir: string, clock: SimClock, faulty?: FaultyFs) {
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

test("a day with drops, clock steps, a crash and a full disk: expected matches an independent count, unknown is 0", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "coverage-sim-"));
  dirs.push(dataDir);

  // Run 1: a forward step at STEP_FWD, then the process dies at CRASH (never stopped, its writer never closed).
  const clock1 = new SimClock(S1);
  const r1 = await startRun(dataDir, clock1);
  clock1.setTimer(STEP_FWD - S1, () => {
    // Every book catches up at the new time with one snapshot; the rest of what was due meanwhile is skipped.
    const to = STEP_FWD + 90_000;
    dueIn(r1.vc, STEP_FWD, to, skipped, () => to, 1);
    clock1.set(to);
  });
  await clock1.runUntil(CRASH);
  await r1.vc.journal.flush(); // the journal's last append lands, as it would have before the kill
  // What the dead process would have snapshotted until the restart.
  dueIn(r1.vc, CRASH + 1, S2 - 1, dead, (t) => t);

  // Run 2: recovers the staged rows, a minute of failing writes (buffer over max_buffer_rows: drops), a step back.
  const clock2 = new SimClock(S2);
  const faulty = new FaultyFs(() => clock2.now());
  const r2 = await startRun(dataDir, clock2, faulty);
  clock2.setTimer(DISK_BAD[0] - S2, () => faulty.fail("create", "ENOSPC"));
  clock2.setTimer(DISK_BAD[1] - S2, () => faulty.clear());
  clock2.setTimer(STEP_BACK - S2, () => clock2.set(STEP_BACK - 7300));
  await clock2.runUntil(END);
  await r2.c.stop();

  // Not subscribed, by hand from the journal: a `target` at t0 waits until its subscribe/untarget at t1 (or the end
  // of its run: the last record before the next start), due at t0 + k * interval (k >= 1) before t1.
  const waiting = new Hours();
  const since = new Map<string, { ts: number; tier: unknown }>();
  const endWait = (k: string, t1: number) => {
    const w = since.get(k)!;
    for (let t = w.ts + interval(w.tier as string); t < t1; t += interval(w.tier as string)) waiting.add(t);
    since.delete(k);
  };
  let last = S1;
  for (const r of readJournalRecords(dataDir, "mock", T0, T0 + 24 * HOUR)!) {
    const k = `${r.market_id} ${r.outcome_id}`;
    if (r.action === "start") for (const open of [...since.keys()]) endWait(open, last);
    if (r.action === "target") since.set(k, { ts: r.ts, tier: r.tier });
    else if ((r.action === "subscribe" || r.action === "untarget") && since.has(k)) endWait(k, r.ts);
    last = r.ts;
  }
  expect(since.size).toBe(0);

  const status = await dayStatus(dataDir, T0, { bucketMinutes: cfg.writer.bucket_minutes });
  const cov = dayCoverage(dataDir, status, T0, {
    venues: ["mock"],
    now: Infinity,
    cadence: () => ({ hot_ms: 2000, warm_ms: 10_000, flush_ms: 5000 }),
  });
  const hours = cov.filter((r) => r.hour !== "day");
  const day = cov.find((r) => r.hour === "day")!;
  expect(hours.map((r) => r.hour)).toEqual(["00", "01", "02"]);

  // Recorded: DuckDB over the final files (nothing is left staged after the clean stop).
  const counted = await duckdbRows(
    `SELECT (ts_recv // ${HOUR}) * ${HOUR} AS h, count(*)::INTEGER AS n FROM read_parquet('${dataDir}/orderbook_snapshots/**/*.parquet', hive_partitioning = false) GROUP BY h ORDER BY h`,
  );
  expect(hours.map((r) => r.recorded)).toEqual(counted.map((x) => Number(x.n)));

  for (const r of hours) {
    const h = T0 + Number(r.hour) * HOUR;
    // Expected: what the snapshotter took + what it skipped + what it could not take (dead, not subscribed).
    const indep = (taken.get(h) ?? 0) + (skipped.get(h) ?? 0) + (dead.get(h) ?? 0) + (waiting.get(h) ?? 0);
    expect({ hour: r.hour, expected: r.expected }).toEqual({ hour: r.hour, expected: indep });
    expect({ hour: r.hour, unknown: r.unknown, extra: r.extra }).toEqual({ hour: r.hour, unknown: 0, extra: 0 });
    expect(r.not_subscribed).toBe(waiting.get(h) ?? 0);
    expect(r.stalled).toBe(skipped.get(h) ?? 0);
    expect(r.missing).toBe(r.not_subscribed + r.crash + r.in_flight + r.stalled + r.writer_dropped);
  }
  // The scenario exercised every cause.
  expect(day.crash).toBeGreaterThan(sum(dead));
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

const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
