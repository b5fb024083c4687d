/**
 * SnapshotWriter edges mutation testing found unguarded: a row appended to a bucket while the flush that finalizes
 * it is writing, the gauges and status counters, two venues sharing a bucket, the retry backoff holding back a full
 * buffer, the "writes succeed again" line, and the parquet-wasm (snappy) compaction of raw staged parts.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { Metrics } from "../../src/metrics.ts";
import { readSnapshotFile } from "../../src/parquet/read.ts";
import { normalizeSnapshot, type SnapshotRow } from "../../src/schema.ts";
import { nodeFs, type StorageFs } from "../../src/storage/fs.ts";
import { WRITER_METRICS as W } from "../../src/storage/metric-names.ts";
import { MARKER } from "../../src/storage/staging.ts";
import { BookGen, copyInput } from "../helpers/books.ts";
import { FaultyFs } from "../helpers/faulty-fs.ts";
import { logLines } from "../helpers/log-lines.ts";
import { withDuckdb } from "../helpers/sql-engines.ts";
import { globFiles, openWriter, T0, tempDirs } from "../helpers/store.ts";

const dir = tempDirs("writer-edges-");
const finals = (d: string) => globFiles(d, "orderbook_snapshots/**/*.parquet");
const segs = (d: string) => globFiles(d, "_staging/**/seg-*.arrows");
const bytesOf = (d: string, files: string[]) => files.reduce((n, f) => n + statSync(join(d, f)).size, 0);
const MIN = 60_000;

/**
 * nodeFs whose next create() waits, when `hold` is set, until `release()` (`held` resolves once one is waiting), and
 * whose next create() after that fails with EIO when `failNext` is set.
 */
function gatedFs() {
  let open: (() => void) | null = null;
  let waiting: (() => void) | null = null;
  const g = {
    hold: false,
    failNext: false,
    held: new Promise<void>((r) => (waiting = r)),
    release: () => open?.(),
    fs: {
      ...nodeFs,
      create: async (p: string) => {
        if (g.hold) {
          g.hold = false;
          const gate = new Promise<void>((r) => (open = r));
          waiting?.();
          await gate;
        } else if (g.failNext) {
          g.failNext = false;
          throw Object.assign(new Error(`EIO: injected, create '${p}'`), { code: "EIO", path: p });
        }
        return nodeFs.create(p);
      },
    } as StorageFs,
  };
  return g;
}

/**
 * 10 rows in the bucket [T0, T0 + 5 min), the clock past its end and grace, and a flush started with create() held:
 * the flush stages the 10 rows, then finalizes the bucket. `lateRow()` appends one more row of that bucket while the
 * flush is held (the bucket still open); `expected` is every row appended.
 */
async function flushHeld(seed: number, failAfter: boolean) {
  const d = dir();
  const gate = gatedFs();
  const { w, clock } = await openWriter(d, { bucket_minutes: 5, flush_secs: 3600 }, { fs: gate.fs });
  const g = new BookGen({ start: T0, stepMs: 1000, seed });
  const expected: SnapshotRow[] = [];
  const put = (s = g.next()) => {
    expected.push(normalizeSnapshot(copyInput(s), 50));
    w.append(s);
  };
  for (let i = 0; i < 10; i++) put();
  clock.set(T0 + 10 * MIN);
  gate.hold = true;
  gate.failNext = failAfter;
  const flushed = w.flush().then(
    () => "ok",
    (e: Error) => e.message,
  );
  await gate.held; // staging the 10 rows
  put({ ...g.next(), tsRecv: T0 + 4 * MIN });
  gate.release();
  return { d, w, expected, flushed };
}

const FINAL = "orderbook_snapshots/venue=mock/date=2026-01-01/hour=00/snapshots_2026-01-01T00-00.parquet";
const G1 = "_staging/mock/2026-01-01T00-00_5m_g1";

/**
 * What a process killed mid-finalize leaves: bucket [T0, T0 + 5 min) staged as generation 1 (10 rows) with its
 * finalize marker naming FINAL, which was never renamed into place. Returns the rows staged.
 */
