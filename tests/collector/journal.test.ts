import { afterEach, expect, test } from "bun:test";
import { appendFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { readJournal as minerReadJournal } from "../../src/analytics/journal.ts";
import { journalPath, SubscriptionJournal } from "../../src/collector/journal.ts";

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
  await appendFile(file, `{"ts":${T0},"venue":"fake","market_id":"m0","outcome_id":"yes","action":"subscribe","reason":"hot"}\n{"ts":${T0 + 5},"venue":"fa`);
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
  expect(minerReadJournal(dataDir, "fake", T0, T0 + 60_000)!.map((e) => e.market_id)).toEqual(["m0", "m1"]);
});
