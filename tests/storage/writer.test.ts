/** SnapshotWriter flush rules: flush_rows, flush_secs on the injected clock, bucket closing and finalizing. */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { normalizeSnapshot, type SnapshotRow } from "../../src/schema.ts";
import { checkManifest, readManifest } from "../../src/storage/manifest.ts";
import { parquetFileInfo, readSnapshotFile } from "../../src/parquet/read.ts";
import { BookGen, copyInput } from "../helpers/books.ts";
import { globFiles, openWriter, T0, tempDirs } from "../helpers/store.ts";

const dir = tempDirs("surv-writer-");

const MIN = 60_000;
const segs = (d: string) => globFiles(d, "_staging/**/*.arrows");
const finals = (d: string) => globFiles(d, "orderbook_snapshots/**/*.parquet");

describe("SnapshotWriter flush rules", () => {
  test("flush_rows: a full buffer becomes a staged segment without waiting for the timer", async () => {
    const d = dir();
    const { w } = await openWriter(d, { flush_rows: 100 });
    const g = new BookGen({ start: T0, stepMs: 10 });
    for (let i = 0; i < 99; i++) w.append(g.next());
    await Bun.sleep(0);
    await w["chain"]; // let any triggered flush finish
    expect(segs(d)).toEqual([]);
    w.append(g.next());
    await w["chain"];
    expect(segs(d).length).toBe(1);
    expect(w.status()).toMatchObject({ rowsBuffered: 0, rowsStaged: 100, rowsFinalized: 0 });
    // staged data is outside the dataset: no dataset glob sees it
    expect(finals(d)).toEqual([]);
    expect(globFiles(d, "**/*.parquet")).toEqual([]);
    // and every later full buffer too, each with one flush: rows that arrive before the queued flush runs join it
    for (let round = 2; round <= 3; round++) {
      for (let i = 0; i < 150; i++) w.append(g.next());
      await Bun.sleep(0);
      await w["chain"];
      expect(segs(d).length).toBe(round);
      expect(w.status()).toMatchObject({ flushes: round, rowsBuffered: 0, rowsStaged: 100 + 150 * (round - 1) });
    }
    await w.close();
  });

  test("flush_secs: the timer on the injected clock stages rows; a closed bucket is finalized after the grace", async () => {
    const d = dir();
    const { w, clock } = await openWriter(d, { flush_secs: 5, bucket_minutes: 5 });
    w.start();
    const g = new BookGen({ start: T0 + 1000, stepMs: 1 });
    for (let i = 0; i < 50; i++) w.append(g.next());
    await clock.advance(4_999);
    expect(segs(d)).toEqual([]);
    await clock.advance(1);
    expect(segs(d).length).toBe(1);
    // nothing new: the next ticks write no segment
    await clock.advance(10_000);
    expect(segs(d).length).toBe(1);
    expect(finals(d)).toEqual([]);
    // bucket [00:00, 00:05) closes at 00:05 + 2 s grace; the tick at 00:05:05 finalizes it
    await clock.runUntil(T0 + 5 * MIN + 5_000);
    expect(finals(d)).toEqual([
      "orderbook_snapshots/venue=mock/date=2026-01-01/hour=00/snapshots_2026-01-01T00-00.parquet",
    ]);
    expect(segs(d)).toEqual([]);
    expect(globFiles(d, "_staging/**/*")).toEqual([]);
    await w.close();
  });

  test("bucket change: the previous bucket's rows are staged as soon as a row of the next bucket arrives", async () => {
    const d = dir();
    const { w } = await openWriter(d, { bucket_minutes: 1 });
    const g = new BookGen({ start: T0 + 59_000, stepMs: 100 });
    for (let i = 0; i < 10; i++) w.append(g.next()); // 00:00:59.0 … 00:00:59.9
    await w["chain"];
    expect(segs(d)).toEqual([]);
    w.append(g.next()); // 00:01:00.0 → new bucket
    await w["chain"];
    // the old bucket is staged at once (the new bucket's first row may ride along)
    expect(segs(d).filter((f) => f.includes("2026-01-01T00-00_1m")).length).toBe(1);
    await w.close();
  });

  test("flush() makes every appended row durable; close() finalizes all buckets of all venues, once", async () => {
    const d = dir();
    const { w } = await openWriter(d, { bucket_minutes: 15 });
    const expected = new Map<string, SnapshotRow[]>();
    for (const venue of ["mock", "kalshi"]) {
      const g = new BookGen({ venue, start: T0 + 14 * MIN, stepMs: 250, seed: venue.length });
      for (let i = 0; i < 2000; i++) {
        const s = g.next();
        const file = s.tsRecv < T0 + 15 * MIN ? "00-00" : "00-15";
        const key = `${venue}/${file}`;
        if (!expected.has(key)) expected.set(key, []);
        expected.get(key)!.push(normalizeSnapshot(copyInput(s), 50));
        w.append(s);
      }
    }
    await w.flush();
    expect(w.status().rowsBuffered).toBe(0);
    expect(w.status().rowsStaged).toBe(4000);
    const p1 = w.close();
    const p2 = w.close();
    expect(p2).toBe(p1);
    await p1;
    const files = finals(d);
    expect(files).toEqual([
      "orderbook_snapshots/venue=kalshi/date=2026-01-01/hour=00/snapshots_2026-01-01T00-00.parquet",
      "orderbook_snapshots/venue=kalshi/date=2026-01-01/hour=00/snapshots_2026-01-01T00-15.parquet",
      "orderbook_snapshots/venue=mock/date=2026-01-01/hour=00/snapshots_2026-01-01T00-00.parquet",
      "orderbook_snapshots/venue=mock/date=2026-01-01/hour=00/snapshots_2026-01-01T00-15.parquet",
    ]);
    for (const f of files) {
      const m = /venue=(\w+)\/.*T(\d\d-\d\d)\.parquet$/.exec(f)!;
      expect(readSnapshotFile(join(d, f))).toEqual(expected.get(`${m[1]}/${m[2]}`)!);
    }
    expect(w.status()).toMatchObject({
      rowsFinalized: 4000,
      rowsStaged: 0,
      rowsBuffered: 0,
      filesFinalized: 4,
      pendingBuckets: 0,
    });
    // appends after close are counted as dropped, never silently lost
    w.append(new BookGen({ start: T0 }).next());
    expect(w.status().droppedRows).toBe(1);
  });

  test("late rows for a finalized bucket go to _1, then _2, never overwriting", async () => {
    const d = dir();
    const { w, clock } = await openWriter(d, { bucket_minutes: 5 });
    const g = new BookGen({ start: T0 + 1000, stepMs: 1 });
    for (let i = 0; i < 10; i++) w.append(g.next());
    await clock.runUntil(T0 + 6 * MIN);
    await w.flush();
    const base = "orderbook_snapshots/venue=mock/date=2026-01-01/hour=00/snapshots_2026-01-01T00-00";
    expect(finals(d)).toEqual([`${base}.parquet`]);
    const first = await Bun.file(join(d, `${base}.parquet`)).bytes();
    for (const n of [3, 4]) {
      g.setTime(T0 + 2000); // clock stepped back: rows of the old bucket
      for (let i = 0; i < n; i++) w.append(g.next());
      await w.flush();
    }
    expect(finals(d)).toEqual([`${base}.parquet`, `${base}_1.parquet`, `${base}_2.parquet`]);
    expect(await Bun.file(join(d, `${base}.parquet`)).bytes()).toEqual(first);
    expect(readSnapshotFile(join(d, `${base}_1.parquet`)).length).toBe(3);
    expect(readSnapshotFile(join(d, `${base}_2.parquet`)).length).toBe(4);
    const { entries } = await readManifest(d);
    expect(entries.map((e) => [e.part, e.rows])).toEqual([
      [0, 10],
      [1, 3],
      [2, 4],
    ]);
    await w.close();
  });

  test("manifest lists each final file with rows, bytes, ts range and distinct markets; check agrees with disk", async () => {
    const d = dir();
    const { w } = await openWriter(d, { bucket_minutes: 5, row_group_rows: 1000 });
    const g = new BookGen({ start: T0, stepMs: 100, markets: 37 });
    const rows: { ts: number; m: string }[] = [];
    for (let i = 0; i < 4000; i++) {
      const s = g.next();
      rows.push({ ts: s.tsRecv, m: s.marketId });
      w.append(s);
    }
    await w.close();
    const { entries, badLines } = await readManifest(d);
    expect(badLines).toEqual([]);
    expect(entries.length).toBe(2); // 4000 rows × 100 ms = 400 s: buckets 00:00 and 00:05
    for (const e of entries) {
      const mine = rows.filter((r) => r.ts >= e.bucket_start && r.ts < e.bucket_start + 5 * MIN);
      expect(e.rows).toBe(mine.length);
      expect(e.min_ts_recv).toBe(Math.min(...mine.map((r) => r.ts)));
      expect(e.max_ts_recv).toBe(Math.max(...mine.map((r) => r.ts)));
      expect(e.markets).toBe(new Set(mine.map((r) => r.m)).size);
      expect(e.bytes).toBe(Bun.file(join(d, e.path)).size);
      const info = await parquetFileInfo(join(d, e.path));
      expect(info.rows).toBe(mine.length);
      expect(Math.max(...info.rowGroupRows)).toBeLessThanOrEqual(1000);
    }
    expect((await checkManifest(d)).ok).toBe(true);
    // the check notices a file the manifest does not list and a listed file that vanished
    const extra = "orderbook_snapshots/venue=mock/date=2026-01-01/hour=01/snapshots_2026-01-01T01-00.parquet";
    await Bun.write(join(d, extra), "x");
    await Bun.write(join(d, entries[0].path), "truncated");
    const c = await checkManifest(d);
    expect(c.ok).toBe(false);
    expect(c.unlisted).toEqual([extra]);
    expect(c.sizeMismatch.map((x) => x.path)).toEqual([entries[0].path]);
    expect(existsSync(join(d, "_manifest/orderbook_snapshots.jsonl"))).toBe(true);
  });
});

