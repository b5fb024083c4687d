/**
 * Subscription journal: each subscribe/unsubscribe applied, one JSON line per book in subscriptions/venue=V/date=D/
 * events.jsonl, buffered and flushed on the writer's cadence; `start`/`alive` markers and the day's `carry` records
 * let the miner tell watched time from a crash (docs/collecting.md).
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { nodeFs } from "../storage/fs.ts";
import { journalPath } from "../layout.ts";
import type { MarketRef } from "../market.ts";
import type { SubAction, SubReason } from "./subscriptions.ts";

/** `carry`: still subscribed at the start of a new day file (a subscribe record the day's reader can start from). */
export type JournalReason = SubReason | "carry";

export interface JournalEntry {
  ts: number;
  venue: string;
  market_id: string;
  outcome_id: string;
  action: SubAction;
  reason: JournalReason;
}

/** A run marker: `start` when a collect run starts, `alive` at every flush of a running collector. */
export interface JournalMarker {
  ts: number;
  venue: string;
  action: "start" | "alive";
}

const DAY_MS = 86_400_000;

export class SubscriptionJournal {
  /** Buffered lines per relative file path (a day boundary can split one flush across two files). */
  private buf = new Map<string, string[]>();
  private flushing: Promise<void> = Promise.resolve();
  /** Markets subscribed as journaled so far: what a new day file starts with. */
  private readonly open = new Map<string, MarketRef>();
  /** End of the UTC day of the last record; a record at or past it opens a new day file. */
  private dayEnd = -Infinity;
  written = 0;

  constructor(
    private readonly dataDir: string,
    private readonly venue: string,
  ) {}

  record(ts: number, market: MarketRef, action: SubAction, reason: SubReason): void {
    const lines = this.linesAt(ts);
    this.push(lines, ts, market, action, reason);
    if (action === "subscribe") this.open.set(market.market_id, market);
    else this.open.delete(market.market_id);
  }

  /** A run starts: readers close what an earlier run left open (it crashed) at that run's last marker. */
  started(ts: number): void {
    this.mark(ts, "start");
  }

  /** The collector is running at `ts` (recorded on every flush tick, so a crash loses at most one interval). */
  alive(ts: number): void {
    this.mark(ts, "alive");
  }

  private mark(ts: number, action: JournalMarker["action"]): void {
    const m: JournalMarker = { ts, venue: this.venue, action };
    this.linesAt(ts).push(JSON.stringify(m));
  }

  private push(lines: string[], ts: number, market: MarketRef, action: SubAction, reason: JournalReason): void {
    for (const outcome_id of market.outcome_ids) {
      const e: JournalEntry = { ts, venue: this.venue, market_id: market.market_id, outcome_id, action, reason };
      lines.push(JSON.stringify(e));
    }
  }

  /** The buffer of ts's day file; the first record of a new day is preceded by the carry of the open set. */
  private linesAt(ts: number): string[] {
    const path = journalPath(this.venue, ts);
    let lines = this.buf.get(path);
    if (!lines) {
      lines = [];
      this.buf.set(path, lines);
    }
    if (ts >= this.dayEnd) {
      const dayStart = Math.floor(ts / DAY_MS) * DAY_MS;
      // Not on the run's first record: a run's own first subscribes are in its first day file anyway.
      if (this.dayEnd !== -Infinity)
        for (const m of this.open.values()) this.push(lines, dayStart, m, "subscribe", "carry");
      this.dayEnd = dayStart + DAY_MS;
    }
    return lines;
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

/** Reads a journal file back (tests): its subscription records, or with `markers` every record. */
export async function readJournal(file: string): Promise<JournalEntry[]>;
export async function readJournal(file: string, opts: { markers: true }): Promise<(JournalEntry | JournalMarker)[]>;
export async function readJournal(file: string, opts?: { markers: true }): Promise<(JournalEntry | JournalMarker)[]> {
  const f = Bun.file(file);
  if (!(await f.exists())) return [];
  const all = (await f.text())
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as JournalEntry | JournalMarker);
  return opts?.markers ? all : all.filter((e) => e.action === "subscribe" || e.action === "unsubscribe");
}
