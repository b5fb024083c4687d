/**
 * ScheduleInputs on a SimClock: the check cadence (mid-period, on the clock), path/mtime/size as the change test,
 * and a file that cannot be taken (torn universe, corrupt stats, a day's file gone) keeping the previous data.
 */
import { describe, expect, test } from "bun:test";
import { consola } from "consola";
import { mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { ScheduleInputs } from "../../src/collector/inputs.ts";
import { UserError } from "../../src/errors.ts";
import { INPUT_METRICS } from "../../src/collector/metric-names.ts";
import { Metrics } from "../../src/metrics.ts";
import { parseUniverse, parseUniverseYielding, universeToJsonl } from "../../src/scanner/scanner.ts";
import { universePath, statsPath } from "../../src/layout.ts";
import { writeStats } from "../../src/analytics/stats-writer.ts";
import type { MarketInfo } from "../../src/market.ts";
import { tempDirs } from "../helpers/store.ts";
import { statsRow } from "../helpers/stats-rows.ts";

const dir = tempDirs("inputs-");
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0); // a rotation boundary for a 180 s period
const PERIOD = 180_000;
const S = 1000;

const market = (id: string): MarketInfo => ({
  venue: "mock",
  market_id: id,
  outcome_ids: [`${id}-yes`, `${id}-no`],
  title: id,
  close_ts: null,
  status: "active",
  tags: [],
});
const ids = (inputs: ScheduleInputs) => inputs.universe.map((m) => m.market_id);

/** Writes a universe file in place (not atomically: the tests control exactly what is on disk). */
function putUniverse(d: string, ts: number, text: string): string {
  const p = universePath(d, "mock", ts);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}
const jsonl = (...names: string[]) => universeToJsonl(names.map(market));

/** Loads with a logger (tag collect) whose lines the test reads. */
async function open(d: string, clock: SimClock, metrics = new Metrics()) {
  const log = consola.withTag("collect");
  log.level = 3; // info and warn, whatever the test environment's default
  const warnings: string[] = [];
  const infos: string[] = [];
  log.setReporters([
    { log: (o) => void (o.type === "warn" ? warnings : infos).push(`[${o.tag}] ${String(o.args[0])}`) },
  ]);
  const inputs = await ScheduleInputs.load({ dataDir: d, venue: "mock", clock, metrics, log }, clock.now());
  return { inputs, metrics, warnings, infos };
}

/** A data dir with a universe of `names` dated T0, loaded on a SimClock at T0. */
async function openWith(...names: string[]) {
  const d = dir();
  const clock = new SimClock(T0);
  const path = putUniverse(d, T0, jsonl(...names));
  return { d, clock, path, ...(await open(d, clock)) };
}

const count = (m: Metrics, name: string, input: string) => m.get(name, { venue: "mock", input });