describe("staged data across a config change", () => {
  test.each(["snappy", "uncompressed"] as const)(
    "row groups staged encoded (ZSTD) and raw rows are finalized after a restart with compression = %s: every row, exact",
    async (compression) => {
      const d = dir();
      const expected: SnapshotRow[] = [];
      const a = await openWriter(
        d,
        { bucket_minutes: 5, flush_secs: 3600, row_group_rows: 300 },
        { encodeAtFlushRows: 200 },
      );
      const g = new BookGen({ start: T0, stepMs: 50, seed: 9 });
      for (const n of [450, 120, 250]) {
        // 450 and 250 rows: encoded row groups; 120: raw
        for (let i = 0; i < n; i++) {
          const s = g.next();
          expected.push(normalizeSnapshot(copyInput(s), 50));
          a.w.append(s);
        }
        await a.w.flush();
      }
      // the process dies here (no close); the next start has another compression
      const b = await openWriter(d, { bucket_minutes: 5, compression }, { clock: new SimClock(T0 + 3600_000) });
      await b.w.close();
      expect(finals(d).length).toBe(1);
      const rows = readSnapshotFile(join(d, finals(d)[0]));
      expect(rows).toEqual(expected);
      expect((await parquetFileInfo(join(d, finals(d)[0]))).rowGroupRows).toEqual([225, 225, 120, 250]);
      expect(globFiles(d, "**/*.reason.txt")).toEqual([]); // read as staged: nothing quarantined and salvaged
    },
  );
});
