/** verifyDataset: what the writer wrote is clean; each kind of corruption is named with its file and row. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Dictionary, Float64, Int32, Utf8 } from "apache-arrow";
import { snapshotPath, manifestPath } from "../../src/layout.ts";
import { verifyDataset, type Problem } from "../../src/ops/verify.ts";
import { readManifest, type ManifestEntry } from "../../src/storage/manifest.ts";
import { BookGen } from "../helpers/books.ts";
import { openWriter, tempDirs } from "../helpers/store.ts";
import { DAY, FILES, relOf, writeBucketChangeDataset } from "../helpers/bucket-change.ts";
import type { SnapshotRow } from "../../src/schema.ts";
import { bookRow, writeSnapshotFile } from "../helpers/snapshot-files.ts";

// spawns the CLI / writes real files: the 5 s default is too short on a loaded machine (bunfig has no timeout key)
setDefaultTimeout(60_000);

const H10 = Date.UTC(2026, 0, 1, 10);
const MIN = 60_000,
  H = 3_600_000;

/** 6 rows in the bucket that starts at `start`: 3 markets × 2 outcomes, one with an empty ask side. */
function bucketRows(venue: string, start: number): SnapshotRow[] {
  const rows: SnapshotRow[] = [];
  let seq = 1;
  for (const m of ["m1", "m2", "m3"])
    for (const o of ["yes", "no"]) rows.push(bookRow(start + seq * 1000, venue, m, o, seq++));
  const empty = bookRow(start + 30_000, venue, "m4", "yes", 9, 0);
  rows.push(empty);
  return rows;
}

