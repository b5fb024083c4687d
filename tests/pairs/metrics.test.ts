/** Metrics of confirmed pairs (mid differences, crossable shares, lead/lag) by hand; in files and the report. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pl from "nodejs-polars";
import { type BookSeries, leadLag, orient, pairMetrics } from "../../src/pairs/metrics.ts";
import { minePairs } from "../../src/pairs/mine-pairs.ts";
import type { SnapshotRow } from "../../src/schema.ts";
import { runCli } from "../helpers/run-cli.ts";
import { T0, tempDir } from "../helpers/store.ts";
import { writeRowsWithWriter } from "../helpers/write-rows.ts";

const NaN_ = Number.NaN;
const series = (ts: number[], bid: number[], ask: number[]): BookSeries => ({
  ts,
  bid,
  ask,
  mid: bid.map((b, i) => (Number.isFinite(b) && Number.isFinite(ask[i]) ? (b + ask[i]) / 2 : NaN_)),
});

/**
 * The hand-computed dataset. A (interval 2 s): bid/ask .40/.42 three times then .50/.52 three times.
 * B is flipped: its YES book below; oriented to A's outcome (bid' = 1 − ask, ask' = 1 − bid) it reads
 *   .38/.42  .37/.39  .43/.45  .39/.41  .49/.51  (none)/.51   and one more snapshot 20 s after A's last (unmatched).
 * Matched pairs (nearest B within 2 s): all six of A's. Mid diffs A − B': .01 .03 −.03 .11 .01 (the sixth has no B mid):
 * mean .13/5 = .026, median .01. Quoted pairs: the first five; A's bid over B's ask at #2 (.40 > .39) and #4
 * (.50 > .41), B's bid over A's ask at #3 (.43 > .42): crossable 3/5, 2/5 and 1/5.
 */
const A = series(
  [0, 2000, 4000, 6000, 8000, 10000],
  [0.4, 0.4, 0.4, 0.5, 0.5, 0.5],
  [0.42, 0.42, 0.42, 0.52, 0.52, 0.52],
);
const B_YES = series(
  [500, 2500, 4500, 6500, 8500, 10500, 30000],
  [0.58, 0.61, 0.55, 0.59, 0.49, 0.49, 0.5],
  [0.62, 0.63, 0.57, 0.61, 0.51, NaN_, 0.52],
);

describe("pairMetrics against the hand computation", () => {
  test("mid differences, crossable shares, matching within one interval", () => {
    const m = pairMetrics(A, orient(B_YES, true), { intervalMs: 2000 });
    expect(m.snapshots_a).toBe(6);
    expect(m.snapshots_b).toBe(7);
    expect(m.matched).toBe(6);
    expect(m.mean_mid_diff!).toBeCloseTo(0.026, 9);
    expect(m.median_mid_diff!).toBeCloseTo(0.01, 9);
    expect(m.crossable_share!).toBeCloseTo(0.6, 9);
    expect(m.a_bid_over_b_ask_share!).toBeCloseTo(0.4, 9);
    expect(m.b_bid_over_a_ask_share!).toBeCloseTo(0.2, 9);
  });

  test("snapshots further apart than one interval do not pair", () => {
    const shifted = { ...B_YES, ts: B_YES.ts.map((t) => t + 2600) }; // nearest B is now 2.6 s or more away from A's first
    const m = pairMetrics(A, orient(shifted, true), { intervalMs: 2000 });
    expect(m.matched).toBe(5); // A at 0 has B at 3100 only
  });

  test("lead/lag: B's mid steps 4 s after A's, on a 2 s grid: A leads by 4 s; mirrored, B leads", () => {
    const ts = Array.from({ length: 31 }, (_, i) => i * 2000);
    const step = (at: number[]) => ts.map((t) => 0.4 + 0.1 * at.filter((x) => t >= x).length);
    const a: BookSeries = { ts, bid: ts.map(() => NaN_), ask: ts.map(() => NaN_), mid: step([10_000, 40_000]) };
    const b: BookSeries = { ...a, mid: step([14_000, 44_000]) };
    expect(leadLag(a, b, 2000, 20_000)).toEqual({ secs: 4, corr: expect.closeTo(1, 9) });
    expect(leadLag(b, a, 2000, 20_000)?.secs).toBe(-4);
    const flat: BookSeries = { ...a, mid: ts.map(() => 0.5) };
    expect(leadLag(a, flat, 2000, 20_000)).toBeNull();
  });
});

