/**
 * What an operator asks of a data dir: per venue and hour, files, rows, distinct markets, bytes, first/last ts,
 * missing buckets, staged-but-not-finalized data and archived files (deleted locally after a verified upload). Answers
 * from each final file's footer and dictionary pages where the file allows, else reads two columns; no Polars.
 */
import { thisCliCommand } from "../invocation.ts";
import { utcDate } from "../timebucket.ts";
import { formatInferred, inferBucketMinutes, isBucketMinutes, tsRange, type InferredBucket } from "./file-buckets.ts";
import { readManifest, type ManifestEntry } from "../storage/manifest.ts";
import { summaryFromMetadata } from "../parquet/footer.ts";
import { listDatasetFiles } from "../layout.ts";
import { readParquetFile } from "../parquet/read.ts";
import { listQuarantined, listStagedSummary } from "./staged-summary.ts";
import { readJournalRecords } from "../journal-records.ts";
import { type Cadence, computeCoverage, type CoverageRow } from "./coverage.ts";

const HOUR = 3_600_000;
const MIN = 60_000;

export interface HourStatus {
  venue: string;
  /** "HH" (UTC). */
  hour: string;
  files: number;
  rows: number;
  markets: number;
  bytes: number;
  /** Epoch ms of the first/last row; null when the hour has no final rows. */
  first_ts: number | null;
  last_ts: number | null;
  /**
   * Bucket starts ("HH-mm") with neither a final file nor staged rows, within the venue's recorded span. A gap is
   * cut into buckets of the length of the files around it (the finer grid of the two when they differ).
   */
  missing_buckets: string[];
  /** Staged rows not yet compacted into final files (the writer's _staging area). */
  staged_rows: number;
  staged_bytes: number;
  staged_buckets: string[];
  /** Files that could not be read (run verify). */
  unreadable: string[];
  /** Files the manifest lists that are no longer on disk but verified in the bucket (retention, the disk guard). */
  archived_files: number;
  /** Their rows and bytes, as the manifest lists them. */
  archived_rows: number;
  archived_bytes: number;
}

/** Verified copies in the bucket by path (the upload ledger's): a listed file gone from disk with one is archived. */
export type ArchivedCopies = ReadonlyMap<string, { size: number }>;

/** A manifest entry whose file is gone from disk but whose verified copy (of the listed size) is in the bucket. */
export function isArchived(e: ManifestEntry, archived: ArchivedCopies | undefined): boolean {
  return archived?.get(e.path)?.size === e.bytes;
}

export interface DayStatus {
  date: string;
  /** writer.bucket_minutes now (judges only files without a bucket length in the manifest). */
  bucket_minutes: number;
  /** Bucket lengths of the day's final files (per the manifest) and staged buckets, ascending. */
  bucket_minutes_found: number[];
  /** Files without a bucket length in the manifest taken as another length than the configured one. */
  inferred: InferredBucket[];
  venues: string[];
  hours: HourStatus[];
  /** Unreadable staged data the writer moved aside (any day), relative to the data dir. */
  quarantined: string[];
}

const utf8 = new TextDecoder();
function sameBytes(b: Uint8Array, x: number, y: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (b[x + k] !== b[y + k]) return false;
  return true;
}

const hhmm = (ts: number) => new Date(ts).toISOString().slice(11, 16).replace(":", "-");

/** What status takes from one final file. */
export interface FileFacts {
  /** Where the answer came from: the footer and dictionary pages, or the two columns' data. */
  source: "metadata" | "data";
  rows: number;
  /** Smallest and largest ts_recv (undefined without rows). */
  range: [number | undefined, number | undefined];
  /** The same within [hourTs, hourTs + 1 h), when asked for. */
  hourRange?: [number | undefined, number | undefined];
  markets: Set<string>;
}

/**
 * Rows, ts_recv range and distinct market ids of a final file: from its metadata (row-group statistics and
 * market_id dictionary pages, see parquet/footer.ts) when the file allows, else (or with `fromData`) by reading
 * ts_recv and market_id. `hourTs` asks for the range within that hour too (bucket inference). Throws when the
 * file cannot be read.
 */
