/**
 * `surveillance mine`: per-book metrics over a date/hour range of the snapshot dataset, with nodejs-polars.
 *
 * The file list is built from partition directory names (files out of range are never opened). Each venue is mined
 * in chunks of whole hour partitions (bounded memory, progress per chunk); a lazy scan per chunk reads only the scalar
 * columns (bid_depth3/ask_depth3 when the file has them, else the top 3 of the size lists) and aggregates per
 * (market_id, outcome_id). Chunk results merge exactly in JS: sums and counts add, the median comes from merged
 * value counts, and the consecutive-snapshot pair that straddles a chunk boundary is stitched from first/last rows.
 */
import pl from "nodejs-polars";
import { UserError } from "../errors.ts";
import { DATASET_DIR, utcDate } from "../timebucket.ts";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { checkParquetFile, datasetVenues } from "./dataset-files.ts";
import { listDatasetFiles, type DatasetFile } from "../storage/parquet-read.ts";
import { minutesFor, readJournal, watchedMinutes } from "./journal.ts";
import { scoreBooks, topByActivity, topByDepth, topBySpread, type BookMetrics } from "./score.ts";
import { findLatestUniverse } from "../scanner/scanner.ts";
import { writeStats } from "../storage/stats-cache.ts";

export interface MineOptions {
  dataDir: string;
  /** Venues to mine; default: every venue with a dataset directory. */
  venues?: string[];
  /** Range [from, to) in epoch ms, hour-aligned. */
  from: number;
  to: number;
  /** Books per ranking. */
  top: number;
  /** Consecutive snapshots further apart than this are not one observation (the book was rotated out). */
  maxGapMs?: number;
  /** Hour partitions per Polars query (memory bound). */
  chunkHours?: number;
  writeStats?: boolean;
  /** Read depth from the list columns even where the derived ones exist (benchmarks). */
  ignoreDerived?: boolean;
  onProgress?: (filesDone: number, filesTotal: number) => void;
  /** Called for each skipped file (the command logs it). */
  onSkip?: (file: string, reason: string) => void;
}

export interface RankedBook extends BookMetrics {
  title?: string;
}

export interface VenueResult {
  venue: string;
  files: number;
  filesSkipped: number;
  rows: number;
  markets: number;
  books: number;
  firstTs: number | null;
  lastTs: number | null;
  minutesSource: "journal" | "snapshots";
  top: { depth: RankedBook[]; spread: RankedBook[]; activity: RankedBook[] };
  statsFile?: string;
}

export interface MineResult {
  from: number;
  to: number;
  venues: VenueResult[];
  skipped: { file: string; reason: string }[];
  totals: { rows: number; files: number; filesSkipped: number; markets: number; books: number };
  elapsedMs: number;
  /** Every book's metrics per venue (not printed; for tests and callers). */
  books: Map<string, BookMetrics[]>;
}

export const DEFAULT_MAX_GAP_MS = 60_000;
const DEFAULT_CHUNK_HOURS = 6;

/** Per-book partial sums from one chunk, and the running totals across chunks. */
interface Acc {
  market_id: string;
  outcome_id: string;
  n: number;
  sumDepth: number;
  nSpread: number;
  sumSpread: number;
  sumMid: number;
  nOne: number;
  nEmpty: number;
  nStale: number;
  minutes: number;
  changes: number;
  observedMs: number;
  firstTs: number;
  lastTs: number;
  /** seq, best bid px/sz, best ask px/sz (NaN filled with -1) of the first and last snapshot. */
  first: number[];
  last: number[];
  spreads: Map<number, number>;
}

const TOB = ["best_bid_px", "best_bid_sz", "best_ask_px", "best_ask_sz"] as const;
const SCALAR_COLUMNS = ["ts_recv", "market_id", "outcome_id", "seq", ...TOB, "mid", "spread", "status"];

