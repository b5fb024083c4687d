/** Every metric name table, by component, for the checks of /metrics and of the tables themselves. */
import { COLLECTOR_METRICS, INPUT_METRICS } from "../../src/collector/metric-names.ts";
import { PROCESS_METRICS } from "../../src/metrics-server.ts";
import { SELECTION_METRICS } from "../../src/scheduler/metric-names.ts";
import { WRITER_METRICS } from "../../src/storage/metric-names.ts";
import { DISK_METRICS, UPLOAD_METRICS } from "../../src/upload/metric-names.ts";

export const ALL_METRIC_TABLES: Record<string, Record<string, string>> = {
  COLLECTOR_METRICS,
  INPUT_METRICS,
  WRITER_METRICS,
  SELECTION_METRICS,
  UPLOAD_METRICS,
  DISK_METRICS,
  PROCESS_METRICS,
};
