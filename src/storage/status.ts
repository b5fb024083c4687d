/**
 * What an operator asks of a data dir: per venue and hour, files, rows, distinct markets, bytes, first/last ts,
 * missing buckets and staged-but-not-finalized data. Reads final files with parquet-wasm (two columns), no Polars.
 */
import { bucketStart, utcDate } from "../timebucket.ts";
import { listDatasetFiles, readParquetFile } from "./parquet-read.ts";
import { listQuarantined, listStagedSummary } from "./staged-summary.ts";

const HOUR = 3_600_000;

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
  /** Bucket starts ("HH-mm") with neither a final file nor staged rows, within the venue's recorded span. */
  missing_buckets: string[];
  /** Staged rows not yet compacted into final files (the writer's _staging area). */
  staged_rows: number;
  staged_bytes: number;
  staged_buckets: string[];
  /** Files that could not be read (run verify). */
  unreadable: string[];
}

export interface DayStatus {
  date: string;
  bucket_minutes: number;
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

/** Status of one UTC day (`dayTs` = its midnight). */
export async function dayStatus(dataDir: string, dayTs: number, opts: { bucketMinutes: number; venues?: string[] }): Promise<DayStatus> {
  const date = utcDate(dayTs);
  const files = listDatasetFiles(dataDir, { venues: opts.venues, fromTs: dayTs, toTs: dayTs + 24 * HOUR });
  const staged = (await listStagedSummary(dataDir)).filter((s) => utcDate(s.start) === date && (!opts.venues?.length || opts.venues.includes(s.venue)));
  const bucketLen = opts.bucketMinutes * 60_000;

  interface Acc extends HourStatus { marketSet: Set<string> }
  const acc = new Map<string, Acc>();
  const get = (venue: string, hourTs: number): Acc => {
    const hour = new Date(hourTs).toISOString().slice(11, 13);
    const k = `${venue}\u0000${hour}`;
    let a = acc.get(k);
    if (!a) {
      a = { venue, hour, files: 0, rows: 0, markets: 0, bytes: 0, first_ts: null, last_ts: null, missing_buckets: [], staged_rows: 0, staged_bytes: 0, staged_buckets: [], unreadable: [], marketSet: new Set() };
      acc.set(k, a);
    }
    return a;
  };
  /** Buckets that hold data (final or staged), per venue. */
  const covered = new Map<string, Set<number>>();
  const cover = (venue: string, ts: number) => {
    let s = covered.get(venue);
    if (!s) covered.set(venue, (s = new Set()));
    s.add(bucketStart(ts, opts.bucketMinutes));
  };

  for (const f of files) {
    const a = get(f.venue, dayTs + f.hour * HOUR);
    a.files++;
    a.bytes += f.bytes;
    const m = /T(\d{2})-(\d{2})(?:_\d+)?\.parquet$/.exec(f.name);
    if (m) cover(f.venue, dayTs + Number(m[1]) * HOUR + Number(m[2]) * 60_000);
    try {
      const t = await readParquetFile(f.abs, ["ts_recv", "market_id"]);
      a.rows += t.numRows;
      // Straight over the buffers: Vector.get per row is an order of magnitude slower on a day of files.
      for (const d of t.getChild("ts_recv")!.data) {
        const vals = (d.values as BigInt64Array).subarray(d.offset, d.offset + d.length);
        for (let i = 0; i < vals.length; i++) {
          const v = Number(vals[i]);
          if (a.first_ts === null || v < a.first_ts) a.first_ts = v;
          if (a.last_ts === null || v > a.last_ts) a.last_ts = v;
        }
      }
      for (const d of t.getChild("market_id")!.data) {
        const off = d.valueOffsets as Int32Array, bytes = d.values as Uint8Array;
        let prevStart = -1, prevEnd = -1;
        for (let i = d.offset; i < d.offset + d.length; i++) {
          const s0 = off[i], s1 = off[i + 1];
          if (prevStart >= 0 && s1 - s0 === prevEnd - prevStart && sameBytes(bytes, s0, prevStart, s1 - s0)) continue; // rows come in runs of one market
          a.marketSet.add(utf8.decode(bytes.subarray(s0, s1)));
          prevStart = s0;
          prevEnd = s1;
        }
      }
    } catch {
      a.unreadable.push(f.rel);
    }
  }
  for (const s of staged) {
    const a = get(s.venue, s.start - (s.start % HOUR));
    a.staged_rows += s.rows;
    a.staged_bytes += s.bytes;
    a.staged_buckets.push(hhmm(s.start));
    for (const m of s.markets) a.marketSet.add(m);
    cover(s.venue, s.start);
  }
  // Gaps: every bucket between a venue's first and last covered bucket of the day that holds nothing.
  for (const [venue, set] of covered) {
    const sorted = [...set].sort((x, y) => x - y);
    for (let b = sorted[0]; b <= sorted[sorted.length - 1]; b += bucketLen) {
      if (!set.has(b)) get(venue, b - (b % HOUR)).missing_buckets.push(hhmm(b));
    }
  }
  const hours = [...acc.values()]
    .map(({ marketSet, ...h }) => ({ ...h, markets: marketSet.size }))
    .sort((x, y) => x.venue.localeCompare(y.venue) || x.hour.localeCompare(y.hour));
  return { date, bucket_minutes: opts.bucketMinutes, venues: [...new Set(hours.map((h) => h.venue))], hours, quarantined: listQuarantined(dataDir) };
}

const mb = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n));
const clock = (ts: number | null) => (ts === null ? "-" : new Date(ts).toISOString().slice(11, 19));

/** Compact fixed-width table, one line per venue and hour, and a total per venue. */
export function formatStatus(s: DayStatus): string {
  const head = ["venue", "hour", "files", "rows", "markets", "bytes", "first", "last", "missing", "staged"];
  const lines: string[][] = [head];
  const listed = (xs: string[]) => (xs.length === 0 ? "-" : xs.length <= 3 ? xs.join(",") : `${xs.length} (${xs[0]}..${xs[xs.length - 1]})`);
  for (const h of s.hours) {
    lines.push([
      h.venue, h.hour, String(h.files), String(h.rows), String(h.markets), mb(h.bytes), clock(h.first_ts), clock(h.last_ts),
      listed(h.missing_buckets), h.staged_rows ? `${h.staged_rows} rows in ${h.staged_buckets.join(",")}` : "-",
    ]);
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const out = lines.map((l) => l.map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd());
  out.unshift(`${s.date} (UTC), ${s.bucket_minutes}-minute buckets`);
  for (const v of s.venues) {
    const hs = s.hours.filter((h) => h.venue === v);
    const sum = (k: "files" | "rows" | "bytes" | "staged_rows") => hs.reduce((t, h) => t + h[k], 0);
    const missing = hs.reduce((t, h) => t + h.missing_buckets.length, 0);
    out.push(`${v}: ${sum("files")} files, ${sum("rows")} rows, ${mb(sum("bytes"))}B, ${missing} missing buckets, ${sum("staged_rows")} staged rows`);
  }
  const unreadable = s.hours.flatMap((h) => h.unreadable);
  if (unreadable.length) out.push(`unreadable (run \`surveillance verify\`): ${unreadable.join(", ")}`);
  if (s.quarantined?.length) out.push(`quarantined staged data (unreadable segments, see the writer log): ${s.quarantined.join(", ")}`);
  return out.join("\n");
}

