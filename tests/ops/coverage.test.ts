/** Coverage accounting on hand-written journals: the schedule replayed, the missing snapshots attributed by cause. */
import { describe, expect, test } from "bun:test";
import { type CoverageRecord, computeCoverage, formatCoverage } from "../../src/ops/coverage.ts";

const T0 = Date.UTC(2026, 0, 1);
const S = 1000;
const cadence = { hot_ms: 2000, warm_ms: 10_000, flush_ms: 5000 };

const book = (sec: number, action: string, market: string, extra: Partial<CoverageRecord> = {}): CoverageRecord => ({
  ts: T0 + sec * S,
  action,
  market_id: market,
  outcome_id: "yes",
  ...extra,
});
const mark = (sec: number, action: string, extra: Partial<CoverageRecord> = {}): CoverageRecord => ({
  ts: T0 + sec * S,
  action,
  ...extra,
});

/**
 * Run 1 from 00:00:00: a HOT and b WARM; c waits for budget 60-95 s; a goes WARM at 121 s; the clock jumps from
 * 200 s to 260 s; the connection is down 300-330 s; the writer drops 4 rows; last `alive` at 600 s (durable up to
 * 590 s), then the process dies. Run 2 starts at 900 s, subscribes a HOT and stops at 1000 s.
 */
const journal: CoverageRecord[] = [
  mark(0, "start", cadence),
  book(0, "subscribe", "a", { reason: "hot", tier: "hot" }),
  book(0, "subscribe", "b", { reason: "warm", tier: "warm" }),
  book(60, "target", "c", { tier: "warm" }),
  book(95, "subscribe", "c", { reason: "rotation", tier: "warm" }),
  book(121, "tier", "a", { tier: "warm" }),
  // A watchdog resubscribe leaves the schedule alone; a resync subscribe of an open book too.
  book(150, "unsubscribe", "b", { reason: "watchdog" }),
  book(150, "subscribe", "b", { reason: "watchdog", tier: "warm" }),
  mark(260, "stall", { from: T0 + 200 * S }),
  mark(300, "down", { conn: 0 }),
  mark(330, "up", { conn: 0 }),
  book(330, "subscribe", "a", { reason: "resync" }),
  mark(400, "dropped", { hour: T0, rows: 4 }),
  mark(600, "alive", { durable: T0 + 590 * S }),
  mark(900, "start", cadence),
  book(900, "subscribe", "a", { reason: "hot", tier: "hot" }),
  book(1000, "unsubscribe", "a", { reason: "stop" }),
  mark(1000, "alive", { durable: T0 + 1000 * S }),
];

// By hand. a: HOT 2..120 s (60), WARM from 130 s: 130..190 (7), the jump's 200..260 (7: one taken, 6 skipped),
// 270..890 until run 2 starts (63). b: 10..190 (19), 200..260 (7, 6 skipped), 270..890 (63). c: waiting, due at
// 70, 80, 90 (3), then 105..195 (10), 205..255 (6, 5 skipped), 270..890 (63). Run 2's a: 902..1000 (50).
const EXPECTED = 60 + 7 + 7 + 63 + (19 + 7 + 63) + (3 + 10 + 6 + 63) + 50;
const STALLED = 6 + 6 + 5;
// The crash window [590 s, 900 s): 590..890 for each of the three (31 each).
const CRASH_WINDOW = 3 * 31;

/** The journal above over its day, with `recorded` rows in hour 00. */
const ofJournal = (recorded: number) =>
  computeCoverage({
    venue: "v",
    records: journal,
    cadence,
    from: T0,
    to: T0 + 86_400_000,
    recorded: new Map([[T0, recorded]]),
  });

function hour0(recorded: number) {
  const rows = ofJournal(recorded);
  expect(rows.map((r) => r.hour)).toEqual(["00", "day"]);
  return rows[0];
}

