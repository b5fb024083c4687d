/** Logging: --log-format json on every command, pretty logs off a terminal, setupLogging, secret redaction. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consola } from "consola";
import { logger, redact, registerSecret, setupLogging } from "../../src/log.ts";
import { runCli } from "../helpers/run-cli.ts";

// spawns the CLI / writes real files: the 5 s default is too short on a loaded machine (bunfig has no timeout key)
setDefaultTimeout(60_000);

/** Every stderr line must be one JSON object with ts, level and msg. */
function jsonLines(stderr: string): Record<string, unknown>[] {
  const lines = stderr.split("\n").filter((l) => l !== "");
  return lines.map((l) => {
    let o: unknown;
    try {
      o = JSON.parse(l);
    } catch {
      throw new Error(`stderr line is not JSON: ${l}`);
    }
    // (not toMatchObject with asymmetric matchers: Bun 1.4.5 writes the matchers into the received object)
    const r = o as Record<string, unknown>;
    expect(typeof r.ts === "string" && /^\d{4}-\d{2}-\d{2}T/.test(r.ts)).toBe(true);
    expect(typeof r.level).toBe("string");
    expect(typeof r.msg).toBe("string");
    return r;
  });
}

describe("--log-format json", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "logs-"));
    writeFileSync(join(dir, "json.toml"), `log_format = "json"\ndata_dir = "${join(dir, "data")}"\n`);
    writeFileSync(join(dir, "bad.toml"), `top_k = "fifty"\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string[], number][] = [
    ["verify warns then fails", ["verify", "--data-dir", "DIR", "--log-format", "json"], 1],
    [
      "status with a bad date (usage error)",
      ["status", "--data-dir", "DIR", "--log-format=json", "--date", "2026-02-30"],
      2,
    ],
    ["a bad config file", ["status", "--config", "DIR/bad.toml", "--log-format", "json"], 2],
    ["log_format from the config", ["verify", "--config", "DIR/json.toml"], 1],
    ["a reversed range", ["verify", "--log-format", "json", "--from", "2026-02-01", "--to", "2026-01-01"], 2],
  ];
  test.each(cases)("%s: every stderr line is a JSON object", async (_name, args, code) => {
    const r = await runCli(args.map((a) => a.replace("DIR", dir)));
    expect(r.code).toBe(code);
    const lines = jsonLines(r.stderr);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.level === "error")).toBe(true);
    expect(r.stdout).toBe("");
  });

  test("scan and collect (mock, simulated 5 minutes, metrics endpoint on): JSON lines only", {
    timeout: 60_000,
  }, async () => {
    const cfg = join(dir, "mock.toml");
    writeFileSync(
      cfg,
      [
        `data_dir = "${join(dir, "mockdata")}"`,
        `log_format = "json"`,
        `[metrics]`,
        `listen = "127.0.0.1:0"`,
        `log_interval_secs = 30`,
        `[venues.mock]`,
        `universe_size = 30`,
        `drop_rate_per_hour = 60`,
        `malformed_rate = 0.01`,
        `gap_rate = 0.01`,
      ].join("\n"),
    );
    const scan = await runCli(["scan", "--config", cfg]);
    expect(scan.code).toBe(0);
    jsonLines(scan.stderr);
    const r = await runCli(["collect", "--config", cfg, "--duration", "5m"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mock: \d+ snapshots/);
    const lines = jsonLines(r.stderr);
    // the periodic status line, the metrics address and the injected faults' warnings all came out as JSON
    expect(lines.some((l) => l.tag === "mock" && String(l.msg).includes("snapshots/s"))).toBe(true);
    expect(lines.some((l) => String(l.msg).startsWith("metrics at http://127.0.0.1:"))).toBe(true);
    expect(lines.some((l) => l.level === "warn")).toBe(true);
  });

  test("pretty (not a terminal): logs on stderr, not JSON, stdout empty", async () => {
    const r = await runCli(["verify", "--data-dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("no final files in range");
    expect(() => JSON.parse(r.stderr.split("\n").find((l) => l.trim())!)).toThrow();
  });
});

describe("setupLogging", () => {
  test("loggers made before it (at module import) follow its format and --verbose level", () => {
    const early = logger("early");
    const written: string[] = [];
    const orig = process.stderr.write;
    process.stderr.write = ((s: string) => (written.push(String(s)), true)) as typeof process.stderr.write;
    try {
      setupLogging("json", true);
      early.debug("a debug line");
      setupLogging("json", false);
      early.debug("hidden without --verbose");
      early.info("an info line");
    } finally {
      process.stderr.write = orig;
      setupLogging("pretty");
    }
    expect(written.map((w) => JSON.parse(w).msg)).toEqual(["a debug line", "an info line"]);
    expect(JSON.parse(written[0])).toMatchObject({ level: "debug", tag: "early" });
  });
});

describe("secret redaction in logs", () => {
  test("a registered secret (and each long line of a PEM) is replaced in every log line", () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    registerSecret("sentinel-key-id-123");
    registerSecret(pem);
    expect(redact("id=sentinel-key-id-123!")).toBe("id=[redacted]!");
    expect(redact("bad line: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")).toBe("bad line: [redacted]");
    const written: string[] = [];
    const orig = process.stderr.write;
    process.stderr.write = ((s: string) => (written.push(String(s)), true)) as typeof process.stderr.write;
    try {
      setupLogging("json");
      const log = consola.withTag("kalshi");
      log.warn("auth failed for sentinel-key-id-123", new Error(`cannot parse ${pem}`), { key: "sentinel-key-id-123" });
    } finally {
      process.stderr.write = orig;
      setupLogging("pretty");
    }
    expect(written.length).toBe(1);
    expect(written[0]).not.toContain("sentinel-key-id-123");
    expect(written[0]).not.toContain("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC");
    expect(JSON.parse(written[0])).toMatchObject({
      tag: "kalshi",
      msg: "auth failed for [redacted]",
      args: ["cannot parse [redacted]", { key: "[redacted]" }],
    });
  });
});
