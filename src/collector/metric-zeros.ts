/**
 * Every counter of a collect run exported from the start at 0 with its labels, so a Prometheus `increase()` alert
 * sees the first reconnect, dropped row or write error (a series that appears with its first event has no "before").
 * The collector's own counters are declared by its first publish; these are the writer's and the input watcher's.
 */
import type { Metrics } from "../metrics.ts";
import { WRITER_HELP, WRITER_METRICS as W, WRITER_VENUE_COUNTERS } from "../storage/metric-names.ts";
import { INPUT_HELP, INPUT_METRICS } from "./metric-names.ts";

/** The write error codes a disk usually gives; others appear with their first occurrence. */
export const COMMON_WRITE_ERROR_CODES = ["ENOSPC", "EIO", "EACCES", "EROFS", "EDQUOT"];

export function declareZeroMetrics(metrics: Metrics, venues: string[]): void {
  metrics.inc(W.flushes, {}, 0, WRITER_HELP.flushes);
  metrics.inc(W.flushSeconds, {}, 0, WRITER_HELP.flushSeconds);
  for (const code of COMMON_WRITE_ERROR_CODES) metrics.inc(W.writeErrors, { code }, 0, WRITER_HELP.writeErrors);
  for (const venue of venues) {
    for (const k of WRITER_VENUE_COUNTERS) metrics.inc(W[k], { venue }, 0, WRITER_HELP[k]);
    for (const input of ["universe", "stats"]) {
      metrics.inc(INPUT_METRICS.reloads, { venue, input }, 0, INPUT_HELP.reloads);
      metrics.inc(INPUT_METRICS.failures, { venue, input }, 0, INPUT_HELP.failures);
    }
  }
}