describe("verifyDataset", () => {
  let dir: string;
  let writtenRows = 0;
  const opts = async () => ({ topK: 50, bucketMinutes: 5, manifest: await readManifest(dir) });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "verify-"));
    // The real writer records an hour of two venues (varied books: empty, one-sided, stale, up to 60 levels capped at 50).
    const { w, clock } = await openWriter(dir, {}, {});
    clock.set(H10);
    w.start();
    for (const venue of ["mock", "kalshi"]) {
      const g = new BookGen({ seed: venue.length, venue, markets: 40, start: H10, stepMs: 250 });
      for (let i = 0; i < 14_000; i++) w.append(g.next());
      writtenRows += 14_000;
    }
    await clock.runUntil(H10 + 3600_000 + 10_000);
    await w.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Adds a hand-built file (exact schema unless overridden) and its manifest line, as the writer would. */
  async function put(start: number, rows: SnapshotRow[], venue = "mock", overrides = {}): Promise<string> {
    const rel = snapshotPath(venue, start, 5);
    const bytes = await writeSnapshotFile(join(dir, rel), rows, overrides);
    const entry: Partial<ManifestEntry> = {
      path: rel,
      venue,
      bucket_start: start,
      bucket_minutes: 5,
      part: 0,
      rows: rows.length,
      bytes,
    };
    appendFileSync(manifestPath(dir), JSON.stringify(entry) + "\n");
    return rel;
  }

  test("what the writer wrote is clean, rows match the manifest", async () => {
    const r = await verifyDataset(dir, { ...(await opts()), toTs: H10 + 3600_000 });
    expect(r.problems).toEqual([]);
    expect(r.rows).toBe(writtenRows);
    expect(r.files).toBe(24); // 12 buckets × 2 venues
  });

  describe("names each corruption with file and row", () => {
    const H = Date.UTC(2026, 0, 2, 0); // a separate day, so each case is its own file
    let problems: Problem[] = [];
    const rels: Record<string, string> = {};
    const at = (b: number) => H + b * 5 * MIN;

    beforeAll(async () => {
      // 1. a file of the writer's, truncated
      rels.truncated = snapshotPath("kalshi", H10 + 10 * MIN, 5);
      const abs = join(dir, rels.truncated);
      truncateSync(abs, Math.floor(statSync(abs).size / 2));
      // 2. wrong types: seq as float64, venue dictionary-encoded
      rels.seqType = await put(at(1), bucketRows("mock", at(1)), "mock", { seq: new Float64() });
      rels.dictType = await put(at(2), bucketRows("mock", at(2)), "mock", {
        venue: new Dictionary(new Utf8(), new Int32()),
      });
      // 3. unsorted bids at row 2
      let rows = bucketRows("mock", at(3));
      rows[2].bid_px = [0.49, 0.47, 0.48];
      rels.unsorted = await put(at(3), rows);
      // 4. px/sz length mismatch at row 4
      rows = bucketRows("mock", at(4));
      rows[4].ask_sz = rows[4].ask_sz.slice(0, 2);
      rels.lengths = await put(at(4), rows);
      // 5. a row of hour 01 in the hour-00 file (row 5)
      rows = bucketRows("mock", at(5));
      rows[5].ts_recv = H + 65 * MIN;
      rels.partition = await put(at(5), rows);
      // 6. manifest row count mismatch on a file of the writer's
      rels.count = snapshotPath("mock", H10 + 20 * MIN, 5);
      const mf = readFileSync(manifestPath(dir), "utf8").split("\n");
      writeFileSync(
        manifestPath(dir),
        mf.map((l) => (l.includes(rels.count) ? l.replace(/"rows":\d+/, '"rows":99') : l)).join("\n"),
      );
      // 7. mid inconsistent at row 1, spread at row 3
      rows = bucketRows("mock", at(7));
      rows[1].mid += 0.01;
      rows[3].spread = 0.5;
      rels.mid = await put(at(7), rows);
      // 8. more row invariants, one per row: best, NaN in a list, > top_k, status, depth3, venue, NaN mid with an empty side
      rows = bucketRows("mock", at(8));
      rows[0].best_bid_sz = 1;
      rows[1].ask_px = [0.51, NaN, 0.53];
      rows[2].bid_px = Array.from({ length: 51 }, (_, k) => 0.9 - k * 0.01);
      rows[2].bid_sz = Array.from({ length: 51 }, () => 1);
      rows[2].best_bid_px = 0.9;
      rows[2].best_bid_sz = 1;
      rows[2].bid_depth3 = 3;
      rows[2].mid = (0.9 + rows[2].best_ask_px) / 2;
      rows[2].spread = rows[2].best_ask_px - 0.9;
      rows[3].status = "partial";
      rows[4].ask_depth3 = 7;
      rows[5].venue = "kalshi";
      rows[6].mid = 0.5; // row 6 has no asks
      rels.rows = await put(at(8), rows);
      // 9. a row from another bucket of the same hour, and a file in the manifest that is gone
      rows = bucketRows("mock", at(9));
      rows[0].ts_recv = at(10) + 1000;
      rels.bucket = await put(at(9), rows);
      appendFileSync(
        manifestPath(dir),
        JSON.stringify({ path: snapshotPath("mock", at(11), 5), venue: "mock", rows: 7, bytes: 1000 }) + "\n",
      );
      const r = await verifyDataset(dir, { ...(await opts()), fromTs: H10 });
      problems = r.problems;
    });

    const find = (file: string, check: string, row?: number) =>
      problems.filter((p) => p.file === file && p.check === check && (row === undefined || p.row === row));

    test("truncated file is unreadable", () => {
      expect(find(rels.truncated, "unreadable")).toHaveLength(1);
      // and the manifest's byte count no longer matches
      expect(find(rels.truncated, "manifest")[0].message).toContain("the manifest says");
    });
    test("wrong column types", () => {
      expect(find(rels.seqType, "schema")[0].message).toContain("column seq has type Float64, expected Int64");
      expect(find(rels.dictType, "schema")[0].message).toContain("column venue has type Dictionary");
    });
    test("unsorted bids", () => {
      expect(find(rels.unsorted, "sorted", 2)[0].message).toContain(
        "bid_px not descending at level 2 (0.47 then 0.48)",
      );
      expect(problems.filter((p) => p.file === rels.unsorted)).toHaveLength(1);
    });
    test("px/sz length mismatch", () => {
      expect(find(rels.lengths, "lengths", 4)[0].message).toBe("ask_px has 3 levels but ask_sz has 2");
    });
    test("row in the wrong hour partition", () => {
      expect(find(rels.partition, "partition", 5)[0].message).toContain(
        "2026-01-02T01:05:00.000Z is outside partition date=2026-01-02/hour=00",
      );
    });
    test("manifest row count mismatch and a file missing from disk", () => {
      expect(find(rels.count, "row_count")[0].message).toMatch(/^file has \d+ rows, the manifest says 99$/);
      expect(find(snapshotPath("mock", at(11), 5), "missing")).toHaveLength(1);
    });
    test("mid and spread inconsistent with best bid/ask", () => {
      expect(find(rels.mid, "mid", 1)).toHaveLength(1);
      expect(find(rels.mid, "spread", 3)).toHaveLength(1);
      expect(problems.filter((p) => p.file === rels.mid)).toHaveLength(2);
    });
    test("best, NaN, top_k, status, depth3, venue, NaN mid", () => {
      expect(find(rels.rows, "best", 0)).toHaveLength(1);
      expect(find(rels.rows, "finite", 1)).toHaveLength(1);
      expect(find(rels.rows, "top_k", 2)[0].message).toContain("51 levels");
      expect(find(rels.rows, "status", 3)[0].message).toBe("status partial with 3 bid and 3 ask levels, expected ok");
      expect(find(rels.rows, "depth3", 4)).toHaveLength(1);
      expect(find(rels.rows, "venue", 5)).toHaveLength(1);
      expect(find(rels.rows, "mid", 6)[0].message).toContain("expected NaN");
      expect(problems.filter((p) => p.file === rels.rows)).toHaveLength(7);
    });
    test("row outside the file's bucket", () => {
      expect(find(rels.bucket, "bucket", 0)).toHaveLength(1);
    });
  });
});

