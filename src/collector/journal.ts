/**
 * Subscription journal: each subscribe/unsubscribe applied, one JSON line per book in subscriptions/venue=V/date=D/
 * events.jsonl, buffered and flushed on the writer's cadence; `start`/`alive` markers and the day's `carry` records
 * let the miner tell watched time from a crash (docs/collecting.md).
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { nodeFs } from "../storage/fs.ts";
import { journalPath } from "../layout.ts";
import type { BookRecord, JournalTier, VenueRecord } from "../journal-records.ts";
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
  /** On subscribes: the tier (so the cadence is known). */
  tier?: JournalTier;
  /** On a day's carry: when the market's next snapshot is due. */
  due?: number;
}

/** A run marker: `start` when a collect run starts, `alive` at every flush of a running collector. */
export interface JournalMarker {
  ts: number;
  venue: string;
  action: "start" | "alive";
  /** On `start`: the run's snapshot cadences and journal flush interval (ms). */
  hot_ms?: number;
  warm_ms?: number;
  flush_ms?: number;
  /** On `alive`: every row with an earlier ts_recv is durable (the writer's last complete flush). */
  durable?: number;
}

/** What `start` records of the run. */
export interface RunCadence {
  hot_ms: number;
  warm_ms: number;
  flush_ms: number;
}

const DAY_MS = 86_400_000;

export class SubscriptionJournal {
  /** Buffered lines per relative file path (a day boundary can split one flush across two files). */
  private buf = new Map<string, string[]>();
  private flushing: Promise<void> = Promise.resolve();
  /** Markets subscribed as journaled so far, with their tier: what a new day file starts with. */
  private readonly open = new Map<string, { ref: MarketRef; tier?: JournalTier }>();
  /** Markets in the target set waiting for a subscribe (journaled `target`), since when. */
  private readonly waiting = new Map<string, { ref: MarketRef; tier: JournalTier; since: number }>();
  /** End of the UTC day of the last record; a record at or past it opens a new day file. */
  private dayEnd = -Infinity;
  written = 0;

  /** `dueOf`: a subscribed market's first snapshot due at or after a time (the snapshotter's), for the day carry. */
  constructor(
    private readonly dataDir: string,
    private readonly venue: string,
    private readonly dueOf: (marketId: string, from: number) => number | undefined = () => undefined,
  ) {}

  /** A subscribe or unsubscribe applied; a subscribe without `tier` keeps the market's journaled tier (a resync). */
  record(ts: number, market: MarketRef, action: SubAction, reason: SubReason, tier?: JournalTier): void {
    const lines = this.linesAt(ts);
    const id = market.market_id;
    if (action === "subscribe") {
      tier ??= this.open.get(id)?.tier;
      this.open.set(id, { ref: market, tier });
      this.waiting.delete(id);
    } else this.open.delete(id);
    this.push(lines, ts, market, { action, reason, ...(action === "subscribe" && tier ? { tier } : {}) });
  }

  /** A subscribed market's tier changed. */
  tier(ts: number, market: MarketRef, tier: JournalTier): void {
    const lines = this.linesAt(ts); // first: a new day's carry is the state before this record
    const o = this.open.get(market.market_id);
    if (o) o.tier = tier;
    this.push(lines, ts, market, { action: "tier", tier });
  }

  /** A market entered the target set and waits for churn budget (closed by its subscribe or `untarget`). */
  target(ts: number, market: MarketRef, tier: JournalTier): void {
    const lines = this.linesAt(ts);
    this.waiting.set(market.market_id, { ref: market, tier, since: ts });
    this.push(lines, ts, market, { action: "target", tier });
  }

  /** A waiting market left the target set before it was subscribed (or the run stops). */
  untarget(ts: number, marketId: string, reason: string): void {
    const w = this.waiting.get(marketId);
    if (!w) return;
    const lines = this.linesAt(ts);
    this.waiting.delete(marketId);
    this.push(lines, ts, w.ref, { action: "untarget", reason });
  }

  isWaiting(marketId: string): boolean {
    return this.waiting.has(marketId);
  }

  waitingIds(): string[] {
    return [...this.waiting.keys()];
  }

  /** A run starts: readers close what an earlier run left open (it crashed) at that run's last marker. */
  started(ts: number, cadence?: RunCadence): void {
    this.mark({ ts, venue: this.venue, action: "start", ...cadence });
  }

  /** The collector is running at `ts` (recorded on every flush tick, so a crash loses at most one interval). */
  alive(ts: number, durable?: number): void {
    this.mark({ ts, venue: this.venue, action: "alive", ...(durable === undefined ? {} : { durable }) });
  }

  /** A venue-level record: a connection down/up, a snapshotter stall, writer drops. */
  note(r: Omit<VenueRecord, "venue">): void {
    this.mark({ ...r, venue: this.venue });
  }

  private mark(m: JournalMarker | VenueRecord): void {
    this.linesAt(m.ts).push(JSON.stringify(m));
  }

  private push(
    lines: string[],
    ts: number,
    market: MarketRef,
    rest:
      | Pick<JournalEntry, "action" | "reason" | "tier" | "due">
      | Pick<BookRecord, "action" | "tier" | "since" | "reason">,
  ): void {
    for (const outcome_id of market.outcome_ids)
      lines.push(JSON.stringify({ ts, venue: this.venue, market_id: market.market_id, outcome_id, ...rest }));
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
      if (this.dayEnd !== -Infinity) {
        for (const [id, o] of this.open) {
          const due = this.dueOf(id, dayStart);
          this.push(lines, dayStart, o.ref, {
            action: "subscribe",
            reason: "carry",
            ...(o.tier ? { tier: o.tier } : {}),
            ...(due === undefined ? {} : { due }),
          });
        }
        for (const w of this.waiting.values())
          this.push(lines, dayStart, w.ref, { action: "target", tier: w.tier, since: w.since, reason: "carry" });
      }
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
