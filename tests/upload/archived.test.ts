/**
 * Files retention deleted after a verified upload are "archived", not lost: status counts them (and their buckets are
 * not missing), verify lists them apart from problems; a listed file gone without a verified copy is still missing.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { consola } from "consola";
import { existsSync, rmSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { manifestPath, snapshotPath } from "../../src/layout.ts";
import { dayStatus, formatStatus } from "../../src/ops/status.ts";
import { verifyDataset } from "../../src/ops/verify.ts";
import { readManifest } from "../../src/storage/manifest.ts";
import { DISK_DEFAULTS } from "../../src/upload/config.ts";
import { DiskGuard } from "../../src/upload/disk-guard.ts";
import { Ledger, verifiedCopies } from "../../src/upload/ledger.ts";
import { runCli } from "../helpers/run-cli.ts";
import { bookRow } from "../helpers/snapshot-files.ts";
import { T0, tempDir } from "../helpers/store.ts";
import { writeRowsWithWriter } from "../helpers/write-rows.ts";

setDefaultTimeout(60_000);

const MIN = 60_000;
const HOUR = 60 * MIN;
const URL = "s3://bkt/rec";
/** Buckets 10:00 … 10:25 of T0's day, two rows each. */
const STARTS = [0, 5, 10, 15, 20, 25].map((m) => T0 + 10 * HOUR + m * MIN);
const rel = (start: number) => snapshotPath("mock", start, 5);

let dir: string;
let cleanup: () => void;
const deleted: string[] = [];
/** Verified, then deleted by retention: 10:05 and 10:20. Deleted without a copy (lost): 10:10. */
const archived = [STARTS[1], STARTS[4]].map(rel);
const lost = rel(STARTS[2]);

beforeAll(async () => {
  consola.level = 0;
  ({ dir, cleanup } = tempDir("archived-"));
  await writeRowsWithWriter(
    dir,
    STARTS.flatMap((s, i) => [bookRow(s + 1000, "mock", `m${i}`, "yes", 1), bookRow(s + 2000, "mock", "mx", "no", 2)]),
  );
  const ledger = await Ledger.open(dir, URL);
  for (const r of archived) {
    const st = statSync(join(dir, r));
    await ledger.record({ path: r, size: st.size, mtime_ms: st.mtimeMs, sha256: "x", verified_at: T0 });
  }
  // Ten days later, keep_local_days = 7: retention deletes what is verified (and old), nothing else.
  const guard = new DiskGuard({
    dataDir: dir,
    disk: { ...DISK_DEFAULTS, min_free_gb: 0, min_free_pct: 0, floor_free_gb: 0, floor_free_pct: 0 },
    retention: { keep_local_days: 7 },
    ledger,
    clock: new SimClock(T0 + 10 * 24 * HOUR),
    probe: async () => ({ free: 1e12, total: 2e12 }),
    onDelete: (f) => deleted.push(f.rel),
  });
  await guard.check();
  unlinkSync(join(dir, lost));
});
afterAll(() => {
  consola.level = 3;
  cleanup();
});

describe("archived files", () => {
  test("retention deleted exactly the verified files", () => {
    expect(deleted.sort()).toEqual(archived);
    for (const r of archived) expect(existsSync(join(dir, r))).toBe(false);
    for (const s of [0, 3, 5]) expect(existsSync(join(dir, rel(STARTS[s])))).toBe(true);
  });

  test("status: archived counted per hour, their buckets not missing; the lost one is", async () => {
    const s = await dayStatus(dir, T0, { bucketMinutes: 5, archived: await verifiedCopies(dir) });
    expect(s.hours).toHaveLength(1);
    expect(s.hours[0]).toMatchObject({ files: 3, archived_files: 2, archived_rows: 4, missing_buckets: ["10-10"] });
    const listed = (await readManifest(dir)).entries.filter((e) => archived.includes(e.path));
    expect(s.hours[0].archived_bytes).toBe(listed.reduce((t, e) => t + e.bytes, 0));
    const text = formatStatus(s);
    expect(text.split("\n")[1].split(/\s+/).at(-1)).toBe("archived");
    expect(text).toContain("2 archived files (4 rows; deleted locally, verified in the bucket)");
    // Without the ledger (as before): the archived buckets are missing too.
    const blind = await dayStatus(dir, T0, { bucketMinutes: 5 });
    expect(blind.hours[0].missing_buckets).toEqual(["10-05", "10-10", "10-20"]);
    expect(blind.hours[0].archived_files).toBe(0);
    expect(formatStatus(blind)).not.toContain("archived");
  });

  test("verify: archived listed apart, only the lost file is missing", async () => {
    const report = await verifyDataset(dir, {
      topK: 50,
      bucketMinutes: 5,
      manifest: () => readManifest(dir),
      archived: await verifiedCopies(dir),
    });
    expect(report.archived.sort()).toEqual(archived);
    expect(report.problems.filter((p) => p.check === "missing").map((p) => p.file)).toEqual([lost]);
  });

  test("a verified copy of another size is not archived", async () => {
    const copies = await verifiedCopies(dir);
    const e = copies.get(archived[0])!;
    const wrong = new Map(copies).set(archived[0], { ...e, size: e.size + 1 });
    const report = await verifyDataset(dir, {
      topK: 50,
      bucketMinutes: 5,
      manifest: () => readManifest(dir),
      archived: wrong,
    });
    expect(report.archived).not.toContain(archived[0]);
    expect(report.problems.some((p) => p.file === archived[0] && p.check === "missing")).toBe(true);
  });

  test("CLI: verify names the archived files and fails only for the lost one; status --json has the counts", async () => {
    const v = await runCli(["verify", "--data-dir", dir, "--json"]);
    expect(v.code).toBe(1);
    const j = JSON.parse(v.stdout);
    expect(j.archived_files).toBe(2);
    expect(j.problems.filter((p: { check: string }) => p.check === "missing")).toEqual([
      { file: lost, check: "missing", message: "in the manifest but not on disk" },
    ]);
    const s = await runCli(["status", "--data-dir", dir, "--date", "2026-01-01", "--json"]);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).hours[0]).toMatchObject({ archived_files: 2, archived_rows: 4 });
  });

  test("CLI: an hour whose every file is archived verifies OK (exit 0), not 'no final files'", async () => {
    const { dir: d, cleanup: done } = tempDir("archived-all-");
    try {
      await writeRowsWithWriter(d, [bookRow(STARTS[0] + 1000, "mock", "a", "yes", 1)]);
      const ledger = await Ledger.open(d, URL);
      const st = statSync(join(d, rel(STARTS[0])));
      await ledger.record({ path: rel(STARTS[0]), size: st.size, mtime_ms: st.mtimeMs, sha256: "x", verified_at: T0 });
      rmSync(join(d, rel(STARTS[0])));
      expect(existsSync(manifestPath(d))).toBe(true);
      const v = await runCli(["verify", "--data-dir", d]);
      expect(v.stdout).toContain("1 archived file(s)");
      expect(v.stdout.trim().split("\n").at(-1)).toBe("OK: 0 files, 0 rows");
      expect(v.code).toBe(0);
      const s = await runCli(["status", "--data-dir", d, "--date", "2026-01-01"]);
      expect(s.stdout).toContain("1 archived files");
      expect(s.stdout).not.toContain("no data");
    } finally {
      done();
    }
  });
});
