/**
 * `collect` takes newer universe and stats files while it runs (runCollect on a SimClock, the mock venue, a FakeSink):
 * a universe dated the next UTC day after midnight, a new stats cache's HOT picks, and a torn universe file that
 * is refused (old data kept, counted, logged once) until a good one arrives. Every expected time is worked out by
 * hand from the 180 s rotation grid (checks at mid-period) and the churn limit.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { consola, type ConsolaReporter } from "consola";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { INPUT_METRICS } from "../../src/collector/metric-names.ts";
import { readJournal, type JournalEntry } from "../../src/collector/journal.ts";
import { runCollect } from "../../src/collector/run.ts";
import { parseConfig, type Config } from "../../src/config.ts";
import { Metrics } from "../../src/metrics.ts";
import { universeToJsonl, writeUniverse } from "../../src/scanner/scanner.ts";
import { universePath, journalPath } from "../../src/layout.ts";
import { writeStats } from "../../src/analytics/stats-writer.ts";
import { anchorOf, mockUniverse } from "../../src/venue/mock.ts";
import type { MarketInfo } from "../../src/market.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { tempDirs } from "../helpers/store.ts";
import { statsRow } from "../helpers/stats-rows.ts";

const dir = tempDirs("reload-");
const S = 1000;
const MIN = 60_000;
const DAY = 86_400_000;
const CHURN = 10;
const MOCK = { universe_size: 80, seed: 7, updates_per_sec: 1, closed_share: 0 };

function configFor(d: string): Config {
  return parseConfig({
    data_dir: d,
    collector: {
      max_subs_per_venue: 10,
      hot_count: 3,
      rotation_period_secs: 180,
      subscription_churn_limit_per_minute: CHURN,
      snapshot_interval_ms_hot: 2000,
      snapshot_interval_ms_warm: 10_000,
      silence_timeout_secs: 86_400, // no watchdog resubscribes: they would take churn and move the hand-computed times
    },
    venues: { mock: MOCK },
  });
}

/** Active mock markets that close days after `t0` (none resolves during a test), as the mock adapter knows them. */
function longLived(t0: number): MarketInfo[] {
  return mockUniverse("mock", MOCK, anchorOf(t0)).filter((m) => m.status === "active" && m.close_ts! > t0 + 3 * DAY);
}

/** Warn lines (with their tag) while `fn` runs; consola's other output is dropped. */
async function withWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const saved = { reporters: [...consola.options.reporters], level: consola.level };
  const capture: ConsolaReporter = {
    log: (o) => void (o.type === "warn" && warnings.push(`[${o.tag}] ${String(o.args[0])}`)),
  };
  consola.setReporters([capture]); // loggers made during the run (withTag) copy these
  consola.level = 3;
  try {
    return { result: await fn(), warnings };
  } finally {
    consola.setReporters(saved.reporters);
    consola.level = saved.level;
  }
}

/** Subscription changes of the run (one entry per market, the stop's unsubscribes left out), in journal order. */
async function changes(d: string, days: number[]): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  for (const t of days) out.push(...(await readJournal(join(d, journalPath("mock", t)))));
  return out.filter((e) => e.outcome_id.endsWith("-yes") && e.reason !== "stop");
}

const firstSubscribe = (j: JournalEntry[], ids: string[]) =>
  ids.map((id) => j.find((e) => e.market_id === id && e.action === "subscribe")?.ts ?? -1).sort((a, b) => a - b);
const idsOf = (ms: MarketInfo[]) => ms.map((m) => m.market_id);

/** At most `limit` changes in any 60 s window ending at a change, and the set never larger than `cap` + 1 (a swap subscribes first). */
function expectChurnAndSwapRules(j: JournalEntry[], limit: number, cap: number): void {
  // `carry` lines restate the open set at a day's start: not changes, not churn
  const changes = j.filter((x) => x.reason !== "carry");
  for (const e of changes)
    expect(changes.filter((x) => x.ts > e.ts - MIN && x.ts <= e.ts).length).toBeLessThanOrEqual(limit);
  const cur = new Set<string>();
  let max = 0;
  for (const e of j) {
    if (e.action === "subscribe") cur.add(e.market_id);
    else cur.delete(e.market_id);
    max = Math.max(max, cur.size);
  }
  expect(max).toBeLessThanOrEqual(cap + 1);
}

