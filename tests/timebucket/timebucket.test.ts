/** Bucket arithmetic and the partition and file names it gives, across hour, day and year boundaries. */
import { describe, expect, test } from "bun:test";
import { bucketEnd, bucketStart, utcDate, utcHour } from "../../src/timebucket.ts";
import {
  bucketFileName,
  parseSnapshotFileName,
  parseSnapshotPartition,
  partitionDir,
  snapshotPath,
} from "../../src/layout.ts";

const T = (s: string) => Date.parse(s);

describe("bucketStart", () => {
  test.each([
    // [ts, minutes, expected start] written by hand
    ["2026-03-04T10:07:59.999Z", 5, "2026-03-04T10:05:00.000Z"],
    ["2026-03-04T10:10:00.000Z", 5, "2026-03-04T10:10:00.000Z"],
    ["2026-03-04T10:59:59.999Z", 1, "2026-03-04T10:59:00.000Z"],
    ["2026-03-04T10:44:59.000Z", 15, "2026-03-04T10:30:00.000Z"],
    ["2026-03-04T10:45:00.000Z", 15, "2026-03-04T10:45:00.000Z"],
    ["2026-03-04T10:59:59.999Z", 60, "2026-03-04T10:00:00.000Z"],
    // day and year boundaries
    ["2026-12-31T23:59:59.999Z", 5, "2026-12-31T23:55:00.000Z"],
    ["2027-01-01T00:00:00.000Z", 5, "2027-01-01T00:00:00.000Z"],
    ["2026-12-31T23:59:30.000Z", 1, "2026-12-31T23:59:00.000Z"],
    ["2026-12-31T23:59:30.000Z", 60, "2026-12-31T23:00:00.000Z"],
    ["2028-02-29T23:50:00.000Z", 15, "2028-02-29T23:45:00.000Z"],
  ] as const)("%s in %i-minute buckets starts at %s", (ts, m, start) => {
    expect(new Date(bucketStart(T(ts), m)).toISOString()).toBe(start);
    expect(bucketEnd(T(ts), m) - bucketStart(T(ts), m)).toBe(m * 60_000);
  });
});

describe("partition and file names", () => {
  test("last millisecond of a year and first of the next land in different date/hour partitions", () => {
    const a = T("2026-12-31T23:59:59.999Z");
    const b = T("2027-01-01T00:00:00.000Z");
    expect(partitionDir("kalshi", a)).toBe("venue=kalshi/date=2026-12-31/hour=23");
    expect(partitionDir("kalshi", b)).toBe("venue=kalshi/date=2027-01-01/hour=00");
    expect(bucketFileName(a, 5)).toBe("snapshots_2026-12-31T23-55.parquet");
    expect(bucketFileName(b, 5)).toBe("snapshots_2027-01-01T00-00.parquet");
    expect(utcDate(a)).toBe("2026-12-31");
    expect(utcHour(a)).toBe("23");
  });

  test.each([
    [
      1,
      "2026-06-15T13:42:10.000Z",
      "orderbook_snapshots/venue=polymarket/date=2026-06-15/hour=13/snapshots_2026-06-15T13-42.parquet",
    ],
    [
      15,
      "2026-06-15T13:42:10.000Z",
      "orderbook_snapshots/venue=polymarket/date=2026-06-15/hour=13/snapshots_2026-06-15T13-30.parquet",
    ],
    [
      60,
      "2026-06-15T13:42:10.000Z",
      "orderbook_snapshots/venue=polymarket/date=2026-06-15/hour=13/snapshots_2026-06-15T13-00.parquet",
    ],
    [
      60,
      "2026-06-15T00:00:00.000Z",
      "orderbook_snapshots/venue=polymarket/date=2026-06-15/hour=00/snapshots_2026-06-15T00-00.parquet",
    ],
  ] as const)("%i-minute bucket path of %s", (m, ts, path) => {
    expect(snapshotPath("polymarket", T(ts), m)).toBe(path);
  });

  test("late-rows files are numbered next to the bucket's file", () => {
    const ts = T("2026-06-15T13:42:10.000Z");
    expect(bucketFileName(ts, 5, 1)).toBe("snapshots_2026-06-15T13-40_1.parquet");
    expect(snapshotPath("mock", ts, 5, 2)).toBe(
      "orderbook_snapshots/venue=mock/date=2026-06-15/hour=13/snapshots_2026-06-15T13-40_2.parquet",
    );
  });

  test("a final file's path parses back to its partition and bucket start", () => {
    const ts = T("2026-06-15T13:42:10.000Z");
    const rel = snapshotPath("mock", ts, 5, 2);
    expect(parseSnapshotPartition(rel)).toEqual({
      venue: "mock",
      date: "2026-06-15",
      hourTs: T("2026-06-15T13:00:00Z"),
    });
    const name = rel.split("/").at(-1)!;
    expect(parseSnapshotFileName(name)).toEqual({
      date: "2026-06-15",
      hour: "13",
      minute: "40",
      start: T("2026-06-15T13:40:00Z"),
      suffix: 2,
    });
    expect(parseSnapshotFileName(bucketFileName(ts, 60))).toMatchObject({ minute: "00", suffix: 0 });
    // As spelled, whatever the digits: a name with no time in them parses, its start NaN (verify says why).
    expect(parseSnapshotFileName("snapshots_2026-06-15T25-70.parquet")?.start).toBeNaN();
    for (const bad of [
      "snapshots_2026-06-15T13-40.arrows",
      "x_2026-06-15T13-40.parquet",
      "snapshots_2026-06-15.parquet",
    ])
      expect(parseSnapshotFileName(bad)).toBeUndefined();
    expect(parseSnapshotPartition("orderbook_snapshots/venue=mock/date=2026-06-15/x.parquet")).toBeUndefined();
  });

  test("every 1-minute bucket of a day crossing midnight maps to its own hour partition", () => {
    const start = T("2026-12-31T23:00:00.000Z");
    const names = new Set<string>();
    for (let i = 0; i < 120; i++) {
      const ts = start + i * 60_000 + 30_000;
      const d = new Date(ts);
      expect(partitionDir("v", ts)).toBe(
        `venue=v/date=${d.toISOString().slice(0, 10)}/hour=${d.toISOString().slice(11, 13)}`,
      );
      names.add(snapshotPath("v", ts, 1));
    }
    expect(names.size).toBe(120);
  });
});
