/**
 * SnapshotWriter edges mutation testing found unguarded: a row appended to a bucket while the flush that finalizes
 * it is writing, the gauges a flush publishes, and the parquet-wasm (snappy) compaction of raw staged parts.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Metrics } from "../../src/metrics.ts";
import { readSnapshotFile } from "../../src/parquet/read.ts";
import { normalizeSnapshot, type SnapshotRow } from "../../src/schema.ts";
import { nodeFs, type StorageFs } from "../../src/storage/fs.ts";
import { WRITER_METRICS as W } from "../../src/storage/metric-names.ts";
import { BookGen, copyInput } from "../helpers/books.ts";
import { globFiles, openWriter, T0, tempDirs } from "../helpers/store.ts";

const dir = tempDirs("writer-edges-");
const finals = (d: string) => globFiles(d, "orderbook_snapshots/**/*.parquet");
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

describe("SnapshotWriter edges", () => {
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
    expect(readSnapshotFile(join(d, finals(d)[0]))).toEqual(expected);
  });
});
