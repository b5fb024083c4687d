/** [upload], [retention], [disk]: defaults, refusals naming the key path, and credentials named but never shown. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config.ts";
import { readCredentials } from "../../src/upload/s3.ts";
import { configRefusal, refusal } from "../helpers/refusal.ts";
import { runCli } from "../helpers/run-cli.ts";

/** The message parseConfig refuses `doc` with, a usage error (exit 2). */
const configMessage = (doc: unknown): string => {
  const e = configRefusal(doc);
  expect(e.exitCode).toBe(2);
  return e.message;
};

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("upload config", () => {
  test("off by default; retention keeps forever; the disk guard has its thresholds", () => {
    const c = parseConfig({});
    expect(c.upload.url).toBe("");
    expect(c.upload.concurrency).toBe(2);
    expect(c.upload.drain_secs).toBe(60);
    expect(c.upload.access_key_id_env).toBe("AWS_ACCESS_KEY_ID");
    expect(c.retention.keep_local_days).toBe(0);
    expect(c.disk).toMatchObject({ min_free_gb: 10, min_free_pct: 5, floor_free_gb: 2, floor_free_pct: 1 });
  });

  test("bad values are refused with the key path", () => {
    expect(configMessage({ upload: { url: "https://bucket/x" } })).toStartWith(
      't.toml: upload.url = "https://bucket/x": must be',
    );
    expect(configMessage({ upload: { url: "s3://B/x" } })).toStartWith("t.toml: upload.url");
    expect(configMessage({ upload: { endpoint: "localhost:9000" } })).toStartWith("t.toml: upload.endpoint");
    expect(configMessage({ upload: { concurrency: 0 } })).toStartWith("t.toml: upload.concurrency = 0: must be ≥ 1");
    expect(configMessage({ upload: { access_key_id_env: "my key" } })).toStartWith("t.toml: upload.access_key_id_env");
    expect(configMessage({ upload: { part_size_mb: 1 } })).toContain("upload.part_size_mb = 1: must be ≥ 5");
    expect(configMessage({ upload: { retry_base_ms: 5000, retry_cap_ms: 1000 } })).toContain(
      "upload.retry_cap_ms = 1000",
    );
    expect(configMessage({ upload: { bucket: "x" } })).toContain("upload.bucket");
    expect(configMessage({ retention: { keep_local_days: -1 } })).toContain("retention.keep_local_days = -1");
    expect(configMessage({ disk: { floor_free_gb: 20, min_free_gb: 10 } })).toContain(
      "disk.floor_free_gb = 20: must be ≤",
    );
    expect(configMessage({ disk: { min_free_pct: 150 } })).toContain("disk.min_free_pct = 150: must be ≤ 100");
  });

  test("missing credentials name the variables, not their values", () => {
    const c = parseConfig({
      upload: {
        url: "s3://bkt/p",
        access_key_id_env: "MY_KEY",
        secret_access_key_env: "MY_SECRET",
        session_token_env: "MY_TOKEN",
      },
    });
    const e = refusal(() => readCredentials(c.upload, { MY_KEY: "AKIAEXAMPLEVALUE" }));
    expect(e.exitCode).toBe(2);
    const msg = e.message;
    expect(msg).toContain("MY_SECRET (upload.secret_access_key_env)");
    expect(msg).toContain("MY_TOKEN (upload.session_token_env)");
    expect(msg).not.toContain("MY_KEY (");
    expect(msg).not.toContain("AKIAEXAMPLEVALUE");
  });

  test("collect with upload on and no credentials: exit 2 before anything is written", async () => {
    const d = await mkdtemp(join(tmpdir(), "upload-cfg-"));
    dirs.push(d);
    const cfg = join(d, "s.toml");
    await Bun.write(
      cfg,
      `data_dir = "${d}/data"\n[upload]\nurl = "s3://bkt/prefix"\nendpoint = "http://127.0.0.1:9"\n`,
    );
    const r = await runCli(["collect", "--config", cfg, "--duration", "1m"], {
      env: { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("AWS_ACCESS_KEY_ID (upload.access_key_id_env)");
    expect(r.stderr).toContain("AWS_SECRET_ACCESS_KEY (upload.secret_access_key_env)");
    expect(existsSync(join(d, "data", "orderbook_snapshots"))).toBe(false);
    expect(existsSync(join(d, "data", "_staging"))).toBe(false);
  });
});
