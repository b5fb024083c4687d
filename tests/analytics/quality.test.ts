/**
 * Quality figures against a hand-computed binary market: crossed/locked shares per book and the YES/NO parity
 * deviations of snapshots paired within one interval (mean absolute, p95), in the stats rows, the suspect list
 * and the same numbers again when the day is answered from its stored partials.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mine } from "../../src/analytics/miner.ts";
import { percentileOfCounts } from "../../src/analytics/quality.ts";
import { normalizeSnapshot } from "../../src/schema.ts";
import { snapshotPath } from "../../src/layout.ts";
import { writeSnapshotFile } from "../helpers/snapshot-files.ts";

const T = Date.UTC(2026, 0, 1, 10);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const row = (ts: number, market: string, outcome: string, bid: number, ask: number) =>
  normalizeSnapshot(
    {
      tsRecv: ts,
      venue: "mock",
      marketId: market,
      outcomeId: outcome,
      seq: 0,
      bidPx: [bid],
      bidSz: [10],
      askPx: [ask],
      askSz: [10],
      staleReason: null,
    },
    50,
  );

// [yes bid, yes ask, no bid, no ask] per 10 s tick; the no book is written 5 ms after the yes book.
const ticks = [
  [0.4, 0.45, 0.5, 0.58], // bid dev .40+.58-1 = -.02; ask dev .45+.50-1 = -.05
  [0.4, 0.4, 0.55, 0.6], // yes locked; bid dev 0; ask dev -.05
  [0.46, 0.44, 0.5, 0.56], // yes crossed; bid dev +.02; ask dev -.06
  [0.4, 0.45, 0.55, 0.6], // bid dev 0; ask dev 0
];

async function dataset(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "quality-"));
  dirs.push(dir);
  const rows = ticks.flatMap(([yb, ya, nb, na], i) => [
    row(T + i * 10_000, "mP", "yes", yb, ya),
    row(T + i * 10_000 + 5, "mP", "no", nb, na),
  ]);
  rows.push(row(T + 40_005, "mP", "no", 0.55, 0.6)); // its yes snapshot is missing: unpaired
  rows.push(row(T, "mQ", "yes", 0.3, 0.35), row(T + 10_000, "mQ", "yes", 0.3, 0.35)); // one outcome only
  rows.sort((a, b) => a.ts_recv - b.ts_recv);
  await writeSnapshotFile(join(dir, snapshotPath("mock", T, 5)), rows);
  return dir;
}

const expected = {
  parity_pairs: 4,
  parity_bid_mean_abs: (0.02 + 0 + 0.02 + 0) / 4,
  parity_bid_p95: 0.02,
  parity_ask_mean_abs: (0.05 + 0.05 + 0.06 + 0) / 4,
  parity_ask_p95: 0.06,
};

test("crossed/locked shares and parity deviations equal the hand computation, from the pass and from partials", async () => {
  const dir = await dataset();
  for (const pass of ["snapshots", "partials"]) {
    const r = await mine({ dataDir: dir, from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 2), top: 10 });
    if (pass === "partials") expect(r.venues[0].daysFromPartials).toBe(1);
    const books = new Map(r.books.get("mock")!.map((b) => [`${b.market_id}/${b.outcome_id}`, b]));
    const yes = books.get("mP/yes")!;
    const no = books.get("mP/no")!;
    expect(yes.share_crossed).toBe(1 / 4);
    expect(yes.share_locked).toBe(1 / 4);
    expect(no.share_crossed).toBe(0);
    expect(no.share_locked).toBe(0);
    for (const b of [yes, no])
      for (const [k, v] of Object.entries(expected)) expect(b[k as keyof typeof expected]).toBeCloseTo(v, 9);
    const q = books.get("mQ/yes")!;
    expect([q.parity_pairs, q.parity_bid_mean_abs, q.parity_ask_p95, q.share_crossed]).toEqual([0, null, null, 0]);
    expect(r.venues[0].suspects.map((s) => `${s.market_id}/${s.outcome_id}`)).toEqual(["mP/yes", "mP/no"]);
    expect(r.venues[0].suspects[0].reason).toContain("crossed 25.00%");
  }
});

test("p95 is the nearest-rank percentile of the counts", () => {
  expect(percentileOfCounts(new Map(), 0.95)).toBeNull();
  const m = new Map<number, number>([...Array(20).keys()].map((i) => [i + 1, 1]));
  expect(percentileOfCounts(m, 0.95)).toBe(19);
  expect(percentileOfCounts(new Map([[0.5, 3]]), 0.95)).toBe(0.5);
});
