/** The manifest after a torn append: the next entry still starts on its own line. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { nodeFs } from "../../src/storage/fs.ts";
import { appendManifest, readManifest, type ManifestEntry } from "../../src/storage/manifest.ts";
import { manifestPath } from "../../src/layout.ts";

describe("manifest after a torn append", () => {
  test("the next entry starts on its own line and reads back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "manifest-torn-"));
    mkdirSync(dirname(manifestPath(dir)), { recursive: true });
    // A crash mid-append left the second line torn.
    writeFileSync(manifestPath(dir), '{"path":"a.parquet","rows":1}\n{"path":"b.parq');
    const e: ManifestEntry = {
      path: "c.parquet",
      venue: "mock",
      bucket_start: 0,
      bucket_start_iso: "",
      bucket_minutes: 5,
      part: 0,
      rows: 7,
      bytes: 1,
      min_ts_recv: 0,
      max_ts_recv: 0,
      markets: 1,
      written_at: 0,
    };
    await appendManifest(nodeFs, dir, e);
    const read = await readManifest(dir);
    expect(read.entries.map((x) => x.path)).toEqual(["a.parquet", "c.parquet"]);
    expect(read.badLines).toEqual([2]);
  });
});
