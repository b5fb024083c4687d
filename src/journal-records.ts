/**
 * The subscription journal's line format (written by src/collector/journal.ts) and its raw reader: every record of
 * a venue's day files over a time range. The miner keeps the subscription records; `status --coverage` reads all.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { JOURNAL_FILE, journalVenueDir } from "./layout.ts";
import { utcDate } from "./timebucket.ts";

export type JournalTier = "hot" | "warm";

/**
 * Per-book records beside subscribe/unsubscribe (one line per outcome): `tier`, the market's tier changed (its
 * cadence with it); `target`, it entered the target set and waits for churn budget; `untarget`, it left the target
 * set before it was subscribed. A subscribe carries the tier; a day's `carry` subscribe the next snapshot's due time.
 */
export interface BookRecord {
  ts: number;
  venue: string;
  market_id: string;
  outcome_id: string;
  action: "tier" | "target" | "untarget";
  tier?: JournalTier;
  /** `target` records of a day's carry: when the market started waiting. */
  since?: number;
  reason?: string;
}

/**
 * Venue-level records: `down`/`up`, a connection lost and back; `stall`, the snapshotter caught up at `ts` on every
 * snapshot due since `from` (a clock step or a stalled process: one snapshot each, the rest skipped); `dropped`,
 * rows the writer dropped (buffer full), per hour (`hour`: its start, epoch ms), since the last marker.
 */
export interface VenueRecord {
  ts: number;
  venue: string;
  action: "down" | "up" | "stall" | "dropped";
  conn?: number;
  from?: number;
  hour?: number;
  rows?: number;
}

/** Every record of `venue`'s day files covering [from, to), sorted by ts (stable); undefined when there is no journal. */
export function readJournalRecords(
  dataDir: string,
  venue: string,
  from: number,
  to: number,
): ({ ts: number; action: string } & Record<string, unknown>)[] | undefined {
  const dir = journalVenueDir(dataDir, venue);
  if (!existsSync(dir)) return undefined;
  const first = utcDate(from);
  const last = utcDate(to - 1);
  const out: ({ ts: number; action: string } & Record<string, unknown>)[] = [];
  let found = false;
  for (const name of readdirSync(dir).sort()) {
    const m = /^date=(\d{4}-\d{2}-\d{2})$/.exec(name);
    if (!m || m[1] < first || m[1] > last) continue;
    const file = join(dir, name, JOURNAL_FILE);
    if (!existsSync(file)) continue;
    found = true;
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as { ts?: unknown; action?: unknown };
        // A torn last line (collector killed mid-write) is skipped, not fatal.
        if (typeof e.ts === "number" && typeof e.action === "string") out.push(e as (typeof out)[number]);
      } catch {
        /* partial line */
      }
    }
  }
  if (!found) return undefined;
  return out.sort((a, b) => a.ts - b.ts);
}
