/** `surveillance collect`: record the scheduler's markets until --duration, --until or a signal (collector/run.ts). */
import { defineCommand } from "citty";
import { commandConfig, sharedArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "collect",
    description: "Subscribe to the scheduler's markets and record order-book snapshots to Parquet",
  },
  args: {
    ...sharedArgs,
    duration: {
      type: "string",
      description: "Stop after this long (90s, 10m, 2h, 1h30m); simulated time for a mock with clock_speed 0",
      valueHint: "DURATION",
    },
    "allow-partial": {
      type: "boolean",
      description: "Exit 0 even when a selected venue never reached collecting (each is still named with its reason)",
      default: false,
    },
    until: {
      type: "string",
      description: "Stop at this UTC time (ISO 8601, e.g. 2026-01-01T12:00:00Z)",
      valueHint: "ISO",
    },
  },
  async run({ args, rawArgs }) {
    const { chooseClock, parseDuration, parseUntil, runCollect } = await import("../collector/run.ts");
    const durationMs = args.duration !== undefined ? parseDuration(String(args.duration)) : undefined;
    const untilTs = args.until !== undefined ? parseUntil(String(args.until)) : undefined;
    const config = await commandConfig(args, rawArgs);
    const [{ configNotice }, { logger }] = await Promise.all([import("../config.ts"), import("../log.ts")]);
    logger("collect").info(configNotice(config, process.cwd()));
    if (durationMs === undefined && untilTs === undefined) {
      const { SimClock } = await import("../clock.ts");
      if (chooseClock(config) instanceof SimClock) {
        const { UserError } = await import("../errors.ts");
        throw new UserError(
          "collect on a simulated clock (mock clock_speed = 0) needs --duration or --until: simulated time would otherwise run ahead without bound",
          2,
          "Add e.g. --duration 1h, or set clock_speed = 1 in [venues.mock] for real time.",
        );
      }
    }
    // The first SIGINT/SIGTERM stops the run (the writer then finalizes every open bucket, retrying a failing disk
    // for up to a minute); a second one exits at once, leaving staging for the next start's recovery.
    const { hardExitOnSecondSignal } = await import("../collector/stop-signals.ts");
    const ac = new AbortController();
    const onSignal = hardExitOnSecondSignal(ac);
    const onInt = () => onSignal("SIGINT");
    const onTerm = () => onSignal("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    try {
      const summary = await runCollect(config, { durationMs, untilTs, signal: ac.signal, env: process.env });
      const { summaryLine } = await import("../collector/summary-line.ts");
      for (const s of summary) console.log(summaryLine(s));
      // A selected venue that never collected is a failed run unless partial runs are allowed: one line each, why.
      const idle = summary.filter((s) => !s.collecting);
      if (idle.length > 0) {
        for (const s of idle) logger("collect").error(`${s.venue} never reached collecting: ${s.reason}`);
        if (!args["allow-partial"]) process.exitCode = 1;
      }
    } finally {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    }
  },
});
