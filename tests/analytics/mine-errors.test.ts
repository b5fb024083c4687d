/** The miner on bad ground: range pruning, unreadable files skipped and named (exit 1), nothing to mine, bad usage. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { mine } from "../../src/analytics/miner.ts";
import { listDatasetFiles, snapshotPath } from "../../src/layout.ts";
import { UserError } from "../../src/errors.ts";
import { normalizeSnapshot, type SnapshotRow } from "../../src/schema.ts";
import { writeSnapshotFile } from "../helpers/snapshot-files.ts";
import { runCli } from "../helpers/run-cli.ts";

const T = Date.UTC(2026, 0, 1);
const M = 60_000;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function rows(start: number, n: number, market = "m1"): SnapshotRow[] {
  return Array.from({ length: n }, (_, i) =>
    normalizeSnapshot(
      {
        tsRecv: start + i * 2000,
        venue: "mock",
        marketId: market,
        outcomeId: "yes",
        seq: i + 1,
        bidPx: [0.4],
        bidSz: [10 + i],
        askPx: [0.5],
        askSz: [5],
      },
      50,
    ),
  );
}

/** Good files at 10:00 and 10:05, 11:00 on 2026-01-01. */
async function dataset(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "mine-err-"));
  dirs.push(dir);
  for (const ts of [T + 600 * M, T + 605 * M, T + 660 * M])
    await writeSnapshotFile(join(dir, snapshotPath("mock", ts, 5)), rows(ts, 20));
  return dir;
}

function put(dir: string, rel: string, bytes: Uint8Array | string): string {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

describe("range pruning", () => {
  test("partitions outside the range are never opened", async () => {
    const dir = await dataset();
    // Unreadable files out of range: if the miner opened any of them it would report it as skipped.
    put(dir, snapshotPath("mock", T - 5 * M, 5), "not parquet");
    put(dir, snapshotPath("mock", T + 540 * M, 5), "not parquet");
    put(dir, snapshotPath("mock", T + 720 * M, 5), "not parquet");
    put(dir, snapshotPath("mock", T + 24 * 60 * M, 5), "not parquet");
    const r = await mine({ dataDir: dir, from: T + 600 * M, to: T + 720 * M, top: 5, writeStats: false });
    expect(r.skipped).toEqual([]);
    expect(r.totals.files).toBe(3);
    expect(r.totals.rows).toBe(60);
    const listed = listDatasetFiles(dir, { venues: ["mock"], fromTs: T + 600 * M, toTs: T + 660 * M }).map(
      (f) => f.abs,
    );
    expect(listed).toEqual([
      join(dir, snapshotPath("mock", T + 600 * M, 5)),
      join(dir, snapshotPath("mock", T + 605 * M, 5)),
    ]);
  }, 60_000);
});

describe("unreadable files", () => {
  test("truncated, garbage and page-corrupt files are named and skipped, the rest is mined, exit code 1", async () => {
    const dir = await dataset();
    const good = readFileSync(join(dir, snapshotPath("mock", T + 600 * M, 5)));
    const truncated = put(dir, snapshotPath("mock", T + 610 * M, 5), good.subarray(0, Math.floor(good.length / 2)));
    const garbage = put(dir, snapshotPath("mock", T + 615 * M, 5), "hello, not a parquet file at all");
    // Footer intact, data pages overwritten: only reading the data can tell.
    const pageCorrupt = new Uint8Array(good);
    for (let i = 4; i < Math.floor(good.length / 2); i++) pageCorrupt[i] = 0xab;
    const corrupt = put(dir, snapshotPath("mock", T + 620 * M, 5), pageCorrupt);

    const r = await mine({ dataDir: dir, from: T, to: T + 24 * 60 * M, top: 5, writeStats: false });
    expect(r.skipped.map((s) => s.file).sort()).toEqual([truncated, garbage, corrupt].sort());
    expect(r.totals.rows).toBe(60);

    const p = await runCli(["mine", "--data-dir", dir, "--from", "2026-01-01"]);
    expect(p.code).toBe(1);
    const err = p.stderr;
    for (const f of [truncated, garbage, corrupt]) expect(err).toContain(f);
    expect(p.stdout).toContain("60 rows");
  }, 60_000);
});

describe("nothing to mine", () => {
  test("an empty range is a clear error", async () => {
    const dir = await dataset();
    await expect(mine({ dataDir: dir, from: T + 48 * 60 * M, to: T + 72 * 60 * M, top: 5 })).rejects.toThrow(
      /no snapshot files in range/,
    );
    const p = await runCli(["mine", "--data-dir", dir, "--from", "2026-02-01"]);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain("no snapshot files in range");
    expect(p.stdout).toBe("");
  }, 60_000);

  test("a missing data dir or venue is a clear error", async () => {
    const dir = await dataset();
    await expect(mine({ dataDir: join(dir, "nope"), from: T, to: T + M, top: 5 })).rejects.toThrow(UserError);
    await expect(mine({ dataDir: dir, venues: ["kalshi"], from: T, to: T + 60 * M, top: 5 })).rejects.toThrow(
      /no data for venue kalshi/,
    );
  }, 60_000);

  test("a bad --from or a reversed range is bad usage (exit 2)", async () => {
    const dir = await dataset();
    expect((await runCli(["mine", "--data-dir", dir, "--from", "2026-13-01"])).code).toBe(2);
    expect((await runCli(["mine", "--data-dir", dir, "--from", "2026-01-02", "--to", "2026-01-01"])).code).toBe(2);
  }, 60_000);
});
