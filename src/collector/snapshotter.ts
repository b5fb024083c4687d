/**
 * Snapshots every subscribed market's books at its tier's interval. One clock timer drives a min-heap of
 * next-due times (never a timer per market); a quiet book is snapshotted all the same, as "stale" past
 * stale_after so the data says it was quiet.
 */
import type { Clock, Timer } from "../clock.ts";
import type { SideView, SnapshotSink } from "../schema.ts";
import type { BookState } from "./book.ts";
import type { Tier } from "./subscriptions.ts";
import { MinHeap } from "../min-heap.ts";

export interface SnapshotterOptions {
  venue: string;
  clock: Clock;
  sink: SnapshotSink;
  topK: number;
  hotIntervalMs: number;
  warmIntervalMs: number;
  /** A book with no applied change for this long is snapshotted as stale. */
  staleAfterMs: number;
  /**
   * Called when snapshots were skipped: at `now` the snapshotter caught up on everything due since `from` (a forward
   * clock step or a stalled process), one snapshot per market and the rest skipped (journaled for status --coverage).
   */
  onStall?: (from: number, now: number) => void;
}

interface Slot {
  marketId: string;
  books: BookState[];
  tier: Tier;
  dueAt: number;
  /** Tie-break so equal due times fire in insertion order (deterministic output). */
  id: number;
  removed: boolean;
}

export class Snapshotter {
  private readonly heap = new MinHeap<Slot>(before);
  private readonly slots = new Map<string, Slot>();
  private nextId = 0;
  private timer: Timer | null = null;
  private timerAt = Infinity;
  private running = false;
  /** Rows handed to the sink since start. */
  rows = 0;
  staleRows = 0;

  constructor(private readonly o: SnapshotterOptions) {}

  interval(tier: Tier): number {
    return tier === "hot" ? this.o.hotIntervalMs : this.o.warmIntervalMs;
  }

  get size(): number {
    return this.slots.size;
  }

  tierOf(marketId: string): Tier | undefined {
    return this.slots.get(marketId)?.tier;
  }

  /**
   * When the market's next snapshot is due (undefined when it is not snapshotted); with `from`, the first one at or
   * after `from` on its schedule (the slot's interval back from the next), for a day's carry written after midnight.
   */
  dueOf(marketId: string, from?: number): number | undefined {
    const s = this.slots.get(marketId);
    if (!s || from === undefined || s.dueAt <= from) return s?.dueAt;
    const step = this.interval(s.tier);
    return s.dueAt - Math.floor((s.dueAt - from) / step) * step;
  }

  /** Starts snapshotting a market: first snapshot one interval after `now`. Replaces an existing slot. */
  add(marketId: string, books: BookState[], tier: Tier, now: number): void {
    this.remove(marketId);
    const slot: Slot = { marketId, books, tier, dueAt: now + this.interval(tier), id: this.nextId++, removed: false };
    this.slots.set(marketId, slot);
    this.heap.push(slot);
    this.arm();
  }

  /**
   * Stops snapshotting a market. Given `now`, a snapshot due then (or overdue) is taken first, so a market watched
   * over [s, e] has floor((e - s) / interval) rows whichever same-time timer the clock fires first.
   */
  remove(marketId: string, now?: number): void {
    const s = this.slots.get(marketId);
    if (!s) return;
    // (dueAt is never changed in place: the slot may sit anywhere in the heap.)
    if (now !== undefined && s.dueAt <= now && this.running) {
      this.snapshotMarket(s, now);
      // Behind by more than an interval (a clock step, a stalled process): the stall is reported from the earliest due
      // of all markets, not this one's, or the others' earlier skipped snapshots would read as taken (coverage's
      // unknown after a rotation ran first at a step's instant). Only this market is snapshotted here: `now` is its
      // caller's, and the others are caught up by their own timer.
      if (s.dueAt + this.interval(s.tier) <= now) this.o.onStall?.(Math.min(s.dueAt, this.earliestDue()), now);
    }
    s.removed = true; // dropped lazily when it reaches the top of the heap
    this.slots.delete(marketId);
  }

