/** `surveillance verify`: final files in range against schema and manifest (ops/verify.ts); exit 1 on any fault. */
import { defineCommand } from "citty";
import { commandConfig, readDataDir, sharedArgs } from "./_shared.ts";
import { parseRange } from "./_range.ts";

export default defineCommand({
  meta: {
    name: "verify",
    description:
      "Check every final Parquet file in range: schema, row counts, partitions, book invariants (exit 1 if anything is wrong)",
  },
  args: {
    ...sharedArgs,
    from: { type: "string", description: "First date or hour to check (UTC, inclusive)", valueHint: "YYYY-MM-DD[THH]" },
    to: { type: "string", description: "Last date or hour to check (UTC, inclusive)", valueHint: "YYYY-MM-DD[THH]" },
    json: { type: "boolean", description: "Print the report as JSON", default: false },
    "pending-secs": {
      type: "string",
      description:
        "Reading s3://: a file the bucket's manifest lists but the bucket lacks is pending (not missing) when listed within this many seconds",
      default: "3600",
      valueHint: "SECS",
    },
  },
  async run({ args, rawArgs }) {
    const config = await commandConfig(args, rawArgs);
    const range = parseRange(args.from, args.to);
    const [
      { verifyDataset },
      { readManifest },
      { manifestPath },
      { formatInferred },
      { UserError },
      { logger },
      { verifiedCopies },
      { RealClock },
    ] = await Promise.all([
      import("../ops/verify.ts"),
      import("../storage/manifest.ts"),
      import("../layout.ts"),
      import("../ops/file-buckets.ts"),
      import("../errors.ts"),
      import("../log.ts"),
      import("../upload/ledger.ts"),
      import("../clock.ts"),
    ]);
    const venues = args.venue ? config.selected.map((v) => v.name) : undefined;
    const pendingSecs = Number(args["pending-secs"]);
    if (!Number.isFinite(pendingSecs) || pendingSecs < 0)
      throw new UserError(
        `--pending-secs ${JSON.stringify(args["pending-secs"])}: expected a number of seconds ≥ 0`,
        2,
      );
    await using data = await readDataDir(config, { from: range.fromTs, to: range.toTs });
    const dir = data.dir;
    const hasManifest = await Bun.file(manifestPath(dir)).exists();
    if (!hasManifest) logger("verify").warn(`no manifest in ${data.name}: row counts are not checked`);
    const manifest = hasManifest ? () => readManifest(dir) : undefined;
    const report = await verifyDataset(dir, {
      ...range,
      venues,
      topK: config.top_k,
      bucketMinutes: config.writer.bucket_minutes,
      manifest,
      archived: await verifiedCopies(dir),
      // the bucket's manifest is copied now and then, its files as soon as listed: it may list files not there yet
      pendingSince: data.remote ? new RealClock().now() - pendingSecs * 1000 : undefined,
    });
    if (report.files === 0 && report.problems.length === 0 && report.archived.length === 0) {
      throw new UserError(
        `no final files in range under ${data.name}`,
        1,
        "Check --data-dir, --venue and --from/--to.",
      );
    }
    const bad = new Set(report.problems.map((p) => p.file));
    if (args.json) {
      console.log(
        JSON.stringify(
          {
            ok: report.problems.length === 0,
            files: report.files,
            rows: report.rows,
            bad_files: bad.size,
            problems: report.problems,
            suppressed: report.suppressed,
            inferred: report.inferred,
            archived_files: report.archived.length,
            pending: report.pending,
          },
          null,
          2,
        ),
      );
    } else {
      for (const p of report.problems)
        console.log(`${p.file}${p.row === undefined ? "" : ` row ${p.row}`}: ${p.check}: ${p.message}`);
      for (const [file, n] of Object.entries(report.suppressed))
        console.log(`${file}: ${n} more row problems not listed`);
      for (const line of formatInferred(report.inferred, config.writer.bucket_minutes)) console.log(line);
      const pending = report.pending.length;
      if (pending > 0)
        console.log(
          `${pending} file(s) pending upload: the bucket's manifest lists them (within the last ${pendingSecs} s) but the bucket has no copy yet (first: ${report.pending[0]})`,
        );
      const archived = report.archived.length;
      if (archived > 0)
        console.log(
          `${archived} archived file(s): listed in the manifest, deleted locally after a verified upload (not read here; verify --data-dir s3://… reads the bucket)`,
        );
      console.log(
        report.problems.length === 0
          ? `OK: ${report.files} files, ${report.rows} rows`
          : `FAILED: ${report.problems.length} problem(s) in ${bad.size} file(s) (${report.files} files, ${report.rows} rows read)`,
      );
    }
    if (report.problems.length > 0) process.exitCode = 1;
  },
});
