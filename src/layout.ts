/**
 * The data tree: every directory and file name under the data dir is spelled here and nowhere else. Readers and
 * writers build their paths with these functions; see the README's "Data tree" for the picture.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { bucketStart, utcDate, utcHour } from "./timebucket.ts";

/** The Hive-partitioned snapshot dataset: `orderbook_snapshots/venue=V/date=YYYY-MM-DD/hour=HH/snapshots_….parquet`. */
export const DATASET_DIR = "orderbook_snapshots";
/** The scanner's universes: `metadata/venue=V/date=YYYY-MM-DD/universe.jsonl`. */
export const METADATA_DIR = "metadata";
export const UNIVERSE_FILE = "universe.jsonl";
/** The miner's stats cache: `stats/venue=V/date=YYYY-MM-DD/stats.parquet`. */
export const STATS_DIR = "stats";
export const STATS_FILE = "stats.parquet";
/** The collector's subscription journal: `subscriptions/venue=V/date=YYYY-MM-DD/events.jsonl`. */
export const SUBSCRIPTIONS_DIR = "subscriptions";
export const JOURNAL_FILE = "events.jsonl";
/** The manifest of final files: `_manifest/orderbook_snapshots.jsonl`, outside the dataset so no glob sees it. */
export const MANIFEST_DIR = "_manifest";
export const MANIFEST_FILE = "orderbook_snapshots.jsonl";
/** One writer per data dir: `_writer.lock` (readers — status, verify, mine — never look at it). */
export const LOCK_FILE = "_writer.lock";
/** The writer's staging area: `_staging/<venue>/<YYYY-MM-DDTHH-mm>_<M>m_g<N>/seg-000001.arrows`. */
export const STAGING_DIR = "_staging";
/** Unreadable staged segments: `_staging/_quarantine/<venue>/<bucketdir>-<n>/`. */
export const QUARANTINE_DIR = "_quarantine";
/** The uploader's own state, never uploaded: `_upload/ledger.jsonl` (verified copies), `_upload/last-error.json`. */
export const UPLOAD_DIR = "_upload";
export const LEDGER_FILE = "ledger.jsonl";
export const LAST_ERROR_FILE = "last-error.json";

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `<dataDir>/orderbook_snapshots`. */
export function datasetRoot(dataDir: string): string {
  return join(dataDir, DATASET_DIR);
}

/** `<dataDir>/orderbook_snapshots/venue=V`. */
export function datasetVenueDir(dataDir: string, venue: string): string {
  return join(dataDir, DATASET_DIR, `venue=${venue}`);
}

/** `venue=V/date=YYYY-MM-DD/hour=HH` relative to the dataset directory. */
export function partitionDir(venue: string, ts: number): string {
  return `venue=${venue}/date=${utcDate(ts)}/hour=${utcHour(ts)}`;
}

/** Every final file's name starts with this (then the bucket start, see bucketFileName). */
const SNAPSHOT_PREFIX = "snapshots_";

/** `snapshots_YYYY-MM-DDTHH-mm.parquet` for the bucket that contains ts; `suffix` > 0 numbers a late-rows file. */
export function bucketFileName(ts: number, minutes: number, suffix = 0): string {
  const start = new Date(bucketStart(ts, minutes));
  const base = `${SNAPSHOT_PREFIX}${utcDate(start.getTime())}T${pad2(start.getUTCHours())}-${pad2(start.getUTCMinutes())}`;
  return suffix > 0 ? `${base}_${suffix}.parquet` : `${base}.parquet`;
}

const SNAPSHOT_NAME = /^snapshots_(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})(?:_(\d+))?\.parquet$/;

/**
 * What a final file's name (bucketFileName's) says: the bucket start's date, hour and minute as spelled, the start
 * (NaN when the digits are no time, e.g. T25-70) and the late-rows number (0 for none); undefined for another name.
 */
export function parseSnapshotFileName(
  name: string,
): { date: string; hour: string; minute: string; start: number; suffix: number } | undefined {
  const m = SNAPSHOT_NAME.exec(name);
  if (!m) return undefined;
  return {
    date: m[1],
    hour: m[2],
    minute: m[3],
    start: Date.parse(`${m[1]}T${m[2]}:${m[3]}:00Z`),
    suffix: +(m[4] ?? 0),
  };
}

const PARTITION = /venue=([^/]+)\/date=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\//;

/**
 * The Hive partition a snapshot file's path (partitionDir's, anywhere in it) lies in: venue, date, and the hour's
 * start (NaN when "HH" is no hour); undefined for a path without one.
 */
