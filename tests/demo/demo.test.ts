import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listDatasetFiles } from "../../src/storage/parquet-read.ts";
import { latestStatsPath, readLatestStats, readStatsFile } from "../../src/storage/stats-cache.ts";
import { runCli } from "../helpers/run-cli.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("surveillance demo", () => {
  test("scan → collect → mine → reschedule end to end through the CLI", async () => {
    const dir = mkdtempSync(join(tmpdir(), "demo-"));
    dirs.push(dir);
    const r = await runCli(["demo", "--data-dir", dir, "--duration", "20m", "--top", "3"]);
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    for (const step of ["1. scan", "2. collect", "3. mine", "4. schedule again", "Next:"]) expect(r.stdout).toContain(step);
    expect(r.stdout).toContain(dir);

    const files = listDatasetFiles(dir, { venues: ["mock"] });
    expect(files.length).toBeGreaterThanOrEqual(4); // 20 minutes in 5-minute buckets
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
  }, 180_000);
});
