/**
 * The short version of `bun run chaos`: every fault kind once or a few times, with the harness's own checks plus
 * the figures that must hold exactly. The full run (≥ 30 kills, 100k fuzz messages per venue) is `bun run chaos`.
 */
import { describe, expect, test } from "bun:test";
import { runClockSteps } from "../../scripts/chaos/clock-steps.ts";
import { runDisk } from "../../scripts/chaos/disk.ts";
import { runFuzz } from "../../scripts/chaos/fuzz.ts";
import { runKills } from "../../scripts/chaos/kill.ts";
import { runMockOutage, runNetwork } from "../../scripts/chaos/network.ts";
import { failures } from "../../scripts/chaos/report.ts";

const SEED = 11;

describe("chaos (short)", () => {
  test("SIGKILL at random moments, restart: every durable row in exactly one readable final file", async () => {
    const k = await runKills({ kills: 3, seed: SEED, minLifeMs: 400, maxLifeMs: 1500 });
    expect(failures({ seed: SEED, kills: [k], network: [], fuzz: [] })).toEqual([]);
    expect(k.durable).toBeGreaterThan(0);
    expect(k.found).toBeGreaterThanOrEqual(k.durable);
    expect(k.duplicates).toBe(0);
    expect(k.polarsRows).toBe(k.found);
  }, 60_000);

  for (const venue of ["polymarket", "kalshi"] as const) {
    test(`SIGKILL while collecting from the loopback ${venue} server over real sockets`, async () => {
      const k = await runKills({ kills: 2, seed: SEED, venue, minLifeMs: 400, maxLifeMs: 1200 });
      expect(failures({ seed: SEED, kills: [k], network: [], fuzz: [] })).toEqual([]);
      expect(k.durable).toBeGreaterThan(0);
      expect(k.duplicates).toBe(0);
    }, 60_000);
  }

  test("network: drops, half-open, burst, 5-minute outage on the loopback Polymarket and Kalshi servers and the mock", async () => {
    const res = [
      await runNetwork("polymarket", { seed: SEED, drops: 1, halfOpen: 1, bursts: 1, burstSize: 1000 }),
      await runNetwork("kalshi", { seed: SEED, drops: 1, halfOpen: 1, bursts: 1, burstSize: 1000 }),
      await runMockOutage({ seed: SEED }),
    ];
    expect(failures({ seed: SEED, kills: [], network: res, fuzz: [] })).toEqual([]);
    for (const n of res) {
      expect(n.maxAttemptsPerMinute).toBeLessThanOrEqual(10); // collector.reconnect_max_per_minute default
      expect(n.outageAttempts).toBeGreaterThan(3); // it kept trying through the outage
      expect(n.resubscribedExact).toBe(true);
    }
    expect(res[0].maxDetectMs).toBeLessThanOrEqual(40_000); // ping 10 s + pong timeout 30 s
    expect(res[1].maxDetectMs).toBeLessThanOrEqual(31_000); // heartbeat timeout 30 s
  }, 60_000);

  test("fuzz: mutated and random frames through each venue's mapper into the books", async () => {
    for (const v of ["mock", "polymarket", "kalshi"] as const) {
      const z = await runFuzz(v, { messages: 3000, seed: SEED });
      expect(failures({ seed: SEED, kills: [], network: [], fuzz: [z] })).toEqual([]);
      expect(z.rejected).toBeGreaterThan(1000);
      expect(z.applied).toBeGreaterThan(500); // valid traffic keeps flowing between the garbage
    }
  }, 60_000);

  test("disk full, then read-only: nothing lost, drops only past max_buffer_rows and counted", async () => {
    const d = await runDisk({ seed: SEED, phaseSecs: 90, maxBufferRows: 800 });
    expect(failures({ seed: SEED, kills: [], network: [], fuzz: [], disk: d })).toEqual([]);
    expect(d.writeErrors).toBeGreaterThan(0);
    expect(d.dropped).toBeGreaterThan(0);
    expect(d.found + d.dropped).toBe(d.produced);
    expect(d.logWriteFailed).toBeGreaterThan(0); // errors are logged even at bun test's log level
  }, 60_000);

  test("wall-clock steps: no final file rewritten, rows in their buckets, late rows in _N files", async () => {
    const c = await runClockSteps({ seed: SEED, steps: 4 });
    expect(failures({ seed: SEED, kills: [], network: [], fuzz: [], clock: c })).toEqual([]);
    expect(c.found).toBe(c.produced);
    expect(c.lateFiles).toBeGreaterThan(0);
    expect(c.maxSilentAfterStepMs).toBeLessThanOrEqual(2000);
  }, 60_000);
});
