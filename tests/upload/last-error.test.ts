/**
 * `_upload/last-error.json` and the upload lines of `status`: while s3rver (behind the fault proxy) refuses, the file
 * names the class, code, a message without credentials, the time and the count; status shows pending files, lag and
 * the error per venue; after the next success the file is gone and nothing is pending.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { runCollect } from "../../src/collector/run.ts";
import { lastErrorPath } from "../../src/layout.ts";
import { registerSecret } from "../../src/log.ts";
import { scanAll } from "../../src/scanner/scanner.ts";
import { failureClass, readLastError, writeLastError } from "../../src/upload/last-error.ts";
import { formatUploadStatus, uploadStatus } from "../../src/upload/upload-status.ts";
import { runCli } from "../helpers/run-cli.ts";
import { CREDS, s3Fixture, uploadConfig } from "./helpers.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const MIN = 60_000;

const fx = s3Fixture("upload-lasterr-");

describe("last-error.json and status's upload lines", () => {
  test("written while uploads fail (403), shown by status, removed after the next success", async () => {
    const dir = await fx.freshDir();
    const url = `s3://${fx.s3.bucket}/lasterr`;
    const config = uploadConfig(dir, fx.proxy.endpoint, fx.s3.bucket, { upload: { url, drain_secs: 30 } });
    const clock = new SimClock(T0);
    await scanAll(config, { clock, env: {} });
    fx.proxy.set("403");
    let during: Record<string, unknown> | undefined;
    clock.setTimer(25 * MIN, () => {
      during = JSON.parse(readFileSync(lastErrorPath(dir), "utf8"));
    });
    await runCollect(config, { clock, durationMs: 30 * MIN, env: CREDS });

    expect(during).toMatchObject({ class: "auth", code: "AccessDenied" });
    expect(during!.count as number).toBeGreaterThan(2);
    const err = await readLastError(dir);
    expect(err).toMatchObject({ class: "auth", code: "AccessDenied" });
    expect(err!.count).toBeGreaterThan(during!.count as number); // one more per failed attempt
    expect(err!.file).toMatch(/^[a-z_]+\//);
    expect(Date.parse(err!.at)).toBe(err!.at_ms);
    expect(err!.at_ms).toBeGreaterThan(T0 + 25 * MIN);
    expect(readFileSync(lastErrorPath(dir), "utf8")).not.toContain("S3RVER"); // no credential value

    const now = clock.now();
    const down = await uploadStatus(dir, url, now);
    expect(down.last_error?.code).toBe("AccessDenied");
    expect(down.venues).toHaveLength(1);
    const v = down.venues[0];
    expect(v).toMatchObject({ venue: "mock", uploaded_files: 0, last_verified_at: null });
    expect(v.pending_files).toBeGreaterThan(3);
    expect(v.lag_seconds).toBeGreaterThan(20 * 60); // the first file was final after ~5 min
    const line = formatUploadStatus(down)[0];
    expect(line).toContain(`upload mock to ${url}: ${v.pending_files} pending, 0 verified (last never)`);
    expect(line).toContain("last error AccessDenied (auth)");

    // The CLI with the same config file: the upload line and --json (snake_case) are there.
    const cfg = join(dir, "surveillance.toml");
    await Bun.write(
      cfg,
      `data_dir = "${dir}"\n[upload]\nurl = "${url}"\nendpoint = "${fx.proxy.endpoint}"\naccess_key_id_env = "TEST_S3_KEY"\nsecret_access_key_env = "TEST_S3_SECRET"\n`,
    );
    const text = await runCli(["status", "--config", cfg, "--date", "2026-01-01"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`upload mock to ${url}: ${v.pending_files} pending`);
    expect(text.stdout).toContain("last error AccessDenied (auth)");
    const json = JSON.parse((await runCli(["status", "--config", cfg, "--date", "2026-01-01", "--json"])).stdout);
    expect(json.upload.venues[0]).toMatchObject({ venue: "mock", pending_files: v.pending_files });
    expect(json.upload.last_error).toMatchObject({ class: "auth", code: "AccessDenied" });

    // The endpoint lets us in again: the next run uploads everything and removes the file.
    fx.proxy.set("pass");
    await runCollect(config, { clock, durationMs: 10 * MIN, env: CREDS });
    expect(existsSync(lastErrorPath(dir))).toBe(false);
    const up = await uploadStatus(dir, url, clock.now());
    expect(up.last_error).toBeNull();
    expect(up.venues[0]).toMatchObject({ pending_files: 0, lag_seconds: 0 });
    expect(up.venues[0].uploaded_files).toBeGreaterThan(v.pending_files);
    expect(Date.parse(up.venues[0].last_verified_at!)).toBeGreaterThan(now);
    expect(formatUploadStatus(up)[0]).not.toContain("last error");
  }, 120_000);

  test("failure classes, and the message redacted", async () => {
    expect(failureClass("AccessDenied")).toBe("auth");
    expect(failureClass("SignatureDoesNotMatch")).toBe("auth");
    expect(failureClass("InternalError")).toBe("server");
    expect(failureClass("SlowDown")).toBe("server");
    expect(failureClass("ConnectionRefused")).toBe("network");
    expect(failureClass("ECONNRESET")).toBe("network");
    expect(failureClass("Timeout")).toBe("network");
    expect(failureClass("VerifyMismatch")).toBe("verify");
    expect(failureClass("NoSuchBucket")).toBe("config");
    expect(failureClass("Weird")).toBe("other");
    const dir = await fx.freshDir();
    registerSecret("sekrit-value-123");
    await writeLastError(dir, {
      class: "auth",
      code: "AccessDenied",
      message: "key sekrit-value-123 refused",
      file: "x",
      at: new Date(T0).toISOString(),
      at_ms: T0,
      count: 1,
    });
    expect(readFileSync(lastErrorPath(dir), "utf8")).not.toContain("sekrit");
    expect((await readLastError(dir))?.message).toBe("key [redacted] refused");
  });
});
