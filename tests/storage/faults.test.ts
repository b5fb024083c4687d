/** Write errors (EIO, ENOSPC) on the injected clock: rows stay buffered, retries back off, the durable mark waits. */
import { describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { Metrics } from "../../src/metrics.ts";
import { checkManifest, readManifest } from "../../src/storage/manifest.ts";
import { readSnapshotFile } from "../../src/parquet/read.ts";
import { BookGen } from "../helpers/books.ts";
import { FaultyFs } from "../helpers/faulty-fs.ts";
import { globFiles, openWriter, settleOnClock, T0, tempDirs } from "../helpers/store.ts";
import { WRITER_METRICS } from "../../src/storage/metric-names.ts";

const dir = tempDirs("surv-faults-");
const MIN = 60_000;
const finals = (d: string) => globFiles(d, "**/*.parquet");
const allRows = (d: string) => finals(d).flatMap((f) => readSnapshotFile(join(d, f)));

// Fault injection: we run as root, so chmod cannot make a directory read-only for us. Failures are injected
// through the writer's StorageFs (FaultyFs) with real errno codes, plus one real-filesystem fault: a regular
// file where the staging directory should be.
describe("write errors", () => {
  test("EIO on staging writes: rows stay buffered, retries back off 500, 1000, then capped 1500 ms on the clock, then succeed", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    const f = new FaultyFs(() => clock.now());
    const metrics = new Metrics();
    const { w } = await openWriter(
      d,
      { retry_base_ms: 500, retry_cap_ms: 1500, flush_secs: 3600 },
      { clock, fs: f.fs, metrics },
    );
    f.fail("create", "EIO", { match: "_staging", times: 3 });
    const g = new BookGen({ start: T0, stepMs: 1 });
    for (let i = 0; i < 200; i++) w.append(g.next());
    await expect(w.flush()).rejects.toThrow("EIO");
    expect(w.status()).toMatchObject({ rowsBuffered: 200, rowsStaged: 0, writeErrors: 1 });
    expect(w.status().lastError).toContain("EIO");
    await clock.advance(10_000);
    // attempts at +0, +500, +1500 (capped: 500, 1000, then 1500 instead of 2000) and success at +3000
    expect(f.failures.map((x) => x.at - T0)).toEqual([0, 500, 1500]);
    expect(w.status()).toMatchObject({ rowsBuffered: 0, rowsStaged: 200, writeErrors: 3, lastError: null });
    expect(metrics.get(WRITER_METRICS.writeErrors, { code: "EIO" })).toBe(3);
    await w.close();
    expect(allRows(d).length).toBe(200);
  });

  test("the durable mark moves only with a flush that staged every buffer; drops are handed out per venue and hour, once", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    const f = new FaultyFs(() => clock.now());
    const { w } = await openWriter(d, { max_buffer_rows: 15, flush_secs: 3600 }, { clock, fs: f.fs });
    expect(w.durableBefore()).toBe(T0); // nothing was appended before the writer opened
    const g = new BookGen({ start: T0, stepMs: 1 });
    for (let i = 0; i < 10; i++) w.append(g.next());
    await clock.advance(1000);
    await w.flush();
    expect(w.durableBefore()).toBe(T0 + 1000);
    f.fail("create", "EIO", { match: "_staging" });
    for (let i = 0; i < 20; i++) w.append(g.next());
    await clock.advance(1000);
    await expect(w.flush()).rejects.toThrow("EIO");
    expect(w.durableBefore()).toBe(T0 + 1000);
    // 15 buffered, 5 dropped; the next hour's rows are counted under their own hour
    const late = new BookGen({ start: T0 + 3_600_000, stepMs: 1 });
    for (let i = 0; i < 2; i++) w.append(late.next());
    expect([...w.takeDropped("mock")]).toEqual([
      [T0, 5],
      [T0 + 3_600_000, 2],
    ]);
    expect(w.takeDropped("mock").size).toBe(0);
    expect(w.takeDropped("other").size).toBe(0);
    f.clear();
    await clock.advance(1000);
    await w.flush();
    expect(w.durableBefore()).toBe(T0 + 3000);
    await w.close();
  });

  test("ENOSPC while compacting: no partial file is visible, the bucket is finalized exactly once after a retry", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    const f = new FaultyFs(() => clock.now());
    const { w } = await openWriter(d, { bucket_minutes: 1, flush_secs: 1, retry_base_ms: 1000 }, { clock, fs: f.fs });
    w.start();
    f.fail("write", "ENOSPC", { match: ".tmp-snapshots", times: 2 });
    const g = new BookGen({ start: T0, stepMs: 20 });
    for (let i = 0; i < 2000; i++) w.append(g.next()); // 40 s of rows in bucket 00:00
    await clock.runUntil(T0 + MIN + 2500); // bucket closed; first finalization fails
    expect(f.failures.length).toBeGreaterThanOrEqual(1);
    expect(finals(d)).toEqual([]);
    expect(globFiles(d, "orderbook_snapshots/**/*")).toEqual([]); // the failed temp file was removed
    await clock.runUntil(T0 + 2 * MIN);
    expect(f.failures.length).toBe(2);
    expect(finals(d)).toEqual([
      "orderbook_snapshots/venue=mock/date=2026-01-01/hour=00/snapshots_2026-01-01T00-00.parquet",
    ]);
    expect(allRows(d).length).toBe(2000);
    expect((await readManifest(d)).entries.length).toBe(1);
    await w.close();
  });

  test("past max_buffer_rows while the disk fails, rows are dropped, counted and reported; the kept ones are written", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    const f = new FaultyFs(() => clock.now());
    const metrics = new Metrics();
    const { w } = await openWriter(
      d,
      { max_buffer_rows: 1000, flush_rows: 300, retry_base_ms: 1000, flush_secs: 3600 },
      { clock, fs: f.fs, metrics },
    );
    f.fail("create", "EACCES", { match: "_staging" });
    const g = new BookGen({ start: T0, stepMs: 1 });
    for (let i = 0; i < 1500; i++) {
      w.append(g.next());
      if (i % 100 === 0) await Bun.sleep(0); // let triggered flushes run (and fail)
    }
    await w["chain"]; // the triggered flushes run on real I/O: let the failing ones finish (and arm the retry)
    expect(w.status()).toMatchObject({ rowsBuffered: 1000, droppedRows: 500 });
    expect(w.status().writeErrors).toBeGreaterThanOrEqual(1);
    expect(metrics.get(WRITER_METRICS.rowsDropped, { venue: "mock" })).toBe(500);
    expect(metrics.render()).toContain(`${WRITER_METRICS.rowsDropped}{venue="mock"} 500`);
    f.clear();
    await clock.advance(60_000);
    expect(w.status()).toMatchObject({ rowsBuffered: 0, rowsStaged: 1000 });
    await w.close();
    expect(allRows(d).length).toBe(1000);
  });

  test("real filesystem: a file where the staging directory should be fails the flush; removing it lets the retry succeed", async () => {
    const d = dir();
    const { w, clock } = await openWriter(d, { retry_base_ms: 200, flush_secs: 3600 });
    writeFileSync(join(d, "_staging"), "not a directory");
    const g = new BookGen({ start: T0, stepMs: 1 });
    for (let i = 0; i < 100; i++) w.append(g.next());
    await expect(w.flush()).rejects.toThrow();
    expect(w.status().lastError).toMatch(/ENOTDIR|EEXIST/);
    expect(w.status().rowsBuffered).toBe(100);
    rmSync(join(d, "_staging"));
    await clock.advance(200);
    expect(w.status()).toMatchObject({ rowsBuffered: 0, rowsStaged: 100, writeErrors: 1 });
    await w.close();
    expect(allRows(d).length).toBe(100);
  });

  test("close() with a dead disk reports what is not finalized instead of hanging, and a restart recovers the staged rows", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    const f = new FaultyFs(() => clock.now());
    const { w } = await openWriter(d, {}, { clock, fs: f.fs });
    const g = new BookGen({ start: T0, stepMs: 1 });
    for (let i = 0; i < 100; i++) w.append(g.next());
    await w.flush(); // durable in staging
    f.fail("create", "EIO");
    for (let i = 0; i < 50; i++) w.append(g.next());
    const closed = w.close();
    await expect(settleOnClock(clock, closed)).rejects.toThrow(
      /100 staged rows not finalized .* 50 buffered rows lost/,
    );
    const again = await openWriter(d, {}, { clock: new SimClock(T0 + 3600_000) });
    await again.w.close();
    expect(allRows(d).length).toBe(100);
  });
});

