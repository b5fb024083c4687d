/** Minutes each book was actually subscribed, from the collector's subscription journal (data/subscriptions/…/events.jsonl). */
import { readJournalRecords } from "../journal-records.ts";

export interface SubscriptionEvent {
  ts: number;
  venue?: string;
  market_id: string;
  /** Absent or null when the event applies to every outcome of the market. */
  outcome_id?: string | null;
  action: "subscribe" | "unsubscribe";
  reason?: string;
}

/** A run marker (journals written since they exist): `start` of a collect run, `alive` at each of its flushes. */
export interface RunMarker {
  ts: number;
  venue?: string;
  action: "start" | "alive";
}

export type JournalEvent = SubscriptionEvent | RunMarker;

const isMarker = (e: JournalEvent): e is RunMarker => e.action === "start" || e.action === "alive";

const isSubscription = (e: { market_id?: unknown; action?: unknown }): boolean =>
  typeof e.market_id === "string" && (e.action === "subscribe" || e.action === "unsubscribe");

const ALL_OUTCOMES = "*";

export function journalKey(marketId: string, outcomeId: string | null | undefined): string {
  return `${marketId}\u0000${outcomeId ?? ALL_OUTCOMES}`;
}

/** Journal events of `venue` from the day files covering [from, to), in time order; undefined when there is no journal. */
export function readJournal(dataDir: string, venue: string, from: number, to: number): JournalEvent[] | undefined {
  const all = readJournalRecords(dataDir, venue, from, to);
  if (!all) return undefined;
  // Only subscription records and run markers: the other kinds (tier, target, stall, ...) are for status --coverage.
  return all.filter((e) => isSubscription(e) || isMarker(e as JournalEvent)) as JournalEvent[];
}

/**
 * Subscribed minutes per journal key within [start, end]. A key whose first event is an unsubscribe was subscribed
 * before the journal days we read, so it counts from `start`; one still subscribed at the end counts up to `end`.
 *
 * Run markers bound that after a crash (no stop records): once the current run has written a marker, what is open
 * when the next run `start`s, or when the journal ends, was watched up to the run's last record only. A run without
 * markers (journals from before them) keeps the old meaning: open until an unsubscribe, else up to `end`.
 */
export function watchedMinutes(events: JournalEvent[], start: number, end: number): Map<string, number> {
  const since = new Map<string, number | null>();
  const ms = new Map<string, number>();
  const add = (k: string, a: number, b: number) => {
    const lo = Math.max(a, start);
    const hi = Math.min(b, end);
    if (hi > lo) ms.set(k, (ms.get(k) ?? 0) + (hi - lo));
  };
  const closeOpen = (at: number) => {
    for (const [k, open] of since) {
      if (open === null || open === undefined) continue;
      add(k, open, at);
      since.set(k, null);
    }
  };
  // The current run's last sign of life; null until it has written a marker.
  let alive: number | null = null;
  for (const e of events) {
    if (isMarker(e)) {
      if (e.action === "start") {
        // A new run: whatever the previous one left open stopped being watched when it last showed life.
        if (alive !== null) closeOpen(alive);
        alive = e.ts;
      } else alive = alive === null ? e.ts : Math.max(alive, e.ts);
      continue;
    }
    if (alive !== null) alive = Math.max(alive, e.ts);
    const k = journalKey(e.market_id, e.outcome_id);
    const open = since.get(k);
    if (e.action === "subscribe") {
      if (open === undefined || open === null) since.set(k, e.ts);
    } else {
      add(k, open === undefined ? start : (open ?? e.ts), e.ts);
      since.set(k, null);
      if (!ms.has(k)) ms.set(k, 0);
    }
  }
  closeOpen(alive ?? end);
  const minutes = new Map<string, number>();
  for (const [k, v] of ms) minutes.set(k, v / 60_000);
  for (const k of since.keys()) if (!minutes.has(k)) minutes.set(k, 0);
  return minutes;
}

/** Minutes for a book: its own key, else the market-level key; undefined when the journal never mentions it. */
export function minutesFor(minutes: Map<string, number>, marketId: string, outcomeId: string): number | undefined {
  return minutes.get(journalKey(marketId, outcomeId)) ?? minutes.get(journalKey(marketId, null));
}
