/** Flags through the CLI: unknown options and unbounded simulated runs refused (exit 2), every known form accepted. */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/run-cli.ts";

setDefaultTimeout(60_000);

describe("command-line flags", () => {
  test("an unknown option is a usage error (exit 2) and nothing runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flags-"));
    const r = await runCli(["scan", "--data-dir", dir, "--bogus-flag"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option --bogus-flag");
    expect(existsSync(join(dir, "metadata"))).toBe(false);
  });

  test("a mistyped --duration on collect is refused instead of running unbounded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flags-"));
    const r = await runCli(["collect", "--data-dir", dir, "--durtion", "5s"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option --durtion");
    expect(existsSync(join(dir, "orderbook_snapshots"))).toBe(false);
  });

  test("collect on the simulated mock clock without --duration/--until is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flags-"));
    const r = await runCli(["collect", "--data-dir", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("needs --duration or --until");
  });

  test("known flags in every form pass the check: --flag=value, camelCase, --no-boolean, -h", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flags-"));
    const r = await runCli(["scan", `--data-dir=${dir}`, "--no-verbose", "--log-format", "json"]);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, "metadata", "venue=mock"))).toBe(true);
    const h = await runCli(["mine", "-h"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain("--top");
  });
});
