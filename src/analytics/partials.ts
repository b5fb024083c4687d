/**
 * Mergeable per-book aggregates over a stretch of time (sums, counts, an exact spread histogram, first/last
 * snapshot); two stretches merge in time order into what one pass over both gives, the pair across the seam
 * included. Pure; the files are partials-store.ts.
 */

import { mergeQuality, newQuality, type QualityAcc, qualityFromJson, qualityToJson } from "./quality.ts";

/** Running sums of one book over a stretch of time, plus its first and last snapshot (for the seams). */
export interface BookAcc {
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
  /** Distinct minutes with a snapshot (stretches are minute-aligned, so these add up). */
  minutes: number;
  lastMinute: number;
  changes: number;
  observedMs: number;
  firstTs: number;
  firstSeq: number;
  /** Best bid px/sz, best ask px/sz of the first snapshot (NaN = side empty). */
  firstTob: number[];
  lastTs: number;
  lastSeq: number;
  lastTob: number[];
  /** Exact histogram of the two-sided spreads: prices sit on a grid, so few distinct values and an exact median. */
  spreads: Map<number, number>;
  /** Per 5-minute bucket sums for the report (only when asked for). */
  series?: BookSeries;
  /** Crossed/locked counts and, on a binary market's first outcome, the YES/NO parity sums (quality.ts). */
  quality: QualityAcc;
  /** Whether the last snapshot was paired with the other outcome's for parity (not stored: a seam loses one pair). */
  lastPaired: boolean;
}

/** The additive fields: a new metric that is a sum or a count is one more name here (and a field of BookAcc). */
export const ADDITIVE_FIELDS = [
  "n",
  "sumDepth",
  "nSpread",
  "sumSpread",
  "sumMid",
  "nOne",
  "nEmpty",
  "nStale",
  "minutes",
  "changes",
  "observedMs",
] as const;
type Additive = (typeof ADDITIVE_FIELDS)[number];

export const SERIES_BUCKET_MS = 300_000;

/** Per-bucket sums of one book, bucket = floor(ts / SERIES_BUCKET_MS), buckets ascending. */
export interface BookSeries {
  bucket: number[];
  n: number[];
  nSpread: number[];
  sumSpread: number[];
  sumDepth: number[];
  sumMid: number[];
  nStale: number[];
  nOne: number[];
  nEmpty: number[];
}

export function emptySeries(): BookSeries {
  return { bucket: [], n: [], nSpread: [], sumSpread: [], sumDepth: [], sumMid: [], nStale: [], nOne: [], nEmpty: [] };
}

export function newAcc(market_id: string, outcome_id: string, withSeries = false): BookAcc {
  return {
    market_id,
    outcome_id,
    n: 0,
    sumDepth: 0,
    nSpread: 0,
    sumSpread: 0,
    sumMid: 0,
    nOne: 0,
    nEmpty: 0,
    nStale: 0,
    minutes: 0,
    lastMinute: NaN,
    changes: 0,
    observedMs: 0,
    firstTs: NaN,
    firstSeq: 0,
    firstTob: [NaN, NaN, NaN, NaN],
    lastTs: NaN,
    lastSeq: 0,
    lastTob: [NaN, NaN, NaN, NaN],
    spreads: new Map(),
    series: withSeries ? emptySeries() : undefined,
    quality: newQuality(),
    lastPaired: false,
  };
}

export const bookKey = (marketId: string, outcomeId: string) => `${marketId}\u0000${outcomeId}`;

/** Same value, where NaN equals NaN (an empty side stays empty: no change). */
export const same = (a: number, b: number) => a === b || (a !== a && b !== b);

/**
 * Whether the book changed between two consecutive snapshots: by seq when both carry one, else by top of book.
 * The one rule for pairs inside a stretch and across a seam.
 */
