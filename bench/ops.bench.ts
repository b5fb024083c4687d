/**
 * `verify` and `status` (from metadata, and `status-data` reading the columns) on an hour written by the real writer:
 * rows/s, MB/s, peak RSS (docs/operations.md). `bun run bench ops` (ROWS=… to change the size).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimClock } from "../src/clock.ts";
import { WRITER_DEFAULTS } from "../src/config.ts";
import { readManifest } from "../src/storage/manifest.ts";
import { SnapshotWriter } from "../src/storage/writer.ts";
import { dayStatus } from "../src/ops/status.ts";
import { verifyDataset } from "../src/ops/verify.ts";
import { BookGen } from "../tests/helpers/books.ts";

const ROWS = Number(process.env.ROWS ?? 259_200); // one hour of one venue at the default settings
const MB = 1024 * 1024;
let peakRss = 0;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss / MB));

const dir = mkdtempSync(join(tmpdir(), "surv-bench-ops-"));
try {
  const start = Date.UTC(2026, 0, 1, 0, 0);
  const clock = new SimClock(start);
  const w = await SnapshotWriter.open({ dataDir: dir, settings: WRITER_DEFAULTS, topK: 50, clock });
  const g = new BookGen({ seed: 5, start, stepMs: 3_599_000 / ROWS, markets: 200, maxLevels: 60 });
  for (let i = 0; i < ROWS; i++) {
    w.append(g.next());
    if ((i + 1) % 10_000 === 0) await w.flush();
  }
  await w.close();
  const { entries } = await readManifest(dir);
  const bytes = entries.reduce((s, e) => s + e.bytes, 0);
  console.log(
    `data: ${ROWS.toLocaleString()} rows in ${entries.length} files, ${(bytes / MB).toFixed(1)} MB (writer, top_k 50, ~19 levels a side)`,
  );

  const run = async (name: string, fn: () => Promise<unknown>) => {
    peakRss = 0;
    const timer = setInterval(sample, 20);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    clearInterval(timer);
    sample();
    const cpuSecs = (cpu.user + cpu.system) / 1e6;
    console.log(
      `${name.padEnd(11)} ${secs.toFixed(2)} s wall: ${Math.round(ROWS / secs).toLocaleString()} rows/s, ${(bytes / MB / secs).toFixed(1)} MB/s; ` +
        `CPU ${cpuSecs.toFixed(2)} s: ${Math.round(ROWS / cpuSecs).toLocaleString()} rows/s; peak RSS ${peakRss.toFixed(0)} MB`,
    );
  };
  await run("verify", async () => {
    const r = await verifyDataset(dir, { topK: 50, bucketMinutes: 5, manifest: await readManifest(dir) });
    if (r.problems.length > 0 || r.rows !== ROWS)
      throw new Error(`verify found ${r.problems.length} problems, ${r.rows} rows`);
  });
  await run("status", async () => {
    const s = await dayStatus(dir, start, { bucketMinutes: 5 });
    if (s.hours.reduce((t, h) => t + h.rows, 0) !== ROWS) throw new Error("status rows differ");
  });
  await run("status-data", async () => {
    const s = await dayStatus(dir, start, { bucketMinutes: 5, fromData: true });
    if (s.hours.reduce((t, h) => t + h.rows, 0) !== ROWS) throw new Error("status rows differ");
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