/** The rows of `records` over the day starting `day`, with `recorded` rows per hour (none by default). */
const rowsOf = (records: CoverageRecord[], day: number, recorded = new Map<number, number>()) =>
  computeCoverage({ venue: "v", records, cadence, from: day, to: day + 86_400_000, recorded });

describe("coverage from a hand-written journal", () => {
  test("everything journaled: expected by hand, every missing snapshot attributed, unknown 0", () => {
    const recorded = EXPECTED - 3 - STALLED - 4 - CRASH_WINDOW;
    const h = hour0(recorded);
    expect(h.expected).toBe(358);
    expect(h.expected).toBe(EXPECTED);
    expect(h.recorded).toBe(recorded);
    expect(h).toMatchObject({
      missing: EXPECTED - recorded,
      not_subscribed: 3,
      stalled: STALLED,
      writer_dropped: 4,
      crash: CRASH_WINDOW,
      in_flight: 0,
      unknown: 0,
      extra: 0,
      // 300, 310, 320 s for each of the three books (the grid after the jump is at 270 + 10k)
      disconnected: 9,
    });
    expect(h.coverage_pct).toBeCloseTo((recorded / EXPECTED) * 100, 2);
  });

  test("rows the dead run made durable after its last alive shrink the crash share; a loss outside any window is unknown", () => {
    const base = EXPECTED - 3 - STALLED - 4 - CRASH_WINDOW;
    expect(hour0(base + 10)).toMatchObject({ crash: CRASH_WINDOW - 10, unknown: 0 });
    expect(hour0(base - 7)).toMatchObject({ crash: CRASH_WINDOW, unknown: 7, extra: 0 });
    expect(hour0(EXPECTED)).toMatchObject({ crash: 0, unknown: 0, extra: 3 + STALLED + 4 });
  });

  test("the newest run's tail after its last sign of life is in flight, cut at one flush interval; hours split", () => {
    const records = [
      { ts: T0 + 3540 * S, action: "start", ...cadence },
      { ts: T0 + 3540 * S, action: "subscribe", market_id: "a", outcome_id: "yes", reason: "hot", tier: "hot" },
      { ts: T0 + 3630 * S, action: "alive", durable: T0 + 3625 * S },
    ];
    const rows = computeCoverage({
      venue: "v",
      records,
      cadence,
      from: T0,
      to: T0 + 4200 * S,
      recorded: new Map([
        [T0, 29],
        [T0 + 3600 * S, 13],
      ]),
    });
    // 00:59:02..00:59:58 (29); 01:00:00..01:00:34 (18), of which 01:00:26..34 (5) after the durable mark
    expect(rows.map((r) => [r.hour, r.expected, r.recorded, r.in_flight, r.unknown])).toEqual([
      ["00", 29, 29, 0, 0],
      ["01", 18, 13, 5, 0],
      ["day", 47, 42, 5, 0],
    ]);
  });

  test("a day's carry continues the schedule at its due time; a carried wait keeps its start", () => {
    const day2 = T0 + 86_400_000;
    const records = [
      {
        ts: day2,
        action: "subscribe",
        market_id: "a",
        outcome_id: "yes",
        reason: "carry",
        tier: "warm",
        due: day2 + 7000,
      },
      {
        ts: day2,
        action: "target",
        market_id: "c",
        outcome_id: "yes",
        reason: "carry",
        tier: "hot",
        since: day2 - 3000,
      },
      { ts: day2 + 9000, action: "subscribe", market_id: "c", outcome_id: "yes", reason: "hot", tier: "hot" },
      { ts: day2 + 60_000, action: "unsubscribe", market_id: "a", outcome_id: "yes", reason: "stop" },
      { ts: day2 + 60_000, action: "unsubscribe", market_id: "c", outcome_id: "yes", reason: "stop" },
    ];
    const [h] = rowsOf(records, day2);
    // a: 7, 17, ..., 57 s (6); c waiting since -3 s: -1 (the day before), 1, 3, 5, 7 s (4 in the day); c: 11..60 s (25)
    expect(h).toMatchObject({ expected: 6 + 4 + 25, not_subscribed: 4 });
  });

  test("a journal from before coverage records: tiers from the subscribe reasons, cadences from the config", () => {
    const records = [
      { ts: T0, action: "start" },
      { ts: T0, action: "subscribe", market_id: "h", outcome_id: "yes", reason: "hot" },
      { ts: T0, action: "subscribe", market_id: "w", outcome_id: "yes", reason: "warm" },
      { ts: T0 + 30_000, action: "subscribe", market_id: "r", outcome_id: "yes", reason: "rotation" },
      { ts: T0 + 60_000, action: "unsubscribe", market_id: "h", outcome_id: "yes", reason: "stop" },
      { ts: T0 + 60_000, action: "unsubscribe", market_id: "w", outcome_id: "yes", reason: "stop" },
      { ts: T0 + 60_000, action: "unsubscribe", market_id: "r", outcome_id: "yes", reason: "stop" },
    ];
    const [h] = rowsOf(records, T0);
    // h: 2..60 s (30); w: 10..60 s (6); r: 40..60 s (3)
    expect(h.expected).toBe(30 + 6 + 3);
  });

  test("a wait still open when its run dies ends at the run's last record; drops of another day are not counted", () => {
    const records = [
      { ts: T0 + 10_000, action: "start", ...cadence },
      { ts: T0 + 10_000, action: "target", market_id: "c", outcome_id: "yes", tier: "hot" },
      { ts: T0 + 20_000, action: "alive", durable: T0 + 20_000 },
      { ts: T0 + 20_000, action: "dropped", hour: T0 - 3_600_000, rows: 7 },
      { ts: T0 + 90_000, action: "start", ...cadence },
      { ts: T0 + 90_000, action: "target", market_id: "c", outcome_id: "yes", tier: "hot" },
      { ts: T0 + 95_000, action: "alive", durable: T0 + 95_000 },
    ];
    const [h] = rowsOf(records, T0);
    // 12..18 s (4) in the first run; 92..94 s (2) in the second, whose journal ends at 95 s
    expect(h).toMatchObject({ expected: 6, not_subscribed: 6, writer_dropped: 0 });
  });

  test("a stall at midnight counts in the day's first hour", () => {
    const day2 = T0 + 86_400_000;
    const records = [
      { ts: day2 - 10_000, action: "start", ...cadence },
      { ts: day2 - 10_000, action: "subscribe", market_id: "a", outcome_id: "yes", reason: "hot", tier: "hot" },
      { ts: day2, action: "stall", from: day2 - 5000 },
      { ts: day2 + 1000, action: "unsubscribe", market_id: "a", outcome_id: "yes", reason: "stop" },
    ];
    const [h] = rowsOf(records, day2);
    // due at -4, -2, 0 s: one taken at 0 s, two skipped (counted at the catch-up's hour)
    expect(h).toMatchObject({ hour: "00", expected: 3, stalled: 2 });
  });

  test("the table has a line per hour and the day total", () => {
    const t = formatCoverage(ofJournal(200)).split("\n");
    expect(t).toHaveLength(3);
    expect(t[0]).toMatch(/^venue\s+hour\s+expected\s+recorded\s+coverage\s+missing\s+not_subscribed/);
    expect(t[2]).toMatch(/^v\s+day\s+358\s+200\s+55\.87%/);
  });
});

