/**
 * collect with upload on a disk that fills up (a writer fs that fails with ENOSPC past a capacity, and the guard's
 * probe reporting the same capacity): the guard deletes verified-uploaded files oldest first and the writer drops
 * no row; everything the manifest lists is in the bucket or still on disk.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { consola } from "consola";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCollect } from "../../src/collector/run.ts";
import { SimClock } from "../../src/clock.ts";
import { Metrics } from "../../src/metrics.ts";
import { scanAll } from "../../src/scanner/scanner.ts";
import { nodeFs, type StorageFs } from "../../src/storage/fs.ts";
import { SnapshotWriter } from "../../src/storage/writer.ts";
import { type S3Server, startS3 } from "../helpers/s3-server.ts";
import { bucketKeys, client, CREDS, uploadConfig } from "./helpers.ts";
import { WRITER_METRICS } from "../../src/storage/metric-names.ts";
import { DISK_METRICS } from "../../src/upload/metric-names.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const HOUR = 3_600_000;
const CAP = 1_200_000;

let s3: S3Server;
let dir: string;
beforeAll(async () => {
  consola.level = 0;
  s3 = await startS3();
  dir = await mkdtemp(join(tmpdir(), "upload-full-"));
});
afterAll(async () => {
  consola.level = 3;
  await s3.close();
  await rm(dir, { recursive: true, force: true });
});

function used(d: string): number {
  let n = 0;
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    const st = statSync(p);
    n += st.isDirectory() ? used(p) : st.size;
  }
  return n;
}

/** The writer's file operations on a disk of CAP bytes: a write past it fails with ENOSPC. */
function fullDiskFs(): { fs: StorageFs; enospc: () => number } {
  let enospc = 0;
  const check = (len: number) => {
    if (used(dir) + len > CAP) {
      enospc++;
      throw Object.assign(new Error("ENOSPC: no space left on device (test capacity)"), { code: "ENOSPC" });
    }
  };
  return {
    enospc: () => enospc,
    fs: {
      ...nodeFs,
      async create(p) {
        check(0);
        const h = await nodeFs.create(p);
        return { ...h, write: async (b) => (check(b.length), h.write(b)) };
      },
      appendDurable: async (p, text) => (check(text.length), nodeFs.appendDurable(p, text)),
    },
  };
}

test("a filling disk: verified files deleted oldest first, the writer drops no row", async () => {
  const config = uploadConfig(dir, s3.endpoint, s3.bucket, {
    upload: { url: `s3://${s3.bucket}/full` },
    disk: { min_free_gb: 0.0006, min_free_pct: 0, floor_free_gb: 0.0004, floor_free_pct: 0, check_secs: 10 },
  });
  const clock = new SimClock(T0);
  await scanAll(config, { clock, env: {} });
  const metrics = new Metrics();
  const disk = fullDiskFs();
  const sink = await SnapshotWriter.open({
    dataDir: dir,
    settings: config.writer,
    topK: config.top_k,
    clock,
    metrics,
    fs: disk.fs,
  });
  const probe = async () => ({ free: CAP - used(dir), total: CAP });
  await runCollect(config, {
    clock,
    durationMs: 1.5 * HOUR,
    metrics,
    env: CREDS,
    sink,
    diskProbe: probe,
  });
  const manifest = readFileSync(join(dir, "_manifest/orderbook_snapshots.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { path: string; bytes: number });
  const onDisk = new Set([...new Bun.Glob("orderbook_snapshots/**/*.parquet").scanSync({ cwd: dir })]);
  const deleted = manifest.filter((e) => !onDisk.has(e.path)).map((e) => e.path);

  expect(metrics.get(WRITER_METRICS.rowsDropped, { venue: "mock" })).toBe(0);
  expect(metrics.get(DISK_METRICS.deleted, { reason: "floor" })).toBe(deleted.length);
  expect(deleted.length).toBeGreaterThan(3); // the disk did fill: the guard had to act
  // Oldest first: every deleted file is older than every snapshot file still on disk.
  const kept = manifest.filter((e) => onDisk.has(e.path)).map((e) => e.path);
  expect(deleted.every((d) => kept.every((k) => d < k))).toBe(true);
  // Nothing lost: every listed file is in the bucket with its size.
  const c = client(s3.endpoint, s3.bucket);
  const keys = new Set(await bucketKeys(c, "full/"));
  for (const e of manifest) {
    expect(keys.has(e.path)).toBe(true);
    expect((await c.stat(`full/${e.path}`)).size).toBe(e.bytes);
  }
}, 300_000);
