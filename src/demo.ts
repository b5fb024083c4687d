/**
 * `surveillance demo`: the whole loop on the mock venue in one go: scan → collect a simulated hour on the fast
 * clock → mine → schedule again from the stats cache, printing what happened and where the files are.
 */
import type { Clock } from "./clock.ts";
import { SimClock } from "./clock.ts";
import type { Config, MockOptions, VenueConfig } from "./config.ts";
import { acquireDataDirLock } from "./data-dir-lock.ts";
import { UserError } from "./errors.ts";
import { shellWord } from "./invocation.ts";
import { dayGlobs } from "./layout.ts";
import { logger } from "./log.ts";
import { computeTargets } from "./scheduler/scheduler.ts";
import { readLatestUniverse, scanAll } from "./scanner/scanner.ts";
import { readLatestStats } from "./scheduler/stats-reader.ts";
import { bucketStart, utcDate } from "./timebucket.ts";

export interface DemoOptions {
  /** Simulated collection time. */
  durationMs: number;
  /** Books per ranking in the summary. */
  top: number;
  /** The real current time (epoch ms): the simulated collection ends at or before it (see demoWindow). */
  now: number;
  /** Where the narrative goes (stdout in the command). */
  print: (line: string) => void;
  /** How the "Next:" lines start the program, as it was started (src/invocation.ts): e.g. `bun run start --`. */
  cli: string;
}

const HOUR = 3_600_000;
const iso = (ts: number) => `${new Date(ts).toISOString().slice(0, 16)}Z`;

/**
 * The simulated collection: [start, end) with `end` = `now` aligned down to a writer bucket, so every file the demo
 * writes is dated in the past (a later `mine`/`status` without flags finds it) and the last bucket is complete.
 */
export function demoWindow(now: number, durationMs: number, bucketMinutes: number): { start: number; end: number } {
  const end = bucketStart(now, bucketMinutes);
  return { start: end - durationMs, end };
}

/** The demo's config: only mock venues, on the simulated clock. */
export function demoConfig(config: Config): Config {
  const mocks = config.selected.filter((v) => v.kind === "mock");
  const pick: VenueConfig[] = mocks.length > 0 ? mocks : config.venues.filter((v) => v.kind === "mock");
  if (pick.length === 0)
    throw new UserError(
      `no mock venue in ${config.source}`,
      2,
      "Add [venues.mock] with enabled = true (see config/surveillance.toml).",
    );
  const selected = pick.map((v) => ({
    ...v,
    enabled: true,
    options: { ...(v.options as MockOptions), clock_speed: 0 },
  }));
  // One status line per 10 simulated minutes: the demo's story goes to stdout, not hundreds of log lines.
  return {
    ...config,
    selected,
    metrics: { ...config.metrics, log_interval_secs: Math.max(config.metrics.log_interval_secs, 600) },
  };
}

export async function runDemo(config: Config, opts: DemoOptions): Promise<void> {
  const cfg = demoConfig(config);
  // The demo writes staging, finals and stats: it holds the data dir's lock like collect (refused while one runs).
  const lock = acquireDataDirLock(cfg.data_dir, {
    now: opts.now,
    command: "demo",
    onTakeover: (m) => logger("demo").warn(m),
  });
  try {
    await demo(cfg, opts);
  } finally {
    lock.release();
  }
}

