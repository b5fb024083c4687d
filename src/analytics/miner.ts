/**
 * `surveillance mine`: per-book metrics over a date/hour range with nodejs-polars, in chunks of hour partitions whose
 * sums carry over (chunking changes nothing); whole unchanged days merge from their day partials (partials-store.ts).
 * The passes, ranges and partials: docs/mining.md.
 */
import { thisCliCommand } from "../invocation.ts";
import type { DataFrame, LazyDataFrame } from "nodejs-polars";
import { UserError } from "../errors.ts";
import { formatRange, utcDate } from "../timebucket.ts";
import { existsSync } from "node:fs";
import { checkParquetFile, datasetVenues, type FileCheck } from "./dataset-files.ts";
import { readManifest } from "../storage/manifest.ts";
import { addParity, addTop, firstOutcome, qualityMetrics, suspectReason } from "./quality.ts";
import { type BookAcc, bookKey, changedBetween, mergeBooks, newAcc, SERIES_BUCKET_MS } from "./partials.ts";
import { dayIdentity, type FileIdentity, type NamedSeries, readPartials, writePartials } from "./partials-store.ts";
import { listDatasetFiles, type DatasetFile, datasetRoot, datasetVenueDir } from "../layout.ts";
import { minutesFor, readJournal, watchedMinutes } from "./journal.ts";
import { type Folded, scoreBooks, topByActivity, topByDepth, topBySpread, type BookMetrics } from "./score.ts";
import { outcomeLabel, outcomeNames } from "./labels.ts";
import { findLatestUniverse } from "../scanner/scanner.ts";
import { writeStats } from "./stats-writer.ts";

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
  onProgress?: (p: MineProgress) => void;
  /** Use and write the day partials (default); false reads every day from the snapshots and stores nothing. */
  partials?: boolean;
  /** How snapshot files are read (default: polarsReader). */
  reader?: SnapshotReader;
  /** Called for each skipped file (the command logs it). */
  onSkip?: (file: string, reason: string) => void;
}

/** A ranking's row: the book with its market's title and outcome label (labels.ts), and its folded mirror if any. */
export interface RankedBook extends BookMetrics {
  title?: string;
  outcome_label: string;
  /** The other outcome of this binary market, folded into this row (score.ts foldMirrors). */
  mirror_outcome_id?: string;
  mirror_outcome_label?: string;
}

export interface VenueResult {
  venue: string;
  files: number;
  /** Snapshot files read by this mine (days answered by their partials read none). */
  filesRead: number;
  filesSkipped: number;
  /** Whole days answered by their partials / read from the snapshots (and stored). */
  daysFromPartials: number;
  daysMined: number;
  rows: number;
  markets: number;
  books: number;
  firstTs: number | null;
  lastTs: number | null;
  minutesSource: "journal" | "snapshots";
  top: { depth: RankedBook[]; spread: RankedBook[]; activity: RankedBook[] };
  /** Books whose quality figures look wrong (crossed, often locked, YES/NO parity off), worst first, at most `top`. */
  suspects: (Suspect & { outcome_label: string; mirror_outcome_label?: string; title?: string })[];
  statsFile?: string;
}

export interface MineResult {
  from: number;
  to: number;
  venues: VenueResult[];
  skipped: { file: string; reason: string }[];
  totals: { rows: number; files: number; filesRead: number; filesSkipped: number; markets: number; books: number };
  elapsedMs: number;
  /** Every book's metrics per venue (not printed; for tests and callers). */
  books: Map<string, BookMetrics[]>;
  /** Where each venue's 5-minute series are (the report reads them). */
  series: Map<string, VenueSeriesSource>;
  /** Market titles per venue (from the universe). */
  titles: Map<string, Map<string, string>>;
  /** Outcome names per venue and book (`bookKey`), where the universe names them (labels.ts outcomeNames). */
  outcomeNames: Map<string, Map<string, string>>;
}

export const DEFAULT_MAX_GAP_MS = 60_000;
const DEFAULT_CHUNK_HOURS = 3;

const TOB = ["best_bid_px", "best_bid_sz", "best_ask_px", "best_ask_sz"] as const;
const SCALAR_COLUMNS = ["ts_recv", "market_id", "outcome_id", "seq", ...TOB, "mid", "spread", "status"];

/**
 * nodejs-polars, loaded on the first snapshot read: a range answered from day partials never loads it (about a
 * second of start-up).
 */
