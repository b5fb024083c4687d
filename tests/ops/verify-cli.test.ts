/** `surveillance verify` and `status` through the CLI: exit codes, named problems, --json, changed bucket lengths. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { snapshotPath } from "../../src/layout.ts";
import { bookRow, writeSnapshotFile } from "../helpers/snapshot-files.ts";
import { runCli } from "../helpers/run-cli.ts";
import { FILES, relOf, writeBucketChangeDataset } from "../helpers/bucket-change.ts";

// spawns the CLI / writes real files: the 5 s default is too short on a loaded machine (bunfig has no timeout key)
setDefaultTimeout(60_000);

const T = Date.UTC(2026, 4, 6, 7, 10);
const T2 = Date.UTC(2026, 4, 6, 8, 0);
const badRel = snapshotPath("mock", T2, 5);

describe("surveillance verify / status (CLI)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "verify-cli-"));
    await writeSnapshotFile(join(dir, snapshotPath("mock", T, 5)), [
      bookRow(T + 1, "mock", "a", "yes", 1),
      bookRow(T + 2, "mock", "b", "yes", 1),
    ]);
    // hour 08: one bad row (spread inconsistent) at row 1
    const bad = bookRow(T2 + 3, "mock", "c", "no", 1);
    bad.spread = 7;
    await writeSnapshotFile(join(dir, badRel), [bookRow(T2, "mock", "c", "no", 1), bad]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("clean data: exit 0, OK line on stdout", async () => {
    const r = await runCli(["verify", "--data-dir", dir, "--from", "2026-05-06", "--to", "2026-05-06T07"]);
    expect(r.stdout.trim().split("\n").at(-1)).toBe("OK: 1 files, 2 rows");
    expect(r.code).toBe(0);
  });

  test("a bad row: exit 1, file and row named, --json parses", async () => {
    const rel = badRel;
    const r = await runCli(["verify", "--data-dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${rel} row 1: spread: spread = 7`);
    const j = await runCli(["verify", "--data-dir", dir, "--json", "--from", "2026-05-06T07", "--to", "2026-05-06"]);
    expect(j.code).toBe(1);
    const report = JSON.parse(j.stdout);
    expect(report).toMatchObject({ ok: false, files: 2, rows: 4, bad_files: 1 });
    expect(report.problems).toEqual([
      { file: rel, row: 1, check: "spread", message: expect.stringContaining("spread = 7") },
    ]);
  });

  test("a range with nothing in it is an error (exit 1); a bad range is usage (exit 2)", async () => {
    expect((await runCli(["verify", "--data-dir", dir, "--from", "2026-05-07"])).code).toBe(1);
    expect((await runCli(["verify", "--data-dir", dir, "--from", "2026-05-07", "--to", "2026-05-06"])).code).toBe(2);
    expect((await runCli(["verify", "--data-dir", dir, "--from", "yesterday"])).code).toBe(2);
  });

  test("status --json for the day", async () => {
    const r = await runCli(["status", "--data-dir", dir, "--date", "2026-05-06", "--json"]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.hours).toHaveLength(2);
    expect(s.hours[0]).toMatchObject({ venue: "mock", hour: "07", files: 1, rows: 2, markets: 2 });
    // 07:15 .. 07:55 hold nothing between the 07:10 and 08:00 buckets
    expect(s.hours[1]).toMatchObject({ venue: "mock", hour: "08", files: 1, rows: 2, markets: 1, missing_buckets: [] });
    expect(s.hours[0].missing_buckets).toEqual([
      "07-15",
      "07-20",
      "07-25",
      "07-30",
      "07-35",
      "07-40",
      "07-45",
      "07-50",
      "07-55",
    ]);
    const t = await runCli(["status", "--data-dir", dir, "--date", "2026-05-06"]);
    expect(t.stdout).toContain("mock: 2 files, 4 rows, ");
    expect(t.stdout).toContain("9 (07-15..07-55)");
  });
});

describe("surveillance verify / status (CLI) after writer.bucket_minutes changed", () => {
  let dir: string;
  let rows = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "verify-cli-bm-"));
    rows = await writeBucketChangeDataset(join(dir, "data"));
    writeFileSync(
      join(dir, "c.toml"),
      [`data_dir = "${join(dir, "data")}"`, "[writer]", "bucket_minutes = 15"].join("\n"),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("configured 15 over 5- and 15-minute files: verify OK, status without gaps; without the manifest a note says what was assumed", async () => {
    const cfg = ["--config", join(dir, "c.toml"), "--date", "2026-06-10"];
    const v = await runCli(["verify", ...cfg.slice(0, 2)]);
    expect(v.stdout.trim()).toBe(`OK: ${FILES.length} files, ${rows} rows`);
    expect(v.code).toBe(0);
    const s = await runCli(["status", ...cfg]);
    expect(s.stdout.split("\n")[0]).toBe("2026-06-10 (UTC), 5- and 15-minute buckets (configured: 15)");
    expect(s.stdout).toContain(`mock: ${FILES.length} files, ${rows} rows, `);
    expect(s.stdout).toContain(" 0 missing buckets, ");
    rmSync(join(dir, "data", "_manifest"), { recursive: true });
    const n = await runCli(["verify", ...cfg.slice(0, 2)]);
    expect(n.code).toBe(0);
    const first = FILES.find((f) => f.start % (15 * 60_000) !== 0)!;
    expect(n.stdout.trim().split("\n")).toEqual([
      `note: 10 file(s) without a bucket length in the manifest do not fit the configured 15-minute buckets; judged as 5-minute buckets, the shortest their names and rows fit (first: ${relOf(first)})`,
      `OK: ${FILES.length} files, ${rows} rows`,
    ]);
    const j = JSON.parse((await runCli(["status", ...cfg, "--json"])).stdout);
    expect(j).toMatchObject({ bucket_minutes: 15, bucket_minutes_found: [5, 15] });
    expect(j.inferred).toHaveLength(10);
  });
});
