/** `surveillance status`: one UTC day of the data tree per venue and hour, from the files' metadata (ops/status.ts). */
import { defineCommand } from "citty";
import { commandConfig, readDataDir, sharedArgs } from "./_shared.ts";
import { parseDay } from "./_range.ts";

export default defineCommand({
  meta: {
    name: "status",
    description: "Per venue and hour: files, rows, markets, bytes, first/last ts, missing buckets, staged data",
  },
  args: {
    ...sharedArgs,
    date: { type: "string", description: "UTC day to report (default: today, UTC)", valueHint: "YYYY-MM-DD" },
    json: { type: "boolean", description: "Print the status as JSON", default: false },
    coverage: {
      type: "boolean",
      description: "Per venue and hour: snapshots the schedule called for, rows recorded, missing ones by cause",
      default: false,
    },
  },
  async run({ args, rawArgs }) {
    const config = await commandConfig(args, rawArgs);
    const [
      { dayStatus, formatStatus, dayCoverage },
      { formatCoverage, configCadence },
      { RealClock },
      { bucketStart },
      { verifiedCopies },
    ] = await Promise.all([
      import("../ops/status.ts"),
      import("../ops/coverage.ts"),
      import("../clock.ts"),
      import("../timebucket.ts"),
      import("../upload/ledger.ts"),
    ]);
    const now = new RealClock().now();
    const dayTs = args.date ? parseDay(args.date) : bucketStart(now, 24 * 60);
    const venues = args.venue ? config.selected.map((v) => v.name) : undefined;
    // s3://: the day's objects (coverage reads the journal from the day before through the day after)
    const DAY = 86_400_000;
    const span = args.coverage ? { from: dayTs - DAY, to: dayTs + 2 * DAY } : { from: dayTs, to: dayTs + DAY };
    await using data = await readDataDir(config, span);
    const dir = data.dir;
    const s = await dayStatus(dir, dayTs, {
      bucketMinutes: config.writer.bucket_minutes,
      venues,
      archived: await verifiedCopies(dir),
    });
    const coverage = args.coverage
      ? dayCoverage(dir, s, dayTs, {
          venues: config.selected.map((v) => v.name),
          now,
          cadence: (name) => configCadence(config, name),
        })
      : undefined;
    // With upload on, for the local tree: per venue over the whole manifest (not only --date), from the ledger and
    // last-error.json. A bucket's copy has neither (the bucket is the target).
    const up = config.upload.url && !data.remote ? await import("../upload/upload-status.ts") : undefined;
    const upload = await up?.uploadStatus(dir, config.upload.url, now, venues);
    if (args.json)
      console.log(JSON.stringify({ ...s, ...(coverage ? { coverage } : {}), ...(upload ? { upload } : {}) }, null, 2));
    else {
      if (s.hours.length === 0) {
        console.log(`${s.date} (UTC): no data under ${data.name}`);
        if (s.quarantined.length && !coverage)
          console.log(`quarantined staged data (unreadable segments, see the writer log): ${s.quarantined.join(", ")}`);
      } else console.log(formatStatus(s));
      if (coverage)
        console.log(
          coverage.length === 0
            ? "coverage: no subscription journal for the day"
            : `coverage: snapshots the journal's schedule called for vs rows recorded (final + staged)\n${formatCoverage(coverage)}`,
        );
      if (up && upload) for (const line of up.formatUploadStatus(upload)) console.log(line);
    }
  },
});