export function changedBetween(prevSeq: number, prevTob: ArrayLike<number>, seq: number, tob: ArrayLike<number>) {
  if (seq > 0 && prevSeq > 0) return seq > prevSeq;
  return (
    !same(tob[0], prevTob[0]) || !same(tob[1], prevTob[1]) || !same(tob[2], prevTob[2]) || !same(tob[3], prevTob[3])
  );
}

/**
 * Adds `next` (a later stretch of the same book) to `into`: sums, histogram, the pair across the seam (timed and
 * counted like any consecutive pair when it is at most `maxGapMs` apart), and the last snapshot.
 */
export function mergeAcc(into: BookAcc, next: BookAcc, maxGapMs: number): void {
  if (next.n === 0) return;
  if (into.n === 0) {
    Object.assign(into, {
      ...next,
      spreads: new Map(next.spreads),
      series: into.series ?? next.series,
      quality: newQuality(),
    });
    mergeQuality(into.quality, next.quality);
    if (into.series && next.series && into.series !== next.series) appendSeries(into.series, next.series);
    return;
  }
  const dt = next.firstTs - into.lastTs;
  if (dt >= 0 && dt <= maxGapMs) {
    into.observedMs += dt;
    if (changedBetween(into.lastSeq, into.lastTob, next.firstSeq, next.firstTob)) into.changes++;
  }
  for (const f of ADDITIVE_FIELDS) into[f as Additive] += next[f as Additive];
  for (const [v, c] of next.spreads) into.spreads.set(v, (into.spreads.get(v) ?? 0) + c);
  mergeQuality(into.quality, next.quality);
  into.lastPaired = next.lastPaired;
  into.lastTs = next.lastTs;
  into.lastSeq = next.lastSeq;
  into.lastTob = [...next.lastTob];
  into.lastMinute = next.lastMinute;
  if (into.series && next.series) appendSeries(into.series, next.series);
}

function appendSeries(into: BookSeries, next: BookSeries): void {
  for (const k of Object.keys(into) as (keyof BookSeries)[]) for (const v of next[k]) into[k].push(v);
}

/** Merges a later stretch's books into the running map (books new to it are taken as they are). */
export function mergeBooks(into: Map<string, BookAcc>, next: Map<string, BookAcc>, maxGapMs: number): void {
  for (const [k, b] of next) {
    const a = into.get(k);
    if (!a) into.set(k, b);
    else mergeAcc(a, b, maxGapMs);
  }
}

/** JSON form of a book's partial (NaN as null; the histogram as [value, count] pairs; no series). */
export type PartialJson = Record<string, unknown>;

export function accToJson(a: BookAcc): PartialJson {
  const o: PartialJson = { market_id: a.market_id, outcome_id: a.outcome_id };
  for (const f of ADDITIVE_FIELDS) o[f] = a[f];
  const nan = (x: number) => (x === x ? x : null);
  o.lastMinute = nan(a.lastMinute);
  o.firstTs = a.firstTs;
  o.firstSeq = a.firstSeq;
  o.firstTob = a.firstTob.map(nan);
  o.lastTs = a.lastTs;
  o.lastSeq = a.lastSeq;
  o.lastTob = a.lastTob.map(nan);
  o.spreads = [...a.spreads];
  o.quality = qualityToJson(a.quality);
  return o;
}

export function accFromJson(o: PartialJson): BookAcc {
  const a = newAcc(String(o.market_id), String(o.outcome_id));
  const num = (x: unknown) => (typeof x === "number" ? x : NaN);
  for (const f of ADDITIVE_FIELDS) a[f] = typeof o[f] === "number" ? (o[f] as number) : 0;
  a.lastMinute = num(o.lastMinute);
  a.firstTs = num(o.firstTs);
  a.firstSeq = num(o.firstSeq);
  a.firstTob = (o.firstTob as unknown[]).map(num);
  a.lastTs = num(o.lastTs);
  a.lastSeq = num(o.lastSeq);
  a.lastTob = (o.lastTob as unknown[]).map(num);
  a.spreads = new Map(o.spreads as [number, number][]);
  a.quality = qualityFromJson(o.quality);
  return a;
}
