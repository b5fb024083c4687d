/** The writer's metric names (Prometheus) and their help; the collector's status line and the zeros at start read them. */

export const WRITER_METRICS = {
  /** Labelled with nothing. */
  flushes: "surveillance_writer_flushes_total",
  flushSeconds: "surveillance_writer_flush_seconds_total",
  rowsBuffered: "surveillance_writer_rows_buffered",
  rowsStagedNow: "surveillance_writer_rows_staged",
  pendingBuckets: "surveillance_writer_pending_buckets",
  /** Labelled with `code`. */
  writeErrors: "surveillance_writer_write_errors_total",
  /** Labelled with `venue`. */
  rowsStaged: "surveillance_writer_rows_staged_total",
  bytesStaged: "surveillance_writer_bytes_staged_total",
  rowsFinalized: "surveillance_writer_rows_finalized_total",
  bytesFinalized: "surveillance_writer_bytes_finalized_total",
  filesFinalized: "surveillance_writer_files_finalized_total",
  rowsDropped: "surveillance_writer_rows_dropped_total",
  encodeFailures: "surveillance_writer_encode_failures_total",
  quarantined: "surveillance_writer_quarantined_segments_total",
} as const;

export const WRITER_HELP: Record<keyof typeof WRITER_METRICS, string> = {
  flushes: "writer flushes",
  flushSeconds: "time spent flushing",
  rowsBuffered: "rows in memory, not yet durable",
  rowsStagedNow: "rows durable in staging, not yet final",
  pendingBuckets: "buckets not yet finalized",
  writeErrors: "failed writes (retried)",
  rowsStaged: "rows made durable in staging",
  bytesStaged: "bytes written to staging",
  rowsFinalized: "rows in final Parquet files",
  bytesFinalized: "bytes of final Parquet files",
  filesFinalized: "final Parquet files written",
  rowsDropped: "rows dropped (buffer full or writer closed)",
  encodeFailures: "flushes whose encoding failed (staged raw instead)",
  quarantined: "unreadable staged segments moved to _staging/_quarantine",
};

/** The counters labelled with `venue`: declared at 0 for every venue at start. */
export const WRITER_VENUE_COUNTERS = [
  "rowsStaged",
  "bytesStaged",
  "rowsFinalized",
  "bytesFinalized",
  "filesFinalized",
  "rowsDropped",
  "encodeFailures",
  "quarantined",
] as const satisfies readonly (keyof typeof WRITER_METRICS)[];