beforeEach(() => {
  consola.level = 0;
});
afterEach(() => {
  consola.level = 3;
});

describe("collect takes newer inputs while it runs", () => {
  test("a universe written for the next UTC day: its markets are collected after midnight, without a restart", async () => {
    const d = dir();
    const T0 = Date.UTC(2026, 0, 1, 23, 48);
    const long = longLived(T0);
    const A = long.slice(0, 8);
    const B = long.slice(8, 16);
    await writeUniverse(d, "mock", A, T0);
    await writeUniverse(d, "mock", B, T0 + DAY); // dated 2026-01-02: invisible until the clock gets there
    const clock = new SimClock(T0);
    const sink = new FakeSink();
    const metrics = new Metrics();
    const summary = await runCollect(configFor(d), { clock, durationMs: 30 * MIN, sink, metrics, env: {} });
    expect(summary[0].venue).toBe("mock");

    const j = await changes(d, [T0, T0 + DAY]);
    const midnight = Date.UTC(2026, 0, 2);
    // Checks at 23:49:30, …, 23:58:30, 00:01:30 (takes B); the rotation at 00:03 targets B: 8 swaps (2 changes
    // each) against a churn of 10/min → 5 at 00:03:00, the other 3 when that minute has passed, at 00:04:00.
    const at3 = midnight + 3 * MIN;
    const at4 = midnight + 4 * MIN;
    const want = [at3, at3, at3, at3, at3, at4, at4, at4];
    expect(firstSubscribe(j, idsOf(B))).toEqual(want);
    expect(
      j
        .filter((e) => idsOf(A).includes(e.market_id) && e.action === "unsubscribe")
        .map((e) => e.ts)
        .sort((a, b) => a - b),
    ).toEqual(want);
    expect(
      j.filter((e) => e.ts < midnight).every((e) => idsOf(A).includes(e.market_id) && e.action === "subscribe"),
    ).toBe(true);
    expectChurnAndSwapRules(j, CHURN, 8);

    // The rows say the same: B only from 00:03, A not after its last unsubscribe, every B market collected.
    const bRows = sink.rows.filter((r) => idsOf(B).includes(r.market_id));
    expect(Math.min(...bRows.map((r) => Number(r.ts_recv)))).toBeGreaterThanOrEqual(at3);
    expect(new Set(bRows.map((r) => r.market_id)).size).toBe(8);
    expect(sink.rows.filter((r) => idsOf(A).includes(r.market_id) && Number(r.ts_recv) > at4)).toEqual([]);
    expect(metrics.get(INPUT_METRICS.reloads, { venue: "mock", input: "universe" })).toBe(1);
    expect(metrics.get(INPUT_METRICS.universe, { venue: "mock" })).toBe(8);
  }, 60_000);

  test("a new stats cache: its best markets become HOT at the rotation after the check that finds it", async () => {
    const d = dir();
    const T0 = Date.UTC(2026, 0, 1, 12);
    // No close or creation times: without scores HOT is the 3 smallest ids; the scores then pick the 3 largest.
    const U = longLived(T0)
      .slice(0, 20)
      .map((m) => ({ ...m, close_ts: null, created_ts: null }));
    const ids = idsOf(U).sort();
    const firstHot = ids.slice(0, 3);
    const picked = ids.slice(-3);
    await writeUniverse(d, "mock", U, T0);
    const clock = new SimClock(T0);
    // The miner's run at 12:10: found by the 12:10:30 check, used from the 12:12 rotation.
    clock.setTimer(
      10 * MIN,
      () =>
        void writeStats(
          d,
          "mock",
          "2026-01-01",
          picked.map((id, i) => statsRow(id, 0.9 - i / 10)),
        ),
    );
    const sink = new FakeSink();
    const metrics = new Metrics();
    await runCollect(configFor(d), { clock, durationMs: 20 * MIN, sink, metrics, env: {} });

    const rows = (id: string, from: number, to: number) =>
      sink.rows.filter(
        (r) =>
          r.market_id === id && r.outcome_id.endsWith("-yes") && Number(r.ts_recv) >= from && Number(r.ts_recv) < to,
      ).length;
    const after = [T0 + 13 * MIN, T0 + 20 * MIN]; // 7 min: 210 rows at the HOT 2 s interval, 42 at the WARM 10 s
    for (const id of picked) {
      expect(rows(id, T0 + 30 * S, T0 + 11 * MIN + 30 * S)).toBeLessThanOrEqual(67); // at most WARM before
      expect(rows(id, after[0], after[1])).toBeGreaterThanOrEqual(205);
      expect(rows(id, after[0], after[1])).toBeLessThanOrEqual(211);
    }
    for (const id of firstHot) {
      expect(rows(id, T0 + 2 * MIN, T0 + 11 * MIN)).toBeGreaterThanOrEqual(265); // HOT before: 270 in 9 min
      expect(rows(id, after[0], after[1])).toBeLessThanOrEqual(43);
    }
    expect(metrics.get(INPUT_METRICS.reloads, { venue: "mock", input: "stats" })).toBe(1);
    expect(metrics.get(INPUT_METRICS.scores, { venue: "mock" })).toBe(3);
    expectChurnAndSwapRules(await changes(d, [T0]), 20, 10);
  }, 60_000);

  test("a torn universe file: collection goes on with the old universe, counted and logged once; a good file later is taken", async () => {
    const d = dir();
    const T0 = Date.UTC(2026, 0, 1, 12);
    const long = longLived(T0);
    const A = long.slice(0, 8);
    const B = long.slice(8, 16);
    await writeUniverse(d, "mock", A, T0);
    const clock = new SimClock(T0);
    const text = universeToJsonl(B);
    // 12:05 a non-atomic copy dies half way (cut inside a line); 12:12 a scan writes B properly.
    clock.setTimer(5 * MIN, () =>
      writeFileSync(universePath(d, "mock", T0), text.slice(0, Math.floor(text.length / 2))),
    );
    clock.setTimer(12 * MIN, async () => void (await writeUniverse(d, "mock", B, clock.now())));
    const sink = new FakeSink();
    const metrics = new Metrics();
    const { result, warnings } = await withWarnings(() =>
      runCollect(configFor(d), { clock, durationMs: 20 * MIN, sink, metrics, env: {} }),
    );
    expect(result[0].snapshots).toBe(sink.rows.length);

    // Refused at the 12:07:30 check, not again at 12:10:30; one warn line, tag collect.
    expect(metrics.get(INPUT_METRICS.failures, { venue: "mock", input: "universe" })).toBe(1);
    const refused = warnings.filter((w) => w.includes("not taking"));
    expect(refused.length).toBe(1);
    expect(refused[0]).toStartWith(
      "[collect] mock: not taking the universe file: metadata/venue=mock/date=2026-01-01/universe.jsonl:",
    );
    expect(refused[0]).toContain("not valid JSON");
    expect(refused[0]).toContain("keeping the previous universe (8 markets (8 active)");
    // A kept being collected through the bad file's time.
    for (const id of idsOf(A))
      expect(
        sink.rows.some(
          (r) => r.market_id === id && Number(r.ts_recv) >= T0 + 13 * MIN && Number(r.ts_recv) < T0 + 15 * MIN,
        ),
      ).toBe(true);
    // B taken at 12:13:30, swapped in from the 12:15 rotation within the churn limit (5 swaps, then 3 a minute later).
    const j = await changes(d, [T0]);
    const at15 = T0 + 15 * MIN;
    const at16 = T0 + 16 * MIN;
    expect(firstSubscribe(j, idsOf(B))).toEqual([at15, at15, at15, at15, at15, at16, at16, at16]);
    expect(metrics.get(INPUT_METRICS.reloads, { venue: "mock", input: "universe" })).toBe(1);
    expectChurnAndSwapRules(j, CHURN, 8);
  }, 60_000);
});