export async function fileFacts(path: string, hourTs?: number, opts: { fromData?: boolean } = {}): Promise<FileFacts> {
  if (!opts.fromData) {
    const m = summaryFromMetadata(path, { int64: "ts_recv", string: "market_id" });
    // the hour's range equals the file's when every row lies in the hour; otherwise the rows must be looked at
    const inHour = hourTs === undefined || m?.min === undefined || (m.min >= hourTs && m.max! < hourTs + HOUR);
    if (m && inHour) {
      const range: [number | undefined, number | undefined] = [m.min, m.max];
      return {
        source: "metadata",
        rows: m.rows,
        range,
        hourRange: hourTs === undefined ? undefined : range,
        markets: m.values,
      };
    }
  }
  const t = await readParquetFile(path, ["ts_recv", "market_id"]);
  const markets = new Set<string>();
  for (const d of t.getChild("market_id")!.data) {
    const off = d.valueOffsets as Int32Array,
      bytes = d.values as Uint8Array;
    let prevStart = -1,
      prevEnd = -1;
    for (let i = d.offset; i < d.offset + d.length; i++) {
      const s0 = off[i],
        s1 = off[i + 1];
      if (prevStart >= 0 && s1 - s0 === prevEnd - prevStart && sameBytes(bytes, s0, prevStart, s1 - s0)) continue; // rows come in runs of one market
      markets.add(utf8.decode(bytes.subarray(s0, s1)));
      prevStart = s0;
      prevEnd = s1;
    }
  }
  return {
    source: "data",
    rows: t.numRows,
    range: tsRange(t),
    markets,
    hourRange: hourTs === undefined ? undefined : tsRange(t, hourTs, hourTs + HOUR),
  };
}