let pl: typeof import("nodejs-polars").default;
async function polars(): Promise<void> {
  pl ??= (await import("nodejs-polars")).default;
}

/** The lazy scan of one file with the columns the pass needs, depth from the derived columns when present. */
function scanFile(path: string, hasDepth3: boolean): LazyDataFrame {
  const lf = pl.scanParquet(path, { hivePartitioning: false });
  if (hasDepth3) return lf.select(...SCALAR_COLUMNS, "bid_depth3", "ask_depth3");
  return lf.select(
    ...SCALAR_COLUMNS.map((c) => pl.col(c)),
    pl.col("bid_sz").lst.head(3).lst.sum().alias("bid_depth3"),
    pl.col("ask_sz").lst.head(3).lst.sum().alias("ask_depth3"),
  );
}

export type ChunkFile = { path: string; hasDepth3: boolean };

/** How the miner reads snapshot files: a footer check, then a chunk of files into flat columns (tests count reads). */
export interface SnapshotReader {
  check(path: string): FileCheck;
  load(files: ChunkFile[], from: number, to: number): Promise<DataFrame>;
}

/**
 * Polars reads a chunk (projection + range predicate, depth from the derived or the list columns, book ids as
 * categorical codes) into flat numeric columns, on its own threads (the promise), so the next chunk loads while
 * this one is added up.
 */
async function loadChunk(files: ChunkFile[], from: number, to: number): Promise<DataFrame> {
  await polars();
  const scans = files.map((f) => scanFile(f.path, f.hasDepth3));
  const lf = scans.length === 1 ? scans[0] : pl.concat(scans, { how: "vertical" });
  return lf
    .filter(pl.col("ts_recv").gtEq(from).and(pl.col("ts_recv").lt(to)))
    .select(
      pl.col("ts_recv").cast(pl.Float64).alias("ts"),
      // Exact ids as small numbers: categorical codes, combined (a chunk never holds 2^26 distinct ids).
      pl
        .col("market_id")
        .cast(pl.Categorical)
        .toPhysical()
        .cast(pl.Float64)
        .mul(67_108_864)
        .add(pl.col("outcome_id").cast(pl.Categorical).toPhysical().cast(pl.Float64))
        .alias("book"),
      pl.col("seq").cast(pl.Float64),
      ...TOB.map((c) => pl.col(c)),
      pl.col("mid"),
      pl.col("spread"),
      pl.col("bid_depth3").add(pl.col("ask_depth3")).alias("depth"),
      pl.col("status").eq(pl.lit("stale")).cast(pl.Float64).alias("stale"),
      // Categorical, not strings: naming the books costs a dictionary lookup, not 1.5 M string copies.
      pl.col("market_id").cast(pl.Categorical),
      pl.col("outcome_id").cast(pl.Categorical),
    )
    .collect();
}

/**
 * One pass over a loaded chunk in time order adds every snapshot to its book's running sums. Measured on a
 * 1.55 M-row chunk: the same per-book consecutive-pair logic as Polars group-context expressions (diff/shift/when
 * per group) took 2.8 s and a multi-column sort with the string ids 5-16 s; this pass takes a few hundred ms.
 */
