/** mine's progress bar: drawn on a terminal (files, rows, elapsed, ETA), absent in pipes and with --json. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rowsFor } from "../helpers/mining-days.ts";
import { REPO, runCli } from "../helpers/run-cli.ts";
import { writeRowsWithWriter } from "../helpers/write-rows.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function dataset(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "progress-"));
  dirs.push(dir);
  await writeRowsWithWriter(dir, rowsFor([0, 1], [0, 22], 5));
  return dir;
}

/** Runs the CLI under `script`, so its stdout and stderr are a terminal; returns what the terminal showed. */
async function onTerminal(args: string[]): Promise<string> {
  const cmd = ["bun", join(REPO, "bin", "surveillance.ts"), ...args].map((a) => `'${a}'`).join(" ");
  const p = Bun.spawn(["script", "-qec", cmd, "/dev/null"], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  expect(code).toBe(0);
  return out;
}

const hasScript = Bun.which("script") !== null;

describe("mine progress", () => {
  test("nothing on stderr when piped, with or without --json", async () => {
    const dir = await dataset();
    const base = ["mine", "--data-dir", dir, "--from", "2026-01-01", "--to", "2026-01-02", "--no-partials"];
    for (const args of [base, [...base, "--json"]]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain("ETA");
      expect(r.stderr).not.toContain("files");
    }
  }, 60_000);

  test.skipIf(!hasScript)(
    "a terminal shows files, rows, elapsed and ETA; --json on a terminal shows none",
    async () => {
      const dir = await dataset();
      const base = ["mine", "--data-dir", dir, "--from", "2026-01-01", "--to", "2026-01-02", "--no-partials"];
      const shown = await onTerminal(base);
      expect(shown).toMatch(/mining .* \d+\/\d+ files \| [\d,]+ rows \| .* elapsed \| ETA/);
      const json = await onTerminal([...base, "--json"]);
      expect(json).not.toContain("ETA");
      expect(JSON.parse(json.slice(json.indexOf("{")).replace(/\r/g, "")).totals.rows).toBeGreaterThan(0);
    },
    60_000,
  );
});