/** The lazy scan of one file with the columns the aggregation needs, depth from the derived columns when present. */
function scanFile(path: string, hasDepth3: boolean): pl.LazyDataFrame {
  const lf = pl.scanParquet(path, { hivePartitioning: false });
  if (hasDepth3) return lf.select(...SCALAR_COLUMNS, "bid_depth3", "ask_depth3");
  return lf.select(
    ...SCALAR_COLUMNS.map((c) => pl.col(c)),
    pl.col("bid_sz").lst.head(3).lst.sum().alias("bid_depth3"),
    pl.col("ask_sz").lst.head(3).lst.sum().alias("ask_depth3"),
  );
}

function changed(seqA: number, seqB: number, a: number[], b: number[]): boolean {
  if (seqA > 0 && seqB > 0) return seqB > seqA;
  for (let i = 1; i < a.length; i++) if (a[i] !== b[i]) return true;
  return false;
}

/** One Polars query over a chunk of files: per-book partial sums (see Acc). */
function mineChunk(files: { path: string; hasDepth3: boolean }[], from: number, to: number, maxGapMs: number): Acc[] {
  const scans = files.map((f) => scanFile(f.path, f.hasDepth3));
  const lf = scans.length === 1 ? scans[0] : pl.concat(scans, { how: "vertical" });
  const hasBid = pl.col("best_bid_px").isNotNan();
  const hasAsk = pl.col("best_ask_px").isNotNan();
  const rows = lf
    .filter(pl.col("ts_recv").gtEq(from).and(pl.col("ts_recv").lt(to)))
    // group_by keeps row order within each group, so one sort gives every book its snapshots in time order.
    .sort("ts_recv")
    .withColumns(
      hasBid.alias("has_bid"),
      hasAsk.alias("has_ask"),
      // spread and mid are NaN unless both sides exist; null them so mean/median skip them (Polars means propagate NaN).
      pl.when(hasBid.and(hasAsk)).then(pl.col("spread")).otherwise(pl.lit(null)).alias("spread_v"),
      pl.when(hasBid.and(hasAsk)).then(pl.col("mid")).otherwise(pl.lit(null)).alias("mid_v"),
      pl.col("bid_depth3").add(pl.col("ask_depth3")).alias("depth"),
      pl.col("ts_recv").div(60_000).floor().alias("minute"),
      ...TOB.map((c) => pl.col(c).fillNan(-1).alias(`${c}_f`)),
    );
  const dt = pl.col("ts_recv").diff(1, "ignore");
  const timed = dt.ltEq(maxGapMs);
  const seq = pl.col("seq");
  const prevSeq = seq.shift(1);
  const tobChanged = TOB.map((c) => pl.col(`${c}_f`).neq(pl.col(`${c}_f`).shift(1))).reduce((a, b) => a.or(b));
  const change = pl.when(seq.gt(0).and(prevSeq.gt(0))).then(seq.gt(prevSeq)).otherwise(tobChanged);
  const spreads = pl.col("spread_v").dropNulls();
  const tobCols = ["seq", ...TOB.map((c) => `${c}_f`)];
  const df = rows
    .groupBy(["market_id", "outcome_id"])
    .agg(
      pl.len().alias("n"),
      pl.col("depth").sum().alias("sum_depth"),
      pl.col("spread_v").count().alias("n_spread"),
      pl.col("spread_v").sum().alias("sum_spread"),
      pl.col("mid_v").sum().alias("sum_mid"),
      pl.col("has_bid").neq(pl.col("has_ask")).sum().alias("n_one"),
      pl.col("has_bid").or(pl.col("has_ask")).not().sum().alias("n_empty"),
      pl.col("status").eq(pl.lit("stale")).sum().alias("n_stale"),
      pl.col("minute").nUnique().alias("minutes"),
      change.and(timed).sum().alias("changes"),
      pl.when(timed).then(dt).otherwise(pl.lit(0)).sum().alias("observed_ms"),
      pl.col("ts_recv").first().alias("first_ts"),
      pl.col("ts_recv").last().alias("last_ts"),
      ...tobCols.map((c) => pl.col(c).first().alias(`first_${c}`)),
      ...tobCols.map((c) => pl.col(c).last().alias(`last_${c}`)),
      spreads.unique({ maintainOrder: true }).alias("spread_values"),
      spreads.uniqueCounts().alias("spread_counts"),
    )
    .collectSync();
  const out: Acc[] = [];
  for (const r of df.toRecords() as Record<string, any>[]) {
    const values = r.spread_values as number[];
    const counts = r.spread_counts as number[];
    const sp = new Map<number, number>();
    for (let i = 0; i < values.length; i++) sp.set(values[i], Number(counts[i]));
    out.push({
      market_id: r.market_id,
      outcome_id: r.outcome_id,
      n: Number(r.n),
      sumDepth: Number(r.sum_depth),
      nSpread: Number(r.n_spread),
      sumSpread: Number(r.sum_spread ?? 0),
      sumMid: Number(r.sum_mid ?? 0),
      nOne: Number(r.n_one),
      nEmpty: Number(r.n_empty),
      nStale: Number(r.n_stale),
      minutes: Number(r.minutes),
      changes: Number(r.changes),
      observedMs: Number(r.observed_ms),
      firstTs: Number(r.first_ts),
      lastTs: Number(r.last_ts),
      first: tobCols.map((c) => Number(r[`first_${c}`])),
      last: tobCols.map((c) => Number(r[`last_${c}`])),
      spreads: sp,
    });
  }
  return out;
}