describe("ScheduleInputs", () => {
  test("checks on the clock at mid-period; an unchanged path/mtime/size is not reread", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    const p = putUniverse(d, T0, jsonl("a", "b"));
    const { inputs, metrics, infos } = await open(d, clock);
    expect(ids(inputs)).toEqual(["a", "b"]);
    inputs.start(PERIOD);

    // Rewritten 10 s after the start: the first check is at T0 + 90 s, not before.
    await clock.advance(10 * S);
    putUniverse(d, T0, jsonl("c", "d", "e"));
    const mtime = 1_767_000_000; // whole seconds: set back exactly below
    utimesSync(p, mtime, mtime);
    await clock.runUntil(T0 + 90 * S - 1);
    expect(ids(inputs)).toEqual(["a", "b"]);
    await clock.runUntil(T0 + 90 * S);
    expect(ids(inputs)).toEqual(["c", "d", "e"]);
    expect(count(metrics, INPUT_METRICS.reloads, "universe")).toBe(1);
    expect(infos.filter((l) => l.includes("new universe"))).toEqual([
      "[collect] mock: new universe, 3 markets (3 active) from metadata/venue=mock/date=2026-01-01/universe.jsonl; same stats cache: none yet; the scheduler uses them from the next rotation",
    ]);

    // Same size and mtime, other content: taken for unchanged, so not reread.
    await clock.runUntil(T0 + 100 * S);
    putUniverse(d, T0, jsonl("x", "y", "z"));
    utimesSync(p, mtime, mtime);
    await clock.runUntil(T0 + 270 * S);
    expect(ids(inputs)).toEqual(["c", "d", "e"]);
    // A new mtime is a change: taken at the next check (T0 + 450 s), one period later.
    utimesSync(p, mtime + 5, mtime + 5);
    await clock.runUntil(T0 + 450 * S - 1);
    expect(ids(inputs)).toEqual(["c", "d", "e"]);
    await clock.runUntil(T0 + 450 * S);
    expect(ids(inputs)).toEqual(["x", "y", "z"]);
    expect(count(metrics, INPUT_METRICS.reloads, "universe")).toBe(2);

    await inputs.stop();
    putUniverse(d, T0, jsonl("late"));
    await clock.advance(10 * PERIOD);
    expect(ids(inputs)).toEqual(["x", "y", "z"]); // no check after stop
    expect(clock.pending()).toBe(0);
  });

  test("a torn universe is logged once and counted once, the old one kept; a later good file is taken", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    putUniverse(d, T0, jsonl("a", "b"));
    const { inputs, metrics, warnings } = await open(d, clock);
    inputs.start(PERIOD);
    const good = jsonl("c", "d");
    putUniverse(d, T0, good.slice(0, good.length - 15)); // cut inside the last line
    await clock.runUntil(T0 + 5 * PERIOD);
    expect(ids(inputs)).toEqual(["a", "b"]);
    expect(count(metrics, INPUT_METRICS.failures, "universe")).toBe(1);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain(
      "[collect] mock: not taking the universe file: metadata/venue=mock/date=2026-01-01/universe.jsonl:2: not valid JSON",
    );
    expect(warnings[0]).toContain("keeping the previous universe (2 markets (2 active)");

    // An empty scan result is refused too (it would unsubscribe everything).
    putUniverse(d, T0, "");
    await clock.advance(PERIOD);
    expect(ids(inputs)).toEqual(["a", "b"]);
    expect(count(metrics, INPUT_METRICS.failures, "universe")).toBe(2);
    expect(warnings[1]).toContain("no markets in it");

    putUniverse(d, T0, good);
    await clock.advance(PERIOD);
    expect(ids(inputs)).toEqual(["c", "d"]);
    expect(count(metrics, INPUT_METRICS.failures, "universe")).toBe(2);
    expect(metrics.get(INPUT_METRICS.universe, { venue: "mock" })).toBe(2);
    await inputs.stop();
  });

  test("a file for the next UTC day is taken after midnight; the day's file gone keeps the data", async () => {
    const d = dir();
    const late = Date.UTC(2026, 0, 1, 23, 57, 0);
    const clock = new SimClock(late);
    putUniverse(d, late, jsonl("today"));
    const next = putUniverse(d, late + 86_400_000, jsonl("tomorrow")); // written ahead, dated 2026-01-02
    const { inputs, metrics } = await open(d, clock);
    inputs.start(PERIOD);
    await clock.runUntil(Date.UTC(2026, 0, 2, 0, 1, 30) - 1);
    expect(ids(inputs)).toEqual(["today"]); // 23:58:30 check: tomorrow's file is not visible yet
    await clock.runUntil(Date.UTC(2026, 0, 2, 0, 1, 30));
    expect(ids(inputs)).toEqual(["tomorrow"]);

    rmSync(next);
    await clock.advance(3 * PERIOD);
    expect(ids(inputs)).toEqual(["tomorrow"]); // not back to the older day's file
    expect(count(metrics, INPUT_METRICS.failures, "universe")).toBe(1);
    await inputs.stop();
  });

  test("a universe with fewer than half the active markets in use is not taken while running (a partial scan); a fuller one is", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    const names = (n: number, p = "m") => Array.from({ length: n }, (_, i) => `${p}${i}`);
    putUniverse(d, T0, jsonl(...names(40)));
    const { inputs, metrics, warnings } = await open(d, clock);
    inputs.start(PERIOD);
    putUniverse(d, T0, jsonl(...names(19))); // 19 of 40: fewer than half
    await clock.advance(PERIOD);
    expect(ids(inputs).length).toBe(40);
    expect(count(metrics, INPUT_METRICS.failures, "universe")).toBe(1);
    expect(warnings[0]).toContain("19 active markets, fewer than half of the 40 in use (a partial scan?)");
    putUniverse(d, T0, jsonl(...names(20, "n"))); // exactly half: taken
    await clock.advance(PERIOD);
    expect(ids(inputs)).toEqual(names(20, "n"));
    putUniverse(d, T0, jsonl(...names(10, "k"))); // half again
    await clock.advance(PERIOD);
    expect(ids(inputs)).toEqual(names(10, "k"));
    // small universes (under 20 active) are not held to it: 10 → 3 is taken
    putUniverse(d, T0, jsonl("x", "y", "z"));
    await clock.advance(PERIOD);
    expect(ids(inputs)).toEqual(["x", "y", "z"]);
    await inputs.stop();
  });

  test("the clock stepping back across midnight keeps the newer day's file without a failure (it is not gone)", async () => {
    const d = dir();
    const after = Date.UTC(2026, 0, 2, 0, 5, 0);
    putUniverse(d, after - 86_400_000, jsonl("yesterday"));
    putUniverse(d, after, jsonl("today"));
    const clock = new SimClock(after);
    const { inputs, metrics, warnings } = await open(d, clock);
    expect(ids(inputs)).toEqual(["today"]);
    clock.set(after - 10 * 60_000); // NTP or a VM resume: 23:55 of the day before
    expect(await inputs.check(clock.now())).toBe(false);
    expect(ids(inputs)).toEqual(["today"]);
    expect(count(metrics, INPUT_METRICS.failures, "universe")).toBe(0);
    expect(warnings).toEqual([]);
    await inputs.stop();
  });

  test("stats: a first file is taken, a corrupt newer one is refused and the scores kept", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    putUniverse(d, T0, jsonl("a", "b"));
    const { inputs, metrics, warnings } = await open(d, clock);
    expect(inputs.scores).toBeUndefined();
    inputs.start(PERIOD);
    writeStats(d, "mock", "2026-01-01", [statsRow("a", 0.2), statsRow("b", 0.7)]);
    await clock.advance(PERIOD);
    expect(inputs.scores).toEqual(
      new Map([
        ["a", 0.2],
        ["b", 0.7],
      ]),
    );
    expect(count(metrics, INPUT_METRICS.reloads, "stats")).toBe(1);

    writeFileSync(statsPath(d, "mock", "2026-01-01"), "PAR1 this is not a parquet file PAR1");
    await clock.advance(3 * PERIOD);
    expect(inputs.scores).toEqual(
      new Map([
        ["a", 0.2],
        ["b", 0.7],
      ]),
    );
    expect(count(metrics, INPUT_METRICS.failures, "stats")).toBe(1);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain("mock: not taking the stats file: stats/venue=mock/date=2026-01-01/stats.parquet");
    await inputs.stop();
  });

  test("a check asked for while one is under way (a slow disk) returns false and reads nothing more", async () => {
    const { d, inputs, metrics } = await openWith("a", "b");
    putUniverse(d, T0, jsonl("c", "d", "e"));
    expect(await Promise.all([inputs.check(T0), inputs.check(T0)])).toEqual([true, false]);
    expect(ids(inputs)).toEqual(["c", "d", "e"]);
    expect(count(metrics, INPUT_METRICS.reloads, "universe")).toBe(1);
    expect(await inputs.check(T0)).toBe(false); // done: a new check runs, and finds nothing new
    await inputs.stop();
  });

  test("stop() waits for the check under way: what it read is in place when stop() resolves", async () => {
    const { d, inputs } = await openWith("a", "b");
    putUniverse(d, T0, jsonl("c"));
    void inputs.check(T0);
    await inputs.stop();
    expect(ids(inputs)).toEqual(["c"]);
  });

  test("no universe at all: a UserError (exit 1) saying to run scan; a loaded one is published at once", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    const e = await open(d, clock).catch((x) => x);
    expect(e).toBeInstanceOf(UserError);
    expect(e.exitCode).toBe(1);
    expect(e.advice).toMatch(/^Run `.+ scan` first/); // the command as this process was started, then scan
    putUniverse(d, T0, jsonl("a", "b", "c"));
    const { metrics } = await open(d, clock);
    expect(metrics.get(INPUT_METRICS.universe, { venue: "mock" })).toBe(3);
  });

  test("stop() leaves no timer behind", async () => {
    const { clock, inputs } = await openWith("a");
    inputs.start(PERIOD);
    expect(clock.pending()).toBe(1);
    await inputs.stop();
    expect(clock.pending()).toBe(0);
  });

  test("the only file gone: reported once, check() says nothing was taken, the data stays", async () => {
    const { path, inputs, metrics, warnings, infos } = await openWith("a", "b");
    rmSync(path);
    expect(await inputs.check(T0)).toBe(false);
    expect(await inputs.check(T0)).toBe(false);
    expect(ids(inputs)).toEqual(["a", "b"]);
    expect(count(metrics, INPUT_METRICS.failures, "universe")).toBe(1);
    expect(warnings).toEqual([
      "[collect] mock: not taking the universe file: metadata/venue=mock/date=2026-01-01/universe.jsonl is gone and no other universe file is there; keeping the previous universe (2 markets (2 active) from metadata/venue=mock/date=2026-01-01/universe.jsonl)",
    ]);
    expect(infos).toEqual([]);
    await inputs.stop();
  });

  test("the day's file gone after the clock stepped back across midnight: reported (it is not only in the future)", async () => {
    const d = dir();
    const after = Date.UTC(2026, 0, 2, 0, 5, 0);
    putUniverse(d, after - 86_400_000, jsonl("yesterday"));
    const p = putUniverse(d, after, jsonl("today"));
    const clock = new SimClock(after);
    const { inputs, metrics, warnings } = await open(d, clock);
    clock.set(after - 10 * 60_000);
    rmSync(p);
    expect(await inputs.check(clock.now())).toBe(false);
    expect(ids(inputs)).toEqual(["today"]);
    expect(count(metrics, INPUT_METRICS.failures, "universe")).toBe(1);
    expect(warnings[0]).toContain("date=2026-01-02/universe.jsonl is gone (the newest is now the older");
    await inputs.stop();
  });

  test("a bad newer file that goes away and comes back unchanged is reported again", async () => {
    const { d, inputs, metrics } = await openWith("a", "b");
    const next = T0 + 86_400_000;
    const bad = putUniverse(d, next, "not json\n");
    const mtime = 1_767_300_000;
    utimesSync(bad, mtime, mtime);
    expect(await inputs.check(next)).toBe(false);
    rmSync(bad); // the held file is the newest again: the failure is over
    expect(await inputs.check(next)).toBe(false);
    putUniverse(d, next, "not json\n");
    utimesSync(bad, mtime, mtime); // the very same path, mtime and size
    expect(await inputs.check(next)).toBe(false);
    expect(count(metrics, INPUT_METRICS.failures, "universe")).toBe(2);
    await inputs.stop();
  });

  test("the partial-scan check: from 20 active markets held, and counting active markets only", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    const names = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${i}`);
    putUniverse(d, T0, jsonl(...names(20, "m")));
    const { inputs } = await open(d, clock);
    putUniverse(d, T0, jsonl(...names(9, "k"))); // 9 of 20: refused
    expect(await inputs.check(T0)).toBe(false);
    putUniverse(d, T0, jsonl(...names(40, "n")));
    expect(await inputs.check(T0)).toBe(true);
    // 40 markets of which 19 active, against 40 active held: refused
    const closed = names(21, "c").map((id) => ({ ...market(id), status: "closed" as const }));
    putUniverse(d, T0, universeToJsonl([...names(19, "a").map(market), ...closed]));
    expect(await inputs.check(T0)).toBe(false);
    expect(ids(inputs)).toEqual(names(40, "n"));
    await inputs.stop();
  });

  test("a long universe is parsed in slices: other callbacks run in between, the markets are the same", async () => {
    const text = universeToJsonl(Array.from({ length: 10_000 }, (_, i) => market(`m${i}`)));
    let ticks = 0;
    let done = false;
    const tick = () => {
      ticks++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const markets = await parseUniverseYielding(text, "u.jsonl", 1000);
    done = true;
    expect(ticks).toBeGreaterThanOrEqual(9); // one turn between each of the 10 slices at least
    expect(markets).toEqual(parseUniverse(text));
    expect(markets.length).toBe(10_000);
    await expect(parseUniverseYielding(text.replace('"m5000"', "m5000"), "u.jsonl", 1000)).rejects.toThrow(
      "u.jsonl:5001: not valid JSON",
    );
  });
});
