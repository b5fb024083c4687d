/**
 * Retention and the disk guard over a real data tree and ledger: retention deletes only verified files older than
 * keep_local_days (never unverified, staged, the manifest, today's journal, the newest universe); the guard, fed by
 * an injected free-space probe, deletes verified files oldest first and only as many as the floor needs.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { consola } from "consola";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { Metrics } from "../../src/metrics.ts";
import { DISK_DEFAULTS } from "../../src/upload/config.ts";
import { DiskGuard } from "../../src/upload/disk-guard.ts";
import { Ledger } from "../../src/upload/ledger.ts";
import { DISK_METRICS } from "../../src/upload/metric-names.ts";

const NOW = Date.UTC(2026, 0, 10, 12);
const URL = "s3://bkt/p";
let dir: string;
const dirs: string[] = [];

beforeEach(async () => {
  consola.level = 0;
  dir = await mkdtemp(join(tmpdir(), "retention-"));
  dirs.push(dir);
});
afterAll(async () => {
  consola.level = 3;
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const snap = (day: number, hour: number) =>
  `orderbook_snapshots/venue=mock/date=2026-01-${String(day).padStart(2, "0")}/hour=${String(hour).padStart(2, "0")}/snapshots_2026-01-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}-00.parquet`;

function put(rel: string, bytes: number): void {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), new Uint8Array(bytes).fill(1));
}

async function verify(ledger: Ledger, rel: string): Promise<void> {
  const st = statSync(join(dir, rel));
  await ledger.record({ path: rel, size: st.size, mtime_ms: st.mtimeMs, sha256: "x", verified_at: NOW });
}

describe("retention", () => {
  test("deletes only verified final files older than keep_local_days", async () => {
    const old = [snap(1, 10), snap(2, 11), "subscriptions/venue=mock/date=2026-01-01/events.jsonl"];
    const oldUnverified = snap(2, 12);
    const recent = snap(8, 3);
    const today = "subscriptions/venue=mock/date=2026-01-10/events.jsonl";
    const universeOld = "metadata/venue=mock/date=2026-01-01/universe.jsonl";
    const universeNewest = "metadata/venue=mock/date=2026-01-02/universe.jsonl";
    const staged = "_staging/mock/x/seg-000001.arrows";
    const manifest = "_manifest/orderbook_snapshots.jsonl";
    for (const f of [...old, oldUnverified, recent, today, universeOld, universeNewest, staged, manifest]) put(f, 1000);
    const ledger = await Ledger.open(dir, URL);
    for (const f of [...old, recent, today, universeOld, universeNewest, manifest]) await verify(ledger, f);
    // verified, then changed locally (an appended or rewritten file): the verified copy is not this version
    const changed = snap(1, 11);
    put(changed, 1000);
    await verify(ledger, changed);
    put(changed, 1500);

    const deleted: string[] = [];
    const guard = new DiskGuard({
      dataDir: dir,
      disk: { ...DISK_DEFAULTS, min_free_gb: 0, min_free_pct: 0, floor_free_gb: 0, floor_free_pct: 0 },
      retention: { keep_local_days: 7 },
      ledger,
      clock: new SimClock(NOW),
      probe: async () => ({ free: 1e12, total: 2e12 }),
      onDelete: (f) => deleted.push(f.rel),
    });
    await guard.check();
    expect(deleted.sort()).toEqual([...old, universeOld].sort());
    for (const f of [oldUnverified, changed, recent, today, universeNewest, staged, manifest])
      expect(existsSync(join(dir, f))).toBe(true);
    for (const f of deleted) expect(existsSync(join(dir, f))).toBe(false);
  });

  test("keep_local_days = 0 keeps everything", async () => {
    put(snap(1, 1), 10);
    const ledger = await Ledger.open(dir, URL);
    await verify(ledger, snap(1, 1));
    const guard = new DiskGuard({
      dataDir: dir,
      disk: { ...DISK_DEFAULTS, min_free_gb: 0, min_free_pct: 0, floor_free_gb: 0, floor_free_pct: 0 },
      retention: { keep_local_days: 0 },
      ledger,
      clock: new SimClock(NOW),
      probe: async () => ({ free: 1e12, total: 2e12 }),
    });
    await guard.check();
    expect(existsSync(join(dir, snap(1, 1)))).toBe(true);
  });
});

describe("disk guard", () => {
  test("below the floor: verified files deleted oldest first, only as many as needed; unverified never", async () => {
    const files = [snap(3, 5), snap(1, 23), snap(2, 0), snap(1, 22), snap(4, 1)];
    for (const f of files) put(f, 100_000);
    put(snap(1, 2), 100_000); // the oldest, but not verified
    const ledger = await Ledger.open(dir, URL);
    for (const f of files) await verify(ledger, f);
    const used = () =>
      [...new Bun.Glob("**/*.parquet").scanSync({ cwd: dir })].reduce((s, f) => s + statSync(join(dir, f)).size, 0);
    const CAP = 1_000_000; // 600 kB used: 400 kB free, the floor is 0.6 MB → 200 kB to free: two files
    const metrics = new Metrics();
    const deleted: string[] = [];
    const guard = new DiskGuard({
      dataDir: dir,
      disk: { ...DISK_DEFAULTS, min_free_gb: 0.0008, min_free_pct: 0, floor_free_gb: 0.0006, floor_free_pct: 0 },
      retention: { keep_local_days: 0 },
      ledger,
      clock: new SimClock(NOW),
      metrics,
      probe: async () => ({ free: CAP - used(), total: CAP }),
      onDelete: (f) => deleted.push(f.rel),
    });
    await guard.check();
    expect(deleted).toEqual([snap(1, 22), snap(1, 23)]);
    expect(existsSync(join(dir, snap(1, 2)))).toBe(true);
    expect(metrics.get(DISK_METRICS.deleted, { reason: "floor" })).toBe(2);
    expect(metrics.get(DISK_METRICS.free)).toBe(600_000);
    expect(metrics.get(DISK_METRICS.low)).toBe(1); // still below the 0.8 MB warning level
  });

  test("below the floor: snapshot files go before older journal and universe days, which go only when needed", async () => {
    const journal = "subscriptions/venue=mock/date=2026-01-01/events.jsonl";
    const universe = "metadata/venue=mock/date=2026-01-01/universe.jsonl";
    const universeNewest = "metadata/venue=mock/date=2026-01-05/universe.jsonl";
    const snaps = [snap(4, 1), snap(3, 5)];
    for (const f of [journal, universe, universeNewest, ...snaps]) put(f, 100_000);
    const ledger = await Ledger.open(dir, URL);
    for (const f of [journal, universe, universeNewest, ...snaps]) await verify(ledger, f);
    const run = async (needKb: number) => {
      const deleted: string[] = [];
      const used = () =>
        [...new Bun.Glob("**/*.*").scanSync({ cwd: dir })].reduce((s, f) => s + statSync(join(dir, f)).size, 0);
      const CAP = 1_000_000;
      const floor = (CAP - used() + needKb * 1000) / 1e9; // free space short of the floor by needKb
      const guard = new DiskGuard({
        dataDir: dir,
        disk: { ...DISK_DEFAULTS, min_free_gb: floor, min_free_pct: 0, floor_free_gb: floor, floor_free_pct: 0 },
        retention: { keep_local_days: 0 },
        ledger,
        clock: new SimClock(NOW),
        probe: async () => ({ free: CAP - used(), total: CAP }),
        onDelete: (f) => deleted.push(f.rel),
      });
      await guard.check();
      return deleted;
    };
    // Short by 150 kB: the two snapshot files (newer than the journal and universe day) go, oldest first.
    expect(await run(150)).toEqual([snap(3, 5), snap(4, 1)]);
    // Short by 50 kB more and no snapshot left: the oldest other day goes; the newest universe never does.
    const next = await run(50);
    expect(next.length).toBe(1);
    expect([journal, universe]).toContain(next[0]);
    expect(existsSync(join(dir, universeNewest))).toBe(true);
  });

  test("nothing verified to delete: nothing deleted, the floor is reported", async () => {
    put(snap(1, 1), 100_000);
    const lines: string[] = [];
    const saved = [...consola.options.reporters];
    consola.setReporters([{ log: (o) => void lines.push(String(o.args[0])) }]);
    consola.level = 3;
    try {
      const guard = new DiskGuard({
        dataDir: dir,
        disk: { ...DISK_DEFAULTS, min_free_gb: 1, floor_free_gb: 0.5 },
        retention: { keep_local_days: 0 },
        ledger: await Ledger.open(dir, URL),
        clock: new SimClock(NOW),
        probe: async () => ({ free: 1000, total: 1e9 }),
      });
      await guard.check();
    } finally {
      consola.setReporters(saved);
      consola.level = 0;
    }
    expect(existsSync(join(dir, snap(1, 1)))).toBe(true);
    expect(lines.some((l) => l.includes("no local file has a verified copy to delete"))).toBe(true);
    expect(lines.some((l) => l.startsWith("LOW DISK"))).toBe(true);
  });
});