describe("verifyDataset after writer.bucket_minutes changed (5 → 15 → 5)", () => {
  let dir: string;
  let rows = 0;
  const copy = tempDirs("verify-bm-");
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "verify-bm-"));
    rows = await writeBucketChangeDataset(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A copy of the dataset to damage. */
  const damaged = () => {
    const d = copy();
    cpSync(dir, d, { recursive: true });
    return d;
  };

  test("each file is judged by the length the manifest records: clean under either configured length", async () => {
    // the writer really wrote both lengths (the files a 5- and a 15-minute config would name)
    expect((await readManifest(dir)).entries.map((e) => [e.path, e.bucket_minutes])).toEqual(
      FILES.map((f) => [relOf(f), f.minutes]),
    );
    for (const bucketMinutes of [5, 15]) {
      const r = await verifyDataset(dir, { topK: 50, bucketMinutes, manifest: await readManifest(dir) });
      expect(r.problems).toEqual([]);
      expect(r.inferred).toEqual([]);
      expect([r.files, r.rows]).toEqual([FILES.length, rows]);
    }
  });

  test("a file that really is misplaced is still reported, by its own length", async () => {
    const d = damaged();
    // The 5-minute 10:20 file under the 10:15 name (the 10:15 file gone), the manifest agreeing: its rows lie in the
    // 15-minute bucket 10:15 but outside its own 5-minute one.
    const from = relOf({ start: DAY + 10 * H + 20 * MIN, minutes: 5 }),
      to = relOf({ start: DAY + 10 * H + 15 * MIN, minutes: 5 });
    renameSync(join(d, from), join(d, to));
    const mf = readFileSync(manifestPath(d), "utf8")
      .split("\n")
      .filter((l) => !l.includes(`"${to}"`));
    writeFileSync(
      manifestPath(d),
      mf
        .map((l) =>
          l.includes(from)
            ? l.replace(from, to).replace(/"bucket_start":\d+/, `"bucket_start":${DAY + 10 * H + 15 * MIN}`)
            : l,
        )
        .join("\n"),
    );
    // A 15-minute file under a name that is no 15-minute bucket start (11:35), listed so.
    const b = relOf({ start: DAY + 11 * H + 30 * MIN, minutes: 15 }),
      b2 = b.replace("T11-30", "T11-35");
    renameSync(join(d, b), join(d, b2));
    writeFileSync(manifestPath(d), readFileSync(manifestPath(d), "utf8").replace(b, b2));
    for (const bucketMinutes of [5, 15]) {
      const r = await verifyDataset(d, {
        topK: 50,
        bucketMinutes,
        manifest: await readManifest(d),
        maxRowProblems: 1000,
      });
      const mine = r.problems.filter((p) => p.file === to);
      // every row (all of them at 10:20..10:25) is outside [10:15, +5 min)
      expect(mine.length).toBeGreaterThan(250);
      expect(
        mine.every(
          (p) =>
            p.check === "bucket" &&
            p.message.endsWith("is outside the file's bucket [2026-06-10T10:15:00.000Z, +5 min)"),
        ),
      ).toBe(true);
      expect(r.problems.filter((p) => p.file === b2 && p.check === "file_name")).toEqual([
        {
          file: b2,
          check: "file_name",
          message: "11-35 is not the start of a 15-minute bucket (the manifest's bucket_minutes)",
        },
      ]);
      expect(r.problems.filter((p) => p.file !== to && p.file !== b2)).toEqual([]);
    }
  });

  test("without the manifest: the configured length if a file fits it, else the shortest it fits; real misplacement still reported", async () => {
    const d = damaged();
    rmSync(manifestPath(d));
    // 5-minute files whose start is not a 15-minute one cannot be 15-minute buckets; 15-minute files hold 15 minutes of rows
    const expected = (cfg: number) =>
      FILES.filter((f) => f.minutes !== cfg && (f.minutes > cfg || f.start % (cfg * MIN) !== 0)).map((f) => ({
        file: relOf(f),
        bucket_minutes: f.minutes,
      }));
    expect(expected(5)).toHaveLength(6);
    expect(expected(15)).toHaveLength(10);
    for (const bucketMinutes of [5, 15]) {
      const r = await verifyDataset(d, { topK: 50, bucketMinutes });
      expect(r.problems).toEqual([]);
      expect(r.inferred).toEqual(expected(bucketMinutes));
    }
    // The 15-minute 11:30 file under 11:35: no bucket that starts at 11:35 (5 minutes at most) holds its rows of 11:30..11:35.
    const b = relOf({ start: DAY + 11 * H + 30 * MIN, minutes: 15 });
    renameSync(join(d, b), join(d, b.replace("T11-30", "T11-35")));
    for (const bucketMinutes of [5, 15]) {
      const r = await verifyDataset(d, { topK: 50, bucketMinutes, maxRowProblems: 1000 });
      expect(r.problems.length).toBeGreaterThan(250);
      for (const p of r.problems) {
        expect(p).toMatchObject({ file: b.replace("T11-30", "T11-35"), check: "bucket" });
        expect(p.message).toEndWith(
          "is outside the file's bucket [2026-06-10T11:35:00.000Z, +5 min), the longest bucket its name can start (no bucket length in the manifest)",
        );
        const ts = Date.parse(p.message.split(" ")[1]);
        expect(ts < DAY + 11 * H + 35 * MIN || ts >= DAY + 11 * H + 40 * MIN).toBe(true);
      }
    }
  });
});
