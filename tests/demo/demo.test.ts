/** `surveillance demo` end to end through the CLI, and the demo's window across a day boundary. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJournal } from "../../src/collector/journal.ts";
import { parseConfig } from "../../src/config.ts";
import { demoWindow, runDemo } from "../../src/demo.ts";
import { listDatasetFiles } from "../../src/layout.ts";
import { readSnapshotFile } from "../../src/parquet/read.ts";
import { latestStatsPath, readLatestStats, readStatsFile } from "../../src/scheduler/stats-reader.ts";
import { globFiles } from "../helpers/store.ts";
import { REPO, runCli } from "../helpers/run-cli.ts";

const M = 60_000;
/** Start of the bucket a snapshot file is named after (`snapshots_YYYY-MM-DDTHH-mm.parquet`). */
const fileBucket = (name: string) =>
  Date.parse(name.replace(/^snapshots_(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2}).*$/, "$1T$2:$3:00Z"));

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("surveillance demo", () => {
  test("scan → collect → mine → reschedule end to end through the CLI", async () => {
    const dir = mkdtempSync(join(tmpdir(), "demo-"));
    dirs.push(dir);
    const r = await runCli(["demo", "--data-dir", dir, "--duration", "20m", "--top", "3"]);
    const after = Date.now();
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    for (const step of ["1. scan", "2. collect", "3. mine", "4. schedule again", "Next:"])
      expect(r.stdout).toContain(step);
    expect(r.stdout).toContain(dir);

    const files = listDatasetFiles(dir, { venues: ["mock"] });
    expect(files.length).toBe(4); // 20 minutes in whole 5-minute buckets
    // The simulated time ended before the real now: no bucket reaches past it, no journal record is later.
    for (const f of files) expect(fileBucket(f.name) + 5 * M).toBeLessThanOrEqual(after);
    for (const j of globFiles(dir, "subscriptions/**/events.jsonl")) {
      for (const e of await readJournal(join(dir, j), { markers: true })) expect(e.ts).toBeLessThanOrEqual(after);
    }
    const now = Date.now();
    const statsFile = latestStatsPath(dir, "mock", now + 86_400_000)!;
    expect(existsSync(statsFile)).toBe(true);
    const rows = await readStatsFile(statsFile);
    expect(rows.length).toBeGreaterThan(100);
    // The HOT list the demo prints is the best-scored markets from the stats it wrote.
    const scores = (await readLatestStats(dir, "mock", now + 86_400_000))!;
    const best = [...scores].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
    const hotSection = r.stdout.slice(r.stdout.indexOf("4. schedule again"));
    expect(hotSection).toContain(best);

    // The "Next:" lines run as printed (from the checkout: `bun run start --`; `surveillance` is on no PATH).
    const next = r.stdout.slice(r.stdout.indexOf("Next:")).split("\n").slice(1, 5);
    expect(next.map((l) => /^ {3}[^:]+: +bun run start -- (\w+) --data-dir /.exec(l)?.[1])).toEqual([
      "mine",
      "status",
      "verify",
      "collect",
    ]);
    for (const line of next.slice(0, 3)) {
      const cmd = line.slice(line.indexOf("bun run start"));
      const p = Bun.spawnSync(["sh", "-c", cmd], { cwd: REPO, env: { ...process.env, NO_COLOR: "1" } });
      expect({ cmd, code: p.exitCode }).toEqual({ cmd, code: 0 });
    }
  }, 180_000);
});

describe("demo window", () => {
  test("ends at now aligned down to a bucket", () => {
    const now = Date.UTC(2026, 3, 5, 10, 7, 31);
    expect(demoWindow(now, 60 * M, 5)).toEqual({ start: Date.UTC(2026, 3, 5, 9, 5), end: Date.UTC(2026, 3, 5, 10, 5) });
    expect(demoWindow(Date.UTC(2026, 3, 5, 10, 5), 15 * M, 5)).toEqual({
      start: Date.UTC(2026, 3, 5, 9, 50),
      end: Date.UTC(2026, 3, 5, 10, 5),
    });
  });

  test("at 00:07 UTC a 20-minute demo writes 23:45 .. 00:05 across two days, nothing dated later", async () => {
    const dir = mkdtempSync(join(tmpdir(), "demo-"));
    dirs.push(dir);
    const config = parseConfig({ venues: { mock: { enabled: true, universe_size: 60 } } }, "test", { dataDir: dir });
    const now = Date.UTC(2026, 0, 2, 0, 7, 30);
    const end = Date.UTC(2026, 0, 2, 0, 5);
    const lines: string[] = [];
    await runDemo(config, { durationMs: 20 * M, top: 3, now, print: (l) => lines.push(l), cli: "surveillance" });
    const files = listDatasetFiles(dir, { venues: ["mock"] });
    expect(files.map((f) => f.name).sort()).toEqual(
      ["2026-01-01T23-45", "2026-01-01T23-50", "2026-01-01T23-55", "2026-01-02T00-00"].map(
        (b) => `snapshots_${b}.parquet`,
      ),
    );
    const ts = files.flatMap((f) => readSnapshotFile(f.abs).map((r) => r.ts_recv));
    expect(Math.min(...ts)).toBeGreaterThanOrEqual(end - 20 * M);
    expect(Math.max(...ts)).toBeLessThan(end);
    const journals = globFiles(dir, "subscriptions/**/events.jsonl");
    expect(journals).toEqual([
      "subscriptions/venue=mock/date=2026-01-01/events.jsonl",
      "subscriptions/venue=mock/date=2026-01-02/events.jsonl",
    ]);
    for (const j of journals)
      for (const e of await readJournal(join(dir, j), { markers: true })) expect(e.ts).toBeLessThan(end);
    expect(globFiles(dir, "metadata/**/universe.jsonl")).toEqual([
      "metadata/venue=mock/date=2026-01-01/universe.jsonl",
    ]);
    expect(globFiles(dir, "stats/**/stats.parquet")).toEqual(["stats/venue=mock/date=2026-01-02/stats.parquet"]);
    // The demo mined its own window, and the hint it prints covers both days.
    const out = lines.join("\n");
    expect(out).toContain("2026-01-01 23:45:02 .. 2026-01-02 00:04:58 UTC");
    expect(out).toContain("--from 2026-01-01 --to 2026-01-02 --json");
    // The "Files:" globs (layout.ts's dayGlobs, date=* across two days) each find what the demo wrote.
    const globs = lines.slice(lines.findIndex((l) => l.endsWith("Files:")) + 1, lines.indexOf("Next:"));
    expect(globs).toHaveLength(4);
    for (const g of globs) {
      expect(g).toStartWith(`   ${dir}/`);
      expect(g).toContain("/date=*/");
      expect(globFiles(dir, g.slice(`   ${dir}/`.length)).length).toBeGreaterThan(0);
    }
  }, 120_000);
});
