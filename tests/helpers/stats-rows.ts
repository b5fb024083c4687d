/**
 * A stats-cache row (one book's metrics and score) with plain figures, for the tests that only care about a few; and
 * the metrics' columns by how two computations of them compare.
 */
import { NO_QUALITY } from "../../src/analytics/quality.ts";
import type { BookMetrics } from "../../src/analytics/score.ts";

export function statsRow(market_id: string, score: number, extra: Partial<BookMetrics> = {}): BookMetrics {
  return {
    ...NO_QUALITY,
    market_id,
    outcome_id: `${market_id}-yes`,
    snapshots: 10,
    minutes_watched: 5,
    avg_depth: 100,
    avg_spread: 0.02,
    median_spread: 0.02,
    share_one_sided: 0,
    share_empty: 0,
    share_stale: 0,
    changes: 3,
    observed_minutes: 4,
    activity: 0.75,
    avg_mid: 0.5,
    first_ts: 1,
    last_ts: 2,
    score,
    ...extra,
  };
}

/** Counts and timestamps: equal whichever engine or merge path computed them. */
export const COUNT_COLUMNS = ["snapshots", "changes", "first_ts", "last_ts"] as const satisfies (keyof BookMetrics)[];

/** Sums, averages and shares of floats: equal to a relative 1e-9 (summation order differs). Not median_spread. */
export const FLOAT_COLUMNS = [
  "avg_depth",
  "avg_spread",
  "avg_mid",
  "share_one_sided",
  "share_empty",
  "share_stale",
  "observed_minutes",
  "activity",
  "score",
] as const satisfies (keyof BookMetrics)[];
