/** The [pairs] config section: the matcher's threshold and limits, and whether confirmed pairs are recorded together. */
import * as v from "valibot";

export const pairsEntries = {
  min_score: v.pipe(v.number(), v.minValue(0, "must be ≥ 0"), v.maxValue(1, "must be ≤ 1")),
  max_per_market: v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1, "must be ≥ 1")),
  close_tolerance_hours: v.pipe(v.number(), v.minValue(0, "must be ≥ 0")),
  record: v.boolean("must be true or false"),
};

export interface PairsSettings {
  min_score: number;
  max_per_market: number;
  close_tolerance_hours: number;
  /** `collect` pins both markets of every confirmed pair on their venues (HOT, so both at the HOT cadence). */
  record: boolean;
}

export const PAIRS_DEFAULTS: PairsSettings = {
  min_score: 0.6,
  max_per_market: 3,
  close_tolerance_hours: 24,
  record: false,
};
