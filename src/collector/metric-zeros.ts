/**
 * Every counter of a collect run exported from the start at 0 with its labels, so a Prometheus `increase()` alert
 * sees the first reconnect, dropped row or write error (a series that appears with its first event has no "before").
 * The collector's own counters are declared by its first publish; these are the writer's and the input watcher's.
 */
import type { Metrics } from "../metrics.ts";
import { INPUT_METRICS } from "./inputs.ts";

/** Per-venue writer counters and their help (the same text the writer registers them with). */
const WRITER_VENUE_COUNTERS: [string, string][] = [
  ["surveillance_writer_rows_staged_total", "rows made durable in staging"],
  ["surveillance_writer_bytes_staged_total", "bytes written to staging"],
  ["surveillance_writer_rows_finalized_total", "rows in final Parquet files"],
  ["surveillance_writer_bytes_finalized_total", "bytes of final Parquet files"],
  ["surveillance_writer_files_finalized_total", "final Parquet files written"],
  ["surveillance_writer_rows_dropped_total", "rows dropped (buffer full or writer closed)"],
  ["surveillance_writer_encode_failures_total", "flushes whose encoding failed (staged raw instead)"],
  ["surveillance_writer_quarantined_segments_total", "unreadable staged segments moved to _staging/_quarantine"],
];

/** The write error codes a disk usually gives; others appear with their first occurrence. */
export const COMMON_WRITE_ERROR_CODES = ["ENOSPC", "EIO", "EACCES", "EROFS", "EDQUOT"];

export function declareZeroMetrics(metrics: Metrics, venues: string[]): void {
  metrics.inc("surveillance_writer_flushes_total", {}, 0, "writer flushes");
  metrics.inc("surveillance_writer_flush_seconds_total", {}, 0, "time spent flushing");
  for (const code of COMMON_WRITE_ERROR_CODES)
    metrics.inc("surveillance_writer_write_errors_total", { code }, 0, "failed writes (retried)");
  for (const venue of venues) {
    for (const [name, help] of WRITER_VENUE_COUNTERS) metrics.inc(name, { venue }, 0, help);
    for (const input of ["universe", "stats"]) {
      metrics.inc(INPUT_METRICS.reloads, { venue, input }, 0, "newer universe/stats files taken while collecting");
      metrics.inc(
        INPUT_METRICS.failures,
        { venue, input },
        0,
        "universe/stats files that could not be taken (previous data kept)",
      );
    }
  }
}
