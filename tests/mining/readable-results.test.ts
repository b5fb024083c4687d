/**
 * mine's readable results (issue #20): outcome labels from the universe, ids shortened in the middle yet distinct,
 * binary markets' mirror books on one row, snake_case JSON keys, ranges printed as given.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { snapshotPath, universePathOn } from "../../src/layout.ts";
import type { SnapshotRow } from "../../src/schema.ts";
import { foldMirrors, RANKINGS } from "../../src/analytics/score.ts";
import { outcomeLabel, shortId, shortIds } from "../../src/analytics/labels.ts";
import { formatRange } from "../../src/timebucket.ts";
import { bookRow, writeSnapshotFile } from "../helpers/snapshot-files.ts";
import { runCli } from "../helpers/run-cli.ts";

const H3 = Date.UTC(2026, 0, 1, 3);
const HOUR = 3_600_000;

// Two Polymarket conditions alike in their first 11 and last 10 characters (what a 22-wide cut keeps).
const COND_A = `0x1a2b3c4d5e${"a".repeat(45)}9f0e1d2c3b`;
const COND_B = `0x1a2b3c4d5e${"b".repeat(45)}9f0e1d2c3b`;
// A condition the universe does not list, with three token books (not a binary pair: nothing folds).
const COND_C = `0x77${"c".repeat(62)}`;
const token = (n: number) => `7123456789${String(n).repeat(57)}0123456789`; // 77 digits, alike at both ends
const [A1, A2, B1, B2, C1, C2, C3] = [1, 2, 3, 4, 5, 6, 7].map(token);

/** The books: [venue, market, outcome, size of each of their 3 levels a side]. Kalshi's yes/no are exact mirrors. */
const BOOKS: [string, string, string, number][] = [
  ["polymarket", COND_A, A1, 90],
  ["polymarket", COND_A, A2, 80],
  ["polymarket", COND_B, B1, 60],
  ["polymarket", COND_B, B2, 70],
  ["polymarket", COND_C, C1, 30],
  ["polymarket", COND_C, C2, 30],
  ["polymarket", COND_C, C3, 30],
  ...["KXRAIN-26JAN01", "KXSNOW-26JAN01", "KXWIND-26JAN01", "KXHEAT-26JAN01"].flatMap(
    (m, i): [string, string, string, number][] => [
      ["kalshi", m, "yes", 40 + i],
      ["kalshi", m, "no", 40 + i],
    ],
  ),
];

const universeLine = (market_id: string, outcome_ids: string[], outcomes: string[], title: string) =>
  JSON.stringify({
    venue: "polymarket",
    market_id,
    outcome_ids,
    title,
    close_ts: null,
    status: "active",
    tags: [],
    extra: { slug: null, outcomes },
  });

let dir = "";
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mine-readable-"));
  // Hours 03 and 04: a snapshot of every book every 2 s for 2 minutes at the start of each hour.
  for (const hour of [H3, H3 + HOUR])
    for (const venue of ["polymarket", "kalshi"]) {
      const rows: SnapshotRow[] = [];
      for (let k = 0; k < 60; k++)
        for (const [v, market, outcome, size] of BOOKS)
          if (v === venue) rows.push(bookRow(hour + k * 2000, venue, market, outcome, k + 1, 3, size));
      await writeSnapshotFile(join(dir, snapshotPath(venue, hour, 5)), rows);
    }
  const universe = universePathOn(dir, "polymarket", "2026-01-01");
  mkdirSync(dirname(universe), { recursive: true });
  writeFileSync(
    universe,
    `${universeLine(COND_A, [A1, A2], ["Chiefs", "Eagles"], "Super Bowl winner")}\n${universeLine(COND_B, [B1, B2], ["Yes", "No"], "Rain in Paris?")}\n`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mineArgs = () => ["mine", "--data-dir", dir, "--from", "2026-01-01T03", "--to", "2026-01-01T04"];

/** The rows of one ranking of one venue in the text summary, as [id, outcome] columns. */
function rankingRows(stdout: string, venue: string, ranking: string): [string, string][] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`${venue}: `));
  const at = lines.findIndex((l, i) => i > start && l.trim().startsWith(ranking));
  const out: [string, string][] = [];
  for (let i = at + 1; i < lines.length && /^\s+\d+ {2}/.test(lines[i]); i++) {
    const cols = lines[i].trim().split(/\s{2,}/);
    out.push([cols[1], cols[2]]);
  }
  return out;
}