function addChunk(loaded: DataFrame, maxGapMs: number, accs: Map<string, BookAcc>, withSeries: boolean): void {
  let df = loaded;
  if (df.height === 0) return;
  const ids = df
    .lazy()
    .groupBy("book")
    .agg(
      pl.col("market_id").first().cast(pl.Utf8),
      pl.col("outcome_id").first().cast(pl.Utf8),
      pl.col("market_id").nUnique().alias("nm"),
      pl.col("outcome_id").nUnique().alias("no"),
    )
    .collectSync()
    .toRecords() as { book: number; market_id: string; outcome_id: string; nm: number; no: number }[];
  const dense = new Map<number, number>();
  const books: BookAcc[] = [];
  for (const r of ids) {
    if (Number(r.nm) !== 1 || Number(r.no) !== 1)
      throw new Error("internal: categorical codes are not one-to-one with ids");
    const k = bookKey(r.market_id, r.outcome_id);
    let a = accs.get(k);
    if (!a) {
      a = newAcc(r.market_id, r.outcome_id, withSeries);
      accs.set(k, a);
    }
    dense.set(Number(r.book), books.length);
    books.push(a);
  }
  const col = (name: string) => df.getColumn(name).toTypedArray() as Float64Array;
  let ts = col("ts");
  const idx = new Int32Array(ts.length);
  const indexBooks = (book: Float64Array) => {
    for (let i = 0; i < book.length; i++) idx[i] = dense.get(book[i])!;
  };
  indexBooks(col("book"));
  // Files hold each book's snapshots in time order (the collector appends them so); sort only when they do not.
  const lastTs = new Float64Array(books.length).fill(-Infinity);
  for (let i = 0; i < ts.length; i++) {
    if (ts[i] < lastTs[idx[i]]) {
      df = df.sort("ts");
      ts = col("ts");
      indexBooks(col("book"));
      break;
    }
    lastTs[idx[i]] = ts[i];
  }
  const [seq, bbp, bbs, bap, bas, mid, spread, depth, stale] = ["seq", ...TOB, "mid", "spread", "depth", "stale"].map(
    col,
  );
  const sibling = siblings(books);
  const tobNow = [0, 0, 0, 0];
  for (let i = 0; i < ts.length; i++) {
    const a = books[idx[i]];
    const t = ts[i];
    addTop(a.quality, bbp[i], bap[i]);
    // Parity: paired with the other outcome's latest snapshot when that one is unpaired and nearer than half this
    // book's own snapshot interval (so a tick's two snapshots pair, never one with the previous tick's).
    const sib = sibling[idx[i]];
    let paired = false;
    if (sib !== undefined && sib.n > 0 && !sib.lastPaired) {
      const window = a.n > 0 ? (t - a.lastTs) / 2 : maxGapMs / 2;
      if (Math.abs(t - sib.lastTs) < window) {
        const sb = sib.lastTob[0];
        const sa = sib.lastTob[2];
        if (firstOutcome(a.outcome_id, sib.outcome_id) === a.outcome_id) addParity(a.quality, bbp[i], bap[i], sb, sa);
        else addParity(sib.quality, sb, sa, bbp[i], bap[i]);
        sib.lastPaired = true;
        paired = true;
      }
    }
    a.lastPaired = paired;
    tobNow[0] = bbp[i];
    tobNow[1] = bbs[i];
    tobNow[2] = bap[i];
    tobNow[3] = bas[i];
    if (a.n === 0) {
      a.firstTs = t;
      a.firstSeq = seq[i];
      a.firstTob = [bbp[i], bbs[i], bap[i], bas[i]];
    } else {
      const dt = t - a.lastTs;
      if (dt >= 0 && dt <= maxGapMs) {
        a.observedMs += dt;
        if (changedBetween(a.lastSeq, a.lastTob, seq[i], tobNow)) a.changes++;
      }
    }
    a.n++;
    a.sumDepth += depth[i];
    a.nStale += stale[i];
    const hasBid = bbp[i] === bbp[i];
    const hasAsk = bap[i] === bap[i];
    const twoSided = hasBid && hasAsk;
    if (twoSided) {
      const sp = spread[i];
      a.nSpread++;
      a.sumSpread += sp;
      a.sumMid += mid[i];
      a.spreads.set(sp, (a.spreads.get(sp) ?? 0) + 1);
    } else if (hasBid || hasAsk) a.nOne++;
    else a.nEmpty++;
    const minute = Math.floor(t / 60_000);
    if (minute !== a.lastMinute) {
      a.minutes++;
      a.lastMinute = minute;
    }
    a.lastTs = t;
    a.lastSeq = seq[i];
    const tob = a.lastTob;
    tob[0] = bbp[i];
    tob[1] = bbs[i];
    tob[2] = bap[i];
    tob[3] = bas[i];
    const s = a.series;
    if (s) {
      const bucket = Math.floor(t / SERIES_BUCKET_MS);
      let j = s.bucket.length - 1;
      if (j < 0 || s.bucket[j] !== bucket) {
        s.bucket.push(bucket);
        s.n.push(0);
        s.nSpread.push(0);
        s.sumSpread.push(0);
        s.sumDepth.push(0);
        s.sumMid.push(0);
        s.nStale.push(0);
        s.nOne.push(0);
        s.nEmpty.push(0);
        j++;
      }
      s.n[j]++;
      s.sumDepth[j] += depth[i];
      s.nStale[j] += stale[i];
      if (twoSided) {
        s.nSpread[j]++;
        s.sumSpread[j] += spread[i];
        s.sumMid[j] += mid[i];
      } else if (hasBid || hasAsk) s.nOne[j]++;
      else s.nEmpty[j]++;
    }
  }
}

