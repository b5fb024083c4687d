/** Operator's view of a real run: collect (mock) → /metrics while it runs → status and verify on what it wrote. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { join } from "node:path";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { readManifest } from "../../src/storage/manifest.ts";
import { parseExposition } from "../helpers/prom-parse.ts";
import { REPO, runCli } from "../helpers/run-cli.ts";
import { WRITER_METRICS } from "../../src/storage/metric-names.ts";
import { COLLECTOR_METRICS } from "../../src/collector/metric-names.ts";
import { PROCESS_METRICS } from "../../src/metrics-server.ts";

// spawns the CLI / writes real files: the 5 s default is too short on a loaded machine (bunfig has no timeout key)
setDefaultTimeout(60_000);

describe("collect → metrics, status, verify", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ops-e2e-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a simulated 20 minutes: verify is clean, status matches the manifest with no gaps", {
    timeout: 60_000,
  }, async () => {
    const cfg = join(dir, "sim.toml");
    writeFileSync(
      cfg,
      [`data_dir = "${join(dir, "sim")}"`, `[venues.mock]`, `universe_size = 40`, `gap_rate = 0.01`].join("\n"),
    );
    expect((await runCli(["scan", "--config", cfg])).code).toBe(0);
    const c = await runCli(["collect", "--config", cfg, "--duration", "20m"]);
    expect(c.code).toBe(0);
    const v = await runCli(["verify", "--config", cfg, "--json"]);
    const report = JSON.parse(v.stdout);
    expect(report.problems).toEqual([]);
    expect(v.code).toBe(0);
    const { entries } = await readManifest(join(dir, "sim"));
    expect(report.rows).toBe(entries.reduce((t, e) => t + e.rows, 0));
    // the collect started "now" on the simulated clock, so the data may span two days
    const days = [...new Set(entries.map((e) => e.path.match(/date=([\d-]+)/)![1]))];
    let rows = 0,
      files = 0;
    for (const d of days) {
      const s = JSON.parse((await runCli(["status", "--config", cfg, "--date", d, "--json"])).stdout);
      for (const h of s.hours) {
        expect(h.missing_buckets).toEqual([]);
        expect(h.staged_rows).toBe(0); // collect finalized everything on the way out
        rows += h.rows;
        files += h.files;
      }
    }
    expect(rows).toBe(report.rows);
    expect(files).toBe(entries.length);
  });

  test("/metrics while collect runs (real time): valid exposition with the collector's and writer's series", {
    timeout: 60_000,
  }, async () => {
    const cfg = join(dir, "live.toml");
    writeFileSync(
      cfg,
      [
        `data_dir = "${join(dir, "live")}"`,
        `log_format = "json"`,
        `[metrics]`,
        `listen = "127.0.0.1:0"`,
        `[writer]`,
        `flush_secs = 1`,
        `[venues.mock]`,
        `universe_size = 20`,
        `clock_speed = 1`,
        `updates_per_sec = 20`,
        `[collector]`,
        `snapshot_interval_ms_hot = 200`,
        `snapshot_interval_ms_warm = 500`,
      ].join("\n"),
    );
    expect((await runCli(["scan", "--config", cfg])).code).toBe(0);
    const proc = Bun.spawn(
      ["bun", join(REPO, "bin", "surveillance.ts"), "collect", "--config", cfg, "--duration", "30s"],
      { cwd: REPO, stdout: "pipe", stderr: "pipe" },
    );
    try {
      // the address is in the log (port 0 = any free port)
      let url = "";
      const reader = proc.stderr.getReader();
      let buf = "";
      while (!url) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`collect exited before serving metrics: ${buf}`);
        buf += new TextDecoder().decode(value);
        url = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(buf)?.[1] ?? "";
      }
      reader.releaseLock();
      // scrape until the writer has flushed once (a condition, not a fixed sleep)
      let exp = parseExposition(await (await fetch(url)).text());
      for (let i = 0; i < 100 && !exp.samples.some((s) => s.name === WRITER_METRICS.flushes && s.value > 0); i++) {
        await Bun.sleep(100);
        exp = parseExposition(await (await fetch(url)).text());
      }
      const series = (name: string) => exp.samples.filter((s) => s.name === name);
      expect(series(COLLECTOR_METRICS.snapshots)[0]).toMatchObject({ labels: { venue: "mock" } });
      expect(series(COLLECTOR_METRICS.snapshots)[0].value).toBeGreaterThan(0);
      expect(series(COLLECTOR_METRICS.connected).find((s) => s.labels.venue === "mock")?.value).toBe(1);
      expect(series(WRITER_METRICS.flushes).reduce((t, s) => t + s.value, 0)).toBeGreaterThan(0);
      expect(series(PROCESS_METRICS.rss)[0].value).toBeGreaterThan(1e6);
      // every collector/writer family is prefixed and typed
      for (const name of exp.types.keys()) expect(name.startsWith("surveillance_")).toBe(true);
      const res = await fetch(url.replace("/metrics", "/"));
      expect(res.status).toBe(200); // a pointer to /metrics
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  });
});
