/** The scheduler's metric names (Prometheus): what the selection leaves to record; written by collect's wiring. */

/** Metric names (gauges), labelled with `venue`. */
export const SELECTION_METRICS = {
  eligible: "surveillance_eligible_markets",
  pinned: "surveillance_pins",
  pinsMissing: "surveillance_pins_missing",
} as const;
