/**
 * /metrics during a real collect: every counter is there at 0 from the start (an increase() alert sees the first
 * event), every family served is in a table of metric names and those tables are served whole, `/` points at
 * /metrics, `/healthz` says per venue whether it is collecting (503 until it is, then 200).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseExposition } from "../helpers/prom-parse.ts";
import { REPO, runCli } from "../helpers/run-cli.ts";
import { COLLECTOR_METRICS, INPUT_METRICS } from "../../src/collector/metric-names.ts";
import { PROCESS_METRICS } from "../../src/metrics-server.ts";
import { SELECTION_METRICS } from "../../src/scheduler/metric-names.ts";
import { WRITER_METRICS } from "../../src/storage/metric-names.ts";
import { ALL_METRIC_TABLES } from "../helpers/metric-tables.ts";

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
    while (!samples.some((s) => s.name === COLLECTOR_METRICS.reconnects) && performance.now() < deadline) {
      await Bun.sleep(50);
      samples = parseExposition(await (await fetch(`${base}/metrics`)).text()).samples;
    }
    const value = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
    for (const name of [
      COLLECTOR_METRICS.reconnects,
      COLLECTOR_METRICS.gaps,
      COLLECTOR_METRICS.resyncs,
      COLLECTOR_METRICS.watchdog,
      COLLECTOR_METRICS.venueErrors,
      COLLECTOR_METRICS.connectFailures,
      WRITER_METRICS.rowsDropped,
      WRITER_METRICS.quarantined,
      WRITER_METRICS.filesFinalized,
    ])
      expect([name, value(name, { venue: "mock" })]).toEqual([name, 0]);
    expect(value(WRITER_METRICS.writeErrors, { code: "ENOSPC" })).toBe(0);
    expect(value(INPUT_METRICS.failures, { venue: "mock", input: "universe" })).toBe(0);

    // /metrics against the tables: every family served is in one; every table a collect without upload writes is
    // served whole (the writer's gauges from its first flush: polled for), but for the rejected messages: labelled by
    // reason, a series appears with the first message rejected for it.
    const whole = [COLLECTOR_METRICS, INPUT_METRICS, WRITER_METRICS, SELECTION_METRICS, PROCESS_METRICS]
      .flatMap((t) => Object.values(t))
      .filter((n) => n !== COLLECTOR_METRICS.rejected);
    let served = new Set(samples.map((s) => s.name));
    while (whole.some((n) => !served.has(n)) && performance.now() < deadline) {
      await Bun.sleep(50);
      served = new Set(parseExposition(await (await fetch(`${base}/metrics`)).text()).samples.map((s) => s.name));
    }
    const tabled = new Set(Object.values(ALL_METRIC_TABLES).flatMap((t) => Object.values(t)));
    expect([...served].filter((n) => !tabled.has(n))).toEqual([]);
    expect(whole.filter((n) => !served.has(n))).toEqual([]);

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
