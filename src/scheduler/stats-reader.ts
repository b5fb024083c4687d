/**
 * Reads the miner's stats cache back for the scheduler: market_id -> the best score among its outcomes, from the
 * newest stats file on or before today. apache-arrow + parquet-wasm only (the collector must not load Polars).
 */
import { existsSync, readdirSync } from "node:fs";
import { datesUpTo, statsPath, statsVenueDir } from "../layout.ts";
import { readParquetFile } from "../parquet/read.ts";
import { utcDate } from "../timebucket.ts";

/** Reads a stats file back as rows (tests, `status`). */
export async function readStatsFile(path: string): Promise<Record<string, unknown>[]> {
  const table = await readParquetFile(path);
  return table.toArray().map((r) => {
    const o = r.toJSON() as Record<string, unknown>;
    for (const k of Object.keys(o)) if (typeof o[k] === "bigint") o[k] = Number(o[k]);
    return o;
  });
}

/** Path of the newest stats file for `venue` dated on or before `now`'s UTC day, or undefined. */
export function latestStatsPath(dataDir: string, venue: string, now: number): string | undefined {
  const dir = statsVenueDir(dataDir, venue);
  if (!existsSync(dir)) return undefined;
  for (const d of datesUpTo(readdirSync(dir), utcDate(now))) {
    const p = statsPath(dataDir, venue, d);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Market scores from the newest stats cache of `venue` (today's, else the latest earlier day): market_id → the best
 * score among its outcomes. Undefined when there is no stats file or it cannot be read (the scheduler then falls back
 * to its no-stats ranking).
 */
export async function readLatestStats(
  dataDir: string,
  venue: string,
  now: number,
): Promise<Map<string, number> | undefined> {
  const path = latestStatsPath(dataDir, venue, now);
  if (!path) return undefined;
  try {
    return await readStatsScores(path);
  } catch {
    return undefined;
  }
}

/** market_id → best score among its outcomes, from one stats file; throws when it cannot be read (the collector's reload keeps its old scores then). */
export async function readStatsScores(path: string): Promise<Map<string, number>> {
  const table = await readParquetFile(path, ["market_id", "score"]);
  const ids = table.getChild("market_id");
  const scores = table.getChild("score");
  if (!ids || !scores) throw new Error(`${path}: no market_id/score columns`);
  const rows: { market_id: string; score: number }[] = [];
  for (let i = 0; i < table.numRows; i++) rows.push({ market_id: String(ids.get(i)), score: Number(scores.get(i)) });
  return marketScores(rows);
}

/** A market's score from its outcomes' scores: the best outcome (a market is subscribed with all its outcomes, so one liquid book is enough to make it worth it). */
export function marketScores(rows: Iterable<{ market_id: string; score: number }>): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    if (!Number.isFinite(r.score)) continue;
    const prev = out.get(r.market_id);
    if (prev === undefined || r.score > prev) out.set(r.market_id, r.score);
  }
  return out;
}
