/**
 * A dataset recorded by the real SnapshotWriter across two changes of writer.bucket_minutes (5 → 15 → 5), as an
 * operator would leave it: the manifest records each file's own length.
 */
import { SimClock } from "../../src/clock.ts";
import { snapshotPath } from "../../src/layout.ts";
import { BookGen } from "./books.ts";
import { openWriter } from "./store.ts";

export const DAY = Date.UTC(2026, 5, 10);
const H = 3_600_000,
  MIN = 60_000;

/** [bucket_minutes, from, to): hour 10 in 5-minute files, 11:00–12:30 in 15-minute ones, 12:30–12:45 in 5-minute ones. */
export const RUNS: [number, number, number][] = [
  [5, DAY + 10 * H, DAY + 11 * H],
  [15, DAY + 11 * H, DAY + 12.5 * H],
  [5, DAY + 12.5 * H, DAY + 12.75 * H],
];

/** Every final file's bucket start and length, written out by hand from RUNS. */
export const FILES: { start: number; minutes: number }[] = RUNS.flatMap(([minutes, from, to]) =>
  Array.from({ length: (to - from) / (minutes * MIN) }, (_, k) => ({ start: from + k * minutes * MIN, minutes })),
);

export const relOf = (f: { start: number; minutes: number }) => snapshotPath("mock", f.start, f.minutes);

/** Writes RUNS with one writer per run (a restart with the new length), one row a second for 4 markets; returns the row count. */
export async function writeBucketChangeDataset(dir: string): Promise<number> {
  let rows = 0;
  for (const [minutes, from, to] of RUNS) {
    const clock = new SimClock(from);
    const { w } = await openWriter(dir, { bucket_minutes: minutes }, { clock });
    w.start();
    const g = new BookGen({ seed: minutes, markets: 4, start: from, stepMs: 1000 });
    for (let t = from; t < to; t += 1000, rows++) w.append(g.next());
    await clock.runUntil(to + 10_000);
    await w.close();
  }
  return rows;
}