/** Adds a later chunk's partial sums to the running ones, counting the pair of snapshots across the boundary. */
function merge(acc: Acc, next: Acc, maxGapMs: number): void {
  const gap = next.firstTs - acc.lastTs;
  if (gap >= 0 && gap <= maxGapMs) {
    acc.observedMs += gap;
    if (changed(acc.last[0], next.first[0], acc.last, next.first)) acc.changes++;
  }
  acc.n += next.n;
  acc.sumDepth += next.sumDepth;
  acc.nSpread += next.nSpread;
  acc.sumSpread += next.sumSpread;
  acc.sumMid += next.sumMid;
  acc.nOne += next.nOne;
  acc.nEmpty += next.nEmpty;
  acc.nStale += next.nStale;
  acc.minutes += next.minutes;
  acc.changes += next.changes;
  acc.observedMs += next.observedMs;
  acc.lastTs = next.lastTs;
  acc.last = next.last;
  for (const [v, c] of next.spreads) acc.spreads.set(v, (acc.spreads.get(v) ?? 0) + c);
}

/** Median of a multiset given as value → count (mean of the two middle values when the count is even). */
export function medianOfCounts(counts: Map<number, number>): number | null {
  const entries = [...counts].sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, c]) => s + c, 0);
  if (total === 0) return null;
  const at = (k: number) => {
    let seen = 0;
    for (const [v, c] of entries) {
      seen += c;
      if (k < seen) return v;
    }
    return entries[entries.length - 1][0];
  };
  return total % 2 === 1 ? at((total - 1) / 2) : (at(total / 2 - 1) + at(total / 2)) / 2;
}

function finish(a: Acc, minutesWatched: number): BookMetrics {
  const observedMinutes = a.observedMs / 60_000;
  return {
    market_id: a.market_id,
    outcome_id: a.outcome_id,
    snapshots: a.n,
    minutes_watched: minutesWatched,
    avg_depth: a.n > 0 ? a.sumDepth / a.n : null,
    avg_spread: a.nSpread > 0 ? a.sumSpread / a.nSpread : null,
    median_spread: medianOfCounts(a.spreads),
    share_one_sided: a.nOne / a.n,
    share_empty: a.nEmpty / a.n,
    share_stale: a.nStale / a.n,
    changes: a.changes,
    observed_minutes: observedMinutes,
    activity: a.observedMs > 0 ? a.changes / observedMinutes : null,
    avg_mid: a.nSpread > 0 ? a.sumMid / a.nSpread : null,
    first_ts: a.firstTs,
    last_ts: a.lastTs,
    score: 0,
  };
}

