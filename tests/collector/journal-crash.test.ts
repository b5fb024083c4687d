/**
 * The subscription journal after a crash: a collector SIGKILLed mid-run writes no stop records, yet the time until
 * the next run (or the journal's end) must not count as watched. The crash crosses a UTC day boundary and two venues.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJournal as minerReadJournal, watchedMinutes } from "../../src/analytics/journal.ts";
import { SimClock } from "../../src/clock.ts";
import { Collector } from "../../src/collector/collector.ts";
import { readJournal } from "../../src/collector/journal.ts";
import { journalPath } from "../../src/layout.ts";
import { FakeSink } from "../helpers/fake-sink.ts";
import { twoMarketCollector } from "../helpers/journal-runs.ts";

const CHILD = join(import.meta.dir, "../helpers/crash-collector.ts");
const M = 60_000;
const DAY1 = Date.UTC(2026, 2, 1);
const DAY2 = DAY1 + 1440 * M;
const START = DAY2 - 20 * M; // 23:40 on day 1
const CRASH = DAY2 + 10 * M; // 00:10 on day 2
const RESTART = CRASH + 60 * M; // an hour later
const STOP = RESTART + 15 * M;
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function runAndKill(dataDir: string, venues: string[]): Promise<void> {
  const p = Bun.spawn(["bun", CHILD, dataDir, String(START), String(CRASH), venues.join(",")], {
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const dec = new TextDecoder();
  for await (const chunk of p.stdout) {
    out += dec.decode(chunk);
    if (out.includes("ready\n")) {
      p.kill("SIGKILL");
      break;
    }
  }
  await p.exited;
  if (!out.includes("ready\n")) throw new Error(`child ended early: ${await new Response(p.stderr).text()}`);
  expect(p.signalCode).toBe("SIGKILL");
}

/** A graceful run of `venue` from `from` to `to` on its own clock. */
async function gracefulRun(dataDir: string, venue: string, from: number, to: number): Promise<void> {
  const clock = new SimClock(from);
  const sink = new FakeSink();
  const c = new Collector([twoMarketCollector(dataDir, clock, sink, venue)], sink);
  await c.start();
  await clock.runUntil(to);
  await c.stop();
}

const perBook = (minutes: number) =>
  ["m0", "m1"].flatMap((id): [string, number][] => [
    [`${id}\u0000no`, minutes],
    [`${id}\u0000yes`, minutes],
  ]);
const watched = (dataDir: string, venue: string, from: number, to: number) =>
  [...watchedMinutes(minerReadJournal(dataDir, venue, from, to)!, from, to).entries()].sort();

describe("journal after a crash", () => {
  test("SIGKILL at 00:10, restart at 01:10: the hour between is not watched, on either day's files, for each venue", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "journal-crash-"));
    dirs.push(dataDir);
    await runAndKill(dataDir, ["fake", "fake2"]);
    // Only `fake` is restarted; `fake2`'s journal just ends at the crash.
    await gracefulRun(dataDir, "fake", RESTART, STOP);

    // Both days: 23:40 → 00:10 (the crash) and 01:10 → 01:25; the hour down and the time after the stop are not watched.
    expect(watched(dataDir, "fake", DAY1, DAY2 + 1440 * M)).toEqual(perBook(30 + 15));
    // Day 2's file starts with what was still subscribed at midnight, so it can be read on its own.
    const day2 = await readJournal(join(dataDir, journalPath("fake2", DAY2)));
    expect(
      day2
        .slice(0, 4)
        .map((e) => `${e.ts - DAY2} ${e.market_id}/${e.outcome_id} ${e.action} ${e.reason}`)
        .sort(),
    ).toEqual(["m0/no", "m0/yes", "m1/no", "m1/yes"].map((b) => `0 ${b} subscribe carry`));

    // Day 2 alone: 00:00 → 00:10 and 01:10 → 01:25.
    expect(watched(dataDir, "fake", DAY2, DAY2 + 1440 * M)).toEqual(perBook(10 + 15));
    // A range ending mid-gap: only up to the crash.
    expect(watched(dataDir, "fake", DAY2, RESTART - 5 * M)).toEqual(perBook(10));
    // Never restarted: watched up to the crash, not to the end of the range.
    expect(watched(dataDir, "fake2", DAY1, DAY2 + 1440 * M)).toEqual(perBook(30));
    expect(watched(dataDir, "fake2", DAY2, DAY2 + 1440 * M)).toEqual(perBook(10));
  }, 60_000);
});
