/**
 * The scanner: asks each venue for its market universe and writes it to
 * `metadata/venue=V/date=YYYY-MM-DD/universe.jsonl`, atomically, so a failed scan leaves the previous file.
 * The scheduler and miner read it back with `readLatestUniverse`.
 */
import { thisCliCommand } from "../invocation.ts";
import * as fsp from "node:fs/promises";
import { dirname } from "node:path";
import type { Config, VenueConfig } from "../config.ts";
import { UserError } from "../errors.ts";
import { ensureWritableDir, errCode, nodeFs, writeAtomic } from "../storage/fs.ts";
import { utcDate } from "../timebucket.ts";
import { datesUpTo, universePath, universePathOn, universeVenueDir } from "../layout.ts";
import { createAdapter } from "../venue/index.ts";
import type { AdapterContext } from "../venue/types.ts";
import type { MarketInfo } from "../market.ts";

/** One JSON object per market, keys in a fixed order so files diff cleanly. */
export function universeToJsonl(markets: MarketInfo[]): string {
  let out = "";
  for (const m of markets) {
    const line: Record<string, unknown> = {
      venue: m.venue,
      market_id: m.market_id,
      outcome_ids: m.outcome_ids,
      title: m.title,
      close_ts: m.close_ts,
      status: m.status,
      tags: m.tags,
      created_ts: m.created_ts ?? null,
    };
    if (m.extra && Object.keys(m.extra).length > 0) line.extra = m.extra;
    out += JSON.stringify(line) + "\n";
  }
  return out;
}

export async function writeUniverse(
  dataDir: string,
  venue: string,
  markets: MarketInfo[],
  now: number,
): Promise<string> {
  const path = universePath(dataDir, venue, now);
  await fsp.mkdir(dirname(path), { recursive: true });
  // Same-directory temp file, fsync, rename, fsync(dir): a failed scan leaves the previous file.
  await writeAtomic(nodeFs, path, [new TextEncoder().encode(universeToJsonl(markets))]);
  return path;
}

export interface ScanResult {
  venue: string;
  ok: boolean;
  markets: number;
  active: number;
  path?: string;
  error?: unknown;
}

export interface ScanOptions {
  limit?: number;
  signal?: AbortSignal;
}

/** Scans one venue: discover, then write. Throws on failure (nothing is written then). */
export async function scanVenue(
  cfg: VenueConfig,
  ctx: AdapterContext,
  dataDir: string,
  opts: ScanOptions = {},
): Promise<ScanResult> {
  const adapter = await createAdapter(cfg, ctx);
  try {
    const markets = await adapter.discover({ limit: opts.limit, signal: opts.signal });
    const path = await writeUniverse(dataDir, cfg.name, markets, ctx.clock.now());
    return {
      venue: cfg.name,
      ok: true,
      markets: markets.length,
      active: markets.filter((m) => m.status === "active").length,
      path,
    };
  } finally {
    await adapter.close().catch(() => {});
  }
}

/**
 * Scans every selected venue; one venue's failure is reported in its result and does not stop the others. The data
 * dir is checked first (created when missing, written to): one that cannot be written fails before any network work.
 */
export async function scanAll(config: Config, ctx: AdapterContext, opts: ScanOptions = {}): Promise<ScanResult[]> {
  try {
    await ensureWritableDir(nodeFs, config.data_dir);
  } catch (e) {
    throw new UserError(
      `data dir ${config.data_dir} cannot be written (${errCode(e)}); nothing was fetched`,
      1,
      "Pass --data-dir DIR (or set data_dir) to a directory this user can create and write.",
    );
  }
  const results: ScanResult[] = [];
  for (const cfg of config.selected) {
    try {
      results.push(await scanVenue(cfg, ctx, config.data_dir, opts));
    } catch (error) {
      results.push({ venue: cfg.name, ok: false, markets: 0, active: 0, error });
    }
  }
  return results;
}

export interface UniverseFile {
  date: string;
  path: string;
  markets: MarketInfo[];
}

/** The newest universe file on or before the UTC day of `now` (today's, else the latest earlier day), or undefined. */
export async function findLatestUniverse(
  dataDir: string,
  venue: string,
  now: number,
): Promise<UniverseFile | undefined> {
  const root = universeVenueDir(dataDir, venue);
  let names: string[];
  try {
    names = await fsp.readdir(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  for (const date of datesUpTo(names, utcDate(now))) {
    const path = universePathOn(dataDir, venue, date);
    let text: string;
    try {
      text = await fsp.readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // a day dir without a finished scan
      throw e;
    }
    return { date, path, markets: parseUniverse(text, path) };
  }
  return undefined;
}

/** The markets of the newest universe on or before the day of `now`, or undefined when the venue was never scanned. */
export async function readLatestUniverse(
  dataDir: string,
  venue: string,
  now: number,
): Promise<MarketInfo[] | undefined> {
  return (await findLatestUniverse(dataDir, venue, now))?.markets;
}

/** Parses universe.jsonl; a bad line is an error naming the file and line (the file is ours, so it is a bug or damage). */
export function parseUniverse(text: string, source = "universe.jsonl"): MarketInfo[] {
  const out: MarketInfo[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) parseUniverseLine(lines[i], i, source, out);
  return out;
}

/**
 * parseUniverse in slices of `linesPerSlice` lines with a macrotask turn between slices, so a running collector
 * that rereads a universe of tens of thousands of markets keeps serving its sockets and timers meanwhile.
 */
export async function parseUniverseYielding(
  text: string,
  source = "universe.jsonl",
  linesPerSlice = 2000,
): Promise<MarketInfo[]> {
  const out: MarketInfo[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (i > 0 && i % linesPerSlice === 0) await new Promise<void>((r) => setImmediate(r));
    parseUniverseLine(lines[i], i, source, out);
  }
  return out;
}

function parseUniverseLine(raw: string, i: number, source: string, out: MarketInfo[]): void {
  const line = raw.trim();
  if (line === "") return;
  let m: MarketInfo;
  try {
    m = JSON.parse(line) as MarketInfo;
  } catch (e) {
    throw new UserError(
      `${source}:${i + 1}: not valid JSON (${(e as Error).message})`,
      1,
      `Run \`${thisCliCommand()} scan\` again to rewrite the universe file.`,
    );
  }
  if (typeof m?.market_id !== "string" || !Array.isArray(m.outcome_ids) || typeof m.status !== "string") {
    throw new UserError(
      `${source}:${i + 1}: a market needs market_id, outcome_ids and status`,
      1,
      `Run \`${thisCliCommand()} scan\` again to rewrite the universe file.`,
    );
  }
  if (!Array.isArray(m.tags)) m.tags = [];
  if (m.close_ts === undefined) m.close_ts = null;
  out.push(m);
}
