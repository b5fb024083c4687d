/**
 * Soak part 1: simulated days on the mock venue with every fault knob on, a rescan each simulated midnight, a
 * SIGTERM restart at the end of each day and seeded random SIGKILLs. The harness counts what each child reported
 * durable and checks the data dir at the end (and sizes and RSS per day on the way).
 */
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { DATASET_DIR, ledgerPath, MANIFEST_DIR, SUBSCRIPTIONS_DIR } from "../../src/layout.ts";
import { type Config, parseConfig } from "../../src/config.ts";
import { configCadence } from "../../src/ops/coverage.ts";
import { dayCoverage, dayStatus } from "../../src/ops/status.ts";
import { readLedger } from "../../src/upload/ledger.ts";
import { mockUniverse, mulberry32 } from "../../src/venue/mock.ts";
import { checkDataset } from "../chaos/dataset-check.ts";
import { type ArchiveCheck, checkArchive, S3_ENV, startArchive } from "./archive.ts";
import { type LineChild, spawnLineChild } from "../line-child.ts";
import type { SoakChildParams } from "./child.ts";

const DAY = 86_400_000;
const MIN = 60_000;

export interface SimDaysOptions {
  days: number;
  seed: number;
  universe: number;
  killsPerDay: number;
  /** max_subs_per_venue (hot_count is a fifth of it). */
  maxSubs: number;
  /** Size of the tmpfs holding the data dir, MB: it nears its floor within the run (upload and disk guard on). */
  fsMb: number;
  keepDir?: boolean;
  log: (m: string) => void;
}

export interface DayFigures {
  day: string;
  children: number;
  kills: number;
  durable: number;
  peakRssMb: number;
  /** The median over the day of the RSS a child reports each simulated hour right after a full GC. */
  settledRssMb: number;
  journalBytes: number;
  manifestBytes: number;
  /**
   * The upload ledger (`_upload/ledger.jsonl`): one line per verified copy, so it grows with the files uploaded, plus
   * superseded lines (the current journal day is uploaded again as it grows) until a start compacts it.
   */
  ledgerBytes: number;
  /** What the ledger would be compacted: the last line of each path, the part that must grow linearly. */
  ledgerLiveBytes: number;
  wallSecs: number;
}

/** One simulated day's coverage figures, from the collector's own accounting (src/ops/coverage.ts). */
export interface DayCoverage {
  day: string;
  expected: number;
  recorded: number;
  /** Missing by cause, day total. */
  crash: number;
  inFlight: number;
  stalled: number;
  notSubscribed: number;
  writerDropped: number;
  /** Summed over the hours (each hour's unknown, so one hour's extra cannot hide another's unknown). */
  unknown: number;
  extra: number;
  /** recorded / (expected − what the downtime and the churn wait explain): the share recorded while running. */
  runningPct: number;
  /** Hours with unknown > 0 (a few, for the FAIL line). */
  unknownHours: string[];
}

export interface SimDaysResult {
  days: DayFigures[];
  durable: number;
  found: number;
  lost: number;
  duplicates: number;
  strayFiles: string[];
  unreadable: string[];
  manifestOk: boolean;
  verifyExit: number;
  verifyTail: string;
  outsideLayout: string[];
  pins: string[];
  archive: ArchiveCheck & { fsMb: number; outageFaults: number };
  /** Final files missing a pinned market, and pinned books recorded below 90% of HOT cadence in a file. */
  filesMissingPin: number;
  pinBooksBelowHot: number;
  /** A few of them: file, book, rows and span. */
  belowHotExamples: string[];
  /** Rows of markets the filter excludes (sports) that are not pinned. */
  filteredOutRows: number;
  /** `status --coverage` per simulated day (its day line), on the whole record. */
  coverage: DayCoverage[];
  /** The whole record (removed at the end unless keepDir). */
  dataDir: string;
}

