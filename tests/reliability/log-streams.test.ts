/** Found by the fault harness: a logger made before setupLogging (every module-level one) kept consola's defaults. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const LOG_TS = join(import.meta.dir, "..", "..", "src", "log.ts");

function run(format: "json" | "pretty") {
  const dir = mkdtempSync(join(tmpdir(), "surv-log-"));
  const script = join(dir, "early.ts");
  writeFileSync(
    script,
    `import { logger, registerSecret, setupLogging } from ${JSON.stringify(LOG_TS)};
const early = logger("early"); // as a module-level logger is: made at import, before setup
registerSecret("s3cr3t-value");
setupLogging(${JSON.stringify(format)});
early.info("hello s3cr3t-value");
early.warn("careful");`,
  );
  const p = Bun.spawnSync(["bun", script], { stdout: "pipe", stderr: "pipe" });
  rmSync(dir, { recursive: true, force: true });
  return { out: p.stdout.toString(), err: p.stderr.toString() };
}

describe("loggers made before setupLogging", () => {
  test("json: every line on stderr as JSON, secrets redacted, stdout empty", () => {
    const { out, err } = run("json");
    expect(out).toBe("");
    const lines = err
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.level, l.tag, l.msg])).toEqual([
      ["info", "early", "hello [redacted]"],
      ["warn", "early", "careful"],
    ]);
  });
  test("pretty: info goes to stderr, not stdout", () => {
    const { out, err } = run("pretty");
    expect(out).toBe("");
    expect(err).toContain("hello [redacted]");
  });
});
