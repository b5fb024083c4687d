/**
 * Subscription journal: every subscribe/unsubscribe the collector applies, one JSON line per (market, outcome),
 * in data/subscriptions/venue=V/date=YYYY-MM-DD/events.jsonl, so the miner knows how long each book was watched.
 * Appends are buffered and flushed on the writer's cadence (and on stop).
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { nodeFs } from "../storage/fs.ts";
import { utcDate } from "../timebucket.ts";
import type { MarketRef } from "../venue/types.ts";
import type { SubAction, SubReason } from "./subscriptions.ts";

export const SUBSCRIPTIONS_DIR = "subscriptions";

export interface JournalEntry {
  ts: number;
  venue: string;
  market_id: string;
  outcome_id: string;
  action: SubAction;
  reason: SubReason;
}

/** `subscriptions/venue=V/date=YYYY-MM-DD/events.jsonl` relative to the data dir. */
export function journalPath(venue: string, ts: number): string {
  return `${SUBSCRIPTIONS_DIR}/venue=${venue}/date=${utcDate(ts)}/events.jsonl`;
}

export class SubscriptionJournal {
  /** Buffered lines per relative file path (a day boundary can split one flush across two files). */
  private buf = new Map<string, string[]>();
  private flushing: Promise<void> = Promise.resolve();
  written = 0;

  constructor(
    private readonly dataDir: string,
    private readonly venue: string,
  ) {}

  record(ts: number, market: MarketRef, action: SubAction, reason: SubReason): void {
    const path = journalPath(this.venue, ts);
    let lines = this.buf.get(path);
    if (!lines) {
      lines = [];
      this.buf.set(path, lines);
    }
    for (const outcome_id of market.outcome_ids) {
      const e: JournalEntry = { ts, venue: this.venue, market_id: market.market_id, outcome_id, action, reason };
      lines.push(JSON.stringify(e));
    }
  }

  get buffered(): number {
    let n = 0;
    for (const l of this.buf.values()) n += l.length;
    return n;
  }

  /** Appends what is buffered; flushes are serialized so lines keep their order. A failed append keeps its lines. */
  flush(): Promise<void> {
    this.flushing = this.flushing.catch(() => {}).then(() => this.flushNow());
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    if (this.buf.size === 0) return;
    const pending = [...this.buf];
    this.buf = new Map();
    for (let i = 0; i < pending.length; i++) {
      const [rel, lines] = pending[i];
      const file = join(this.dataDir, rel);
      try {
        await mkdir(dirname(file), { recursive: true });
        // appendDurable starts on a fresh line after a torn last line (a crash mid-append), so no record is glued to it.
        await nodeFs.appendDurable(file, lines.join("\n") + "\n");
        this.written += lines.length;
      } catch (e) {
        // Keep what was not written, ahead of anything recorded meanwhile; the next flush retries.
        const back = new Map(pending.slice(i));
        for (const [r, later] of this.buf) back.set(r, [...(back.get(r) ?? []), ...later]);
        this.buf = back;
        throw e;
      }
    }
  }
}

/** Reads a journal file back (tests, miner). */
export async function readJournal(file: string): Promise<JournalEntry[]> {
  const f = Bun.file(file);
  if (!(await f.exists())) return [];
  return (await f.text())
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as JournalEntry);
}