/** Groups files into chunks of at most `hours` hour partitions, in time order. */
function chunkByHours(files: DatasetFile[], hours: number): DatasetFile[][] {
  const chunks: DatasetFile[][] = [];
  let hoursInChunk = 0;
  let lastHour = "";
  for (const f of files) {
    const hour = `${f.date}/${f.hour}`;
    if (hour !== lastHour) {
      if (chunks.length === 0 || hoursInChunk >= hours) {
        chunks.push([]);
        hoursInChunk = 0;
      }
      hoursInChunk++;
      lastHour = hour;
    }
    chunks[chunks.length - 1].push(f);
  }
  return chunks;
}

/** Market titles from the newest universe on or before `asOf`; none (not an error) when there is no readable universe. */
async function readTitles(dataDir: string, venue: string, asOf: number): Promise<Map<string, string>> {
  try {
    const u = await findLatestUniverse(dataDir, venue, asOf);
    return new Map((u?.markets ?? []).map((m) => [m.market_id, m.title]));
  } catch {
    return new Map();
  }
}

/** Runs a chunk; when Polars fails on it, finds the unreadable files one by one, reports them and mines the rest. */
function mineChunkSafely(
  files: { path: string; hasDepth3: boolean }[],
  from: number,
  to: number,
  maxGapMs: number,
  skip: (file: string, reason: string) => void,
): Acc[] {
  try {
    return mineChunk(files, from, to, maxGapMs);
  } catch (e) {
    if (files.length === 1) {
      skip(files[0].path, errorText(e));
      return [];
    }
    const good = files.filter((f) => {
      try {
        mineChunk([f], from, to, maxGapMs);
        return true;
      } catch (err) {
        skip(f.path, errorText(err));
        return false;
      }
    });
    if (good.length === files.length) throw e; // not a file problem
    return good.length > 0 ? mineChunk(good, from, to, maxGapMs) : [];
  }
}

function errorText(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.split("\n")[0].slice(0, 300);
}

