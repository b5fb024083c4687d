/**
 * `bun run chaos`: the fault harness (SIGKILL + restart, network faults, malformed-input fuzz, disk full / read-only,
 * clock steps). One table on stdout; exit 1 if anything was lost, duplicated or broke an invariant. docs/reliability.md
 */
import { parseArgs } from "node:util";
import { setupLogging } from "../../src/log.ts";
import { runClockSteps } from "./clock-steps.ts";
import { runDisk } from "./disk.ts";
import { runFuzz } from "./fuzz.ts";
import { runKills } from "./kill.ts";
import { runMockOutage, runNetwork } from "./network.ts";
import { type ChaosReport, failures, renderReport } from "./report.ts";

const { values: a } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    seed: { type: "string", default: "1" },
    kills: { type: "string" },
    fuzz: { type: "string" },
    json: { type: "boolean", default: false },
    only: { type: "string" },
  },
});
setupLogging("pretty");
const seed = Number(a.seed);
const kills = Number(a.kills ?? (a.quick ? 5 : 32));
const fuzzN = Number(a.fuzz ?? (a.quick ? 5000 : 100_000));
const only = a.only ? new Set(a.only.split(",")) : null;
const want = (k: string) => !only || only.has(k);
const say = (m: string) => process.stderr.write(`[chaos] ${m}\n`);
const started = performance.now();
let peakRss = 0;
const sampleRss = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);

const report: ChaosReport = { seed, kills: [], network: [], fuzz: [] };
if (want("kill")) {
  say(`SIGKILL: ${kills} kills at random moments (mock venue), restart after each`);
  report.kills.push(await runKills({ kills, seed, log: say }));
  const pk = Math.max(2, Math.round(kills / 3));
  for (const venue of ["polymarket", "kalshi"] as const) {
    say(`SIGKILL: ${pk} kills at random moments (loopback ${venue} over real sockets), restart after each`);
    report.kills.push(await runKills({ kills: pk, seed: seed + 1, venue, log: say }));
  }
}
if (want("network")) {
  for (const v of ["polymarket", "kalshi"] as const) {
    say(`network faults against the loopback ${v} server`);
    report.network.push(
      await runNetwork(v, {
        seed,
        drops: a.quick ? 2 : 5,
        halfOpen: a.quick ? 1 : 3,
        bursts: a.quick ? 1 : 3,
        burstSize: a.quick ? 2000 : 10_000,
      }),
    );
  }
  say("network: mock venue drop + 5-minute outage");
  report.network.push(await runMockOutage({ seed }));
}
if (want("fuzz")) {
  for (const v of ["mock", "polymarket", "kalshi"] as const) {
    say(`fuzz: ${fuzzN} messages through the ${v} mapper into the books`);
    report.fuzz.push(await runFuzz(v, { messages: fuzzN, seed }));
  }
}
if (want("disk")) {
  say("disk: full, then read-only, each for 2 simulated minutes");
  report.disk = await runDisk({ seed });
}
if (want("clock")) {
  say("clock: wall-clock steps back and forward");
  report.clock = await runClockSteps({ seed, steps: a.quick ? 4 : 10 });
}
clearInterval(sampleRss);
report.harnessPeakRssMb = Math.max(peakRss, process.memoryUsage().rss) / 1e6;
report.seconds = (performance.now() - started) / 1000;
if (a.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
else process.stdout.write(renderReport(report));
const bad = failures(report);
for (const f of bad) say(`FAIL: ${f}`);
process.exit(bad.length > 0 ? 1 : 0);
