/** Writer crash points the kill harness can only hit by luck, reproduced deterministically with an fs that "dies". */
import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { nodeFs, type StorageFs } from "../../src/storage/fs.ts";
import { readManifest } from "../../src/storage/manifest.ts";
import { readSnapshotFile } from "../../src/parquet/read.ts";
import { decodeSegment, MARKER } from "../../src/storage/staging.ts";
import { BookGen } from "../helpers/books.ts";
import { globFiles, openWriter, T0, tempDir } from "../helpers/store.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
const MIN = 60_000;

describe("writer: a crash while deleting a finalized bucket's staging", () => {
  test("the marker goes first and the process dies: recovery does not compact the rows again", async () => {
    const t = tempDir("surv-crash-");
    cleanups.push(t.cleanup);
    // The recursive delete removes the marker, then the process "dies" before the segments are gone.
    const dying: StorageFs = {
      ...nodeFs,
      async rmrf(p) {
        const names = readdirSync(p, { withFileTypes: false }) as string[];
        if (names.includes(MARKER)) {
          unlinkSync(join(p, MARKER));
          throw Object.assign(new Error("killed"), { code: "EKILLED" });
        }
        return nodeFs.rmrf(p);
      },
    };
    const a = await openWriter(t.dir, { bucket_minutes: 1, flush_rows: 100 }, { fs: dying });
    const g = new BookGen({ start: T0, stepMs: 50, markets: 5 });
    for (let i = 0; i < 1000; i++) a.w.append(g.next()); // 00:00:00 … 00:00:49.95
    await a.w.flush();
    a.clock.set(T0 + 2 * MIN);
    await a.w.flush().catch(() => {}); // finalizes: file renamed, manifest appended, then the delete "crashes"
    const finals = globFiles(t.dir, "orderbook_snapshots/**/*.parquet");
    expect(finals.length).toBe(1);

    const b = await openWriter(t.dir, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 3 * MIN) });
    await b.w.close();
    expect(globFiles(t.dir, "orderbook_snapshots/**/*.parquet")).toEqual(finals); // no `_1` copy
    expect(readSnapshotFile(join(t.dir, finals[0])).length).toBe(1000);
    expect(globFiles(t.dir, "_staging/**/*")).toEqual([]);
    expect((await readManifest(t.dir)).entries.map((e) => e.rows)).toEqual([1000]);
  });
});

describe("writer: onDurable", () => {
  /** Rows on disk right now: staged segments (their trailer's row count) plus finalized Parquet files. */
  function rowsOnDisk(dir: string): number {
    let n = 0;
    for (const f of globFiles(dir, "_staging/**/*.arrows")) n += decodeSegment(readFileSync(join(dir, f))).stats.rows;
    for (const f of globFiles(dir, "orderbook_snapshots/**/*.parquet")) n += readSnapshotFile(join(dir, f)).length;
    return n;
  }

  test("reports every staged row once, per market, only after it is durable", async () => {
    const t = tempDir("surv-durable-");
    cleanups.push(t.cleanup);
    const reported = new Map<string, number>();
    let total = 0;
    /** At each report: [rows reported so far, rows on disk at that moment]. */
    const seen: [number, number][] = [];
    const { w, clock } = await openWriter(
      t.dir,
      { bucket_minutes: 1, flush_rows: 70 },
      {
        onDurable: (venue, byMarket) => {
          expect(venue).toBe("mock");
          for (const [m, n] of byMarket) {
            reported.set(m, (reported.get(m) ?? 0) + n);
            total += n;
          }
          seen.push([total, rowsOnDisk(t.dir)]);
        },
      },
    );
    const g = new BookGen({ start: T0, stepMs: 100, markets: 4 });
    const appended = new Map<string, number>();
    for (let i = 0; i < 1500; i++) {
      const s = g.next();
      appended.set(s.marketId, (appended.get(s.marketId) ?? 0) + 1);
      w.append(s);
      if (i === 699) {
        await w.flush(); // 700 rows made durable before the close, in the first two buckets
        expect(total).toBe(700);
        expect(rowsOnDisk(t.dir)).toBe(700);
        clock.set(T0 + 2 * 60_000 + 1); // the first bucket (rows 0…599) finalizes at the next flush
      }
    }
    await w.close();
    expect(seen.length).toBeGreaterThan(2);
    // Never reported ahead of the disk: each report's rows were there when it was made.
    for (const [r, d] of seen) expect(d).toBe(r);
    expect(total).toBe(1500);
    expect(new Map([...reported].sort())).toEqual(new Map([...appended].sort()));
  });
});
