/**
 * collect reads a stats cache that is already on disk when it starts: the very first subscriptions put the
 * best-scored markets in HOT (no check period, no rotation needed), and ScheduleInputs.load holds those scores.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { consola } from "consola";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { ScheduleInputs } from "../../src/collector/inputs.ts";
import { readJournal } from "../../src/collector/journal.ts";
import { journalPath } from "../../src/layout.ts";
import { runCollect } from "../../src/collector/run.ts";
import { parseConfig } from "../../src/config.ts";
import { Metrics } from "../../src/metrics.ts";
import { writeUniverse } from "../../src/scanner/scanner.ts";
import { writeStats } from "../../src/analytics/stats-writer.ts";
import { anchorOf, mockUniverse } from "../../src/venue/mock.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { tempDirs } from "../helpers/store.ts";
import { statsRow } from "../helpers/stats-rows.ts";

const dir = tempDirs("start-inputs-");
const T0 = Date.UTC(2026, 0, 1, 12);
const MOCK = { universe_size: 80, seed: 7, updates_per_sec: 1, closed_share: 0 };

/** 20 long-lived markets without close/creation times: unscored, HOT is the 3 smallest ids. Scores pick the 3 largest. */
async function prepare(d: string): Promise<{ firstHot: string[]; picked: string[] }> {
  const U = mockUniverse("mock", MOCK, anchorOf(T0))
    .filter((m) => m.status === "active" && m.close_ts! > T0 + 3 * 86_400_000)
    .slice(0, 20)
    .map((m) => ({ ...m, close_ts: null, created_ts: null }));
  const ids = U.map((m) => m.market_id).sort();
  await writeUniverse(d, "mock", U, T0);
  const picked = ids.slice(-3);
  // yesterday's miner run: the newest stats file on or before today
  writeStats(
    d,
    "mock",
    "2025-12-31",
    picked.map((id, i) => statsRow(id, 0.9 - i / 10)),
  );
  return { firstHot: ids.slice(0, 3), picked };
}

beforeEach(() => {
  consola.level = 0;
});

describe("collect starts from the stats cache on disk", () => {
  test("ScheduleInputs.load holds the scores of the newest stats file", async () => {
    const d = dir();
    const { picked } = await prepare(d);
    const inputs = await ScheduleInputs.load(
      { dataDir: d, venue: "mock", clock: new SimClock(T0), metrics: new Metrics() },
      T0,
    );
    expect(inputs.scores).toEqual(new Map(picked.map((id, i) => [id, 0.9 - i / 10])));
    expect(inputs.statsFile?.date).toBe("2025-12-31");
  });

  test("the first subscriptions, at the start time, put the scored markets in HOT", async () => {
    const d = dir();
    const { firstHot, picked } = await prepare(d);
    const config = parseConfig({
      data_dir: d,
      collector: { max_subs_per_venue: 10, hot_count: 3, rotation_period_secs: 180 },
      venues: { mock: MOCK },
    });
    await runCollect(config, {
      clock: new SimClock(T0),
      durationMs: 30_000,
      sink: new FakeSink(),
      metrics: new Metrics(),
      env: {},
    });
    const j = await readJournal(join(d, journalPath("mock", T0)));
    const hotAtStart = j
      .filter((e) => e.ts === T0 && e.action === "subscribe" && e.reason === "hot" && e.outcome_id.endsWith("-yes"))
      .map((e) => e.market_id)
      .sort();
    expect(hotAtStart).toEqual([...picked].sort());
    expect(hotAtStart.some((id) => firstHot.includes(id))).toBe(false);
  }, 60_000);
});
