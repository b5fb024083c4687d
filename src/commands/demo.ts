/** `surveillance demo`: scan, collect, mine and reschedule on the mock venue in a temporary data dir (demo.ts). */
import { defineCommand } from "citty";
import { commandConfig, sharedArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "demo",
    description:
      "Scan → collect a simulated hour (ending now) → mine → reschedule, on the mock venue, in a temporary (or --data-dir) directory",
  },
  args: {
    ...sharedArgs,
    duration: {
      type: "string",
      description: "Simulated collection time (90s, 10m, 1h)",
      default: "1h",
      valueHint: "DURATION",
    },
    top: { type: "string", description: "Books per ranking in the summary", default: "3", valueHint: "N" },
  },
  async run({ args, rawArgs }) {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { RealClock } = await import("../clock.ts");
    const { UserError } = await import("../errors.ts");
    const { parseDuration } = await import("../collector/run.ts");
    const { runDemo } = await import("../demo.ts");
    const durationMs = parseDuration(String(args.duration));
    const top = Number(args.top);
    if (!Number.isInteger(top) || top < 1)
      throw new UserError(`--top ${JSON.stringify(args.top)}: expected a whole number ≥ 1`, 2);
    const dataDir = args["data-dir"] ?? mkdtempSync(join(tmpdir(), "surveillance-demo-"));
    const config = await commandConfig({ ...args, "data-dir": dataDir }, rawArgs);
    const { thisCliCommand } = await import("../invocation.ts");
    await runDemo(config, {
      durationMs,
      top,
      now: new RealClock().now(),
      print: (line) => console.log(line),
      cli: thisCliCommand(),
    });
  },
});