describe("mine tables", () => {
  test("Polymarket rows carry the universe's outcome names; ids are shortened in the middle, whole in --json", async () => {
    const r = await runCli([...mineArgs(), "--top", "10"]);
    expect(r.code).toBe(0);
    const depth = rankingRows(r.stdout, "polymarket", "by depth");
    // COND_A's "Chiefs" book (the deepest) outranks its "Eagles" mirror, folded into its line.
    expect(depth[0][1]).toBe("Chiefs (+Eagles)");
    expect(depth[1][1]).toBe("No (+Yes)"); // COND_B: the "No" token is the deeper one
    expect(depth[0][0]).toContain("…");
    expect(depth[0][0].length).toBeLessThan(COND_A.length);
    for (const id of [COND_A, COND_B, A1, A2]) expect(r.stdout).not.toContain(id);

    const json = JSON.parse((await runCli([...mineArgs(), "--json"])).stdout);
    const poly = json.venues.find((v: { venue: string }) => v.venue === "polymarket");
    expect(poly.top.depth[0]).toMatchObject({
      market_id: COND_A,
      outcome_id: A1,
      outcome_label: "Chiefs",
      mirror_outcome_id: A2,
      mirror_outcome_label: "Eagles",
    });
  }, 60_000);

  test("two outcomes of one market, and two markets alike at both ends, never read the same", async () => {
    const r = await runCli([...mineArgs(), "--top", "10"]);
    const depth = rankingRows(r.stdout, "polymarket", "by depth");
    const texts = depth.map(([id, outcome]) => `${id} ${outcome}`);
    expect(new Set(texts).size).toBe(texts.length);
    expect(depth.length).toBe(5); // A and B folded, C's three tokens on their own
    // COND_A and COND_B share both ends: their short forms still differ.
    expect(depth[0][0]).not.toBe(depth[1][0]);
    // COND_C is in no universe: "?" and the token id shortened (its tokens are alike at both ends too).
    const c = depth.slice(2);
    expect(new Set(c.map((x) => x[0])).size).toBe(1);
    for (const [, outcome] of c) expect(outcome.startsWith("? ")).toBe(true);
    expect(new Set(c.map((x) => x[1])).size).toBe(3);
  }, 60_000);

  test("a Kalshi top list spends one row per market: YES shown, NO folded into it", async () => {
    const r = await runCli([...mineArgs(), "--top", "3"]);
    for (const ranking of ["by depth", "by tightest spread", "by activity"]) {
      const rows = rankingRows(r.stdout, "kalshi", ranking);
      expect(rows.length).toBe(3);
      expect(new Set(rows.map((x) => x[0])).size).toBe(3);
      for (const [, outcome] of rows) expect(outcome).toBe("yes (+no)");
    }
    expect(rankingRows(r.stdout, "kalshi", "by depth").map((x) => x[0])).toEqual([
      "KXHEAT-26JAN01",
      "KXWIND-26JAN01",
      "KXSNOW-26JAN01",
    ]);
    expect(r.stdout).toContain("(+X): the market's other outcome X");
  }, 60_000);
});

