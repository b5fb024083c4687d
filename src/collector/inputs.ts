/**
 * The scheduler's inputs for one venue, the scanner's universe and the miner's scores, kept current while collect
 * runs: a check on the clock stats the newest dated file of each (path, mtime, size) and rereads only what changed.
 * A newer file that cannot be taken (gone, torn, invalid) is logged once and counted, and the previous data stays.
 */
import { thisCliCommand } from "../invocation.ts";
import type { ConsolaInstance } from "consola";
import { readdir, readFile, stat } from "node:fs/promises";
import { relative } from "node:path";
import type { Clock, Timer } from "../clock.ts";
import { UserError } from "../errors.ts";
import { logger, RateLimitedLog } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { parseUniverseYielding } from "../scanner/scanner.ts";
import { readStatsScores } from "../scheduler/stats-reader.ts";
import { utcDate } from "../timebucket.ts";
import {
  datedPath,
  datesUpTo,
  STATS_FILE,
  statsVenueDir,
  UNIVERSE_FILE,
  universePath,
  universeVenueDir,
} from "../layout.ts";
import type { MarketInfo } from "../market.ts";
import { INPUT_HELP, INPUT_METRICS } from "./metric-names.ts";

type Input = "universe" | "stats";

/** A dated input file as found on disk; path + mtime + size say whether it changed since it was read. */
export interface InputFile {
  date: string;
  path: string;
  mtimeMs: number;
  size: number;
}

const identity = (f: InputFile) => `${f.path}|${f.mtimeMs}|${f.size}`;

