/** `surveillance status`: one UTC day of the data tree per venue and hour, from the files' metadata (ops/status.ts). */
import { defineCommand } from "citty";
import { commandConfig, sharedArgs } from "./_shared.ts";
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
  },
  async run({ args, rawArgs }) {
    const config = await commandConfig(args, rawArgs);
    const [{ dayStatus, formatStatus }, { RealClock }, { bucketStart }] = await Promise.all([
      import("../ops/status.ts"),
      import("../clock.ts"),
      import("../timebucket.ts"),
    ]);
    const dayTs = args.date ? parseDay(args.date) : bucketStart(new RealClock().now(), 24 * 60);
    const venues = args.venue ? config.selected.map((v) => v.name) : undefined;
    const s = await dayStatus(config.data_dir, dayTs, { bucketMinutes: config.writer.bucket_minutes, venues });
    if (args.json) console.log(JSON.stringify(s, null, 2));
    else if (s.hours.length === 0) {
      console.log(`${s.date} (UTC): no data under ${config.data_dir}`);
      if (s.quarantined.length)
        console.log(`quarantined staged data (unreadable segments, see the writer log): ${s.quarantined.join(", ")}`);
    } else console.log(formatStatus(s));
  },
});
