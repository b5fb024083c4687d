/** The snapshot columns' types as nodejs-polars and DuckDB name them, written out by hand (docs/storage-format.md). */

export const POLARS_TYPES: Record<string, string> = {
  ts_recv: "Int64",
  venue: "String",
  market_id: "String",
  outcome_id: "String",
  seq: "Int64",
  best_bid_px: "Float64",
  best_bid_sz: "Float64",
  best_ask_px: "Float64",
  best_ask_sz: "Float64",
  mid: "Float64",
  spread: "Float64",
  bid_px: "List(Float64)",
  bid_sz: "List(Float64)",
  ask_px: "List(Float64)",
  ask_sz: "List(Float64)",
  status: "String",
  err: "String",
  source_ts: "Int64",
  bid_depth3: "Float64",
  ask_depth3: "Float64",
};

export const DUCKDB_TYPES: Record<string, string> = {
  ts_recv: "BIGINT",
  venue: "VARCHAR",
  market_id: "VARCHAR",
  outcome_id: "VARCHAR",
  seq: "BIGINT",
  best_bid_px: "DOUBLE",
  best_bid_sz: "DOUBLE",
  best_ask_px: "DOUBLE",
  best_ask_sz: "DOUBLE",
  mid: "DOUBLE",
  spread: "DOUBLE",
  bid_px: "DOUBLE[]",
  bid_sz: "DOUBLE[]",
  ask_px: "DOUBLE[]",
  ask_sz: "DOUBLE[]",
  status: "VARCHAR",
  err: "VARCHAR",
  source_ts: "BIGINT",
  bid_depth3: "DOUBLE",
  ask_depth3: "DOUBLE",
};

/** A nodejs-polars schema as column → type name: "DataType(List(DataType(Float64)))" → "List(Float64)". */
export function polarsTypeNames(schema: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(schema as Record<string, unknown>).map(([k, t]) => [
      k,
      String(t)
        .replaceAll("DataType(", "(")
        .replace(/\((\w+)\)/g, "$1")
        .replace(/^\((.*)\)$/, "$1"),
    ]),
  );
}
