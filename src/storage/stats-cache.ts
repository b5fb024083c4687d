/**
 * The miner's stats cache, `data/stats/venue=V/date=YYYY-MM-DD/stats.parquet`: one row per (market_id, outcome_id).
 * Written and read with apache-arrow + parquet-wasm, never nodejs-polars, because the scheduler reads it in the
 * collector process, which must not load Polars.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import {
  Field,
  Float64,
  Int64,
  Schema,
  Table,
  type Vector,
  tableToIPC,
  Utf8,
  vectorFromArray,
  type DataType,
} from "apache-arrow";
import type { BookMetrics } from "../analytics/score.ts";
import { marketScores } from "../analytics/score.ts";
import { utcDate } from "../timebucket.ts";
import { readParquetFile } from "./parquet-read.ts";
import { pw } from "./parquet-wasm.ts";

export const STATS_DIR = "stats";

/** Columns of stats.parquet in order, with their Arrow types (nullable where a metric can be undefined). */
const STATS_FIELDS: [keyof BookMetrics, DataType, boolean][] = [
  ["market_id", new Utf8(), false],
  ["outcome_id", new Utf8(), false],
  ["score", new Float64(), false],
  ["snapshots", new Int64(), false],
  ["minutes_watched", new Float64(), false],
  ["avg_depth", new Float64(), true],
  ["avg_spread", new Float64(), true],
  ["median_spread", new Float64(), true],
  ["share_one_sided", new Float64(), false],
  ["share_empty", new Float64(), false],
  ["share_stale", new Float64(), false],
  ["changes", new Int64(), false],
  ["observed_minutes", new Float64(), false],
  ["activity", new Float64(), true],
  ["avg_mid", new Float64(), true],
  ["first_ts", new Int64(), false],
  ["last_ts", new Int64(), false],
];

export function statsPath(dataDir: string, venue: string, date: string): string {
  return join(dataDir, STATS_DIR, `venue=${venue}`, `date=${date}`, "stats.parquet");
}

export function statsToParquet(books: BookMetrics[]): Uint8Array {
  const fields = STATS_FIELDS.map(([name, type, nullable]) => new Field(name, type, nullable));
  const cols: Record<string, Vector> = {};
  for (const [name, type] of STATS_FIELDS) {
    const isInt = type instanceof Int64;
    cols[name] = vectorFromArray(books.map((b) => (isInt ? BigInt(b[name] as number) : b[name])) as never, type);
  }
  const table = new Table(new Schema(fields), cols);
  // The compile-safe parquet-wasm instance (the package's node build cannot find its .wasm inside the executable).
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).build();
  return pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, "stream")), props);
}

/** Writes the venue's stats for `date` atomically (temp file in the same directory, fsync, rename, fsync dir). */
export function writeStats(dataDir: string, venue: string, date: string, books: BookMetrics[]): string {
  const path = statsPath(dataDir, venue, date);
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.tmp-stats.parquet.partial`);
  const bytes = statsToParquet(books);
  const fd = openSync(tmp, "w");
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  } finally {
    try {
      closeSync(fd);
    } catch {
      /* already closed on the error path */
    }
  }
  renameSync(tmp, path);
  const dfd = openSync(dir, "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
  return path;
}

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
  const dir = join(dataDir, STATS_DIR, `venue=${venue}`);
  if (!existsSync(dir)) return undefined;
  const today = utcDate(now);
  const dates = readdirSync(dir)
    .map((n) => /^date=(\d{4}-\d{2}-\d{2})$/.exec(n)?.[1])
    .filter((d): d is string => d !== undefined && d <= today)
    .sort()
    .reverse();
  for (const d of dates) {
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
