/** The mock venue's config checks, run by src/config.ts at load (a bad value is a config error, exit 2). */
import type { MockOptions, VenueConfig } from "../../config.ts";

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