  /**
   * A new tier takes effect at once: the next snapshot is one new interval after the last one (or now, if that is
   * past). A snapshot due now is taken first (under the old tier), so the result does not depend on timer order.
   */
  setTier(marketId: string, tier: Tier): void {
    let s = this.slots.get(marketId);
    if (!s || s.tier === tier) return;
    if (this.running && s.dueAt <= this.o.clock.now()) {
      this.runDue(this.o.clock.now());
      s = this.slots.get(marketId)!;
    }
    const last = s.dueAt - this.interval(s.tier);
    s.removed = true;
    const moved: Slot = {
      ...s,
      tier,
      dueAt: Math.max(this.o.clock.now(), last + this.interval(tier)),
      id: this.nextId++,
      removed: false,
    };
    this.slots.set(marketId, moved);
    this.heap.push(moved);
    this.arm();
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = Infinity;
  }

  /** The earliest due of a live slot (removed ones at the top of the heap are dropped on the way). */
  private earliestDue(): number {
    let top = this.heap.peek();
    while (top?.removed) {
      this.heap.pop();
      top = this.heap.peek();
    }
    return top?.dueAt ?? Number.POSITIVE_INFINITY;
  }

  /** Snapshots every slot due at or before `now`, then re-arms the timer. Public so a driver can call it directly. */
  runDue(now: number): void {
    const h = this.heap;
    let from = Infinity;
    let skipped = false;
    for (let top = h.peek(); top !== undefined && (top.removed || top.dueAt <= now); top = h.peek()) {
      const s = h.pop()!;
      if (s.removed) continue;
      if (from === Infinity) from = s.dueAt;
      this.snapshotMarket(s, now);
      const step = this.interval(s.tier);
      s.dueAt += step;
      // Behind by more than an interval (a stalled real clock): skip the missed ones, don't burst.
      if (s.dueAt <= now) {
        s.dueAt = now + step;
        skipped = true;
      }
      h.push(s);
    }
    if (skipped) this.o.onStall?.(from, now);
  }

  private snapshotMarket(s: Slot, now: number): void {
    const { sink, venue, topK, staleAfterMs } = this.o;
    for (let i = 0; i < s.books.length; i++) {
      const b = s.books[i];
      let staleReason = b.staleReason;
      if (staleReason === null && now - b.lastUpdateTs >= staleAfterMs) staleReason = quietReason(b);
      if (staleReason !== null) this.staleRows++;
      sink.append({
        tsRecv: now,
        venue,
        marketId: b.marketId,
        outcomeId: b.outcomeId,
        seq: b.seq,
        bids: topView(b.bids, topK),
        asks: topView(b.asks, topK),
        staleReason,
        sourceTs: b.sourceTs,
      });
      this.rows++;
    }
  }

  private arm(): void {
    if (!this.running) return;
    while (this.heap.peek()?.removed) this.heap.pop();
    this.rebaseAfterStepBack();
    const at = this.heap.peek()?.dueAt ?? Infinity;
    if (at === this.timerAt) return;
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = at;
    if (at === Infinity) return;
    const clock = this.o.clock;
    this.timer = clock.setTimer(at - clock.now(), () => {
      this.timer = null;
      this.timerAt = Infinity;
      if (!this.running) return;
      this.runDue(clock.now());
      this.arm();
    });
  }

  /**
   * The wall clock stepped back (NTP, VM resume): due times now lie further ahead than any interval, and waiting for
   * them would leave every market unsnapshotted for as long as the step. Pull each back to at most one interval away.
   */
  private rebaseAfterStepBack(): void {
    const top = this.heap.peek();
    if (top === undefined) return;
    const now = this.o.clock.now();
    if (top.dueAt - now <= Math.max(this.o.hotIntervalMs, this.o.warmIntervalMs)) return;
    const live = this.heap.drain().filter((s) => !s.removed);
    for (const s of live) s.dueAt = Math.min(s.dueAt, now + this.interval(s.tier));
    for (const s of live) this.heap.push(s);
  }
}

/** "no update since <ISO>", built once per quiet spell rather than once per row. */
function quietReason(b: BookState): string {
  if (b.quietSince !== b.lastUpdateTs || b.quietReason === null) {
    b.quietSince = b.lastUpdateTs;
    b.quietReason = `no update since ${new Date(b.lastUpdateTs).toISOString()}`;
  }
  return b.quietReason;
}

function before(a: Slot, b: Slot): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.id < b.id);
}

/** The side itself when it fits in top_k (no copy, no allocation); else a view of its first top_k levels. */
function topView(side: SideView, topK: number): SideView {
  return side.len <= topK ? side : { px: side.px, sz: side.sz, len: topK };
}
