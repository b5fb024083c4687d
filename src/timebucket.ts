/** Bucket arithmetic and the fixed storage layout (SPEC.md), pure functions of (venue, epoch ms, bucket minutes), UTC. */

export const DATASET_DIR = "orderbook_snapshots";

export function bucketStart(ts: number, minutes: number): number {
  const len = minutes * 60_000;
  return Math.floor(ts / len) * len;
}

export function bucketEnd(ts: number, minutes: number): number {
  return bucketStart(ts, minutes) + minutes * 60_000;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** "YYYY-MM-DD" (UTC). */
export function utcDate(ts: number): string {
  const d = new Date(ts);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** "HH" (UTC). */
export function utcHour(ts: number): string {
  return pad2(new Date(ts).getUTCHours());
}

/** `venue=V/date=YYYY-MM-DD/hour=HH` relative to the dataset directory. */
export function partitionDir(venue: string, ts: number): string {
  return `venue=${venue}/date=${utcDate(ts)}/hour=${utcHour(ts)}`;
}

/** `snapshots_YYYY-MM-DDTHH-mm.parquet` for the bucket that contains ts; `suffix` > 0 numbers a late-rows file. */
export function bucketFileName(ts: number, minutes: number, suffix = 0): string {
  const start = new Date(bucketStart(ts, minutes));
  const base = `snapshots_${utcDate(start.getTime())}T${pad2(start.getUTCHours())}-${pad2(start.getUTCMinutes())}`;
  return suffix > 0 ? `${base}_${suffix}.parquet` : `${base}.parquet`;
}

/** Path of a bucket's final file relative to the data dir: `orderbook_snapshots/venue=V/date=…/hour=HH/snapshots_….parquet`. */
export function bucketPath(venue: string, ts: number, minutes: number, suffix = 0): string {
  return `${DATASET_DIR}/${partitionDir(venue, ts)}/${bucketFileName(ts, minutes, suffix)}`;
}

/** Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH` (UTC) to epoch ms; undefined when malformed. */
export function parseDateHour(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}))?$/.exec(s.trim());
  if (!m) return undefined;
  const [y, mo, d, h] = [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 0 : Number(m[4])];
  const ts = Date.UTC(y, mo - 1, d, h);
  const back = new Date(ts);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23)
    return undefined;
  return ts;
}

/** The dates of the `date=YYYY-MM-DD` names among `names` that are on or before `today`, newest first. */
export function datesUpTo(names: string[], today: string): string[] {
  return names
    .map((n) => /^date=(\d{4}-\d{2}-\d{2})$/.exec(n)?.[1])
    .filter((d): d is string => d !== undefined && d <= today)
    .sort()
    .reverse();
}