/** Status of one UTC day (`dayTs` = its midnight). */
export async function dayStatus(
  dataDir: string,
  dayTs: number,
  opts: {
    bucketMinutes: number;
    venues?: string[] /** read the columns even where metadata would do (tests) */;
    fromData?: boolean;
    /** The upload ledger's verified copies: listed files gone from disk with one are counted as archived. */
    archived?: ArchivedCopies;
  },
): Promise<DayStatus> {
  const date = utcDate(dayTs);
  const files = listDatasetFiles(dataDir, { venues: opts.venues, fromTs: dayTs, toTs: dayTs + 24 * HOUR });
  // Read after the listing: a file a running collector finalizes meanwhile has its line by then (or is inferred).
  const listed = new Map<string, ManifestEntry>();
  for (const e of (await readManifest(dataDir)).entries) if (e.path.includes(`/date=${date}/`)) listed.set(e.path, e);
  const staged = (await listStagedSummary(dataDir)).filter(
    (s) => utcDate(s.start) === date && (!opts.venues?.length || opts.venues.includes(s.venue)),
  );
  const inferred: InferredBucket[] = [];

  interface Acc extends HourStatus {
    marketSet: Set<string>;
  }
  const acc = new Map<string, Acc>();
  const get = (venue: string, hourTs: number): Acc => {
    const hour = new Date(hourTs).toISOString().slice(11, 13);
    const k = `${venue}\u0000${hour}`;
    let a = acc.get(k);
    if (!a) {
      a = {
        venue,
        hour,
        files: 0,
        rows: 0,
        markets: 0,
        bytes: 0,
        first_ts: null,
        last_ts: null,
        missing_buckets: [],
        staged_rows: 0,
        staged_bytes: 0,
        staged_buckets: [],
        unreadable: [],
        archived_files: 0,
        archived_rows: 0,
        archived_bytes: 0,
        marketSet: new Set(),
      };
      acc.set(k, a);
    }
    return a;
  };
  /** Buckets that hold data (final or staged), per venue: start → lengths in minutes (several after a length change). */
  const covered = new Map<string, Map<number, number[]>>();
  const found = new Set<number>();
  const cover = (venue: string, start: number, minutes: number) => {
    let s = covered.get(venue);
    if (!s) covered.set(venue, (s = new Map()));
    s.set(start, [...(s.get(start) ?? []), minutes]);
    found.add(minutes);
  };

  for (const f of files) {
    const a = get(f.venue, dayTs + f.hour * HOUR);
    a.files++;
    a.bytes += f.bytes;
    const m = /T(\d{2})-(\d{2})(?:_\d+)?\.parquet$/.exec(f.name);
    const start = m ? dayTs + Number(m[1]) * HOUR + Number(m[2]) * MIN : undefined;
    // The manifest's length for this file (the config may have changed since); else inferred from name and rows.
    const entry = listed.get(f.rel);
    let minutes = entry && isBucketMinutes(entry.bucket_minutes) ? entry.bucket_minutes : undefined;
    try {
      const needHour = start !== undefined && minutes === undefined;
      const hourTs = start === undefined ? 0 : start - (start % HOUR);
      const facts = await fileFacts(f.abs, needHour ? hourTs : undefined, { fromData: opts.fromData });
      a.rows += facts.rows;
      const [lo, hi] = facts.range;
      if (lo !== undefined && (a.first_ts === null || lo < a.first_ts)) a.first_ts = lo;
      if (hi !== undefined && (a.last_ts === null || hi > a.last_ts)) a.last_ts = hi;
      if (needHour) {
        const fit = inferBucketMinutes(start!, opts.bucketMinutes, ...facts.hourRange!);
        minutes = fit.minutes;
        if (fit.fits && minutes !== opts.bucketMinutes) inferred.push({ file: f.rel, bucket_minutes: minutes });
      }
      for (const m of facts.markets) a.marketSet.add(m);
    } catch {
      a.unreadable.push(f.rel);
    }
    if (start !== undefined) cover(f.venue, start, minutes ?? inferBucketMinutes(start, opts.bucketMinutes).minutes);
  }
  // Listed, gone from disk, verified in the bucket: archived, and its bucket is covered (not missing).
  const onDisk = new Set(files.map((f) => f.rel));
  for (const e of listed.values()) {
    if (onDisk.has(e.path) || !isArchived(e, opts.archived)) continue;
    if (opts.venues?.length && !opts.venues.includes(e.venue)) continue;
    const a = get(e.venue, e.bucket_start - (e.bucket_start % HOUR));
    a.archived_files++;
    a.archived_rows += e.rows;
    a.archived_bytes += e.bytes;
    if (isBucketMinutes(e.bucket_minutes)) cover(e.venue, e.bucket_start, e.bucket_minutes);
  }
  for (const s of staged) {
    const a = get(s.venue, s.start - (s.start % HOUR));
    a.staged_rows += s.rows;
    a.staged_bytes += s.bytes;
    a.staged_buckets.push(hhmm(s.start));
    for (const m of s.markets) a.marketSet.add(m);
    cover(s.venue, s.start, s.minutes);
  }
  // Gaps: the time between a venue's first and last covered bucket of the day that no bucket covers, cut into
  // buckets on the grid of the buckets that end and start at its edges (both the same length but for a change).
  for (const [venue, byStart] of covered) {
    let end = -Infinity,
      endLens: number[] = [];
    for (const start of [...byStart.keys()].sort((x, y) => x - y)) {
      const lens = byStart.get(start)!;
      if (start > end && end > -Infinity) {
        const step = [...endLens, ...lens].reduce(gcd) * MIN;
        for (let b = end; b < start; b += step) get(venue, b - (b % HOUR)).missing_buckets.push(hhmm(b));
      }
      for (const len of lens) {
        const e = start + len * MIN;
        if (e > end) [end, endLens] = [e, [len]];
        else if (e === end) endLens.push(len);
      }
    }
  }
  const hours = [...acc.values()]
    .map(({ marketSet, ...h }) => ({ ...h, markets: marketSet.size }))
    .sort((x, y) => x.venue.localeCompare(y.venue) || x.hour.localeCompare(y.hour));
  return {
    date,
    bucket_minutes: opts.bucketMinutes,
    bucket_minutes_found: [...found].sort((x, y) => x - y),
    inferred,
    venues: [...new Set(hours.map((h) => h.venue))],
    hours,
    quarantined: listQuarantined(dataDir),
  };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** "5-minute buckets", or after a length change "5- and 15-minute buckets (configured: 15)". */
function bucketsPhrase(s: DayStatus): string {
  const f = s.bucket_minutes_found;
  if (f.length === 0 || (f.length === 1 && f[0] === s.bucket_minutes)) return `${s.bucket_minutes}-minute buckets`;
  const list = f.length === 1 ? `${f[0]}` : `${f.slice(0, -1).join("-, ")}- and ${f[f.length - 1]}`;
  return `${list}-minute buckets (configured: ${s.bucket_minutes})`;
}

const mb = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n));
const clock = (ts: number | null) => (ts === null ? "-" : new Date(ts).toISOString().slice(11, 19));