async function demo(cfg: Config, opts: DemoOptions): Promise<void> {
  const { print } = opts;
  const dataDir = cfg.data_dir;
  const venues = cfg.selected.map((v) => v.name);
  const { start, end } = demoWindow(opts.now, opts.durationMs, cfg.writer.bucket_minutes);
  const clock: Clock = new SimClock(start);
  const wall = performance.now();
  const secs = () => ((performance.now() - wall) / 1000).toFixed(1);

  print(`surveillance demo: mock venue${venues.length > 1 ? "s" : ""} ${venues.join(", ")}, data in ${dataDir}`);
  print(`1. scan: writing the market universe`);
  const scans = await scanAll(cfg, { clock, env: {} });
  for (const s of scans) {
    if (!s.ok)
      throw new UserError(
        `scan of ${s.venue} failed: ${s.error instanceof Error ? s.error.message : String(s.error)}`,
        1,
      );
    print(`   ${s.venue}: ${s.markets} markets (${s.active} active) -> ${s.path}`);
  }

  // Before any stats exist, HOT is ranked by closing time / recency.
  const before = new Map<string, string[]>();
  for (const v of cfg.selected) {
    const universe = (await readLatestUniverse(dataDir, v.name, clock.now())) ?? [];
    before.set(
      v.name,
      computeTargets({ universe, now: clock.now(), settings: v.collect }).hot.map((r) => r.market_id),
    );
  }

  print(
    `2. collect: ${opts.durationMs / 60_000} simulated minutes (HOT every ${cfg.selected[0].collect.snapshot_interval_ms_hot / 1000} s, WARM every ${cfg.selected[0].collect.snapshot_interval_ms_warm / 1000} s, WARM rotating every ${cfg.selected[0].collect.rotation_period_secs} s)`,
  );
  const { runCollect } = await import("./collector/run.ts");
  print(`   simulated time ${iso(start)} to ${iso(end)}, ending before now`);
  // Stops 1 ms before `end`: nothing (rows, stop records) lands in the bucket that starts at `end`.
  const collected = await runCollect(cfg, { untilTs: end - 1, clock, env: {}, lock: false });
  for (const c of collected) {
    print(
      `   ${c.venue}: ${c.snapshots.toLocaleString("en-US")} snapshots from ${c.updates.toLocaleString("en-US")} book updates, ${c.subscribes} subscribes / ${c.unsubscribes} unsubscribes (${secs()} s real time)`,
    );
  }

  print("3. mine: ranking the books from the Parquet files");
  const { mine } = await import("./analytics/miner.ts");
  const { formatSummary } = await import("./analytics/summary.ts");
  const from = Math.floor(start / HOUR) * HOUR;
  const to = Math.ceil((clock.now() + 1) / HOUR) * HOUR;
  const result = await mine({ dataDir, venues, from, to, top: opts.top });
  for (const line of formatSummary(result).split("\n")) if (line.trim() !== "") print(`   ${line}`);
  const { buildReport } = await import("./analytics/report.ts");
  const { writeReport } = await import("./analytics/report-html.ts");
  const { join } = await import("node:path");
  const reportFile = join(dataDir, "report.html");
  await writeReport(reportFile, buildReport(dataDir, result, clock.now()));
  print(`   report: ${reportFile} (open it in a browser; it needs no network)`);

  print("4. schedule again: HOT now comes from the stats cache");
  for (const v of cfg.selected) {
    const universe = (await readLatestUniverse(dataDir, v.name, clock.now())) ?? [];
    const scores = await readLatestStats(dataDir, v.name, clock.now());
    const after = computeTargets({ universe, scores, now: clock.now(), settings: v.collect });
    const hot = after.hot.map((r) => r.market_id);
    const kept = hot.filter((id) => before.get(v.name)!.includes(id)).length;
    print(
      `   ${v.name}: HOT = the ${hot.length} best-scored markets (${kept} of them were HOT before stats), WARM = ${after.warm.length} rotating`,
    );
    const titles = new Map(universe.map((m) => [m.market_id, m.title]));
    for (const id of hot.slice(0, opts.top))
      print(`     ${id}  score ${scores?.get(id)?.toFixed(3) ?? "-"}  ${titles.get(id) ?? ""}`);
    if (hot.length > opts.top) print(`     … and ${hot.length - opts.top} more`);
  }

  // A window across midnight UTC writes two days.
  const firstDay = utcDate(start);
  const lastDay = utcDate(end - 1);
  const day = firstDay === lastDay ? firstDay : "*";
  print(`done in ${secs()} s. Files:`);
  for (const glob of dayGlobs(day)) print(`   ${dataDir}/${glob}`);
  print("Next:");
  const dir = shellWord(dataDir);
  const toDay = lastDay !== firstDay ? ` --to ${lastDay}` : "";
  const next: [string, string][] = [
    [`mine --data-dir ${dir} --from ${firstDay}${toDay} --json`, "the same summary as JSON"],
    [`status --data-dir ${dir}`, "what is on disk"],
    [`verify --data-dir ${dir}`, "check every file against the schema"],
    [`collect --data-dir ${dir} --duration 10m`, "collect again (HOT from the stats)"],
  ];
  // The command ends the line (no trailing `# comment`: zsh's default takes it as arguments), so it copies as is.
  const width = Math.max(...next.map(([, w]) => w.length)) + 1;
  for (const [cmd, what] of next) print(`   ${`${what}:`.padEnd(width)}  ${opts.cli} ${cmd}`);
}