export async function mine(opts: MineOptions): Promise<MineResult> {
  const started = performance.now();
  const maxGapMs = opts.maxGapMs ?? DEFAULT_MAX_GAP_MS;
  const root = join(opts.dataDir, DATASET_DIR);
  if (opts.to <= opts.from) throw new UserError(`empty range: --to (${new Date(opts.to).toISOString()}) is not after --from (${new Date(opts.from).toISOString()})`, 2);
  if (!existsSync(root)) {
    throw new UserError(`no snapshot dataset at ${root}`, 1, "Run `surveillance collect` (or `surveillance demo`) first, or pass --data-dir to where the data is.");
  }
  const venues = opts.venues && opts.venues.length > 0 ? opts.venues : datasetVenues(opts.dataDir);
  const missing = venues.filter((v) => !existsSync(join(root, `venue=${v}`)));
  if (missing.length > 0) {
    throw new UserError(`no data for venue ${missing.join(", ")} under ${root}`, 1, `Venues with data: ${datasetVenues(opts.dataDir).join(", ") || "none"}.`);
  }
  const perVenue = venues.map((venue) => ({ venue, files: listDatasetFiles(opts.dataDir, { venues: [venue], fromTs: opts.from, toTs: opts.to }) }));
  const total = perVenue.reduce((s, v) => s + v.files.length, 0);
  if (total === 0) {
    const range = `${new Date(opts.from).toISOString().slice(0, 13)}h .. ${new Date(opts.to).toISOString().slice(0, 13)}h UTC`;
    throw new UserError(`no snapshot files in range ${range} for ${venues.join(", ") || "any venue"} under ${root}`, 1, "Check --from/--to (dates are UTC; default is today) and --venue.");
  }
  const skipped: { file: string; reason: string }[] = [];
  const skip = (file: string, reason: string) => {
    skipped.push({ file, reason });
    opts.onSkip?.(file, reason);
  };
  let done = 0;
  const results: VenueResult[] = [];
  const booksByVenue = new Map<string, BookMetrics[]>();
  for (const { venue, files } of perVenue) {
    const accs = new Map<string, Acc>();
    const skippedBefore = skipped.length;
    for (const chunk of chunkByHours(files, opts.chunkHours ?? DEFAULT_CHUNK_HOURS)) {
      const readable: { path: string; hasDepth3: boolean }[] = [];
      for (const f of chunk) {
        const c = checkParquetFile(f.abs);
        if (c.ok) readable.push({ path: f.abs, hasDepth3: c.hasDepth3 && !opts.ignoreDerived });
        else skip(f.abs, c.reason!);
      }
      // Files with and without the derived columns in one chunk are scanned differently but concatenated alike.
      const partial = readable.length > 0 ? mineChunkSafely(readable, opts.from, opts.to, maxGapMs, skip) : [];
      for (const a of partial) {
        const k = `${a.market_id}\u0000${a.outcome_id}`;
        const prev = accs.get(k);
        if (prev) merge(prev, a, maxGapMs);
        else accs.set(k, a);
      }
      done += chunk.length;
      opts.onProgress?.(done, total);
    }
    let firstTs: number | null = null;
    let lastTs: number | null = null;
    let rows = 0;
    for (const a of accs.values()) {
      rows += a.n;
      firstTs = firstTs === null ? a.firstTs : Math.min(firstTs, a.firstTs);
      lastTs = lastTs === null ? a.lastTs : Math.max(lastTs, a.lastTs);
    }
    const journal = firstTs === null ? undefined : readJournal(opts.dataDir, venue, opts.from, opts.to);
    const watched = journal && firstTs !== null && lastTs !== null ? watchedMinutes(journal, Math.max(opts.from, firstTs), Math.min(opts.to, lastTs)) : undefined;
    const books = [...accs.values()].map((a) => finish(a, (watched && minutesFor(watched, a.market_id, a.outcome_id)) ?? a.minutes));
    scoreBooks(books);
    books.sort((a, b) => b.score - a.score || (a.market_id < b.market_id ? -1 : a.market_id > b.market_id ? 1 : a.outcome_id < b.outcome_id ? -1 : 1));
    booksByVenue.set(venue, books);
    const titles = await readTitles(opts.dataDir, venue, lastTs ?? opts.to - 1);
    const withTitle = (list: BookMetrics[]): RankedBook[] => list.map((b) => ({ ...b, title: titles.get(b.market_id) }));
    let statsFile: string | undefined;
    if (opts.writeStats !== false && books.length > 0 && lastTs !== null) statsFile = writeStats(opts.dataDir, venue, utcDate(lastTs), books);
    results.push({
      venue,
      files: files.length,
      filesSkipped: skipped.length - skippedBefore,
      rows,
      markets: new Set(books.map((b) => b.market_id)).size,
      books: books.length,
      firstTs,
      lastTs,
      minutesSource: watched ? "journal" : "snapshots",
      top: { depth: withTitle(topByDepth(books, opts.top)), spread: withTitle(topBySpread(books, opts.top)), activity: withTitle(topByActivity(books, opts.top)) },
      statsFile,
    });
  }
  const sum = (f: (v: VenueResult) => number) => results.reduce((s, v) => s + f(v), 0);
  return {
    from: opts.from,
    to: opts.to,
    venues: results,
    skipped,
    totals: { rows: sum((v) => v.rows), files: sum((v) => v.files), filesSkipped: skipped.length, markets: sum((v) => v.markets), books: sum((v) => v.books) },
    elapsedMs: performance.now() - started,
    books: booksByVenue,
  };
}
