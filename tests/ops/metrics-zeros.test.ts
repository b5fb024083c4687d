/**
 * /metrics during a real collect: every counter is there at 0 from the start (an increase() alert sees the first
 * event), `/` points at /metrics, `/healthz` says per venue whether it is collecting (503 until it is, then 200).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseExposition } from "../helpers/prom-parse.ts";
import { REPO, runCli } from "../helpers/run-cli.ts";

let dir: string;
let cfg: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mzero-"));
  cfg = join(dir, "test.toml");
  await Bun.write(
    cfg,
    `[metrics]\nlisten = "127.0.0.1:0"\n[collector]\nmax_subs_per_venue = 4\nhot_count = 2\n[venues.mock]\nuniverse_size = 10\nclock_speed = 1\n`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("zero counters with their labels, / and /healthz", async () => {
  const d = join(dir, "data");
  expect((await runCli(["scan", "--config", cfg, "--data-dir", d])).code).toBe(0);
  const proc = Bun.spawn(
    ["bun", join(REPO, "bin", "surveillance.ts"), "collect", "--config", cfg, "--data-dir", d, "--duration", "1h"],
    { cwd: REPO, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" },
  );
  try {
    const reader = proc.stderr.getReader();
    let err = "";
    const deadline = performance.now() + 30_000;
    while (!/metrics at http:\/\/(\S+)\/metrics/.test(err) && performance.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      err += new TextDecoder().decode(value);
    }
    const base = `http://${/metrics at http:\/\/(\S+)\/metrics/.exec(err)![1]}`;
    const pump = (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read());
    })();

    let samples = parseExposition(await (await fetch(`${base}/metrics`)).text()).samples;
    // Poll until the collector has published once (it does at each scrape after the venues are built).
    while (!samples.some((s) => s.name === "surveillance_reconnects_total") && performance.now() < deadline) {
      await Bun.sleep(50);
      samples = parseExposition(await (await fetch(`${base}/metrics`)).text()).samples;
    }
    const value = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
    for (const name of [
      "surveillance_reconnects_total",
      "surveillance_seq_gaps_total",
      "surveillance_resyncs_total",
      "surveillance_watchdog_resubscribes_total",
      "surveillance_venue_errors_total",
      "surveillance_connect_failures_total",
      "surveillance_writer_rows_dropped_total",
      "surveillance_writer_quarantined_segments_total",
      "surveillance_writer_files_finalized_total",
    ])
      expect([name, value(name, { venue: "mock" })]).toEqual([name, 0]);
    expect(value("surveillance_writer_write_errors_total", { code: "ENOSPC" })).toBe(0);
    expect(value("surveillance_input_reload_failures_total", { venue: "mock", input: "universe" })).toBe(0);

    const root = await fetch(`${base}/`);
    expect(root.status).toBe(200);
    expect(await root.text()).toContain("/metrics");

    let h = await fetch(`${base}/healthz`);
    while (h.status !== 200 && performance.now() < deadline) {
      expect(h.status).toBe(503);
      expect(await h.text()).toContain("mock not collecting");
      await Bun.sleep(50);
      h = await fetch(`${base}/healthz`);
    }
    expect(h.status).toBe(200);
    expect(await h.text()).toBe("ok\nmock collecting\n");
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    await pump;
  } finally {
    proc.kill("SIGKILL");
  }
}, 60_000);
