/** `surveillance scan`: each selected venue's market universe into the data tree (scanner/scanner.ts). */
import { defineCommand } from "citty";
import { commandConfig, sharedArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "scan",
    description: "Write each selected venue's market universe to metadata/venue=V/date=YYYY-MM-DD/universe.jsonl",
  },
  args: {
    ...sharedArgs,
    limit: {
      type: "string",
      description: "Keep at most this many markets per venue (live smoke runs)",
      valueHint: "N",
    },
  },
  async run({ args, rawArgs }) {
    const { logger } = await import("../log.ts");
    const { UserError } = await import("../errors.ts");
    const { RealClock } = await import("../clock.ts");
    const { scanAll } = await import("../scanner/scanner.ts");

    const config = await commandConfig(args, rawArgs);
    let limit: number | undefined;
    if (args.limit !== undefined) {
      limit = Number(args.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UserError(`--limit ${args.limit}: must be a whole number ≥ 1`, 2);
    }
    if (config.selected.length === 0)
      throw new UserError(
        `no venue is enabled in ${config.source}`,
        2,
        "Enable a venue in the config or pass --venue NAME.",
      );

    const log = logger("scan");
    const results = await scanAll(config, { clock: new RealClock(), env: process.env }, { limit });
    for (const r of results) {
      if (r.ok) console.log(`${r.venue}: ${r.markets} markets (${r.active} active) -> ${r.path}`);
      else {
        // The reason once, on stderr; stdout keeps one result line per venue for scripts.
        const msg = r.error instanceof Error ? r.error.message : String(r.error);
        log.error(`${r.venue}: scan failed: ${msg}; the previous universe file (if any) is kept`);
        if (args.verbose && r.error instanceof Error) log.debug(r.error.stack);
        console.log(`${r.venue}: FAILED (reason on stderr)`);
      }
    }
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  },
});
