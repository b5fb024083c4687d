/**
 * `--data-dir s3://BUCKET/PREFIX` for mine, status and verify against s3rver, after a collect uploaded its tree:
 * the same answers as over the local tree; a manifest in the bucket ahead of its objects gives pending files (listed
 * recently) and missing ones (listed long ago); missing credentials are refused naming the variables (exit 2).
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { runCollect } from "../../src/collector/run.ts";
import { MANIFEST_DIR, MANIFEST_FILE, manifestPath, snapshotPath } from "../../src/layout.ts";
import { scanAll } from "../../src/scanner/scanner.ts";
import type { ManifestEntry } from "../../src/storage/manifest.ts";
import { runCli } from "../helpers/run-cli.ts";
import { client, CREDS, s3Fixture, uploadConfig } from "./helpers.ts";

setDefaultTimeout(120_000);

const T0 = Date.UTC(2026, 0, 1, 12);
const MIN = 60_000;
const fx = s3Fixture("upload-read-");
let dir: string;
let cfg: string;
const remote = () => `s3://${fx.s3.bucket}/read/box1`;
const env = CREDS;

const cli = async (args: string[], e: Record<string, string | undefined> = env) => {
  const r = await runCli([...args, "--config", cfg], { env: e });
  return { ...r, json: () => JSON.parse(r.stdout) };
};

/** The manifest as the collect left it, in the bucket with `extra` lines appended (a copy running ahead). */
async function bucketManifest(extra: ManifestEntry[]): Promise<void> {
  const text = readFileSync(manifestPath(dir), "utf8") + extra.map((e) => `${JSON.stringify(e)}\n`).join("");
  await client(fx.s3.endpoint, fx.s3.bucket).write(`read/box1/${MANIFEST_DIR}/${MANIFEST_FILE}`, text);
}

function listedLater(start: number, writtenAt: number): ManifestEntry {
  const first = JSON.parse(readFileSync(manifestPath(dir), "utf8").split("\n")[0]) as ManifestEntry;
  return {
    ...first,
    path: snapshotPath("mock", start, 5),
    bucket_start: start,
    bucket_start_iso: new Date(start).toISOString(),
    written_at: writtenAt,
  };
}

beforeAll(async () => {
  fx.proxy.set("pass");
  dir = await fx.freshDir();
  const config = uploadConfig(dir, fx.s3.endpoint, fx.s3.bucket, { upload: { url: remote() } });
  const clock = new SimClock(T0);
  await scanAll(config, { clock, env: {} });
  await runCollect(config, { clock, durationMs: 40 * MIN, env });
  cfg = join(dir, "surveillance.toml");
  await Bun.write(
    cfg,
    `data_dir = "${dir}"\ntop_k = 5\n[writer]\nbucket_minutes = 5\n[upload]\nurl = "${remote()}"\nendpoint = "${fx.s3.endpoint}"\naccess_key_id_env = "TEST_S3_KEY"\nsecret_access_key_env = "TEST_S3_SECRET"\n`,
  );
});

describe("--data-dir s3://", () => {
  test("mine gives the same stats as over the local tree", async () => {
    const local = await cli(["mine", "--from", "2026-01-01", "--json"]);
    const fromBucket = await cli(["mine", "--data-dir", remote(), "--from", "2026-01-01", "--json"]);
    expect(local.code).toBe(0);
    expect(fromBucket.code).toBe(0);
    // The same but for the time taken and the stats cache, which a bucket's reader does not keep.
    const strip = (j: { elapsed_ms?: number; venues: { stats_file?: string | null }[] }) => ({
      ...j,
      elapsed_ms: 0,
      venues: j.venues.map((v) => ({ ...v, stats_file: null })),
    });
    const l = local.json();
    expect(l.totals.rows).toBeGreaterThan(1000);
    expect(l.venues[0].stats_file).toContain(dir);
    expect(fromBucket.json().venues[0].stats_file).toBeNull();
    expect(strip(fromBucket.json())).toEqual(strip(l));
    expect(fromBucket.stderr).toContain(`from ${remote()}`);
  });

  test("status and verify give the same as over the local tree", async () => {
    await bucketManifest([]);
    const local = await cli(["status", "--date", "2026-01-01", "--json"]);
    const fromBucket = await cli(["status", "--data-dir", remote(), "--date", "2026-01-01", "--json"]);
    expect(fromBucket.code).toBe(0);
    expect(fromBucket.json().hours).toEqual(local.json().hours);
    expect(fromBucket.json().upload).toBeUndefined(); // the bucket is the target: no upload state of its own
    expect(local.json().upload.venues[0].pending_files).toBe(0);
    const v = await cli(["verify", "--data-dir", remote()]);
    const vl = await cli(["verify"]);
    expect(v.code).toBe(0);
    expect(v.stdout.trim().split("\n").at(-1)).toBe(vl.stdout.trim().split("\n").at(-1));
    expect(v.stdout).toMatch(/^OK: \d+ files, \d+ rows$/m);
  });

  test("the bucket's manifest ahead of its objects: recent = pending, old = missing", async () => {
    const recent = listedLater(T0 + 60 * MIN, Date.now() - 60_000);
    const old = listedLater(T0 + 65 * MIN, T0 + 65 * MIN);
    await bucketManifest([recent]);
    const ahead = await cli(["verify", "--data-dir", remote()]);
    expect(ahead.code).toBe(0);
    expect(ahead.stdout).toContain(`1 file(s) pending upload`);
    expect(ahead.stdout).toContain(recent.path);
    const j = (await cli(["verify", "--data-dir", remote(), "--json"])).json();
    expect(j).toMatchObject({ ok: true, pending: [recent.path] });

    await bucketManifest([recent, old]);
    const lost = (await cli(["verify", "--data-dir", remote(), "--json"])).json();
    expect(lost.ok).toBe(false);
    expect(lost.pending).toEqual([recent.path]);
    expect(lost.problems).toEqual([{ file: old.path, check: "missing", message: "in the manifest but not on disk" }]);
    // --pending-secs 0: nothing is pending, both are missing
    const strict = (await cli(["verify", "--data-dir", remote(), "--json", "--pending-secs", "0"])).json();
    expect(strict.pending).toEqual([]);
    expect(strict.problems.map((p: { file: string }) => p.file).sort()).toEqual([recent.path, old.path].sort());
    // a local tree never has pending files: a listed file gone is missing
    const localManifest = readFileSync(manifestPath(dir), "utf8");
    try {
      await Bun.write(manifestPath(dir), `${localManifest}${JSON.stringify(recent)}\n`);
      const l = (await cli(["verify", "--json"])).json();
      expect(l.pending).toEqual([]);
      expect(l.problems.map((p: { file: string }) => p.file)).toEqual([recent.path]);
    } finally {
      await Bun.write(manifestPath(dir), localManifest);
      await bucketManifest([]);
    }
  });

  test("missing credentials: exit 2, the variables named, nothing read", async () => {
    const r = await cli(["status", "--data-dir", remote()], { TEST_S3_KEY: undefined, TEST_S3_SECRET: "x" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--data-dir ${remote()}: the bucket credentials are not set`);
    expect(r.stderr).toContain("TEST_S3_KEY (upload.access_key_id_env)");
    const bad = await cli(["verify", "--data-dir", "s3://Bad_Bucket/x"]);
    expect(bad.code).toBe(2);
  });
});