describe("minePairs on files", () => {
  const { dir, cleanup } = tempDir("pairs-mine-");
  afterAll(cleanup);

  const rows = (venue: string, market: string, outcome: string, s: BookSeries): SnapshotRow[] =>
    s.ts.map((t, i) => {
      const bid = Number.isFinite(s.bid[i]) ? [s.bid[i]] : [];
      const ask = Number.isFinite(s.ask[i]) ? [s.ask[i]] : [];
      return {
        ts_recv: T0 + t,
        venue,
        market_id: market,
        outcome_id: outcome,
        seq: i + 1,
        best_bid_px: bid[0] ?? NaN_,
        best_bid_sz: bid.length ? 10 : NaN_,
        best_ask_px: ask[0] ?? NaN_,
        best_ask_sz: ask.length ? 10 : NaN_,
        mid: NaN_,
        spread: NaN_,
        bid_px: bid,
        bid_sz: bid.map(() => 10),
        ask_px: ask,
        ask_sz: ask.map(() => 10),
        status: "ok",
        err: null,
        source_ts: null,
        bid_depth3: 0,
        ask_depth3: 0,
      };
    });

  test("writes stats/pairs/date=…/pairs.parquet with the hand-computed values; mine prints them", async () => {
    const noise = series([1000, 3000], [0.1, 0.1], [0.9, 0.9]); // other books of the same markets are not used
    await writeRowsWithWriter(dir, [
      ...rows("pa", "m1", "m1-yes", A),
      ...rows("pa", "m1", "m1-no", noise),
      ...rows("pa", "other", "other-yes", noise),
      ...rows("pb", "T1", "yes", B_YES),
      ...rows("pb", "T1", "no", noise),
    ]);
    mkdirSync(join(dir, "mappings"), { recursive: true });
    writeFileSync(
      join(dir, "mappings", "pairs.jsonl"),
      `${JSON.stringify({ a_venue: "pa", a_market_id: "m1", b_venue: "pb", b_market_id: "T1", orientation: "flipped", status: "confirmed" })}\n`,
    );
    const r = (await minePairs({ dataDir: dir, from: T0, to: T0 + 86_400_000, hotIntervalMs: () => 2000 }))!;
    expect(r.path).toBe(join(dir, "stats", "pairs", "date=2026-01-01", "pairs.parquet"));
    const df = pl.readParquet(r.path!);
    expect(df.height).toBe(1);
    const row = df.toRecords()[0] as Record<string, unknown>;
    expect(row.a_outcome_id).toBe("m1-yes");
    expect(row.b_outcome_id).toBe("yes");
    expect(Number(row.matched)).toBe(6);
    expect(row.mean_mid_diff as number).toBeCloseTo(0.026, 9);
    expect(row.median_mid_diff as number).toBeCloseTo(0.01, 9);
    expect(row.crossable_share as number).toBeCloseTo(0.6, 9);

    const cli = await runCli(["mine", "--data-dir", dir, "--from", "2026-01-01"]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain("Paired books");
    expect(cli.stdout).toContain(
      "pa:m1 = pb:T1 (flipped): 6 snapshot pairs, mid diff mean +0.026 median +0.010, crossable 60.0%",
    );
  }, 60_000);
});

describe("pairChart", () => {
  test("mean mid per one-minute bucket from the first snapshot; empty buckets are null", async () => {
    const { pairChart } = await import("../../src/pairs/metrics.ts");
    const a = series([0, 30_000, 150_000], [0.4, 0.5, 0.6], [0.42, 0.52, 0.62]);
    const b = series([10_000], [0.3], [0.5]);
    const c = pairChart(a, b, 0, 600_000);
    expect(c.bucketMs).toBe(60_000);
    expect(c.t).toEqual([0, 60_000, 120_000]);
    expect(c.a[0]!).toBeCloseTo(0.46, 9);
    expect(c.a[1]).toBeNull();
    expect(c.a[2]!).toBeCloseTo(0.61, 9);
    expect(c.b).toEqual([0.4, null, null]);
  });
});

describe("mine --report with confirmed pairs", () => {
  const { dir, cleanup } = tempDir("pairs-report-");
  afterAll(cleanup);
  const chromium = Bun.which("chromium") ?? Bun.which("chromium-browser");

  test("the report has one chart of both mids per confirmed pair (rendered when Chromium is there)", async () => {
    const mk = (venue: string, market: string, outcome: string, mids: number[]): SnapshotRow[] =>
      mids.map((m, i) => ({
        ts_recv: T0 + i * 2000,
        venue,
        market_id: market,
        outcome_id: outcome,
        seq: i + 1,
        best_bid_px: m - 0.01,
        best_bid_sz: 10,
        best_ask_px: m + 0.01,
        best_ask_sz: 10,
        mid: m,
        spread: 0.02,
        bid_px: [m - 0.01],
        bid_sz: [10],
        ask_px: [m + 0.01],
        ask_sz: [10],
        status: "ok",
        err: null,
        source_ts: null,
        bid_depth3: 10,
        ask_depth3: 10,
      }));
    const mids = Array.from({ length: 200 }, (_, i) => 0.4 + (i > 100 ? 0.1 : 0));
    await writeRowsWithWriter(dir, [...mk("pa", "m1", "m1-yes", mids), ...mk("pb", "T1", "yes", mids)]);
    mkdirSync(join(dir, "mappings"), { recursive: true });
    writeFileSync(
      join(dir, "mappings", "pairs.jsonl"),
      `${JSON.stringify({ a_venue: "pa", a_market_id: "m1", b_venue: "pb", b_market_id: "T1", status: "confirmed" })}\n`,
    );
    const file = join(dir, "report.html");
    const r = await runCli(["mine", "--data-dir", dir, "--from", "2026-01-01", "--report", file]);
    expect(r.code).toBe(0);
    const html = await Bun.file(file).text();
    expect(html).toContain('"pairs":[{"label":"pa:m1 = pb:T1 (same)"');
    if (!chromium) return console.warn("chromium not found: the report's pair chart is not rendered here");
    const profile = join(dir, "chromium-profile");
    const p = Bun.spawn(
      [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        `--user-data-dir=${profile}`,
        "--virtual-time-budget=5000",
        "--dump-dom",
        `file://${file}`,
      ],
      { stdout: "pipe", stderr: "pipe", stdin: "ignore" },
    );
    const [dom] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    const body = /<body([^>]*)>/.exec(dom)![1];
    expect(body).toContain('data-rendered="true"');
    expect(body).not.toContain("data-errors");
    expect(body).toContain('data-charts="11"'); // 5 per venue, 1 per pair
    expect(dom).toContain("Cross-venue pairs");
    expect(dom).toContain('data-chart="Mid: pa:m1 = pb:T1 (same)');
  }, 120_000);
});
