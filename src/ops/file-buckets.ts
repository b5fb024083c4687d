/**
 * Which bucket length a final file is judged by (verify, status). `writer.bucket_minutes` may have changed since
 * a file was written, so the manifest's `bucket_minutes` for that file is the word; the configured length is only
 * a fallback for files the manifest does not list (or lists without a usable length).
 */
import type { Table } from "apache-arrow";

const MIN = 60_000;
/** Every bucket length the config accepts (it must divide 60), ascending. */
const DIVISORS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];

export function isBucketMinutes(m: unknown): m is number {
  return typeof m === "number" && Number.isInteger(m) && m > 0 && 60 % m === 0;
}

const aligned = (start: number, minutes: number) => start % (minutes * MIN) === 0;

/**
 * Bucket length for a file without the manifest's word, from its bucket start (file name) and its rows' ts_recv
 * range (both undefined for a file without rows): the configured length when the start is a bucket start under it
 * and the rows fit in that bucket; else the shortest divisor of 60 for which both hold (`fits`). When none does,
 * the longest one the start allows and `fits: false`: a row outside that bucket is outside every bucket the
 * name can denote, so it is wrong whatever the file's real length was.
 */
export function inferBucketMinutes(
  start: number,
  configured: number,
  minTs?: number,
  maxTs?: number,
): { minutes: number; fits: boolean } {
  const fits = (m: number) =>
    aligned(start, m) && (minTs === undefined || (minTs >= start && maxTs! < start + m * MIN));
  if (fits(configured)) return { minutes: configured, fits: true };
  const m = DIVISORS.find(fits);
  if (m !== undefined) return { minutes: m, fits: true };
  return { minutes: DIVISORS.filter((d) => aligned(start, d)).at(-1)!, fits: false };
}

/** A file judged by an inferred length other than the configured one (reported so the operator sees the assumption). */
export interface InferredBucket {
  file: string;
  bucket_minutes: number;
}

/** One line per inferred length: how many files, which length, why. */
export function formatInferred(inferred: InferredBucket[], configured: number): string[] {
  const by = new Map<number, string[]>();
  for (const i of inferred) by.set(i.bucket_minutes, [...(by.get(i.bucket_minutes) ?? []), i.file]);
  return [...by]
    .sort(([a], [b]) => a - b)
    .map(
      ([m, files]) =>
        `note: ${files.length} file(s) without a bucket length in the manifest do not fit the configured ${configured}-minute buckets; ` +
        `judged as ${m}-minute buckets, the shortest their names and rows fit (first: ${files[0]})`,
    );
}

/** Smallest and largest ts_recv in [from, to) of a snapshot table (undefined without such rows). */
export function tsRange(table: Table, from = -Infinity, to = Infinity): [number | undefined, number | undefined] {
  let lo: number | undefined, hi: number | undefined;
  // Straight over the buffers: Vector.get per row is an order of magnitude slower on a day of files.
  for (const d of table.getChild("ts_recv")!.data) {
    const vals = (d.values as BigInt64Array).subarray(0, d.length); // Arrow JS slices `values` already: no d.offset
    for (let i = 0; i < vals.length; i++) {
      const v = Number(vals[i]);
      if (v < from || v >= to) continue;
      if (lo === undefined || v < lo) lo = v;
      if (hi === undefined || v > hi) hi = v;
    }
  }
  return [lo, hi];
}
