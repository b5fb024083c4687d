/** `surveillance mine`: rankings and stats cache over a range, confirmed pairs, an HTML report (analytics/miner.ts). */
import { defineCommand } from "citty";
import { commandConfig, readDataDir, repeatedArg, sharedArgs } from "./_shared.ts";

export const mineArgs = {
  from: {
    type: "string",
    description: "First day or hour to mine, UTC (YYYY-MM-DD or YYYY-MM-DDTHH; default: today)",
    valueHint: "DATE[THH]",
  },
  to: {
    type: "string",
    description: "Last day or hour to mine, inclusive (default: the --from day)",
    valueHint: "DATE[THH]",
  },
  top: { type: "string", description: "Books per ranking", default: "10", valueHint: "N" },
  json: { type: "boolean", description: "Print the summary as JSON", default: false },
  report: {
    type: "string",
    description: "Also write a self-contained HTML report (coverage, spread/depth/mid over time, rankings) to FILE",
    valueHint: "FILE.html",
  },
  partials: {
    type: "boolean",
    description: "Merge the stored day partials where the day's files are unchanged (--no-partials reads every day)",
    default: true,
  },
} as const;

export default defineCommand({
  meta: {
    name: "mine",
    description: "Rank markets by depth, spread and activity over a date range; write the stats cache",
  },
  args: { ...sharedArgs, ...mineArgs },
  async run({ args, rawArgs }) {
    const { logger } = await import("../log.ts");
    const { RealClock } = await import("../clock.ts");
    const { UserError } = await import("../errors.ts");
    const { formatSummary, resultJson } = await import("../analytics/summary.ts");
    const { parseRange } = await import("./_range.ts");
    const { utcDate } = await import("../timebucket.ts");
    // Venues come from the dataset (mining happens offline, maybe with another config), so --venue is not checked against the config.
    const cfg = await commandConfig({ ...args, venue: undefined });
    const log = logger("mine");
    const top = Number(args.top);
    if (!Number.isInteger(top) || top < 1)
      throw new UserError(`--top ${JSON.stringify(args.top)}: expected a whole number ≥ 1`, 2);
    // Default: today (UTC); --from alone means that one day.
    const { fromTs, toTs } = parseRange(args.from, args.to);
    const from = fromTs ?? Date.parse(`${utcDate(new RealClock().now())}T00:00:00Z`);
    const to = toTs ?? Date.parse(`${utcDate(from)}T00:00:00Z`) + 86_400_000;
    const { wantsProgress, progressBar } = await import("./_progress.ts");
    const bar = wantsProgress(args.json) ? progressBar() : undefined;
    const { mine } = await import("../analytics/miner.ts");
    // s3://: a temp copy of the range's objects; the stats cache it writes goes with the copy (the bucket is read only).
    await using data = await readDataDir(cfg, { from, to });
    const result = await mine({
      dataDir: data.dir,
      venues: repeatedArg(rawArgs, "venue"),
      from,
      to,
      top,
      partials: args.partials,
      onProgress: bar?.update,
      onSkip: (file, reason) => log.error(`skipped ${file}: ${reason}`),
    }).finally(() => bar?.stop());
    if (data.remote) {
      // the stats cache went into the temp copy, removed at exit: name no file that will not be there
      for (const v of result.venues) v.statsFile = undefined;
      log.info(`stats cache not kept: ${data.name} is read, never written`);
    }
    // Confirmed cross-venue pairs (mappings/pairs.jsonl), compared over the same range: nothing when there are none.
    const { minePairs, formatPairs } = await import("../pairs/mine-pairs.ts");
    const { COLLECT_DEFAULTS } = await import("../config.ts");
    const hot = (v: string) =>
      cfg.venues.find((x) => x.name === v)?.collect.snapshot_interval_ms_hot ??
      COLLECT_DEFAULTS.snapshot_interval_ms_hot;
    const pairs = await minePairs({ dataDir: data.dir, from, to, hotIntervalMs: hot });
    if (args.json)
      console.log(
        JSON.stringify(Object.assign(resultJson(result) as object, pairs ? { pairs: pairs.rows } : {}), null, 2),
      );
    else console.log(pairs ? `${formatSummary(result)}\n\n${formatPairs(pairs)}` : formatSummary(result));
    if (args.report) {
      const { buildReport } = await import("../analytics/report.ts");
      const { writeReport } = await import("../analytics/report-html.ts");
      const report = buildReport(data.dir, result, new RealClock().now());
      if (pairs) report.pairs = (await import("../pairs/mine-pairs.ts")).reportPairs(pairs);
      const bytes = await writeReport(args.report, report);
      log.info(`report: ${args.report} (${(bytes / 1e6).toFixed(2)} MB)`);
    }
    if (result.skipped.length > 0) {
      log.warn(
        `${result.skipped.length} file(s) could not be read and were skipped; the results above exclude them (exit code 1)`,
      );
      process.exitCode = 1;
    }
  },
});
