/** The collector's metric names (Prometheus), one table per writer of them; the status line, /metrics tests and benches import them. */

/** Per venue collector figures, all labelled with `venue` (and `tier`, `action` or `reason` where said). */
export const COLLECTOR_METRICS = {
  connected: "surveillance_connected",
  subscriptions: "surveillance_subscriptions",
  updates: "surveillance_book_updates_total",
  snapshots: "surveillance_snapshots_total",
  staleSnapshots: "surveillance_stale_snapshots_total",
  reconnects: "surveillance_reconnects_total",
  rejected: "surveillance_rejected_messages_total",
  gaps: "surveillance_seq_gaps_total",
  resyncs: "surveillance_resyncs_total",
  watchdog: "surveillance_watchdog_resubscribes_total",
  changes: "surveillance_subscription_changes_total",
  churnUsed: "surveillance_churn_used",
  pending: "surveillance_subscription_changes_pending",
  venueErrors: "surveillance_venue_errors_total",
  connectAttempts: "surveillance_connect_attempts_total",
  connectFailures: "surveillance_connect_failures_total",
} as const;

/** The input watcher's (universe and stats reloads while collecting), labelled with `venue` (and `input`: universe | stats). */
export const INPUT_METRICS = {
  reloads: "surveillance_input_reloads_total",
  failures: "surveillance_input_reload_failures_total",
  universe: "surveillance_universe_markets",
  scores: "surveillance_stats_scores",
} as const;

/** Help of the input counters, registered by the watcher and by the zeros declared at start. */
export const INPUT_HELP = {
  reloads: "newer universe/stats files taken while collecting",
  failures: "universe/stats files that could not be taken (previous data kept)",
} as const;