/** Suspect books (quality.ts suspectReason), most crossed first, then locked, then parity p95. */
/** A suspect book; the other outcome of its market folded in when that one is suspect for the same reason. */
type Suspect = { market_id: string; outcome_id: string; reason: string; mirror_outcome_id?: string };

function suspectsOf(books: BookMetrics[], top: number): Suspect[] {
  const p95 = (b: BookMetrics) => Math.max(b.parity_bid_p95 ?? 0, b.parity_ask_p95 ?? 0);
  const crossed = (b: BookMetrics) => b.share_crossed ?? 0;
  const locked = (b: BookMetrics) => b.share_locked ?? 0;
  const sorted = books
    .map((b) => ({ b, reason: suspectReason(b) }))
    .filter((x) => x.reason !== "")
    .sort((x, y) => crossed(y.b) - crossed(x.b) || locked(y.b) - locked(x.b) || p95(y.b) - p95(x.b));
  // A binary market's YES/NO parity is one figure, so both its books carry it: one line per market and reason.
  const perMarket = new Map<string, number>();
  for (const b of books) perMarket.set(b.market_id, (perMarket.get(b.market_id) ?? 0) + 1);
  const rows = new Map<string, Suspect>();
  for (const { b, reason } of sorted) {
    const k = perMarket.get(b.market_id) === 2 ? `${b.market_id}\u0000${reason}` : bookKey(b.market_id, b.outcome_id);
    const row = rows.get(k);
    if (row) row.mirror_outcome_id ??= b.outcome_id;
    else if (rows.size < top) rows.set(k, { market_id: b.market_id, outcome_id: b.outcome_id, reason });
  }
  return [...rows.values()];
}

/** Per binary market (two books), the book holding its parity sums: the first outcome (quality.ts firstOutcome). */
function parityBooks(accs: Map<string, BookAcc>): Map<string, BookAcc> {
  const byMarket = new Map<string, BookAcc[]>();
  for (const a of accs.values()) {
    const l = byMarket.get(a.market_id);
    if (l) l.push(a);
    else byMarket.set(a.market_id, [a]);
  }
  const out = new Map<string, BookAcc>();
  for (const [m, l] of byMarket)
    if (l.length === 2) out.set(m, firstOutcome(l[0].outcome_id, l[1].outcome_id) === l[0].outcome_id ? l[0] : l[1]);
  return out;
}

