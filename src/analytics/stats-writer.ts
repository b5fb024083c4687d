/**
 * Writes the miner's stats cache (layout.ts statsPath): one row per (market_id, outcome_id), with apache-arrow +
 * parquet-wasm, never nodejs-polars, so the collector can read it back (scheduler/stats-reader.ts) without Polars.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
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
import { NO_QUALITY } from "./quality.ts";
import type { BookMetrics } from "./score.ts";
import { statsPath } from "../layout.ts";
import { pw } from "../parquet/wasm.ts";

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
  // quality (quality.ts), after the first columns: readers by name see them, older readers ignore them
  ["share_crossed", new Float64(), false],
  ["share_locked", new Float64(), false],
  ["parity_pairs", new Int64(), false],
  ["parity_bid_mean_abs", new Float64(), true],
  ["parity_bid_p95", new Float64(), true],
  ["parity_ask_mean_abs", new Float64(), true],
  ["parity_ask_p95", new Float64(), true],
];

export function statsToParquet(books: BookMetrics[]): Uint8Array {
  const fields = STATS_FIELDS.map(([name, type, nullable]) => new Field(name, type, nullable));
  const cols: Record<string, Vector> = {};
  books = books.map((b) => ({ ...NO_QUALITY, ...b }));
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
