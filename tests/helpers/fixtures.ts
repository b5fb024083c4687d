/** Reads tests/fixtures/<venue>/<name>.jsonl: one documented variant per line, each with a `comment`. */
import { join } from "node:path";

export interface FixtureLine {
  comment: string;
  [k: string]: unknown;
}

export function readFixture(venue: string, name: string): FixtureLine[] {
  const path = join(import.meta.dir, "..", "fixtures", venue, `${name}.jsonl`);
  const text = require("node:fs").readFileSync(path, "utf8") as string;
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      const o = JSON.parse(l) as FixtureLine;
      if (typeof o.comment !== "string") throw new Error(`${path}:${i + 1}: fixture line without a comment`);
      return o;
    });
}

/** The frame text a venue would send for a fixture line: `raw` verbatim, else `frame` serialized. */
export const frameText = (f: FixtureLine): string => (typeof f.raw === "string" ? f.raw : JSON.stringify(f.frame));
