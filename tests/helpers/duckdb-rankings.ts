/** The three rankings computed by DuckDB from the list columns: an independent engine to check the miner against (tests and bench). */
import { DuckDBInstance } from "@duckdb/node-api";

export interface DuckBook {
  market_id: string;
  outcome_id: string;
  avg_depth: number;
  avg_spread: number | null;
  activity: number | null;
}

/** Per-book depth, spread and activity with the miner's definitions, written in SQL (window LAG over ts_recv). */
export function rankingsSql(glob: string, maxGapMs = 60_000): string {
  return `
WITH s AS (
  SELECT market_id, outcome_id, ts_recv, seq, best_bid_px, best_bid_sz, best_ask_px, best_ask_sz, spread,
         coalesce(list_sum(bid_sz[1:3]), 0) + coalesce(list_sum(ask_sz[1:3]), 0) AS depth
  FROM read_parquet('${glob}')
), w AS (
  SELECT *,
    ts_recv - lag(ts_recv) OVER win AS dt,
    lag(seq) OVER win AS pseq,
    lag(best_bid_px) OVER win AS pbp, lag(best_bid_sz) OVER win AS pbs,
    lag(best_ask_px) OVER win AS pap, lag(best_ask_sz) OVER win AS pas
  FROM s WINDOW win AS (PARTITION BY market_id, outcome_id ORDER BY ts_recv)
)
SELECT market_id, outcome_id,
  avg(depth) AS avg_depth,
  avg(spread) FILTER (WHERE NOT isnan(best_bid_px) AND NOT isnan(best_ask_px)) AS avg_spread,
  sum(CASE WHEN dt <= ${maxGapMs} AND (CASE WHEN seq > 0 AND pseq > 0 THEN seq > pseq
        ELSE best_bid_px IS DISTINCT FROM pbp OR best_bid_sz IS DISTINCT FROM pbs
          OR best_ask_px IS DISTINCT FROM pap OR best_ask_sz IS DISTINCT FROM pas END) THEN 1 ELSE 0 END) AS changes,
  sum(CASE WHEN dt <= ${maxGapMs} THEN dt ELSE 0 END) AS observed_ms
FROM w GROUP BY market_id, outcome_id`;
}

export async function duckdbBooks(glob: string, threads = 2): Promise<DuckBook[]> {
  const inst = await DuckDBInstance.create(":memory:", { threads: String(threads) });
  const conn = await inst.connect();
  try {
    const rows = (await conn.runAndReadAll(rankingsSql(glob))).getRowObjectsJS() as Record<string, unknown>[];
    return rows.map((r) => {
      const observed = Number(r.observed_ms);
      return {
        market_id: String(r.market_id),
        outcome_id: String(r.outcome_id),
        avg_depth: Number(r.avg_depth),
        avg_spread: r.avg_spread === null ? null : Number(r.avg_spread),
        activity: observed > 0 ? Number(r.changes) / (observed / 60_000) : null,
      };
    });
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}
