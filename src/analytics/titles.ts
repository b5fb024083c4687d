/** Market titles for the miner's summary, from the newest universe file on or before a day (none → empty map). */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { utcDate } from "../timebucket.ts";

export function readTitles(dataDir: string, venue: string, asOf: number): Map<string, string> {
  const titles = new Map<string, string>();
  const dir = join(dataDir, "metadata", `venue=${venue}`);
  if (!existsSync(dir)) return titles;
  const day = utcDate(asOf);
  const dates = readdirSync(dir)
    .map((n) => /^date=(\d{4}-\d{2}-\d{2})$/.exec(n)?.[1])
    .filter((d): d is string => d !== undefined && existsSync(join(dir, `date=${d}`, "universe.jsonl")))
    .sort();
  const pick = dates.filter((d) => d <= day).pop() ?? dates[0];
  if (!pick) return titles;
  for (const line of readFileSync(join(dir, `date=${pick}`, "universe.jsonl"), "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const m = JSON.parse(line) as { market_id?: unknown; title?: unknown };
      if (typeof m.market_id === "string" && typeof m.title === "string") titles.set(m.market_id, m.title);
    } catch {
      /* a bad line costs one title */
    }
  }
  return titles;
}
