/**
 * The combined score the scheduler uses for HOT, and the three rankings; pure functions over per-book metrics
 * (percentile ranks of depth, −spread and activity, times quality: the formula in docs/mining.md).
 */

import type { QualityMetrics } from "./quality.ts";

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

/** Top n by average depth (desc), ties by id. */
export function topByDepth<T extends Rankable>(books: T[], n: number): T[] {
  return books
    .filter((b) => b.avg_depth !== null)
    .sort((a, b) => key(b.avg_depth!) - key(a.avg_depth!) || byId(a, b))
    .slice(0, n);
}

/** Top n by tightest average spread (asc, books with a two-sided snapshot only), ties by deeper, then id. */
export function topBySpread<T extends Rankable>(books: T[], n: number): T[] {
  return books
    .filter((b) => b.avg_spread !== null)
    .sort(
      (a, b) => key(a.avg_spread!) - key(b.avg_spread!) || key(b.avg_depth ?? 0) - key(a.avg_depth ?? 0) || byId(a, b),
    )
    .slice(0, n);
}

/** Top n by activity (book changes per minute, desc), ties by id. */
export function topByActivity<T extends Rankable>(books: T[], n: number): T[] {
  return books
    .filter((b) => b.activity !== null)
    .sort((a, b) => key(b.activity!) - key(a.activity!) || byId(a, b))
    .slice(0, n);
}