/** Compact fixed-width table, one line per venue and hour, and a total per venue. */
export function formatStatus(s: DayStatus): string {
  // The archived column only when something is: a tree without upload reads as it always did.
  const withArchived = s.hours.some((h) => h.archived_files > 0);
  const head = ["venue", "hour", "files", "rows", "markets", "bytes", "first", "last", "missing", "staged"];
  if (withArchived) head.push("archived");
  const lines: string[][] = [head];
  const listed = (xs: string[]) =>
    xs.length === 0 ? "-" : xs.length <= 3 ? xs.join(",") : `${xs.length} (${xs[0]}..${xs[xs.length - 1]})`;
  for (const h of s.hours) {
    lines.push([
      h.venue,
      h.hour,
      String(h.files),
      String(h.rows),
      String(h.markets),
      mb(h.bytes),
      clock(h.first_ts),
      clock(h.last_ts),
      listed(h.missing_buckets),
      h.staged_rows ? `${h.staged_rows} rows in ${h.staged_buckets.join(",")}` : "-",
      ...(withArchived ? [h.archived_files ? `${h.archived_files} (${mb(h.archived_rows)} rows)` : "-"] : []),
    ]);
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const out = lines.map((l) =>
    l
      .map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd(),
  );
  out.unshift(`${s.date} (UTC), ${bucketsPhrase(s)}`);
  for (const v of s.venues) {
    const hs = s.hours.filter((h) => h.venue === v);
    const sum = (k: "files" | "rows" | "bytes" | "staged_rows" | "archived_files" | "archived_rows") =>
      hs.reduce((t, h) => t + h[k], 0);
    const missing = hs.reduce((t, h) => t + h.missing_buckets.length, 0);
    const archived = sum("archived_files")
      ? `, ${sum("archived_files")} archived files (${sum("archived_rows")} rows; deleted locally, verified in the bucket)`
      : "";
    out.push(
      `${v}: ${sum("files")} files, ${sum("rows")} rows, ${mb(sum("bytes"))}B, ${missing} missing buckets, ${sum("staged_rows")} staged rows${archived}`,
    );
  }
  const unreadable = s.hours.flatMap((h) => h.unreadable);
  out.push(...formatInferred(s.inferred, s.bucket_minutes));
  if (unreadable.length) out.push(`unreadable (run \`${thisCliCommand()} verify\`): ${unreadable.join(", ")}`);
  if (s.quarantined?.length)
    out.push(`quarantined staged data (unreadable segments, see the writer log): ${s.quarantined.join(", ")}`);
  return out.join("\n");
}

/**
 * Coverage of a day (`status --coverage`): per venue with a journal, the journal from the day before through the
 * day after, replayed against the rows the status counted (final and staged). `cadence` per venue from the config,
 * for runs whose journal does not say; `now` cuts today short.
 */
export function dayCoverage(
  dataDir: string,
  s: DayStatus,
  dayTs: number,
  opts: { cadence: (venue: string) => Cadence; venues: string[]; now: number },
): CoverageRow[] {
  const to = Math.min(dayTs + 24 * HOUR, opts.now);
  const out: CoverageRow[] = [];
  for (const venue of [...new Set([...opts.venues, ...s.venues])].sort()) {
    // The day before (phase, a crash across midnight) and after (the restart that closes a crash window).
    const records = readJournalRecords(dataDir, venue, dayTs - 24 * HOUR, dayTs + 48 * HOUR);
    const recorded = new Map<number, number>();
    // archived rows (deleted locally after a verified upload) were recorded: they count
    for (const h of s.hours)
      if (h.venue === venue) recorded.set(dayTs + Number(h.hour) * HOUR, h.rows + h.staged_rows + h.archived_rows);
    if (!records && recorded.size === 0) continue;
    out.push(
      ...computeCoverage({ venue, records: records ?? [], cadence: opts.cadence(venue), from: dayTs, to, recorded }),
    );
  }
  return out;
}
