/** A stats-cache row (one book's metrics and score) with plain figures, for the tests that only care about a few. */
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
