/** The subscription journal: torn lines after a crash, unsubscribes at a stop, run markers, day carries, coverage fields. */
import { afterEach, expect, test } from "bun:test";
import { appendFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { readJournal as minerReadJournal, watchedMinutes } from "../../src/analytics/journal.ts";
import { SimClock } from "../../src/clock.ts";
import { Collector } from "../../src/collector/collector.ts";
import { readJournal, SubscriptionJournal } from "../../src/collector/journal.ts";
import { journalPath } from "../../src/layout.ts";
import { COLLECT_DEFAULTS } from "../../src/config.ts";
import { FakeAdapter, refs } from "../helpers/fake-adapter.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { testVenueCollector } from "../helpers/venue-collector.ts";

const T0 = Date.UTC(2026, 0, 1);
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

test("after a torn last line (crash mid-append) the next run's first line starts on a fresh line", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "journal-"));
  dirs.push(dataDir);
  const file = join(dataDir, journalPath("fake", T0));
  await mkdir(dirname(file), { recursive: true });
  await appendFile(
    file,
    `{"ts":${T0},"venue":"fake","market_id":"m0","outcome_id":"yes","action":"subscribe","reason":"hot"}\n{"ts":${T0 + 5},"venue":"fa`,
  );
  const j = new SubscriptionJournal(dataDir, "fake");
  j.record(T0 + 10, { market_id: "m1", outcome_ids: ["yes"] }, "subscribe", "warm");
  await j.flush();
  const lines = (await readFile(file, "utf8")).split("\n");
  expect(lines).toEqual([
    `{"ts":${T0},"venue":"fake","market_id":"m0","outcome_id":"yes","action":"subscribe","reason":"hot"}`,
    `{"ts":${T0 + 5},"venue":"fa`,
    `{"ts":${T0 + 10},"venue":"fake","market_id":"m1","outcome_id":"yes","action":"subscribe","reason":"warm"}`,
    "",
  ]);
  // the miner skips the torn line and keeps both whole ones
  expect(
    minerReadJournal(dataDir, "fake", T0, T0 + 60_000)!.flatMap((e) => ("market_id" in e ? [e.market_id] : [])),
  ).toEqual(["m0", "m1"]);
});

test("a stop journals unsubscribes, so minutes watched exclude the gap until a restart", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "journal-"));
  dirs.push(dataDir);
  const clock = new SimClock(T0);
  const m = refs(2);
  const run = () => {
    const sink = new FakeSink();
    const vc = testVenueCollector({
      settings: COLLECT_DEFAULTS,
      adapter: new FakeAdapter(clock),
      sink,
      clock,
      dataDir,
      logIntervalSecs: 10,
      targets: () => ({ hot: [m[0]], warm: [m[1]] }),
    });
    return new Collector([vc], sink);
  };
  const first = run();
  await first.start();
  await clock.runUntil(T0 + 10 * 60_000);
  await first.stop();
  await clock.runUntil(T0 + 30 * 60_000); // down for 20 minutes
  const second = run();
  await second.start();
  await clock.runUntil(T0 + 45 * 60_000);
  await second.stop();
  const events = minerReadJournal(dataDir, "fake", T0, T0 + 3600_000)!;
  const minutes = watchedMinutes(events, T0, T0 + 3600_000);
  // 10 + 15 minutes watched per book; the hour's end (after the last stop) and the 20-minute gap are not
  expect([...minutes.entries()].sort()).toEqual(
    ["m0", "m1"].flatMap((id) => [
      [`${id}\u0000no`, 25],
      [`${id}\u0000yes`, 25],
    ]),
  );
});

