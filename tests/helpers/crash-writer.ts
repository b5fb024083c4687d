/**
 * Child process for the crash test: writes a deterministic sequence of snapshots on a SimClock, flushing every
 * `rowsPerFlush` rows and printing `flushed <n>` after each flush resolved (rows 0..n-1 are then durable).
 * It never stops on its own; the parent kills it with SIGKILL.
 * Args: dataDir seed startTs stepMs rowsPerFlush bucketMinutes [encodeAtFlushRows (default: the writer's)]
 */
import { SimClock } from "../../src/clock.ts";
import { WRITER_DEFAULTS } from "../../src/config.ts";
import { SnapshotWriter } from "../../src/storage/writer.ts";
import { BookGen } from "./books.ts";

const [dataDir, seed, startTs, stepMs, rowsPerFlush, bucketMinutes, encodeAt] = process.argv.slice(2);
const clock = new SimClock(Number(startTs));
const w = await SnapshotWriter.open({
  dataDir,
  settings: { ...WRITER_DEFAULTS, bucket_minutes: Number(bucketMinutes), flush_secs: 1, row_group_rows: 200 },
  topK: 50,
  clock,
  encodeAtFlushRows: encodeAt === undefined ? undefined : Number(encodeAt),
});
w.start();
const g = new BookGen({ seed: Number(seed), start: Number(startTs), stepMs: Number(stepMs), markets: 20 });
let n = 0;
for (;;) {
  for (let i = 0; i < Number(rowsPerFlush); i++) {
    const s = g.next();
    await clock.runUntil(s.tsRecv); // timers (flush_secs ticks, bucket finalization) fire as time passes
    w.append(s);
    n++;
  }
  await w.flush();
  process.stdout.write(`flushed ${n}\n`);
}
