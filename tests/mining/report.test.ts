/** `mine --report` and the demo's report: one self-contained HTML file that headless Chromium renders with its charts. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rowsFor } from "../helpers/mining-days.ts";
import { runCli } from "../helpers/run-cli.ts";
import { writeRowsWithWriter } from "../helpers/write-rows.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Debian's `chromium` (.ci/run installs it); without it the rendering half is skipped, saying so. */
const chromium = Bun.which("chromium") ?? Bun.which("chromium-browser");
/** Screenshots are kept for a person to look at (not deleted with the temp dirs). */
const SHOTS = join(tmpdir(), "surveillance-report-screenshots");

async function chrome(args: string[]): Promise<{ out: string; err: string }> {
  const profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
  dirs.push(profile);
  const p = Bun.spawn(
    [
      chromium!,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      "--enable-logging=stderr",
      "--v=0",
      "--virtual-time-budget=5000",
      ...args,
    ],
    { stdout: "pipe", stderr: "pipe", stdin: "ignore" },
  );
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(code).toBe(0);
  return { out, err };
}

/** Loads the report in Chromium: rendered, no console output or page errors, the charts in the DOM; then a screenshot. */
async function expectRenders(file: string, venues: number, shot: string): Promise<void> {
  const html = readFileSync(file, "utf8");
  // Self-contained: no external script, stylesheet, image or font.
  expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
  expect(html).not.toMatch(/url\(\s*['"]?https?:/i);
  const { out: dom, err } = await chrome(["--dump-dom", `file://${file}`]);
  expect(err.split("\n").filter((l) => l.includes(":CONSOLE"))).toEqual([]);
  const body = /<body([^>]*)>/.exec(dom)![1];
  expect(body).toContain('data-rendered="true"');
  expect(body).not.toContain("data-errors");
  expect(body).toContain(`data-charts="${5 * venues}"`);
  expect(dom.match(/class="uplot/g)?.length).toBe(4 * venues);
  expect(dom.match(/<canvas class="heatmap"/g)?.length).toBe(venues);
  expect(dom.match(/<table class="ranking"/g)?.length).toBe(3 * venues);
  mkdirSync(SHOTS, { recursive: true });
  const png = join(SHOTS, shot);
  rmSync(png, { force: true });
  await chrome(["--hide-scrollbars", "--window-size=1200,2600", `--screenshot=${png}`, `file://${file}`]);
  expect(statSync(png).size).toBeGreaterThan(20_000);
  console.log(`report screenshot: ${png}`);
}

describe("HTML report", () => {
  test.skipIf(!chromium)(
    "mine --report over three days (two from partials, hours of a cut day) renders in Chromium",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "report-"));
      dirs.push(dir);
      await writeRowsWithWriter(dir, rowsFor([0, 1, 2], [0, 6, 12, 18, 23], 21));
      const file = join(dir, "out.html");
      // First mine writes the partials; the report then reads two whole days' series from disk and cuts day 3.
      expect((await runCli(["mine", "--data-dir", dir, "--from", "2026-01-01", "--to", "2026-01-03"])).code).toBe(0);
      const r = await runCli([
        "mine",
        "--data-dir",
        dir,
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-03T20",
        "--json",
        "--report",
        file,
      ]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).venues[0].days_from_partials).toBe(2);
      const html = readFileSync(file, "utf8");
      const data = JSON.parse(
        /<script id="report-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1],
      ) as { venues: { t: number[]; shares: { stale: (number | null)[] }; top: { label: string }[] }[] };
      const v = data.venues[0];
      // Snapshots exist in 5 hours of each day: the stale share has values there (from stored and in-memory series).
      const day3 = Date.UTC(2026, 0, 3);
      expect(v.t.some((t, i) => t < day3 && v.shares.stale[i] !== null)).toBe(true);
      expect(v.t.some((t, i) => t >= day3 && v.shares.stale[i] !== null)).toBe(true);
      // Three books, two markets: mA's YES and NO mirror each other and are charted as one line, as in the tables.
      expect(v.top.length).toBe(2);
      expect(v.top.map((b) => b.label.replace(/ · .*/, "")).sort()).toEqual(["mA", "mB"]);
      expect(v.top.map((b) => b.label).sort()).toEqual(["mA · yes (+no)", "mB · yes"]);
      await expectRenders(file, 1, "mine-report.png");
    },
    120_000,
  );

  test.skipIf(!chromium)(
    "demo writes a report, prints its path, and it renders",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "report-demo-"));
      dirs.push(dir);
      const r = await runCli(["demo", "--data-dir", dir, "--duration", "30m", "--top", "3"]);
      expect(r.code).toBe(0);
      const file = join(dir, "report.html");
      expect(r.stdout).toContain(`report: ${file}`);
      expect(existsSync(file)).toBe(true);
      await expectRenders(file, 1, "demo-report.png");
    },
    120_000,
  );

  // Runs only without chromium, so a run log says why the rendering tests did not run (skipped when chromium is here).
  test.skipIf(chromium !== null)("only without chromium: warns that the rendering tests were skipped", () => {
    console.warn("no chromium on PATH (apt-get install -y chromium): report rendering not checked");
  });
});