describe("crash states inside finalization (deterministic)", () => {
  const base = "orderbook_snapshots/venue=mock/date=2026-01-01/hour=00/snapshots_2026-01-01T00-00";
  async function leaveBroken(d: string, op: "rename" | "rmrf" | "appendDurable", match: string): Promise<void> {
    const clock = new SimClock(T0);
    const f = new FaultyFs(() => clock.now());
    const { w } = await openWriter(d, { bucket_minutes: 1 }, { clock, fs: f.fs });
    const g = new BookGen({ start: T0, stepMs: 10 });
    for (let i = 0; i < 500; i++) w.append(g.next());
    f.fail(op, "EIO", { match });
    await clock.runUntil(T0 + 2 * MIN);
    await expect(w.flush()).rejects.toThrow("EIO"); // the process "dies" here: w is abandoned
  }

  test("died before the final rename: the temp file is invisible, the restart redoes the compaction", async () => {
    const d = dir();
    await leaveBroken(d, "rename", "orderbook_snapshots/");
    expect(finals(d)).toEqual([]);
    expect(globFiles(d, "orderbook_snapshots/**/.tmp-*")).toEqual([
      `orderbook_snapshots/venue=mock/date=2026-01-01/hour=00/.tmp-snapshots_2026-01-01T00-00.parquet.partial`,
    ]);
    const { w } = await openWriter(d, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 5 * MIN) });
    await w.close();
    expect(finals(d)).toEqual([`${base}.parquet`]);
    expect(globFiles(d, "orderbook_snapshots/**/.tmp-*")).toEqual([]);
    expect(allRows(d).length).toBe(500);
    expect((await checkManifest(d)).ok).toBe(true);
  });

  test("died after the rename, before removing staging: no duplicate _1 file, one manifest line", async () => {
    const d = dir();
    await leaveBroken(d, "rmrf", "_staging");
    expect(finals(d)).toEqual([`${base}.parquet`]);
    const { w } = await openWriter(d, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 5 * MIN) });
    await w.close();
    expect(finals(d)).toEqual([`${base}.parquet`]);
    expect(globFiles(d, "_staging/**/*")).toEqual([]);
    expect((await readManifest(d)).entries.map((e) => e.rows)).toEqual([500]);
  });

  test("died after the rename, before the manifest line: the restart adds the line, no duplicate file", async () => {
    const d = dir();
    await leaveBroken(d, "appendDurable", "_manifest");
    expect(finals(d)).toEqual([`${base}.parquet`]);
    expect((await readManifest(d)).entries).toEqual([]);
    const { w } = await openWriter(d, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 5 * MIN) });
    await w.close();
    expect(finals(d)).toEqual([`${base}.parquet`]);
    const { entries } = await readManifest(d);
    const markets = new Set(allRows(d).map((r) => r.market_id)).size;
    expect(entries.map((e) => [e.path, e.rows, e.markets])).toEqual([[`${base}.parquet`, 500, markets]]);
    expect((await checkManifest(d)).ok).toBe(true);
  });
});
