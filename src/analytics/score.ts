/**
 * The combined score the scheduler uses for HOT, and the three rankings; pure functions over per-book metrics
 * (percentile ranks of depth, −spread and activity, times quality: the formula in docs/mining.md).
 */

import { firstOutcome, type QualityMetrics } from "./quality.ts";

/** The quality figures are optional: rows built without them (older callers) read as never measured. */
export interface BookMetrics extends Partial<QualityMetrics> {
  market_id: string;
  outcome_id: string;
  snapshots: number;
  minutes_watched: number;
  avg_depth: number | null;
  avg_spread: number | null;
  median_spread: number | null;
  share_one_sided: number;
  share_empty: number;
  share_stale: number;
  changes: number;
  observed_minutes: number;
  /** Book changes per observed minute; null when no two consecutive snapshots were close enough to time it. */
  activity: number | null;
  avg_mid: number | null;
  first_ts: number;
  last_ts: number;
  score: number;
}

/** Percentile ranks in [0, 1] (higher value → higher rank), average rank for ties, 0 for null; 1 when alone. */
export function percentRanks(values: (number | null)[]): number[] {
  const idx = values.map((v, i) => [v, i] as const).filter(([v]) => v !== null && Number.isFinite(v)) as [
    number,
    number,
  ][];
  idx.sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length).fill(0);
  const n = idx.length;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && idx[j + 1][0] === idx[i][0]) j++;
    const r = n === 1 ? 1 : (i + j) / 2 / (n - 1);
    for (let k = i; k <= j; k++) out[idx[k][1]] = r;
    i = j + 1;
  }
  return out;
}

/** Fills `score` on every book (see the module comment). */
export function scoreBooks(books: BookMetrics[]): void {
  const depth = percentRanks(books.map((b) => b.avg_depth));
  const spread = percentRanks(books.map((b) => (b.avg_spread === null ? null : -b.avg_spread)));
  const activity = percentRanks(books.map((b) => b.activity));
  books.forEach((b, i) => {
    const quality = Math.max(0, 1 - b.share_empty - b.share_stale);
    b.score = (quality * (depth[i] + spread[i] + activity[i])) / 3;
  });
}

/** Rankable fields; the DuckDB cross-check passes its own per-book table through the same orderings. */
type Rankable = Pick<BookMetrics, "market_id" | "outcome_id"> & {
  avg_depth: number | null;
  avg_spread: number | null;
  activity: number | null;
};

/** A ranked row: the book, and the other outcome of its binary market when that book was folded into this row. */
export type Folded<T> = T & { mirror_outcome_id?: string };

/** 12 significant digits: engines summing in different orders must not reorder books whose averages are equal. */
const key = (x: number) => Number(x.toPrecision(12));

const byId = (a: Rankable, b: Rankable) =>
  a.market_id < b.market_id
    ? -1
    : a.market_id > b.market_id
      ? 1
      : a.outcome_id < b.outcome_id
        ? -1
        : a.outcome_id > b.outcome_id
          ? 1
          : 0;

/** The three orderings without the id tie-break: 0 means two books rank on equal values. */
const depthCmp = (a: Rankable, b: Rankable) => key(b.avg_depth!) - key(a.avg_depth!);
const spreadCmp = (a: Rankable, b: Rankable) =>
  key(a.avg_spread!) - key(b.avg_spread!) || key(b.avg_depth ?? 0) - key(a.avg_depth ?? 0);
const activityCmp = (a: Rankable, b: Rankable) => key(b.activity!) - key(a.activity!);

/** The orderings (the DuckDB cross-check folds its own sorted tables with them). */
export const RANKINGS = { depth: depthCmp, spread: spreadCmp, activity: activityCmp } as const;

/**
 * The first n rows of a ranking (`sorted` by `cmp`, then id) with each binary market (two books among `sorted`:
 * YES and NO of one Kalshi market, the two tokens of one Polymarket condition, mirrors of one another) on one
 * row: the side ranked better, YES (quality.ts firstOutcome) when both rank on equal values (Kalshi's two sides
 * are exact mirrors); the other side is named in `mirror_outcome_id` and not listed again.
 */
export function foldMirrors<T extends Rankable>(
  sorted: T[],
  n: number,
  cmp: (a: Rankable, b: Rankable) => number,
): Folded<T>[] {
  const perMarket = new Map<string, number>();
  for (const b of sorted) perMarket.set(b.market_id, (perMarket.get(b.market_id) ?? 0) + 1);
  const rowOf = new Map<string, number>();
  const out: Folded<T>[] = [];
  for (const b of sorted) {
    const binary = perMarket.get(b.market_id) === 2;
    const at = binary ? rowOf.get(b.market_id) : undefined;
    if (at === undefined) {
      if (out.length >= n) continue;
      if (binary) rowOf.set(b.market_id, out.length);
      out.push({ ...b });
      continue;
    }
    const shown = out[at];
    const better = cmp(b, shown) === 0 && firstOutcome(b.outcome_id, shown.outcome_id) === b.outcome_id;
    out[at] = better ? { ...b, mirror_outcome_id: shown.outcome_id } : { ...shown, mirror_outcome_id: b.outcome_id };
  }
  return out;
}

/** Every book with a depth by average depth (desc), ties by id. */
export function byDepth<T extends Rankable>(books: T[]): T[] {
  return books.filter((b) => b.avg_depth !== null).sort((a, b) => depthCmp(a, b) || byId(a, b));
}

/** Every book with a two-sided snapshot by tightest average spread (asc), ties by deeper, then id. */
export function bySpread<T extends Rankable>(books: T[]): T[] {
  return books.filter((b) => b.avg_spread !== null).sort((a, b) => spreadCmp(a, b) || byId(a, b));
}

/** Every timed book by activity (book changes per minute, desc), ties by id. */
export function byActivity<T extends Rankable>(books: T[]): T[] {
  return books.filter((b) => b.activity !== null).sort((a, b) => activityCmp(a, b) || byId(a, b));
}

/** Top n by average depth, mirror books folded (foldMirrors). */
export function topByDepth<T extends Rankable>(books: T[], n: number): Folded<T>[] {
  return foldMirrors(byDepth(books), n, depthCmp);
}

/** Top n by tightest average spread, mirror books folded. */
export function topBySpread<T extends Rankable>(books: T[], n: number): Folded<T>[] {
  return foldMirrors(bySpread(books), n, spreadCmp);
}

/** Top n by activity, mirror books folded. */
export function topByActivity<T extends Rankable>(books: T[], n: number): Folded<T>[] {
  return foldMirrors(byActivity(books), n, activityCmp);
}