describe("HTML report", () => {
  test("its rankings, chart legends and heatmap name books as the tables do", async () => {
    const file = join(dir, "report.html");
    expect((await runCli([...mineArgs(), "--report", file])).code).toBe(0);
    const html = readFileSync(file, "utf8");
    const data = JSON.parse(/<script id="report-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]);
    const poly = data.venues.find((v: { venue: string }) => v.venue === "polymarket");
    expect(poly.rankings.depth[0]).toMatchObject({
      market_id: COND_A,
      outcome_id: A1,
      outcome_text: "Chiefs (+Eagles)",
    });
    expect(poly.rankings.depth.length).toBe(5); // folded as in the text summary
    const c = poly.rankings.depth[2];
    expect(c.market_short).toContain("…");
    expect(c.outcome_text.startsWith("? ")).toBe(true);
    // The charts' lines are folded like the tables: one per binary market, its mirror named; a 3-outcome market unfolded
    const labels = poly.top.map((t: { label: string }) => t.label);
    expect(labels.slice(0, 2)).toEqual(["Super Bowl winner · Chiefs (+Eagles)", "Rain in Paris? · No (+Yes)"]);
    expect(labels.filter((l: string) => l.includes("(+")).length).toBe(2);
    expect(new Set(labels).size).toBe(labels.length);
    const heat = poly.coverage.markets.find((m: { market_id: string }) => m.market_id === COND_C);
    expect(heat.market_short.length).toBeLessThan(COND_C.length);
    expect(html).toContain(`${formatRange(H3, H3 + 2 * HOUR)} UTC`);
  }, 60_000);
});

/** Every key of a JSON value, at any depth, with its path (map-like objects named in `maps` are not walked). */
function keysOf(x: unknown, path: string, maps: string[], out: string[] = []): string[] {
  if (Array.isArray(x)) x.forEach((v, i) => keysOf(v, `${path}[${i}]`, maps, out));
  else if (x !== null && typeof x === "object")
    for (const [k, v] of Object.entries(x)) {
      out.push(`${path}.${k}`);
      if (!maps.includes(k)) keysOf(v, `${path}.${k}`, maps, out);
    }
  return out;
}

describe("--json", () => {
  test("every key of mine's JSON, at every depth, is snake_case (as are status's and verify's)", async () => {
    const outputs = {
      mine: await runCli([...mineArgs(), "--json"]),
      status: await runCli(["status", "--data-dir", dir, "--date", "2026-01-01", "--json"]),
      verify: await runCli(["verify", "--data-dir", dir, "--from", "2026-01-01", "--json"]),
    };
    for (const [name, r] of Object.entries(outputs)) {
      // verify's `suppressed` is keyed by file path.
      const keys = keysOf(JSON.parse(r.stdout), name, ["suppressed"]);
      expect(keys.length).toBeGreaterThan(5);
      expect(keys.filter((k) => !/^[a-z][a-z0-9_]*$/.test(k.slice(k.lastIndexOf(".") + 1)))).toEqual([]);
    }
    const mined = JSON.parse(outputs.mine.stdout);
    expect(mined.venues[0]).toHaveProperty("files_read");
    expect(mined.range).toBe("2026-01-01T03 .. 2026-01-01T04");
  }, 60_000);
});

describe("ranges", () => {
  test("an inclusive --to T04 prints as T04, in the summary and in the nothing-in-range error", async () => {
    const r = await runCli(mineArgs());
    expect(r.stdout).toContain("range 2026-01-01T03 .. 2026-01-01T04 UTC");
    expect(r.stdout).not.toContain("05:00");
    const empty = await runCli(["mine", "--data-dir", dir, "--from", "2026-01-01T07", "--to", "2026-01-01T08"]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("2026-01-01T07 .. 2026-01-01T08 UTC");
    expect(empty.stderr).not.toContain("T09");
  }, 60_000);

  test("formatRange writes [from, to) with both ends included, as the flags give it", () => {
    const D = Date.UTC(2026, 0, 1);
    expect(formatRange(D + 3 * HOUR, D + 5 * HOUR)).toBe("2026-01-01T03 .. 2026-01-01T04");
    expect(formatRange(D + 3 * HOUR, D + 4 * HOUR)).toBe("2026-01-01T03");
    expect(formatRange(D, D + 86_400_000)).toBe("2026-01-01");
    expect(formatRange(D, D + 3 * 86_400_000)).toBe("2026-01-01 .. 2026-01-03");
    expect(formatRange(D, D + 5 * HOUR)).toBe("2026-01-01 .. 2026-01-01T04");
    expect(formatRange(D + 22 * HOUR, D + 86_400_000)).toBe("2026-01-01T22 .. 2026-01-01T23");
  });
});

describe("labels and folding (pure)", () => {
  test("shortId keeps both ends; shortIds widens until different ids read differently", () => {
    expect(shortId("0x1a2b3c4d5e6f7a8b9c0d1e2f", 11)).toBe("0x1a2…d1e2f");
    expect(shortId("short", 11)).toBe("short");
    const s = shortIds([COND_A, COND_B, COND_A], 22);
    expect(s.size).toBe(2);
    expect(s.get(COND_A)).not.toBe(s.get(COND_B));
    expect(s.get(COND_A)!.length).toBeLessThan(COND_A.length);
  });

  test("outcome labels: the universe's name, else a word id, else the tail after the market id, else ?", () => {
    const names = new Map([[`${COND_A}\u0000${A1}`, "Chiefs"]]);
    expect(outcomeLabel(COND_A, A1, names)).toBe("Chiefs");
    expect(outcomeLabel(COND_A, A2, names)).toBe("?");
    expect(outcomeLabel("KXRAIN-26JAN01", "no", undefined)).toBe("no");
    expect(outcomeLabel("mock-000001", "mock-000001-yes", undefined)).toBe("yes");
  });

  test("foldMirrors: one row per binary market, the better-ranked side, the other named; n rows of markets", () => {
    const b = (market_id: string, outcome_id: string, avg_depth: number) => ({
      market_id,
      outcome_id,
      avg_depth,
      avg_spread: null,
      activity: null,
    });
    const sorted = [b("m1", "no", 9), b("m1", "yes", 8), b("m2", "a", 7), b("m3", "yes", 5), b("m3", "no", 5)];
    sorted.push(b("m2", "b", 1), b("m4", "x", 1), b("m4", "y", 1), b("m4", "z", 1));
    const rows = foldMirrors(sorted, 3, RANKINGS.depth);
    expect(rows.map((r) => [r.market_id, r.outcome_id, r.mirror_outcome_id])).toEqual([
      ["m1", "no", "yes"],
      ["m2", "a", "b"], // its mirror ranked last, still folded
      ["m3", "yes", "no"], // a tie: YES shown
    ]);
    // A market of three books is no mirror pair: each book is its own row.
    expect(foldMirrors(sorted.slice(6), 3, RANKINGS.depth).map((r) => r.mirror_outcome_id)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});
