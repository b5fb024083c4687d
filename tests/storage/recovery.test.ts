/** Recovery of staged rows after an abandoned writer: closed buckets finalized at open, the open one continued. */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { readManifest } from "../../src/storage/manifest.ts";
import { readSnapshotFile } from "../../src/parquet/read.ts";
import { BookGen } from "../helpers/books.ts";
import { globFiles, openWriter, T0, tempDir } from "../helpers/store.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
const MIN = 60_000;

describe("recovery of staged rows (in-process: the first writer is abandoned without close)", () => {
  test("closed buckets are finalized at open, the open bucket continues and ends in one file", async () => {
    const t = tempDir("surv-recover-");
    cleanups.push(t.cleanup);
    const d = t.dir;
    const a = await openWriter(d, { bucket_minutes: 5 });
    const g = new BookGen({ start: T0 + 3 * MIN, stepMs: 100 });
    const seqOf = new Map<string, number>();
    const key = (ts: number, m: string, o: string, seq: number) => `${ts}|${m}|${o}|${seq}`;
    for (let i = 0; i < 3000; i++) {
      const s = g.next(); // 00:03:00 … 00:07:59.9 → buckets 00:00 and 00:05
      seqOf.set(key(s.tsRecv, s.marketId, s.outcomeId, s.seq), 1);
      a.w.append(s);
    }
    await a.w.flush();
    for (let i = 0; i < 10; i++) a.w.append(g.next()); // never flushed: lost with the process, by design
    // "restart" at 00:08:00: bucket 00:00 is closed, 00:05 is still open
    const clock = new SimClock(T0 + 8 * MIN);
    const b = await openWriter(d, { bucket_minutes: 5 }, { clock });
    const base = "orderbook_snapshots/venue=mock/date=2026-01-01/hour=00/snapshots_2026-01-01T00-";
    expect(globFiles(d, "orderbook_snapshots/**/*.parquet")).toEqual([`${base}00.parquet`]);
    expect(b.w.status().rowsStaged).toBe(3000 - readSnapshotFile(join(d, `${base}00.parquet`)).length);
    const g2 = new BookGen({ start: T0 + 8 * MIN, stepMs: 100, seed: 99 });
    for (let i = 0; i < 500; i++) {
      const s = g2.next();
      seqOf.set(key(s.tsRecv, s.marketId, s.outcomeId, s.seq), 1);
      b.w.append(s);
    }
    await b.w.close();
    expect(globFiles(d, "orderbook_snapshots/**/*.parquet")).toEqual([`${base}00.parquet`, `${base}05.parquet`]);
    const rows = [...readSnapshotFile(join(d, `${base}00.parquet`)), ...readSnapshotFile(join(d, `${base}05.parquet`))];
    const seen = new Set(rows.map((r) => key(r.ts_recv, r.market_id, r.outcome_id, r.seq)));
    expect(rows.length).toBe(3500);
    expect(seen.size).toBe(3500);
    for (const k of seen) expect(seqOf.has(k)).toBe(true);
    expect(globFiles(d, "_staging/**/*")).toEqual([]);
    expect((await readManifest(d)).entries.map((e) => e.rows).reduce((x, y) => x + y)).toBe(3500);
  });

  test("after recovery the open bucket's next segment follows the last staged one: no staged segment is replaced", async () => {
    const t = tempDir("surv-recover-");
    cleanups.push(t.cleanup);
    const d = t.dir;
    const a = await openWriter(d, { bucket_minutes: 5 });
    const g = new BookGen({ start: T0, stepMs: 100 });
    const keys = new Set<string>();
    const key = (ts: number, m: string, o: string, seq: number) => `${ts}|${m}|${o}|${seq}`;
    // Three flushes into bucket 00:00: segments 1, 2 and 3 of one staging directory.
    for (let f = 0; f < 3; f++) {
      for (let i = 0; i < 400; i++) {
        const s = g.next();
        keys.add(key(s.tsRecv, s.marketId, s.outcomeId, s.seq));
        a.w.append(s);
      }
      await a.w.flush();
    }
    expect(globFiles(d, "_staging/mock/*/seg-*.arrows").length).toBe(3);
    // Restart while 00:00 is still open: the new writer adds segments to the same directory.
    const b = await openWriter(d, { bucket_minutes: 5 }, { clock: new SimClock(T0 + 3 * MIN) });
    for (let f = 0; f < 2; f++) {
      for (let i = 0; i < 300; i++) {
        const s = g.next();
        keys.add(key(s.tsRecv, s.marketId, s.outcomeId, s.seq));
        b.w.append(s);
      }
      await b.w.flush();
    }
    expect(globFiles(d, "_staging/mock/*/seg-*.arrows").length).toBe(5);
    await b.w.close();
    const files = globFiles(d, "orderbook_snapshots/**/*.parquet");
    const rows = files.flatMap((f) => readSnapshotFile(join(d, f)));
    expect(rows.length).toBe(3 * 400 + 2 * 300);
    expect(new Set(rows.map((r) => key(r.ts_recv, r.market_id, r.outcome_id, r.seq)))).toEqual(keys);
  });
});