/** Pins in every final file at HOT cadence; nothing the filter excludes recorded (independent of src/: DuckDB + the universe files). */
async function checkSelection(dataDir: string, pins: string[], hotMs: number, down: [number, number][]) {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  const glob = `${join(dataDir, DATASET_DIR)}/**/*.parquet`;
  const pinList = pins.map((p) => `'${p}'`).join(",");
  const perFile = (
    await c.runAndReadAll(
      `SELECT filename, count(DISTINCT market_id) FILTER (WHERE market_id IN (${pinList})) AS pinned, min(ts_recv) AS lo, max(ts_recv) AS hi FROM read_parquet('${glob}', filename = true, hive_partitioning = false) GROUP BY filename`,
    )
  ).getRowObjectsJS() as { filename: string; pinned: bigint; lo: bigint; hi: bigint }[];
  const filesMissingPin = perFile.filter((f) => Number(f.pinned) < pins.length).length;
  const perBook = (
    await c.runAndReadAll(
      `SELECT filename, market_id, outcome_id, count(*) AS n, min(ts_recv) AS lo, max(ts_recv) AS hi FROM read_parquet('${glob}', filename = true, hive_partitioning = false) WHERE market_id IN (${pinList}) GROUP BY filename, market_id, outcome_id`,
    )
  ).getRowObjectsJS() as {
    filename: string;
    market_id: string;
    outcome_id: string;
    n: bigint;
    lo: bigint;
    hi: bigint;
  }[];
  // Time the book was recordable in the file: its span less the downtime (kill to restart) and clock jumps inside it.
  const upMs = (lo: number, hi: number) =>
    down.reduce((ms, [a, b]) => ms - Math.max(0, Math.min(hi, b) - Math.max(lo, a)), hi - lo);
  const below = perBook.filter((b) => Number(b.n) < 0.9 * (upMs(Number(b.lo), Number(b.hi)) / hotMs));
  const pinBooksBelowHot = below.length;
  const belowHotExamples = below
    .slice(0, 5)
    .map(
      (b) =>
        `${String(b.filename).split("/").slice(-2).join("/")} ${b.market_id}/${b.outcome_id}: ${b.n} rows over ${((Number(b.hi) - Number(b.lo)) / 1000).toFixed(0)} s (${new Date(Number(b.lo)).toISOString().slice(11, 19)}-${new Date(Number(b.hi)).toISOString().slice(11, 19)})`,
    );
  const universeGlob = `${join(dataDir, "metadata")}/**/universe.jsonl`;
  const filteredOutRows = Number(
    (
      await c.runAndReadAll(
        `WITH sports AS (SELECT DISTINCT market_id FROM read_json_auto('${universeGlob}') WHERE list_contains(tags, 'sports')) SELECT count(*) AS n FROM read_parquet('${glob}', hive_partitioning = false) WHERE market_id IN (SELECT market_id FROM sports) AND market_id NOT IN (${pinList})`,
      )
    ).getRowObjectsJS()[0].n,
  );
  c.closeSync();
  return { filesMissingPin, pinBooksBelowHot, belowHotExamples, filteredOutRows };
}

/** The filter every soak day runs with: no sports market is eligible (pins excepted). */
const FILTER_TAGS_NONE = ["sports"];

/**
 * Pins: markets that stay open all week (neither closed nor closing soon on any day of the mock's universe), one of
 * them a sports market the filter excludes (a filter never removes a pin).
 */
export function soakPins(o: Pick<SimDaysOptions, "universe" | "seed">, t0: number, days: number): string[] {
  const opts = { universe_size: o.universe, seed: o.seed, closed_share: 0.05, updates_per_sec: 2 };
  const open = (m: { status: string; close_ts: number | null }, end: number) =>
    m.status === "active" && (m.close_ts ?? Infinity) > end;
  const end = t0 + (days + 1) * DAY;
  const u = mockUniverse("mock", opts, t0).filter((m) => open(m, end));
  const sports = u.find((m) => m.tags.includes("sports"))!;
  const rest = u.filter((m) => !m.tags.some((t) => FILTER_TAGS_NONE.includes(t))).slice(0, 4);
  return [sports.market_id, ...rest.map((m) => m.market_id)];
}