export function parseSnapshotPartition(path: string): { venue: string; date: string; hourTs: number } | undefined {
  const m = PARTITION.exec(path);
  if (!m) return undefined;
  return { venue: m[1], date: m[2], hourTs: Date.parse(`${m[2]}T${m[3]}:00:00Z`) };
}

/** A bucket's final file relative to the data dir: `orderbook_snapshots/venue=V/date=…/hour=HH/snapshots_….parquet`. */
export function snapshotPath(venue: string, ts: number, minutes: number, suffix = 0): string {
  return `${DATASET_DIR}/${partitionDir(venue, ts)}/${bucketFileName(ts, minutes, suffix)}`;
}

/** `<dataDir>/metadata/venue=V`: the venue's universe day directories. */
export function universeVenueDir(dataDir: string, venue: string): string {
  return join(dataDir, METADATA_DIR, `venue=${venue}`);
}

/** `<dataDir>/metadata/venue=V/date=YYYY-MM-DD/universe.jsonl` for the UTC day of `ts`. */
export function universePath(dataDir: string, venue: string, ts: number): string {
  return universePathOn(dataDir, venue, utcDate(ts));
}

/** The universe file of `venue` for the day `date` (YYYY-MM-DD). */
export function universePathOn(dataDir: string, venue: string, date: string): string {
  return datedPath(universeVenueDir(dataDir, venue), date, UNIVERSE_FILE);
}

/** `<dataDir>/stats/venue=V`: the venue's stats day directories. */
export function statsVenueDir(dataDir: string, venue: string): string {
  return join(dataDir, STATS_DIR, `venue=${venue}`);
}

/** `<dataDir>/stats/venue=V/date=YYYY-MM-DD/stats.parquet`. */
export function statsPath(dataDir: string, venue: string, date: string): string {
  return datedPath(statsVenueDir(dataDir, venue), date, STATS_FILE);
}

/** `<dataDir>/subscriptions/venue=V`: the venue's journal day directories. */
export function journalVenueDir(dataDir: string, venue: string): string {
  return join(dataDir, SUBSCRIPTIONS_DIR, `venue=${venue}`);
}

/** `subscriptions/venue=V/date=YYYY-MM-DD/events.jsonl` relative to the data dir, for the UTC day of `ts`. */
export function journalPath(venue: string, ts: number): string {
  return `${SUBSCRIPTIONS_DIR}/venue=${venue}/date=${utcDate(ts)}/${JOURNAL_FILE}`;
}

/** `<dataDir>/_manifest/orderbook_snapshots.jsonl`. */
export function manifestPath(dataDir: string): string {
  return join(dataDir, MANIFEST_DIR, MANIFEST_FILE);
}

/** `<dataDir>/_upload`. */
export function uploadDir(dataDir: string): string {
  return join(dataDir, UPLOAD_DIR);
}

/** `<dataDir>/_upload/ledger.jsonl`: one line per verified copy in the bucket. */
export function ledgerPath(dataDir: string): string {
  return join(dataDir, UPLOAD_DIR, LEDGER_FILE);
}

/** `<dataDir>/_upload/last-error.json`: the uploader's last failure, present while failures last. */
export function lastErrorPath(dataDir: string): string {
  return join(dataDir, UPLOAD_DIR, LAST_ERROR_FILE);
}

/** `<dataDir>/_writer.lock`. */
export function lockPath(dataDir: string): string {
  return join(dataDir, LOCK_FILE);
}

/** `<dataDir>/_staging`. */
export function stagingRoot(dataDir: string): string {
  return join(dataDir, STAGING_DIR);
}

/**
 * Globs (relative to the data dir, `/`-separated) for the files of one day, `date` (or `*`), of every venue:
 * universes, snapshot files, subscription journals, stats.
 */
export function dayGlobs(date: string): string[] {
  const day = (dir: string) => `${dir}/venue=*/date=${date}`;
  return [
    `${day(METADATA_DIR)}/${UNIVERSE_FILE}`,
    `${day(DATASET_DIR)}/hour=*/${SNAPSHOT_PREFIX}*.parquet`,
    `${day(SUBSCRIPTIONS_DIR)}/${JOURNAL_FILE}`,
    `${day(STATS_DIR)}/${STATS_FILE}`,
  ];
}

/** `<dir>/date=YYYY-MM-DD/<file>`: a dated file under one of the per-venue roots above. */
export function datedPath(venueDir: string, date: string, file: string): string {
  return join(venueDir, `date=${date}`, file);
}

