/**
 * The mock venue's [venues.<name>] entries (kind = "mock"): checks, type and defaults, and the twin_of check run at
 * load; src/config.ts composes them (a bad value is a config error, exit 2).
 */
import * as v from "valibot";
import { nonNeg, nonNegInt, posInt, rate } from "../../config-values.ts";
import type { VenueConfig } from "../../config.ts";

export const mockEntries = {
  universe_size: posInt(1_000_000),
  seed: nonNegInt(),
  updates_per_sec: nonNeg(),
  clock_speed: nonNeg(),
  closed_share: rate(),
  drop_rate_per_hour: nonNeg(),
  gap_rate: rate(),
  malformed_rate: rate(),
  moves_per_hour: nonNeg(),
  twin_of: v.pipe(
    v.string(),
    v.regex(/^$|^[a-z0-9_]+$/, 'must be "" (none) or the name of another mock venue section'),
  ),
  twin_share: rate(),
};
export type MockOptions = { [K in Exclude<keyof typeof mockEntries, "twin_of">]: number } & {
  twin_of: string;
  /** Resolved from twin_of at load: the other mock's name and options (its universe and books are twinned). */
  twin_source?: { venue: string; options: MockOptions };
};
export const MOCK_DEFAULTS: MockOptions = {
  universe_size: 400,
  seed: 42,
  updates_per_sec: 2,
  clock_speed: 0,
  closed_share: 0.05,
  drop_rate_per_hour: 0,
  gap_rate: 0,
  malformed_rate: 0,
  moves_per_hour: 0,
  twin_of: "",
  twin_share: 0.3,
};

/** Checks every `twin_of` and attaches the source's options (config load: a bad name is a config error). */
export function resolveMockTwins(
  venues: VenueConfig[],
  refuse: (key: string, value: unknown, reason: string) => never,
): void {
  for (const v of venues) {
    if (v.kind !== "mock") continue;
    const o = v.options as MockOptions;
    if (o.twin_of === "") continue;
    const key = `venues.${v.name}.twin_of`;
    const src = venues.find((x) => x.name === o.twin_of);
    if (!src) refuse(key, o.twin_of, `no venue section [venues.${o.twin_of}]`);
    if (src.kind !== "mock") refuse(key, o.twin_of, `must name a mock venue (${o.twin_of} is ${src.kind})`);
    if (src === v) refuse(key, o.twin_of, "a mock cannot be its own twin");
    const so = src.options as MockOptions;
    if (so.twin_of !== "") refuse(key, o.twin_of, `${o.twin_of} is itself a twin (of ${so.twin_of}); name the source`);
    o.twin_source = { venue: src.name, options: so };
  }
}
