/** A writer child SIGKILLed mid-bucket after a flush: every durable row is recovered at the next start. */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { checkManifest } from "../../src/storage/manifest.ts";
import { parquetFileInfo, readSnapshotFile } from "../../src/parquet/read.ts";
import { BookGen } from "../helpers/books.ts";
import { globFiles, openWriter, tempDir } from "../helpers/store.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

const CHILD = join(import.meta.dir, "../helpers/crash-writer.ts");

/** Runs the child until it has reported `flushes` flushes, SIGKILLs it, returns the last reported durable row count. */
async function runAndKill(
  dataDir: string,
  args: { seed: number; start: number; stepMs: number; rowsPerFlush: number; bucketMinutes: number; encodeAt: number },
  flushes: number,
): Promise<number> {
  const p = Bun.spawn(
    [
      "bun",
      CHILD,
      dataDir,
      String(args.seed),
      String(args.start),
      String(args.stepMs),
      String(args.rowsPerFlush),
      String(args.bucketMinutes),
      String(args.encodeAt),
    ],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  let durable = 0;
  let seen = 0;
  let buf = "";
  const dec = new TextDecoder();
  for await (const chunk of p.stdout) {
    buf += dec.decode(chunk);
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const m = /^flushed (\d+)$/.exec(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (m) {
        durable = Number(m[1]);
        seen++;
      }
    }
    if (seen >= flushes) {
      p.kill("SIGKILL");
      break;
    }
  }
  await p.exited;
  if (seen < flushes) throw new Error(`child ended early: ${await new Response(p.stderr).text()}`);
  expect(p.signalCode).toBe("SIGKILL");
  return durable;
}

const key = (ts: number, m: string, o: string, seq: number) => `${ts}|${m}|${o}|${seq}`;

describe("crash: SIGKILL mid-bucket after a flush", () => {
  test.each([
    // kills land at different points: mid-bucket, right after a bucket change, during compaction of a closed bucket;
    // flushes (the child's flush_secs timer makes them ~10 rows) staged raw (encodeAtFlushRows Infinity) or as
    // encoded row groups (5; the smaller flushes at bucket changes stay raw)
    [1, 3, 250, 1, Infinity],
    [2, 7, 400, 1, Infinity],
    [3, 12, 150, 5, Infinity],
    [4, 5, 250, 1, 5],
    [5, 11, 150, 5, 5],
  ])(
    "run %i: killed after %i flushes (%i rows each, %i-min buckets, encoded from %d rows); every flushed row is final exactly once, nothing partial is visible",
    async (seed, flushes, rowsPerFlush, bucketMinutes, encodeAt) => {
      const t = tempDir("surv-crash-");
      cleanups.push(t.cleanup);
      const d = t.dir;
      const start = Date.UTC(2026, 5, 30, 23, 58, 30); // crosses an hour, a day and a month boundary
      const args = { seed, start, stepMs: 97, rowsPerFlush, bucketMinutes, encodeAt };
      const durable = await runAndKill(d, args, flushes);
      expect(durable).toBe(flushes * rowsPerFlush);

      // whatever the child left must not be visible to a dataset glob except complete final files
      for (const f of globFiles(d, "**/*.parquet")) expect(f.startsWith("orderbook_snapshots/")).toBe(true);

      // restart well after the last bucket: recovery finalizes everything staged
      const clock = new SimClock(start + 24 * 3600_000);
      const { w } = await openWriter(d, { bucket_minutes: bucketMinutes }, { clock });
      await w.close();

      const files = globFiles(d, "**/*.parquet");
      const rows = files.flatMap((f) => readSnapshotFile(join(d, f)));
      const keys = rows.map((r) => key(r.ts_recv, r.market_id, r.outcome_id, r.seq));
      expect(new Set(keys).size).toBe(keys.length); // exactly once

      // the same deterministic sequence: the first `durable` rows must all be there, and nothing foreign
      const g = new BookGen({ seed, start, stepMs: 97, markets: 20 });
      const seqKeys: string[] = [];
      for (let i = 0; i < keys.length + rowsPerFlush * 2 + 10; i++) {
        const s = g.next();
        seqKeys.push(key(s.tsRecv, s.marketId, s.outcomeId, s.seq));
      }
      const have = new Set(keys);
      const missing = seqKeys.slice(0, durable).filter((k) => !have.has(k));
      expect(missing).toEqual([]);
      const known = new Set(seqKeys);
      expect(keys.filter((k) => !known.has(k))).toEqual([]);
      // every row sits in the file of its own bucket
      for (const f of files) {
        for (const r of readSnapshotFile(join(d, f))) {
          const b = new Date(Math.floor(r.ts_recv / (bucketMinutes * 60_000)) * bucketMinutes * 60_000).toISOString();
          expect(f).toContain(`snapshots_${b.slice(0, 10)}T${b.slice(11, 13)}-${b.slice(14, 16)}`);
        }
      }
      expect(globFiles(d, "_staging/**/*")).toEqual([]);
      expect(globFiles(d, "orderbook_snapshots/**/.tmp-*")).toEqual([]);
      expect((await checkManifest(d)).ok).toBe(true);
      // flushes staged as encoded row groups keep their size (~10 rows) in the final files; raw rows are cut at 200
      const sizes = (await Promise.all(files.map((f) => parquetFileInfo(join(d, f))))).flatMap((i) => i.rowGroupRows);
      expect(sizes.filter((n) => n <= 20).length >= 10).toBe(encodeAt === 5);
    },
    60_000,
  ); // child processes on a loaded machine
});