export function soakConfig(
  dataDir: string,
  o: SimDaysOptions,
  pins: string[],
  offBox: { upload: Record<string, unknown>; disk: Record<string, unknown> },
): Record<string, unknown> {
  return {
    data_dir: dataDir,
    upload: offBox.upload,
    disk: offBox.disk,
    writer: { flush_secs: 5 },
    metrics: { log_interval_secs: 3600 },
    collector: { max_subs_per_venue: o.maxSubs, hot_count: Math.round(o.maxSubs / 5) },
    venues: {
      mock: {
        universe_size: o.universe,
        seed: o.seed,
        updates_per_sec: 2,
        drop_rate_per_hour: 2,
        gap_rate: 0.001,
        malformed_rate: 0.001,
        pin: pins,
        filter: { tags_none: FILTER_TAGS_NONE },
      },
    },
  };
}

interface Child {
  proc: LineChild["proc"];
  lastT: number;
  peakRss: number;
  durable: number;
  /** RSS after a full GC, once per simulated hour. */
  settled: number[];
  done: boolean;
  exited: Promise<number>;
  /** Forward clock steps the child made: [from, to] sim ms. */
  jumps: [number, number][];
}

let logFile = "/dev/null";

function spawnChild(params: SoakChildParams, durable: Map<string, number>, onT: (t: number, c: Child) => void): Child {
  const child = {
    lastT: params.start,
    peakRss: 0,
    durable: 0,
    settled: [],
    done: false,
    jumps: [],
  } as unknown as Child;
  const { proc, closed } = spawnLineChild(
    ["bun", join(import.meta.dir, "child.ts"), JSON.stringify(params)],
    (line) => {
      if (line.startsWith("S ")) {
        const [, from, to] = line.split(" ").map(Number);
        if (to > from) child.jumps.push([from, to]);
      } else if (line.startsWith("T ")) {
        const [, t, rss] = line.split(" ");
        child.lastT = Number(t);
        child.peakRss = Math.max(child.peakRss, Number(rss));
        onT(child.lastT, child);
      } else if (line.startsWith("M ")) {
        child.settled.push(Number(line.slice(2)));
      } else if (line.startsWith("D ")) {
        for (const [m, n] of Object.entries(JSON.parse(line.slice(2)) as Record<string, number>)) {
          durable.set(m, (durable.get(m) ?? 0) + n);
          child.durable += n;
        }
      } else if (line === "DONE") child.done = true;
    },
    // The child's logs, kept for a failure's post-mortem (appended across children).
    Bun.file(logFile),
  );
  child.proc = proc;
  // Exit alone can come before the last D and DONE lines were read: the day's figures wait for both.
  child.exited = closed;
  return child;
}

/**
 * The coverage accounting of the record (`status --coverage`, run on the whole tree: the guard's deletions fetched
 * back) for each simulated day, with the soak config's cadences where a journal's start record lacks them.
 */
async function soakCoverage(whole: string, config: Config, t0: number, days: number): Promise<DayCoverage[]> {
  const out: DayCoverage[] = [];
  for (let d = 0; d < days; d++) {
    const dayTs = t0 + d * DAY;
    const s = await dayStatus(whole, dayTs, { bucketMinutes: 5, venues: ["mock"] });
    const rows = dayCoverage(whole, s, dayTs, {
      venues: ["mock"],
      now: Number.POSITIVE_INFINITY,
      cadence: (venue) => configCadence(config, venue),
    });
    const day = rows.find((r) => r.hour === "day");
    const hours = rows.filter((r) => r.hour !== "day");
    if (!day) throw new Error(`no coverage figures for ${new Date(dayTs).toISOString().slice(0, 10)}`);
    const explainedAway = day.crash + day.in_flight + day.stalled + day.not_subscribed;
    out.push({
      day: new Date(dayTs).toISOString().slice(0, 10),
      expected: day.expected,
      recorded: day.recorded,
      crash: day.crash,
      inFlight: day.in_flight,
      stalled: day.stalled,
      notSubscribed: day.not_subscribed,
      writerDropped: day.writer_dropped,
      unknown: hours.reduce((n, h) => n + h.unknown, 0),
      extra: hours.reduce((n, h) => n + h.extra, 0),
      runningPct: (100 * day.recorded) / Math.max(1, day.expected - explainedAway),
      unknownHours: hours.filter((h) => h.unknown > 0).map((h) => `${h.hour}h ${h.unknown}`),
    });
  }
  return out;
}

function dirBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const f of new Bun.Glob("**/*").scanSync({ cwd: dir, onlyFiles: true, dot: true }))
    n += statSync(join(dir, f)).size;
  return n;
}