describe("coverage edges (mutation survivors)", () => {
  test("a tier change does not close a book: the dead run's crash window still covers it", () => {
    const records = [
      mark(0, "start", cadence),
      book(0, "subscribe", "a", { reason: "hot", tier: "hot" }),
      book(21, "tier", "a", { tier: "warm" }),
      mark(30, "alive", { durable: T0 + 30 * S }),
      mark(60, "start", cadence),
    ];
    const rows = rowsOf(records, T0, new Map([[T0, 10]]));
    // HOT 2..20 s (10, recorded), WARM 30, 40, 50 s until run 2 starts (3): all three in the crash window [30 s, 60 s)
    expect(rows[0]).toMatchObject({ hour: "00", expected: 13, recorded: 10, crash: 3, unknown: 0 });
  });

  test("a stall keeps the phase of a book only one interval behind; one further behind is re-based", () => {
    const records = [
      mark(0, "start", cadence),
      book(0, "subscribe", "a", { reason: "warm", tier: "warm" }),
      book(1, "subscribe", "b", { reason: "hot", tier: "hot" }),
      mark(14, "stall", { from: T0 + 10 * S }),
      book(40, "unsubscribe", "a", { reason: "stop" }),
      book(40, "unsubscribe", "b", { reason: "stop" }),
    ];
    const [h] = rowsOf(records, T0);
    // a: 10 s taken at 14 s, then on its phase 20, 30, 40 s (4). b: 3, 5, 7, 9 s; 11 and 13 s at 14 s (one taken,
    // one skipped), then re-based to 16, 18, ..., 40 s (13): 19.
    expect(h).toMatchObject({ expected: 4 + 19, stalled: 1 });
  });

  test("a watchdog unsubscribe keeps the book's slot even when the resubscribe comes off its grid", () => {
    const records = [
      mark(0, "start", cadence),
      book(0, "subscribe", "b", { reason: "warm", tier: "warm" }),
      book(15, "unsubscribe", "b", { reason: "watchdog" }),
      book(17, "subscribe", "b", { reason: "watchdog", tier: "warm" }),
      book(60, "unsubscribe", "b", { reason: "stop" }),
    ];
    const [h] = rowsOf(records, T0);
    // 10, 20, ..., 60 s: the schedule of the first subscribe (not restarted at 17 s)
    expect(h.expected).toBe(6);
  });

  test("a dropped record without a row count explains nothing: the loss stays unknown", () => {
    const records = [
      mark(0, "start", cadence),
      book(0, "subscribe", "b", { reason: "warm", tier: "warm" }),
      mark(30, "dropped", { hour: T0 }),
      book(60, "unsubscribe", "b", { reason: "stop" }),
    ];
    const [h] = rowsOf(records, T0, new Map([[T0, 5]]));
    expect(h).toMatchObject({ expected: 6, recorded: 5, writer_dropped: 0, unknown: 1 });
  });

  test("rows recorded outside the day, or none in an hour, add no row", () => {
    const records = [
      mark(3600, "start", cadence),
      book(3600, "subscribe", "b", { reason: "warm", tier: "warm" }),
      book(3660, "unsubscribe", "b", { reason: "stop" }),
    ];
    const rows = rowsOf(
      records,
      T0,
      new Map([
        [T0 - 3_600_000, 9],
        [T0 + 3_600_000, 6],
        [T0 + 5 * 3_600_000, 0],
        [T0 + 86_400_000, 4],
      ]),
    );
    expect(rows.map((r) => [r.hour, r.expected, r.recorded])).toEqual([
      ["01", 6, 6],
      ["day", 6, 6],
    ]);
  });

  test("hours come out in time order when a wait's hours are counted after a later hour's", () => {
    const records = [
      mark(0, "start", cadence),
      book(1800, "target", "c", { tier: "warm" }),
      book(4200, "subscribe", "b", { reason: "warm", tier: "warm" }),
      book(4260, "unsubscribe", "b", { reason: "stop" }),
      book(7200, "subscribe", "c", { reason: "rotation", tier: "warm" }),
      book(7260, "unsubscribe", "c", { reason: "stop" }),
    ];
    const rows = rowsOf(records, T0);
    // c waits from 00:30:00: due 00:30:10..00:59:50 (179) and 01:00:00..01:59:50 (360), counted when it is subscribed
    // at 02:00; b: 01:10:10..01:11:00 (6); c: 02:00:10..02:01:00 (6)
    expect(rows.map((r) => [r.hour, r.expected, r.not_subscribed])).toEqual([
      ["00", 179, 179],
      ["01", 366, 360],
      ["02", 6, 0],
      ["day", 551, 539],
    ]);
  });
});