test("run markers and the day carry: a new day file starts with what is subscribed at midnight, not with what left", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "journal-"));
  dirs.push(dataDir);
  const day2 = T0 + 86_400_000;
  const j = new SubscriptionJournal(dataDir, "fake");
  j.started(day2 - 60_000);
  j.record(day2 - 60_000, { market_id: "a", outcome_ids: ["yes"] }, "subscribe", "hot");
  j.record(day2 - 60_000, { market_id: "b", outcome_ids: ["yes", "no"] }, "subscribe", "warm");
  j.record(day2 - 30_000, { market_id: "a", outcome_ids: ["yes"] }, "unsubscribe", "rotation");
  j.alive(day2 - 5_000);
  j.record(day2 + 2_000, { market_id: "c", outcome_ids: ["yes"] }, "subscribe", "rotation");
  j.alive(day2 + 5_000);
  await j.flush();
  const show = (e: { ts: number; action: string; market_id?: string; outcome_id?: string; reason?: string }) =>
    [e.ts - day2, e.action, e.market_id, e.outcome_id, e.reason].filter((x) => x !== undefined).join(" ");
  expect((await readJournal(join(dataDir, journalPath("fake", T0)), { markers: true })).map(show)).toEqual([
    "-60000 start",
    "-60000 subscribe a yes hot",
    "-60000 subscribe b yes warm",
    "-60000 subscribe b no warm",
    "-30000 unsubscribe a yes rotation",
    "-5000 alive",
  ]);
  expect((await readJournal(join(dataDir, journalPath("fake", day2)), { markers: true })).map(show)).toEqual([
    "0 subscribe b yes carry",
    "0 subscribe b no carry",
    "2000 subscribe c yes rotation",
    "5000 alive",
  ]);
});

test("coverage fields: subscribes carry the tier, a day's carry the first snapshot due after midnight, a wait its start", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "journal-"));
  dirs.push(dataDir);
  const day2 = T0 + 86_400_000;
  const asked: number[] = [];
  const j = new SubscriptionJournal(dataDir, "fake", (_id, from) => (asked.push(from), from + 7000));
  j.started(day2 - 60_000, { hot_ms: 2000, warm_ms: 10_000, flush_ms: 5000 });
  j.record(day2 - 60_000, { market_id: "a", outcome_ids: ["yes"] }, "subscribe", "hot", "hot");
  j.tier(day2 - 30_000, { market_id: "a", outcome_ids: ["yes"] }, "warm");
  j.record(day2 - 20_000, { market_id: "a", outcome_ids: ["yes"] }, "subscribe", "resync");
  j.target(day2 - 10_000, { market_id: "c", outcome_ids: ["yes"] }, "hot");
  j.alive(day2 - 5_000, day2 - 6_000);
  j.alive(day2 + 5_000, day2 + 4_000);
  j.untarget(day2 + 6_000, "c", "untargeted");
  j.untarget(day2 + 7_000, "c", "again"); // not waiting any more: nothing
  await j.flush();
  const all = async (ts: number) =>
    (await readFile(join(dataDir, journalPath("fake", ts)), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
  const day1 = await all(T0);
  expect(day1[0]).toMatchObject({ action: "start", hot_ms: 2000, warm_ms: 10_000, flush_ms: 5000 });
  expect(day1.slice(1).map((e) => [e.action, e.reason ?? null, e.tier ?? null])).toEqual([
    ["subscribe", "hot", "hot"],
    ["tier", null, "warm"],
    ["subscribe", "resync", "warm"], // a resync keeps the journaled tier
    ["target", null, "hot"],
    ["alive", null, null],
  ]);
  expect(day1.at(-1).durable).toBe(day2 - 6_000);
  expect(await all(day2)).toEqual([
    {
      ts: day2,
      venue: "fake",
      market_id: "a",
      outcome_id: "yes",
      action: "subscribe",
      reason: "carry",
      tier: "warm",
      due: day2 + 7000,
    },
    {
      ts: day2,
      venue: "fake",
      market_id: "c",
      outcome_id: "yes",
      action: "target",
      tier: "hot",
      since: day2 - 10_000,
      reason: "carry",
    },
    { ts: day2 + 5_000, venue: "fake", action: "alive", durable: day2 + 4_000 },
    { ts: day2 + 6_000, venue: "fake", market_id: "c", outcome_id: "yes", action: "untarget", reason: "untargeted" },
  ]);
  expect(asked).toEqual([day2]);
});