/** Every file of the data tree must sit where the layout puts it. */
const LAYOUT = [
  /^orderbook_snapshots\/venue=[a-z0-9_-]+\/date=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/snapshots_\d{4}-\d{2}-\d{2}T\d{2}-\d{2}(_\d+)?\.parquet$/,
  /^metadata\/venue=[a-z0-9_-]+\/date=\d{4}-\d{2}-\d{2}\/universe\.jsonl$/,
  /^stats\/venue=[a-z0-9_-]+\/date=\d{4}-\d{2}-\d{2}\/[a-z_]+\.(parquet|json|jsonl)$/,
  /^subscriptions\/venue=[a-z0-9_-]+\/date=\d{4}-\d{2}-\d{2}\/events\.jsonl$/,
  /^_manifest\/[a-z_]+\.jsonl$/,
  /^_upload\/.+$/,
  /^_[a-z_]+\.lock$/,
];

export function outsideLayout(dataDir: string): string[] {
  const all = [...new Bun.Glob("**/*").scanSync({ cwd: dataDir, onlyFiles: true, dot: true })];
  return all.filter((f) => !f.startsWith("_staging/") && !LAYOUT.some((re) => re.test(f))).sort();
}

export async function runSimDays(o: SimDaysOptions): Promise<SimDaysResult> {
  const rand = mulberry32(o.seed);
  const archive = await startArchive(o.fsMb);
  const dataDir = archive.dataDir;
  logFile = `${dataDir}.log`;
  o.log(
    `data dir ${dataDir} (${archive.fsMb ? `${archive.fsMb} MB tmpfs` : "plain directory"}), child logs ${logFile}`,
  );
  const t0 = Date.UTC(2026, 0, 5);
  const pins = soakPins(o, t0, o.days);
  const config = soakConfig(dataDir, o, pins, archive);
  const durable = new Map<string, number>();
  const days: DayFigures[] = [];
  /**
   * Sim time nothing could be recorded in: from the last progress line of a killed child (the kill came at most a
   * simulated minute later) to its restart, and each forward clock step (the wall clock jumped over it).
   */
  const down: [number, number][] = [];
  let t = t0;
  for (let d = 0; d < o.days; d++) {
    const dayStart = t0 + d * DAY;
    const dayEnd = dayStart + DAY;
    const wall = performance.now();
    // Seeded kill moments inside the day (sim time), at least 30 simulated minutes apart.
    const killAt = Array.from({ length: o.killsPerDay }, () => dayStart + Math.floor((0.05 + rand() * 0.9) * DAY)).sort(
      (a, b) => a - b,
    );
    const fig: DayFigures = {
      day: new Date(dayStart).toISOString().slice(0, 10),
      children: 0,
      kills: 0,
      durable: 0,
      peakRssMb: 0,
      settledRssMb: 0,
      journalBytes: 0,
      manifestBytes: 0,
      ledgerBytes: 0,
      ledgerLiveBytes: 0,
      wallSecs: 0,
    };
    let first = true;
    const settled: number[] = [];
    while (t < dayEnd) {
      const nextKill = killAt.find((k) => k > t + 10 * MIN);
      let sent: "kill" | "term" | undefined;
      const child = spawnChild(
        {
          config,
          start: t,
          until: dayEnd + 3_600_000,
          scan: first,
          env: S3_ENV,
          // Each day the wall clock steps forward 90 s at 06:00 and back 7.3 s at 18:00 (off the snapshot grid).
          steps: [
            { at: dayStart + 6 * 3_600_000, by: 90_000 },
            { at: dayStart + 18 * 3_600_000, by: -7_300 },
          ],
        },
        durable,
        (now, c) => {
          // The object store is away from 10:00 to 11:00 simulated time each day (answers 500).
          const hourOfDay = (now - dayStart) / 3_600_000;
          const away = hourOfDay >= 10 && hourOfDay < 11;
          if (away !== (archive.proxy.mode === "500")) archive.proxy.set(away ? "500" : "pass");
          if (sent) return;
          if (nextKill !== undefined && now >= nextKill) {
            sent = "kill";
            c.proc.kill("SIGKILL");
          } else if (now >= dayEnd) {
            sent = "term";
            c.proc.kill("SIGTERM");
          }
        },
      );
      first = false;
      fig.children++;
      const code = await child.exited;
      fig.durable += child.durable;
      fig.peakRssMb = Math.max(fig.peakRssMb, child.peakRss / 1e6);
      settled.push(...child.settled);
      down.push(...child.jumps);
      if (sent === "kill") {
        fig.kills++;
        o.log(`${fig.day}: SIGKILL at ${new Date(child.lastT).toISOString().slice(11, 16)}, restarting`);
        t = child.lastT + 2 * MIN; // downtime before the restart
        down.push([child.lastT, t]);
      } else {
        if (code !== 0 || !child.done) throw new Error(`soak child exited ${code} without finishing (day ${fig.day})`);
        t = Math.max(dayEnd, child.lastT) + 30_000;
      }
    }
    settled.sort((x, y) => x - y);
    fig.settledRssMb = settled.length > 0 ? settled[Math.floor(settled.length / 2)] / 1e6 : 0;
    fig.journalBytes = dirBytes(join(dataDir, SUBSCRIPTIONS_DIR));
    fig.manifestBytes = dirBytes(join(dataDir, MANIFEST_DIR));
    fig.ledgerBytes = existsSync(ledgerPath(dataDir)) ? statSync(ledgerPath(dataDir)).size : 0;
    const live = new Map((await readLedger(dataDir)).map((e) => [`${e.url} ${e.path}`, JSON.stringify(e).length + 1]));
    fig.ledgerLiveBytes = [...live.values()].reduce((a, b) => a + b, 0);
    fig.wallSecs = (performance.now() - wall) / 1000;
    days.push(fig);
    o.log(
      `${fig.day}: ${fig.children} runs, ${fig.kills} kills, ${fig.durable} rows durable, peak RSS ${fig.peakRssMb.toFixed(0)} MB (settled ${fig.settledRssMb.toFixed(0)}), ${fig.wallSecs.toFixed(0)} s`,
    );
  }
  archive.proxy.set("pass");
  const manifestPaths = existsSync(join(dataDir, "_manifest", "orderbook_snapshots.jsonl"))
    ? (await Bun.file(join(dataDir, "_manifest", "orderbook_snapshots.jsonl")).text())
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => (JSON.parse(l) as { path: string }).path)
    : [];
  const arch = await checkArchive(archive, manifestPaths);
  const layoutIssues = outsideLayout(dataDir);
  // From here on the whole record: the local tree with what the disk guard deleted restored from the bucket.
  const whole = arch.restoredDir;
  const check = await checkDataset(whole);
  let found = 0;
  let lost = 0;
  for (const [m, n] of durable) {
    const f = check.rowsByMarket.get(m) ?? 0;
    if (f < n) lost += n - f;
  }
  for (const n of check.rowsByMarket.values()) found += n;
  const selection = await checkSelection(whole, pins, 2000, down);
  const coverage = await soakCoverage(whole, parseConfig(config, "soak"), t0, o.days);
  const verify = Bun.spawnSync(
    ["bun", join(import.meta.dir, "../../bin/surveillance.ts"), "verify", "--data-dir", whole],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const verifyTail = `${verify.stdout.toString()}${verify.stderr.toString()}`.trim().split("\n").slice(-3).join(" | ");
  const result: SimDaysResult = {
    days,
    durable: [...durable.values()].reduce((s, n) => s + n, 0),
    found,
    lost,
    duplicates: check.duplicates,
    strayFiles: check.strayFiles,
    unreadable: check.unreadable,
    manifestOk: check.manifestOk,
    verifyExit: verify.exitCode ?? -1,
    verifyTail,
    outsideLayout: layoutIssues,
    pins,
    archive: { ...arch, fsMb: archive.fsMb, outageFaults: archive.proxy.faults["500"] ?? 0 },
    ...selection,
    coverage,
    // The tmpfs goes with the archive; what --keep keeps is the whole record (local tree + files fetched back).
    dataDir: whole,
  };
  await archive.close();
  if (o.keepDir) o.log(`kept the whole record (local tree with the guard's deletions fetched back) in ${whole}`);
  else rmSync(whole, { recursive: true, force: true });
  return result;
}