/** `<dataDir>/_staging/<venue>/<YYYY-MM-DDTHH-mm>_<M>m_g<N>`: one staged (venue, bucket, generation). */
export function stagingBucketDir(dataDir: string, venue: string, start: number, minutes: number, gen: number): string {
  const d = new Date(start);
  return join(
    dataDir,
    STAGING_DIR,
    venue,
    `${utcDate(start)}T${pad2(d.getUTCHours())}-${pad2(d.getUTCMinutes())}_${minutes}m_g${gen}`,
  );
}

const BUCKET_DIR = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})_(\d+)m_g(\d+)$/;

/** The (start, minutes, generation) a staging bucket directory's name stands for, or undefined. */
export function parseBucketDir(name: string): { start: number; minutes: number; gen: number } | undefined {
  const m = BUCKET_DIR.exec(name);
  if (!m) return undefined;
  const start = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  return { start, minutes: +m[6], gen: +m[7] };
}

/** `_staging/_quarantine` relative to the data dir. */
export const QUARANTINE_REL = `${STAGING_DIR}/${QUARANTINE_DIR}`;

/** `<dataDir>/_staging/_quarantine/<venue>`. */
export function quarantineVenueDir(dataDir: string, venue: string): string {
  return join(dataDir, STAGING_DIR, QUARANTINE_DIR, venue);
}

/** The dates of the `date=YYYY-MM-DD` names among `names` that are on or before `today`, newest first. */
export function datesUpTo(names: string[], today: string): string[] {
  return names
    .map((n) => /^date=(\d{4}-\d{2}-\d{2})$/.exec(n)?.[1])
    .filter((d): d is string => d !== undefined && d <= today)
    .sort()
    .reverse();
}

/** One final file of the dataset, located by its Hive partition path. */
export interface DatasetFile {
  /** Path relative to the data dir: `orderbook_snapshots/venue=V/date=D/hour=HH/name`. */
  rel: string;
  abs: string;
  venue: string;
  date: string;
  hour: number;
  name: string;
  bytes: number;
}

const dirsMatching = (dir: string, key: string): [string, string][] => {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(`${key}=`))
    .sort()
    .map((n) => [n.slice(key.length + 1), join(dir, n)]);
};

/**
 * Every `*.parquet` under the dataset tree, optionally limited to venues and a [fromTs, toTs) range of hours
 * (by partition path, so a file in the wrong partition is still found where it lies).
 */
export function listDatasetFiles(
  dataDir: string,
  opts: { venues?: string[]; fromTs?: number; toTs?: number } = {},
): DatasetFile[] {
  const out: DatasetFile[] = [];
  for (const [venue, vdir] of dirsMatching(datasetRoot(dataDir), "venue")) {
    if (opts.venues?.length && !opts.venues.includes(venue)) continue;
    for (const [date, ddir] of dirsMatching(vdir, "date")) {
      for (const [hh, hdir] of dirsMatching(ddir, "hour")) {
        const hour = Number(hh);
        const hourTs = Date.parse(`${date}T${hh.padStart(2, "0")}:00:00Z`);
        if (opts.fromTs !== undefined && !(hourTs >= opts.fromTs)) continue;
        if (opts.toTs !== undefined && !(hourTs < opts.toTs)) continue;
        for (const name of readdirSync(hdir).sort()) {
          if (!name.endsWith(".parquet")) continue;
          const abs = join(hdir, name);
          out.push({
            rel: `${DATASET_DIR}/venue=${venue}/date=${date}/hour=${hh}/${name}`,
            abs,
            venue,
            date,
            hour,
            name,
            bytes: statSync(abs).size,
          });
        }
      }
    }
  }
  return out;
}

export const MAPPINGS_DIR = "mappings";
export const CANDIDATES_FILE = "candidates.jsonl";
export const PAIRS_FILE = "pairs.jsonl";

/** Proposed cross-venue pairs, `mappings/candidates.jsonl`. */
export function candidatesPath(dataDir: string): string {
  return join(dataDir, MAPPINGS_DIR, CANDIDATES_FILE);
}

/** The confirmed (and rejected) pairs, `mappings/pairs.jsonl`. */
export function mappingPath(dataDir: string): string {
  return join(dataDir, MAPPINGS_DIR, PAIRS_FILE);
}

/** Paired-book metrics of a day, `stats/pairs/date=D/pairs.parquet`. */
export function pairsStatsPath(dataDir: string, date: string): string {
  return join(dataDir, STATS_DIR, "pairs", `date=${date}`, "pairs.parquet");
}
