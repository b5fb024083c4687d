/** `surveillance collect` through the real entry point: prerequisites, flags, a short simulated run, SIGINT. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, runCli } from "../helpers/run-cli.ts";

let dir: string;
let cfg: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "collect-cli-"));
  cfg = join(dir, "test.toml");
  // A small mock so a simulated run is quick; clock_speed 0 = simulated time.
  await Bun.write(
    cfg,
    `[collector]\nmax_subs_per_venue = 20\nhot_count = 4\n[venues.mock]\nuniverse_size = 60\nclock_speed = 0\n`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Each test spawns the CLI (twice for some): give it room on a loaded machine (bunfig's timeout is not applied). */
const SLOW = 60_000;

const parquet = (d: string) => [...new Bun.Glob("orderbook_snapshots/**/*.parquet").scanSync({ cwd: d })];

describe("surveillance collect", () => {
  test(
    "without a universe file: exit 1 and says to run scan first, nothing written",
    async () => {
      const d = join(dir, "empty");
      const r = await runCli(["collect", "--config", cfg, "--data-dir", d, "--duration", "1m"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("no market universe for venue mock");
      // the advice names the command as this run was started (from the checkout: bun run start --), runnable as printed
      expect(r.stderr).toContain("Run `bun run start -- scan` first");
      expect(existsSync(d)).toBe(false); // the writer is opened only after the checks
    },
    SLOW,
  );

  test(
    "bad --duration and --until are usage errors (exit 2)",
    async () => {
      const a = await runCli(["collect", "--config", cfg, "--data-dir", dir, "--duration", "ten minutes"]);
      expect(a.code).toBe(2);
      expect(a.stderr).toContain("--duration ten minutes: not a duration");
      const b = await runCli(["collect", "--config", cfg, "--data-dir", dir, "--until", "tomorrow"]);
      expect(b.code).toBe(2);
      expect(b.stderr).toContain("--until tomorrow");
    },
    SLOW,
  );

  test(
    "scan then collect --duration 6m on simulated time: files, journal, a summary on stdout",
    async () => {
      const d = join(dir, "run");
      expect((await runCli(["scan", "--config", cfg, "--data-dir", d])).code).toBe(0);
      const r = await runCli(["collect", "--config", cfg, "--data-dir", d, "--duration", "6m"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /^mock: \d+ snapshots, \d+ book updates, \d+ subscribes \/ \d+ unsubscribes, 0 reconnects, 0 rejected messages, [1-9]\d* files finalized, stale \d+\.\d%, downtime 0 s, 1 connection attempts \(0 failed\)\n$/,
      );
      const files = parquet(d);
      // 6 simulated minutes from an arbitrary start touch two or three 5-minute buckets.
      expect(files.length).toBeGreaterThanOrEqual(2);
      expect(files.length).toBeLessThanOrEqual(3);
      for (const f of files)
        expect(f).toMatch(
          /^orderbook_snapshots\/venue=mock\/date=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/snapshots_\d{4}-\d{2}-\d{2}T\d{2}-\d{2}\.parquet$/,
        );
      const journal = [...new Bun.Glob("subscriptions/venue=mock/date=*/events.jsonl").scanSync({ cwd: d })];
      expect(journal.length).toBeGreaterThanOrEqual(1);
      expect(r.stderr).toContain("churn");
    },
    SLOW,
  );

  test(
    "clock_speed N runs on a scaled real clock: --duration 2m at 120× takes about a second",
    async () => {
      const d = join(dir, "scaled");
      const fast = join(dir, "scaled.toml");
      await Bun.write(
        fast,
        `[collector]\nmax_subs_per_venue = 10\nhot_count = 2\n[venues.mock]\nuniverse_size = 30\nclock_speed = 120\n`,
      );
      expect((await runCli(["scan", "--config", fast, "--data-dir", d])).code).toBe(0);
      const t0 = performance.now();
      const r = await runCli(["collect", "--config", fast, "--data-dir", d, "--duration", "2m"]);
      const s = (performance.now() - t0) / 1000;
      expect(r.code).toBe(0);
      expect(s).toBeGreaterThan(0.9); // it did wait for (scaled) time to pass, not run as fast as possible
      expect(r.stdout).toMatch(/^mock: [1-9]\d* snapshots/);
      expect(parquet(d).length).toBeGreaterThanOrEqual(1);
    },
    SLOW,
  );

  test(
    "SIGINT stops a run cleanly: exit 0, every bucket finalized",
    async () => {
      const d = join(dir, "sigint");
      expect((await runCli(["scan", "--config", cfg, "--data-dir", d])).code).toBe(0);
      const proc = Bun.spawn(
        [
          "bun",
          join(REPO, "bin", "surveillance.ts"),
          "collect",
          "--config",
          cfg,
          "--data-dir",
          d,
          "--duration",
          "1000h",
        ],
        {
          cwd: REPO,
          env: { ...process.env, NO_COLOR: "1" },
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      // Wait (bounded) for the first status line (rows are being written), then interrupt.
      const reader = proc.stderr.getReader();
      let err = "";
      const deadline = performance.now() + 20_000;
      while (!err.includes("snapshots/s") && performance.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        err += new TextDecoder().decode(value);
      }
      expect(err).toContain("collecting mock until");
      proc.kill("SIGINT");
      reader.releaseLock();
      const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      expect(code).toBe(0);
      expect(out).toMatch(/^mock: \d+ snapshots/);
      expect(parquet(d).length).toBeGreaterThanOrEqual(1);
      const staged = [...new Bun.Glob("_staging/**/*.arrows").scanSync({ cwd: d })];
      expect(staged).toEqual([]);
    },
    SLOW,
  );
});
