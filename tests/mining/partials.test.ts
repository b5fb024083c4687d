/** Day partials: merging them gives what one pass over the snapshots gives, and a day is read again only when its files change. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MineResult, mine, polarsReader, type SnapshotReader } from "../../src/analytics/miner.ts";
import { partialsPath } from "../../src/analytics/partials-store.ts";
import { D1, DAY, HOUR, rowsFor } from "../helpers/mining-days.ts";
import { COUNT_COLUMNS, FLOAT_COLUMNS } from "../helpers/stats-rows.ts";
import { writeRowsWithWriter } from "../helpers/write-rows.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Counts the snapshot files the miner opens, through its reader. */
function countingReader(): SnapshotReader & { opened: Set<string> } {
  const opened = new Set<string>();
  return {
    opened,
    check(path) {
      opened.add(path);
      return polarsReader.check(path);
    },
    load(files, from, to) {
      for (const f of files) opened.add(f.path);
      return polarsReader.load(files, from, to);
    },
  };
}

const rel = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));

/** Same books, integer counts and medians exact, sums to 1e-9 relative, same rankings. */
function expectSame(got: MineResult, want: MineResult): void {
  const g = got.books.get("mock")!;
  const w = want.books.get("mock")!;
  expect(g.map((b) => `${b.market_id}/${b.outcome_id}`)).toEqual(w.map((b) => `${b.market_id}/${b.outcome_id}`));
  g.forEach((b, i) => {
    const o = w[i];
    for (const k of [...COUNT_COLUMNS, "median_spread", "minutes_watched"] as const)
      expect([k, b[k]]).toEqual([k, o[k]]);
    for (const k of FLOAT_COLUMNS) {
      expect(b[k] === null).toBe(o[k] === null);
      expect([k, rel(b[k] as number, o[k] as number)]).toEqual([k, expect.any(Number)]);
      expect(rel(b[k] as number, o[k] as number)).toBeLessThan(1e-9);
    }
  });
  const top = (r: MineResult) => r.venues[0].top;
  for (const k of ["depth", "spread", "activity"] as const)
    expect(top(got)[k].map((b) => b.market_id + b.outcome_id)).toEqual(
      top(want)[k].map((b) => b.market_id + b.outcome_id),
    );
}

describe("day partials", () => {
  test("merged partials equal a full recompute; a second mine reads no snapshot; a late _1 file re-mines its day only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "partials-"));
    dirs.push(dir);
    await writeRowsWithWriter(dir, rowsFor([0, 1, 2], [0, 1, 22, 23], 11));
    const range = { dataDir: dir, from: D1, to: D1 + 3 * DAY, top: 3 };
    const full = () => mine({ ...range, partials: false, writeStats: false });

    const first = await mine(range);
    expect(first.venues[0].daysMined).toBe(3);
    for (const d of ["2026-01-01", "2026-01-02", "2026-01-03"])
      expect(existsSync(partialsPath(dir, "mock", d))).toBe(true);
    const want = await full();
    expect(want.books.get("mock")!.length).toBe(3);
    expectSame(first, want);

    const reader = countingReader();
    const second = await mine({ ...range, reader });
    expect(reader.opened.size).toBe(0);
    expect(second.venues[0].filesRead).toBe(0);
    expect(second.venues[0].daysFromPartials).toBe(3);
    expectSame(second, want);

    // Late rows for day 2, hour 01: the writer puts them in `_1` files next to the finalized ones.
    await writeRowsWithWriter(dir, rowsFor([1], [1], 12));
    const late = countingReader();
    const third = await mine({ ...range, reader: late });
    const opened = [...late.opened];
    expect(opened.length).toBeGreaterThan(0);
    expect(opened.every((p) => p.includes("date=2026-01-02"))).toBe(true);
    expect(opened.some((p) => /_1\.parquet$/.test(p))).toBe(true);
    expect(third.venues[0].daysFromPartials).toBe(2);
    expect(third.venues[0].daysMined).toBe(1);
    const wantLate = await full();
    expect(wantLate.totals.rows).toBeGreaterThan(want.totals.rows);
    expectSame(third, wantLate);

    // An hour-bounded range: the cut day's hours come from the snapshots, whole days from their partials.
    const cut = countingReader();
    const from = D1 + 1 * HOUR;
    const hours = await mine({ ...range, from, reader: cut });
    expect([...cut.opened].every((p) => p.includes("date=2026-01-01"))).toBe(true);
    expect([...cut.opened].some((p) => p.includes("hour=00"))).toBe(false);
    expect(hours.venues[0].daysFromPartials).toBe(2);
    expectSame(hours, await mine({ ...range, from, partials: false, writeStats: false }));
  }, 60_000);
});
