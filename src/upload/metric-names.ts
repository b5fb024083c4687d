/** The upload room's metric names (Prometheus): the uploader's and the disk guard's; tests and /metrics checks import them. */

/** Labelled with nothing, `kind` (files) or `code` (errors). */
export const UPLOAD_METRICS = {
  lag: "surveillance_upload_lag_seconds",
  pending: "surveillance_upload_pending_files",
  bytes: "surveillance_upload_bytes_total",
  files: "surveillance_upload_files_total",
  errors: "surveillance_upload_errors_total",
} as const;

/** Labelled with nothing, or `reason` (retention | floor) for the deletions. */
export const DISK_METRICS = {
  free: "surveillance_disk_free_bytes",
  low: "surveillance_disk_low",
  deleted: "surveillance_disk_deleted_files_total",
  deletedBytes: "surveillance_disk_deleted_bytes_total",
} as const;