/** The newest `<root>/date=YYYY-MM-DD/<name>` dated on or before `today` (a day dir without the file is skipped). */
export async function latestDatedFile(root: string, name: string, today: string): Promise<InputFile | undefined> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  for (const date of datesUpTo(names, today)) {
    const path = datedPath(root, date, name);
    try {
      const s = await stat(path);
      return { date, path, mtimeMs: s.mtimeMs, size: s.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  return undefined;
}

export interface ScheduleInputsOptions {
  dataDir: string;
  venue: string;
  clock: Clock;
  metrics: Metrics;
  log?: ConsolaInstance;
}

/** One venue's universe and scores; `universe`/`scores` are replaced whole when a newer file is taken. */
export class ScheduleInputs {
  universe: MarketInfo[] = [];
  scores: Map<string, number> | undefined;
  universeFile: InputFile | undefined;
  statsFile: InputFile | undefined;
  /** Identity of the newest file that failed, per input: the same bad file is not reread or reported again. */
  private readonly failed = new Map<Input, string>();
  private readonly log: ConsolaInstance;
  private readonly warn: RateLimitedLog;
  private timer: Timer | null = null;
  private checking: Promise<unknown> | null = null;
  private stopped = false;

  private constructor(private readonly o: ScheduleInputsOptions) {
    this.log = o.log ?? logger("collect");
    this.warn = new RateLimitedLog((m) => this.log.warn(m));
  }

  /**
   * Reads the newest universe (required: a UserError saying to run scan when there is none; a bad file throws) and
   * stats file (optional: one that cannot be read is reported and the scheduler starts without scores).
   */
  static async load(o: ScheduleInputsOptions, now: number): Promise<ScheduleInputs> {
    const inputs = new ScheduleInputs(o);
    const file = await latestDatedFile(inputs.root("universe"), UNIVERSE_FILE, utcDate(now));
    if (!file) {
      throw new UserError(
        `no market universe for venue ${o.venue} (looked for ${universePath(o.dataDir, o.venue, now)} and earlier days)`,
        1,
        `Run \`${thisCliCommand()} scan\` first (same --config / --data-dir / --venue).`,
      );
    }
    inputs.universe = await readUniverse(file.path, file.path);
    inputs.universeFile = file;
    await inputs.checkStats(now);
    inputs.publish();
    return inputs;
  }

  /** `<data>/metadata/venue=V` or `<data>/stats/venue=V`. */
  private root(input: Input): string {
    return input === "universe"
      ? universeVenueDir(this.o.dataDir, this.o.venue)
      : statsVenueDir(this.o.dataDir, this.o.venue);
  }

  /**
   * Checks every `periodMs` at mid-period (boundary + period/2, boundaries as the rotation counts them), so what a
   * check takes is in place, with half a period to spare for a long read, when the next rotation asks for targets.
   */
  start(periodMs: number): void {
    const { clock } = this.o;
    const half = periodMs / 2;
    const nextAt = (now: number) => Math.floor((now - half) / periodMs) * periodMs + half + periodMs;
    const arm = () => {
      const now = clock.now();
      this.timer = clock.setTimer(nextAt(now) - now, () => {
        if (this.stopped) return;
        arm();
        // Returned so a SimClock finishes the read before it fires the next timer; check() never rejects.
        return this.check(clock.now()).then(() => {});
      });
    };
    arm();
  }

  /** Cancels the checks and waits for one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.checking;
  }

  /** Takes a newer universe and/or stats file when there is one; true when anything was taken. Never throws. */
  check(now: number): Promise<boolean> {
    if (this.checking) return Promise.resolve(false); // the previous one is still reading (a slow disk)
    const run = (async () => {
      const u = await this.checkUniverse(now);
      const s = await this.checkStats(now);
      if (u || s) {
        this.publish();
        this.log.info(
          `${this.o.venue}: ${u ? "new" : "same"} universe, ${this.describeUniverse()}; ${s ? "new" : "same"} ${this.describeStats()}; the scheduler uses them from the next rotation`,
        );
      }
      return u || s;
    })();
    this.checking = run.finally(() => (this.checking = null));
    return run;
  }

  describeUniverse(): string {
    const active = this.universe.filter((m) => m.status === "active").length;
    return `${this.universe.length} markets (${active} active) from ${this.rel(this.universeFile!.path)}`;
  }

  describeStats(): string {
    return this.statsFile
      ? `stats cache, ${this.scores?.size ?? 0} scores from ${this.rel(this.statsFile.path)}`
      : "stats cache: none yet";
  }

  private rel(path: string): string {
    return relative(this.o.dataDir, path) || path;
  }

  private async checkUniverse(now: number): Promise<boolean> {
    return this.take("universe", now, UNIVERSE_FILE, this.universeFile, async (f) => {
      const markets = await readUniverse(f.path, this.rel(f.path));
      // A scan that found nothing (a venue outage) would unsubscribe everything: not taken.
      if (markets.length === 0) throw new Error("no markets in it");
      // Nor one that lost most of the active markets (a scan cut short by a paginated API failing half way, or a
      // `scan --limit` pointed at this data dir): while running, the active set never shrinks by more than half. A
      // restart of collect takes whatever is newest.
      const held = activeCount(this.universe);
      const now = activeCount(markets);
      if (held >= MIN_ACTIVE_FOR_SHRINK_CHECK && now * 2 < held) {
        throw new Error(
          `${now} active markets, fewer than half of the ${held} in use (a partial scan?); restart collect to take it anyway`,
        );
      }
      this.universe = markets;
      this.universeFile = f;
    });
  }

  private async checkStats(now: number): Promise<boolean> {
    return this.take("stats", now, STATS_FILE, this.statsFile, async (f) => {
      this.scores = await readStatsScores(f.path);
      this.statsFile = f;
    });
  }

  /** Finds the newest file of `input`; reads it with `read` when it is not the one held (nor the last one that failed). */
  private async take(
    input: Input,
    now: number,
    name: string,
    held: InputFile | undefined,
    read: (f: InputFile) => Promise<void>,
  ): Promise<boolean> {
    let file: InputFile | undefined;
    try {
      file = await latestDatedFile(this.root(input), name, utcDate(now));
    } catch (e) {
      this.fail(
        input,
        `list:${(e as Error).message}`,
        now,
        `listing ${this.rel(this.root(input))} failed: ${(e as Error).message}`,
      );
      return false;
    }
    if (!file) {
      // Nothing there: normal for stats before the first `mine`; gone when one was held (unless the clock stepped back
      // past its date: it is then only "in the future", still there, and kept without a word).
      if (held && !(held.date > utcDate(now) && (await stillThere(held.path))))
        this.fail(input, "missing", now, `${this.rel(held.path)} is gone and no other ${input} file is there`);
      return false;
    }
    const id = identity(file);
    if (held && identity(held) === id) {
      this.failed.delete(input);
      return false;
    }
    if (this.failed.get(input) === id) return false;
    if (held && file.date < held.date) {
      // the clock stepped back across midnight: the held file is dated after today, not gone
      if (held.date > utcDate(now) && (await stillThere(held.path))) return false;
      this.fail(input, id, now, `${this.rel(held.path)} is gone (the newest is now the older ${this.rel(file.path)})`);
      return false;
    }
    try {
      await read(file);
    } catch (e) {
      const msg = (e as Error).message;
      const rel = this.rel(file.path);
      this.fail(input, id, now, msg.startsWith(rel) ? msg : `${rel}: ${msg}`);
      return false;
    }
    this.failed.delete(input);
    this.o.metrics.inc(INPUT_METRICS.reloads, { venue: this.o.venue, input }, 1, INPUT_HELP.reloads);
    return true;
  }

  /** Reports a failed take once per failing file (`key`), rate-limited on top; counts it. */
  private fail(input: Input, key: string, now: number, why: string): void {
    if (this.failed.get(input) === key) return;
    this.failed.set(input, key);
    this.o.metrics.inc(INPUT_METRICS.failures, { venue: this.o.venue, input }, 1, INPUT_HELP.failures);
    const kept = input === "universe" ? (this.universeFile ? this.describeUniverse() : "none") : this.describeStats();
    this.warn.warn(
      `${this.o.venue} ${input}`,
      `${this.o.venue}: not taking the ${input} file: ${why}; keeping the previous ${input} (${kept})`,
      now,
    );
  }

  private publish(): void {
    const L = { venue: this.o.venue };
    this.o.metrics.set(
      INPUT_METRICS.universe,
      L,
      this.universe.length,
      "markets in the universe the scheduler works from",
    );
    this.o.metrics.set(INPUT_METRICS.scores, L, this.scores?.size ?? 0, "market scores the scheduler works from");
  }
}

async function readUniverse(path: string, source: string): Promise<MarketInfo[]> {
  return parseUniverseYielding(await readFile(path, "utf8"), source);
}

/** Whether a file still exists (an I/O error counts as no). */
async function stillThere(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Below this many active markets the shrink check does not apply (tiny universes change by more than half legitimately). */
const MIN_ACTIVE_FOR_SHRINK_CHECK = 20;
const activeCount = (u: MarketInfo[]) => u.reduce((n, m) => n + (m.status === "active" ? 1 : 0), 0);
