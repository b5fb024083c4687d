/**
 * One collector process of the simulated-days soak: scan (the mock universe of this simulated day), then `collect`
 * on a SimClock from `start` to `until`; it reports to the harness on stdout (the protocol at `out`).
 */
import { SimClock } from "../../src/clock.ts";
import { runCollect } from "../../src/collector/run.ts";
import { parseConfig } from "../../src/config.ts";
import { setupLogging } from "../../src/log.ts";
import { Metrics } from "../../src/metrics.ts";
import { scanAll } from "../../src/scanner/scanner.ts";
import { SnapshotWriter } from "../../src/storage/writer.ts";

export interface SoakChildParams {
  /** The config document (TOML shape) the child parses. */
  config: Record<string, unknown>;
  start: number;
  until: number;
  /** Rescan before collecting (each simulated midnight). */
  scan: boolean;
  env?: Record<string, string>;
  /** Wall-clock steps: at simulated time `at`, the clock jumps by `by` ms (forward or back). */
  steps?: { at: number; by: number }[];
}

const p = JSON.parse(process.argv[2]) as SoakChildParams;
setupLogging("json", false);
/**
 * stdout is a line protocol for the harness (logs go to stderr):
 *   T <sim ms> <rss bytes>   progress, once per simulated minute (a clock step, when asked, happens there)
 *   M <rss bytes>            settled RSS, once per simulated hour: after a full garbage collection
 *   S <from ms> <to ms>      the clock was just stepped (a wall-clock jump: nothing is recordable between the two)
 *   D <json>                 rows just made durable, per market (after the segment's fsync + rename)
 *   DONE                     graceful stop finished
 */
const out = (line: string) => process.stdout.write(`${line}\n`);
const config = parseConfig(p.config, "soak");
const clock = new SimClock(p.start);
const env = { ...process.env, ...p.env };
if (p.scan) await scanAll(config, { clock, env });
const metrics = new Metrics();
const sink = await SnapshotWriter.open({
  dataDir: config.data_dir,
  settings: config.writer,
  topK: config.top_k,
  clock,
  metrics,
  onDurable: (_venue, byMarket) => out(`D ${JSON.stringify(Object.fromEntries(byMarket))}`),
});
const ac = new AbortController();
process.on("SIGTERM", () => ac.abort(new Error("SIGTERM")));
const steps = [...(p.steps ?? [])].sort((a, b) => a.at - b.at).filter((s) => s.at > p.start);
let minutes = 0;
const tick = () => {
  while (steps.length > 0 && clock.now() >= steps[0].at) {
    const from = clock.now();
    clock.set(from + steps.shift()!.by);
    out(`S ${from} ${clock.now()}`);
  }
  out(`T ${clock.now()} ${process.memoryUsage().rss}`);
  if (++minutes % 60 === 0) {
    Bun.gc(true);
    out(`M ${process.memoryUsage().rss}`);
  }
  clock.setTimer(60_000, tick);
};
tick();
await runCollect(config, { clock, sink, untilTs: p.until, signal: ac.signal, metrics, env });
out("DONE");
process.exit(0);