/** For each book of a chunk, the other outcome's book when its market is binary in the chunk (two books). */
function siblings(books: BookAcc[]): (BookAcc | undefined)[] {
  const byMarket = new Map<string, number[]>();
  books.forEach((b, i) => {
    const l = byMarket.get(b.market_id);
    if (l) l.push(i);
    else byMarket.set(b.market_id, [i]);
  });
  const out: (BookAcc | undefined)[] = new Array(books.length);
  for (const l of byMarket.values())
    if (l.length === 2) {
      out[l[0]] = books[l[1]];
      out[l[1]] = books[l[0]];
    }
  return out;
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

function finish(a: BookAcc, minutesWatched: number, parity: BookAcc | undefined): BookMetrics {
  const observedMinutes = a.observedMs / 60_000;
  return {
    ...qualityMetrics(a.quality, a.n, parity?.quality),
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

/**
 * Market titles and outcome names from the newest universe on or before `asOf`; none (not an error) when there is
 * no readable universe.
 */
async function readNames(
  dataDir: string,
  venue: string,
  asOf: number,
): Promise<{ titles: Map<string, string>; outcomes: Map<string, string> }> {
  try {
    const markets = (await findLatestUniverse(dataDir, venue, asOf))?.markets ?? [];
    return { titles: new Map(markets.map((m) => [m.market_id, m.title])), outcomes: outcomeNames(markets) };
  } catch {
    return { titles: new Map(), outcomes: new Map() };
  }
}

/** Loads a chunk; when it fails, finds the unreadable files one by one, reports them and loads the rest. */
async function loadChunkSafely(
  reader: SnapshotReader,
  files: ChunkFile[],
  from: number,
  to: number,
  skip: (file: string, reason: string) => void,
): Promise<DataFrame | undefined> {
  try {
    return await reader.load(files, from, to);
  } catch (e) {
    if (files.length === 1) {
      skip(files[0].path, errorText(e));
      return undefined;
    }
    const good: ChunkFile[] = [];
    for (const f of files) {
      try {
        await reader.load([f], from, to);
        good.push(f);
      } catch (err) {
        skip(f.path, errorText(err));
      }
    }
    if (good.length === files.length) throw e; // not a file problem
    return good.length > 0 ? reader.load(good, from, to) : undefined;
  }
}

function errorText(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.split("\n")[0].slice(0, 300);
}

/** The reader mining uses unless told otherwise: the footer check, then Polars. */
export const polarsReader: SnapshotReader = { check: checkParquetFile, load: loadChunk };

/**
 * One stretch of a venue's range, in time order: a whole UTC day (its partials are used or written) or the hours of
 * a day the range cuts (always read from the snapshots, never stored).
 */
interface Segment {
  date: string;
  from: number;
  to: number;
  files: DatasetFile[];
  wholeDay: boolean;
  identity?: FileIdentity[];
  /** From the day's partials, when they match its files. */
  books?: Map<string, BookAcc>;
}

const DAY_MS = 86_400_000;

function segmentsOf(files: DatasetFile[], from: number, to: number): Segment[] {
  const byDate = new Map<string, DatasetFile[]>();
  for (const f of files) {
    const list = byDate.get(f.date);
    if (list) list.push(f);
    else byDate.set(f.date, [f]);
  }
  return [...byDate.keys()].sort().map((date) => {
    const dayStart = Date.parse(`${date}T00:00:00Z`);
    const lo = Math.max(from, dayStart);
    const hi = Math.min(to, dayStart + DAY_MS);
    return { date, from: lo, to: hi, files: byDate.get(date)!, wholeDay: lo === dayStart && hi === dayStart + DAY_MS };
  });
}

/** rows per file path from the manifest (a missing or unreadable manifest: no rows known). */
async function manifestRows(dataDir: string): Promise<Map<string, number>> {
  try {
    const { entries } = await readManifest(dataDir);
    return new Map(entries.map((e) => [e.path, e.rows]));
  } catch {
    return new Map();
  }
}

export interface MineProgress {
  /** Snapshot files read so far / to read in all (days served from partials read none). */
  files: number;
  filesTotal: number;
  rows: number;
}

export async function mine(opts: MineOptions): Promise<MineResult> {
  const started = performance.now();
  const maxGapMs = opts.maxGapMs ?? DEFAULT_MAX_GAP_MS;
  const reader = opts.reader ?? polarsReader;
  const usePartials = opts.partials !== false;
  const withSeries = opts.writeStats !== false;
  const root = datasetRoot(opts.dataDir);
  if (opts.to <= opts.from)
    throw new UserError(
      `empty range: --to (${new Date(opts.to).toISOString()}) is not after --from (${new Date(opts.from).toISOString()})`,
      2,
    );
  if (!existsSync(root)) {
    throw new UserError(
      `no snapshot dataset at ${root}`,
      1,
      `Run \`${thisCliCommand()} collect\` (or \`${thisCliCommand()} demo\`) first, or pass --data-dir to where the data is.`,
    );
  }
  const venues = opts.venues && opts.venues.length > 0 ? opts.venues : datasetVenues(opts.dataDir);
  const missing = venues.filter((v) => !existsSync(datasetVenueDir(opts.dataDir, v)));
  if (missing.length > 0) {
    throw new UserError(
      `no data for venue ${missing.join(", ")} under ${root}`,
      1,
      `Venues with data: ${datasetVenues(opts.dataDir).join(", ") || "none"}.`,
    );
  }
  const perVenue = venues.map((venue) => ({
    venue,
    files: listDatasetFiles(opts.dataDir, { venues: [venue], fromTs: opts.from, toTs: opts.to }),
  }));
  const total = perVenue.reduce((s, v) => s + v.files.length, 0);
  if (total === 0) {
    const range = `${formatRange(opts.from, opts.to)} UTC`;
    throw new UserError(
      `no snapshot files in range ${range} for ${venues.join(", ") || "any venue"} under ${root}`,
      1,
      "Check --from/--to (dates are UTC; default is today) and --venue.",
    );
  }
  // Which days the partials answer is settled first, so progress counts only the files that will be read.
  const rowsOf = usePartials ? await manifestRows(opts.dataDir) : new Map<string, number>();
  const plans = perVenue.map(({ venue, files }) => {
    // Without partials the range is one stretch: one pass over the snapshots, as before partials existed.
    const segments = usePartials
      ? segmentsOf(files, opts.from, opts.to)
      : [{ date: "", from: opts.from, to: opts.to, files, wholeDay: false }];
    for (const seg of segments) {
      if (!seg.wholeDay || !usePartials) continue;
      seg.identity = dayIdentity(seg.files, rowsOf);
      seg.books = readPartials(opts.dataDir, venue, seg.date, seg.identity, maxGapMs);
    }
    return { venue, files, segments };
  });
  const toRead = plans.reduce((s, p) => s + p.segments.reduce((t, g) => t + (g.books ? 0 : g.files.length), 0), 0);
  const skipped: { file: string; reason: string }[] = [];
  const skip = (file: string, reason: string) => {
    skipped.push({ file, reason });
    opts.onSkip?.(file, reason);
  };
  let done = 0;
  let rowsRead = 0;
  const results: VenueResult[] = [];
  const booksByVenue = new Map<string, BookMetrics[]>();
  const seriesByVenue = new Map<string, VenueSeriesSource>();
  const titlesByVenue = new Map<string, Map<string, string>>();
  const outcomesByVenue = new Map<string, Map<string, string>>();
  for (const { venue, files, segments } of plans) {
    const accs = new Map<string, BookAcc>();
    const skippedBefore = skipped.length;
    let filesRead = 0;
    let daysFromPartials = 0;
    let daysMined = 0;
    const seriesSource: VenueSeriesSource = { days: [], inMemory: [] };
    for (const seg of segments) {
      let books = seg.books;
      if (books) daysFromPartials++;
      else {
        const segSkipsBefore = skipped.length;
        books = await mineSegment(seg, reader, maxGapMs, withSeries, opts, skip, (n, rows) => {
          done += n;
          filesRead += n;
          rowsRead += rows;
          opts.onProgress?.({ files: done, filesTotal: toRead, rows: rowsRead });
        });
        const clean = skipped.length === segSkipsBefore;
        if (seg.wholeDay) daysMined++;
        // A day with unreadable files is not stored: it is read (and reported) again next time.
        if (seg.wholeDay && usePartials && clean && opts.writeStats !== false && seg.identity) {
          writePartials(opts.dataDir, venue, seg.date, seg.identity, maxGapMs, books);
          for (const b of books.values()) b.series = undefined;
          seriesSource.days.push(seg.date);
        } else if (withSeries) seriesSource.inMemory.push(seriesOf(books));
      }
      if (seg.books && withSeries) seriesSource.days.push(seg.date);
      mergeBooks(accs, books, maxGapMs);
    }
    seriesByVenue.set(venue, seriesSource);
    let firstTs: number | null = null;
    let lastTs: number | null = null;
    let rows = 0;
    for (const a of accs.values()) {
      rows += a.n;
      firstTs = firstTs === null ? a.firstTs : Math.min(firstTs, a.firstTs);
      lastTs = lastTs === null ? a.lastTs : Math.max(lastTs, a.lastTs);
    }
    const journal = firstTs === null ? undefined : readJournal(opts.dataDir, venue, opts.from, opts.to);
    const watched =
      journal && firstTs !== null && lastTs !== null
        ? watchedMinutes(journal, Math.max(opts.from, firstTs), Math.min(opts.to, lastTs))
        : undefined;
    const parityOf = parityBooks(accs);
    const books = [...accs.values()].map((a) =>
      finish(a, (watched && minutesFor(watched, a.market_id, a.outcome_id)) ?? a.minutes, parityOf.get(a.market_id)),
    );
    scoreBooks(books);
    books.sort(
      (a, b) =>
        b.score - a.score ||
        (a.market_id < b.market_id ? -1 : a.market_id > b.market_id ? 1 : a.outcome_id < b.outcome_id ? -1 : 1),
    );
    booksByVenue.set(venue, books);
    const { titles, outcomes } = await readNames(opts.dataDir, venue, lastTs ?? opts.to - 1);
    titlesByVenue.set(venue, titles);
    outcomesByVenue.set(venue, outcomes);
    const label = (market_id: string, outcome_id: string) => outcomeLabel(market_id, outcome_id, outcomes);
    const withTitle = (list: Folded<BookMetrics>[]): RankedBook[] =>
      list.map((b) => ({
        ...b,
        title: titles.get(b.market_id),
        outcome_label: label(b.market_id, b.outcome_id),
        ...(b.mirror_outcome_id === undefined ? {} : { mirror_outcome_label: label(b.market_id, b.mirror_outcome_id) }),
      }));
    let statsFile: string | undefined;
    if (opts.writeStats !== false && books.length > 0 && lastTs !== null)
      statsFile = writeStats(opts.dataDir, venue, utcDate(lastTs), books);
    results.push({
      venue,
      files: files.length,
      filesRead,
      filesSkipped: skipped.length - skippedBefore,
      daysFromPartials,
      daysMined,
      rows,
      markets: new Set(books.map((b) => b.market_id)).size,
      books: books.length,
      firstTs,
      lastTs,
      minutesSource: watched ? "journal" : "snapshots",
      top: {
        depth: withTitle(topByDepth(books, opts.top)),
        spread: withTitle(topBySpread(books, opts.top)),
        activity: withTitle(topByActivity(books, opts.top)),
      },
      suspects: suspectsOf(books, opts.top).map((s) => ({
        ...s,
        outcome_label: label(s.market_id, s.outcome_id),
        ...(s.mirror_outcome_id === undefined ? {} : { mirror_outcome_label: label(s.market_id, s.mirror_outcome_id) }),
        title: titles.get(s.market_id),
      })),
      statsFile,
    });
  }
  const sum = (f: (v: VenueResult) => number) => results.reduce((s, v) => s + f(v), 0);
  return {
    from: opts.from,
    to: opts.to,
    venues: results,
    skipped,
    totals: {
      rows: sum((v) => v.rows),
      files: sum((v) => v.files),
      filesRead: sum((v) => v.filesRead),
      filesSkipped: skipped.length,
      markets: sum((v) => v.markets),
      books: sum((v) => v.books),
    },
    elapsedMs: performance.now() - started,
    books: booksByVenue,
    series: seriesByVenue,
    titles: titlesByVenue,
    outcomeNames: outcomesByVenue,
  };
}

/** Where a venue's per-book 5-minute series are: days with stored series, and stretches mined but not stored. */
export interface VenueSeriesSource {
  days: string[];
  inMemory: Map<string, NamedSeries>[];
}

function seriesOf(books: Map<string, BookAcc>): Map<string, NamedSeries> {
  const out = new Map<string, NamedSeries>();
  for (const [k, b] of books)
    if (b.series) out.set(k, { market_id: b.market_id, outcome_id: b.outcome_id, ...b.series });
  return out;
}

/**
 * Reads one segment's files in chunks of whole hour partitions (bounded memory): chunk k+1 loads (Polars threads)
 * while chunk k is added up (this thread), so at most two chunks are in memory.
 */
async function mineSegment(
  seg: Segment,
  reader: SnapshotReader,
  maxGapMs: number,
  withSeries: boolean,
  opts: MineOptions,
  skip: (file: string, reason: string) => void,
  progress: (files: number, rows: number) => void,
): Promise<Map<string, BookAcc>> {
  const accs = new Map<string, BookAcc>();
  await polars(); // addChunk uses it too, whatever the reader
  const chunks = chunkByHours(seg.files, opts.chunkHours ?? DEFAULT_CHUNK_HOURS);
  const load = (chunk: DatasetFile[]) => {
    const readable: ChunkFile[] = [];
    for (const f of chunk) {
      const c = reader.check(f.abs);
      if (c.ok) readable.push({ path: f.abs, hasDepth3: c.hasDepth3 && !opts.ignoreDerived });
      else skip(f.abs, c.reason!);
    }
    // Files with and without the derived columns in one chunk are scanned differently but concatenated alike.
    return readable.length > 0 ? loadChunkSafely(reader, readable, seg.from, seg.to, skip) : Promise.resolve(undefined);
  };
  let next = chunks.length > 0 ? load(chunks[0]) : undefined;
  for (let k = 0; k < chunks.length; k++) {
    const df = await next!;
    next = k + 1 < chunks.length ? load(chunks[k + 1]) : undefined;
    if (df) addChunk(df, maxGapMs, accs, withSeries);
    progress(chunks[k].length, df?.height ?? 0);
  }
  return accs;
}