async function killedMidFinalize(d: string): Promise<SnapshotRow[]> {
  const { w } = await openWriter(d, { bucket_minutes: 5, flush_secs: 3600 });
  const g = new BookGen({ start: T0, stepMs: 1000, seed: 21 });
  const rows: SnapshotRow[] = [];
  for (let i = 0; i < 10; i++) {
    const s = g.next();
    rows.push(normalizeSnapshot(copyInput(s), 50));
    w.append(s);
  }
  await w.flush(); // staged, bucket still open; the writer is then abandoned (no close)
  writeFileSync(join(d, G1, MARKER), JSON.stringify({ target: FINAL, rows: 10 }));
  return rows;
}

describe("SnapshotWriter edges", () => {
  test("a late row for the latest bucket after it was finalized is no bucket change: it waits for the timer", async () => {
    const d = dir();
    const { w, clock } = await openWriter(d, { bucket_minutes: 5, flush_secs: 3600 });
    const g = new BookGen({ start: T0, stepMs: 1000, seed: 22 });
    for (let i = 0; i < 5; i++) w.append(g.next());
    clock.set(T0 + 10 * MIN);
    await w.flush();
    expect(finals(d)).toEqual([FINAL]);
    w.append({ ...g.next(), tsRecv: T0 + 4 * MIN }); // a new generation of the same (latest) bucket
    await Bun.sleep(0);
    await w["chain"];
    expect(w.status()).toMatchObject({ rowsBuffered: 1, flushes: 1 });
    expect(segs(d)).toEqual([]);
    await w.close();
    expect(finals(d)).toEqual([FINAL, FINAL.replace(".parquet", "_1.parquet")]);
  });

  test("recovery: a generation finalized while an older one's claimed name is not yet in place takes the next name", async () => {
    const d = dir();
    const rows = await killedMidFinalize(d);
    cpSync(join(d, G1), join(d, G1.replace("_g1", "_g2")), { recursive: true }); // a second generation …
    rmSync(join(d, G1.replace("_g1", "_g2"), MARKER)); // … not finalizing yet
    const clock = new SimClock(T0 + 10 * MIN);
    const f = new FaultyFs(() => clock.now());
    f.fail("rename", "EIO", { match: /T00-00\.parquet$/, times: 1 }); // generation 1's rename fails once
    const { w } = await openWriter(d, { bucket_minutes: 5, flush_secs: 3600 }, { clock, fs: f.fs });
    await w.flush(); // the retry
    expect(f.failures.length).toBe(1);
    expect(finals(d)).toEqual([FINAL, FINAL.replace(".parquet", "_1.parquet")]);
    for (const file of finals(d)) expect(readSnapshotFile(join(d, file))).toEqual(rows);
    await w.close();
  });

  test("recovery: a new generation of a bucket whose recovered one is still finalizing gets a new staging dir", async () => {
    const d = dir();
    const rows = await killedMidFinalize(d);
    const clock = new SimClock(T0 + 2 * MIN); // the bucket is still open by the clock
    const f = new FaultyFs(() => clock.now());
    f.fail("rename", "EIO", { match: /\.parquet$/ }); // finalizing fails until cleared
    const { w } = await openWriter(d, { bucket_minutes: 5, flush_secs: 3600 }, { clock, fs: f.fs });
    const g = new BookGen({ start: T0 + 2 * MIN, stepMs: 1000, seed: 23 });
    const late: SnapshotRow[] = [];
    for (let i = 0; i < 3; i++) {
      const s = g.next();
      late.push(normalizeSnapshot(copyInput(s), 50));
      w.append(s); // generation 1 does not accept (it has a marker): a new generation
    }
    await w.flush().catch(() => {}); // stages the 3 rows; finalizing generation 1 fails again
    expect(segs(d).length).toBe(2);
    f.clear();
    await w.close();
    expect(finals(d)).toEqual([FINAL, FINAL.replace(".parquet", "_1.parquet")]);
    expect(readSnapshotFile(join(d, FINAL))).toEqual(rows);
    expect(readSnapshotFile(join(d, FINAL.replace(".parquet", "_1.parquet")))).toEqual(late);
  });

  test("a row appended to a bucket while the flush finalizing it is writing ends up in its final file", async () => {
    const { d, w, expected, flushed } = await flushHeld(3, false);
    expect(await flushed).toBe("ok");
    expect(finals(d).length).toBe(1);
    expect(readSnapshotFile(join(d, finals(d)[0]))).toEqual(expected);
    await w.close();
  });

  test("…and when staging that late row fails once, the retry finalizes it once, not twice", async () => {
    const { d, w, expected, flushed } = await flushHeld(6, true);
    expect(await flushed).toContain("EIO");
    expect(finals(d)).toEqual([]);
    await w.flush();
    expect(readSnapshotFile(join(d, finals(d)[0]))).toEqual(expected);
    await w.close();
  });

  test("a flush publishes the gauges: rows staged now and buckets pending", async () => {
    const d = dir();
    const metrics = new Metrics();
    const { w } = await openWriter(d, { bucket_minutes: 5, flush_secs: 3600 }, { metrics });
    const g = new BookGen({ start: T0, stepMs: 1000, seed: 4 });
    for (let i = 0; i < 3; i++) w.append(g.next());
    await w.flush();
    expect(metrics.get(W.rowsStagedNow)).toBe(3);
    expect(metrics.get(W.pendingBuckets)).toBe(1);
    await w.close();
  });

  test("status counts rows and bytes as the disk holds them: zero at open, staged segments, then the final file", async () => {
    const d = dir();
    const { w, clock } = await openWriter(d, { bucket_minutes: 5, flush_secs: 3600 });
    expect(w.status()).toEqual({
      rowsAppended: 0,
      rowsBuffered: 0,
      rowsStaged: 0,
      rowsFinalized: 0,
      bytesStaged: 0,
      bytesFinalized: 0,
      filesFinalized: 0,
      flushes: 0,
      flushMsTotal: 0,
      lastFlushMs: 0,
      lastFlushRows: 0,
      lastFlushBytes: 0,
      writeErrors: 0,
      droppedRows: 0,
      pendingBuckets: 0,
      lastError: null,
    });
    const g = new BookGen({ start: T0, stepMs: 1000, seed: 7 });
    for (const n of [30, 12]) {
      for (let i = 0; i < n; i++) w.append(g.next());
      await w.flush();
    }
    const staged = bytesOf(d, segs(d));
    expect(segs(d).length).toBe(2);
    expect(w.status()).toMatchObject({ rowsBuffered: 0, rowsStaged: 42, bytesStaged: staged, lastFlushRows: 12 });
    expect(w.status().lastFlushBytes).toBe(statSync(join(d, segs(d)[1])).size);
    clock.set(T0 + 10 * MIN); // the bucket is closed: the next flush finalizes it
    await w.flush();
    expect(finals(d).length).toBe(1);
    expect(w.status()).toMatchObject({
      rowsStaged: 0,
      bytesStaged: 0,
      rowsFinalized: 42,
      bytesFinalized: bytesOf(d, finals(d)),
      filesFinalized: 1,
      flushes: 3,
      pendingBuckets: 0,
    });
    await w.close();
  });

  test("two venues appending in turn to one bucket: one state each, one final file each (no _1 parts)", async () => {
    const d = dir();
    const { w } = await openWriter(d, { bucket_minutes: 5, flush_secs: 3600 });
    const gens = ["mock", "other"].map((venue, i) => new BookGen({ start: T0, stepMs: 1000, seed: 10 + i, venue }));
    for (let i = 0; i < 20; i++) w.append(gens[i % 2].next());
    expect(w.status().pendingBuckets).toBe(2);
    await w.close();
    expect(finals(d).map((f) => f.replace(/date=.*\//, ""))).toEqual([
      "orderbook_snapshots/venue=mock/snapshots_2026-01-01T00-00.parquet",
      "orderbook_snapshots/venue=other/snapshots_2026-01-01T00-00.parquet",
    ]);
    for (const f of finals(d)) expect(readSnapshotFile(join(d, f)).length).toBe(10);
  });

  test("inside a failed write's backoff, full buffers wait for the retry: no write attempt before it is due", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    const f = new FaultyFs(() => clock.now());
    const { w } = await openWriter(
      d,
      { flush_rows: 10, flush_secs: 3600, retry_base_ms: 500, retry_cap_ms: 500 },
      { clock, fs: f.fs },
    );
    f.fail("create", "EIO", { match: "_staging", times: 1 });
    const g = new BookGen({ start: T0, stepMs: 1 });
    for (let i = 0; i < 10; i++) w.append(g.next()); // flush_rows: attempt 1, which fails
    await Bun.sleep(0);
    await w["chain"];
    expect(f.failures.length).toBe(1);
    for (let i = 0; i < 30; i++) w.append(g.next()); // three more full buffers within the 500 ms
    await Bun.sleep(0);
    await w["chain"];
    expect(w.status()).toMatchObject({ writeErrors: 1, rowsBuffered: 40, rowsStaged: 0 });
    expect(segs(d)).toEqual([]);
    await clock.advance(500); // the retry, due now
    expect(w.status()).toMatchObject({ writeErrors: 1, rowsBuffered: 0, rowsStaged: 40 });
    await w.close();
  });

  test("'writes succeed again' is logged once, after failures only: never after a flush that follows success", async () => {
    const d = dir();
    const clock = new SimClock(T0);
    const f = new FaultyFs(() => clock.now());
    const { w } = await openWriter(d, { flush_secs: 3600, retry_base_ms: 500, retry_cap_ms: 500 }, { clock, fs: f.fs });
    const g = new BookGen({ start: T0, stepMs: 1 });
    const again = (lines: { msg: string }[]) => lines.filter((l) => l.msg.includes("writes succeed again"));
    const ok = await logLines(async () => {
      for (let i = 0; i < 5; i++) w.append(g.next());
      await w.flush();
    });
    expect(again(ok.lines)).toEqual([]);
    f.fail("create", "EIO", { match: "_staging", times: 2 });
    const healed = await logLines(async () => {
      for (let i = 0; i < 5; i++) w.append(g.next());
      await w.flush().catch(() => {});
      await clock.advance(500); // fails again
      await clock.advance(500); // succeeds
      for (let i = 0; i < 5; i++) w.append(g.next());
      await w.flush(); // nothing failed since: no second line
    });
    expect(f.failures.length).toBe(2);
    expect(again(healed.lines).map((l) => l.msg)).toEqual([
      expect.stringMatching(
        /^writes succeed again after 2 failed attempt\(s\) \(EIO .*_staging.*\); buffered rows are durable$/,
      ),
    ]);
    expect(w.status()).toMatchObject({ rowsStaged: 15, lastError: null });
    await w.close();
  });

  test("compression = snappy (parquet-wasm) compacts raw staged parts: every row, exact", async () => {
    const d = dir();
    const { w } = await openWriter(d, { bucket_minutes: 5, flush_secs: 3600, compression: "snappy" });
    const g = new BookGen({ start: T0, stepMs: 50, seed: 5 });
    const expected: SnapshotRow[] = [];
    for (const n of [40, 25]) {
      for (let i = 0; i < n; i++) {
        const s = g.next();
        expected.push(normalizeSnapshot(copyInput(s), 50));
        w.append(s);
      }
      await w.flush(); // two raw segments
    }
    await w.close();
    const file = join(d, finals(d)[0]);
    expect(readSnapshotFile(file)).toEqual(expected);
    // The string columns are dictionary-encoded (DICTIONARY_COLUMNS), the numeric ones not (bench/writer.bench.ts).
    const encodings = await withDuckdb((q) =>
      q(`SELECT path_in_schema AS p, encodings AS e FROM parquet_metadata('${file}') WHERE row_group_id = 0`),
    );
    const enc = (p: string) => String(encodings.find((r) => r.p === p)?.e);
    for (const p of ["venue", "market_id", "outcome_id", "status", "err"]) expect(enc(p)).toContain("RLE_DICTIONARY");
    for (const p of ["mid", "ts_recv"]) expect(enc(p)).not.toContain("RLE_DICTIONARY");
  });
});
