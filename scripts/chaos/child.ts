/**
 * The collector process the kill scenario SIGKILLs: mock venue (or a loopback one) → collector → writer on a scaled
 * clock that keeps running across restarts; it reports to the harness on stdout (the protocol at `out`).
 */
import { ScaledClock } from "../../src/clock.ts";
import { setupLogging } from "../../src/log.ts";
import { buildRig, type RemoteVenue } from "./rig.ts";

export interface ChildParams {
  dataDir: string;
  /** Simulated time at `realAnchor` (ms); the clock runs `speed`× real time from there, whatever the restarts. */
  simStart: number;
  realAnchor: number;
  speed: number;
  seed: number;
  mock?: Record<string, number>;
  writer?: Record<string, number>;
  hot?: number;
  warm?: number;
  /** Collect from a loopback Polymarket/Kalshi server (options with its URLs, the markets to watch) instead of the mock. */
  remote?: RemoteVenue;
}

// "@FILE": the params in a file (a long target list exceeds the argument size limit).
const arg = process.argv[2];
const p = JSON.parse(arg.startsWith("@") ? await Bun.file(arg.slice(1)).text() : arg) as ChildParams;
setupLogging("json", false);
const clock = new ScaledClock(p.speed, p.simStart + (Date.now() - p.realAnchor) * p.speed);
let appended = 0;
/**
 * stdout is a line protocol for the harness (stderr carries the logs):
 *   READY                      recovery done, collecting
 *   D <appended> <json>        rows just made durable, per market (after the segment's fsync + rename)
 *   DONE <json>                graceful stop finished (writer status)
 */
const out = (line: string) => process.stdout.write(line + "\n");
const rig = await buildRig({
  dataDir: p.dataDir,
  clock,
  mock: { seed: p.seed, ...p.mock },
  hot: p.hot,
  warm: p.warm,
  remote: p.remote,
  writer: p.writer,
  onAppend: () => void appended++,
  onDurable: (_venue, byMarket) => out(`D ${appended} ${JSON.stringify(Object.fromEntries(byMarket))}`),
});
out("READY");
process.on("SIGTERM", async () => {
  try {
    await rig.collector.stop();
    out(`DONE ${JSON.stringify({ ...rig.writer.status(), appended })}`);
    process.exit(0);
  } catch (e) {
    process.stderr.write(`stop failed: ${(e as Error).message}\n`);
    process.exit(1);
  }
});
