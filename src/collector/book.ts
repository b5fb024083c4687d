/**
 * Order books as the collector holds them: per (market, outcome) a BookState whose sides are sorted
 * parallel typed arrays (bids descending, asks ascending), updated in place by binary search.
 * No object per level, so applying a venue message allocates nothing.
 */
import type { SideView } from "../schema.ts";
import type { BookSnapshotEvent, LevelEvent } from "../venue/types.ts";

const INITIAL_CAPACITY = 16;

/** One side of a book; `px`/`sz` are valid up to `len`, and may be replaced when capacity grows. */
export class BookSide implements SideView {
  px: Float64Array;
  sz: Float64Array;
  len = 0;

  constructor(
    /** Bids: true (best = highest price first). */
    readonly desc: boolean,
    capacity = INITIAL_CAPACITY,
  ) {
    this.px = new Float64Array(capacity);
    this.sz = new Float64Array(capacity);
  }

  /** Index of `price` when present, else -(insertion index) - 1. */
  find(price: number): number {
    const px = this.px;
    let lo = 0;
    let hi = this.len - 1;
    if (this.desc) {
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const p = px[mid];
        if (p === price) return mid;
        if (p > price) lo = mid + 1;
        else hi = mid - 1;
      }
    } else {
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const p = px[mid];
        if (p === price) return mid;
        if (p < price) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    return -lo - 1;
  }

  /** Sets the total size at `price`; size ≤ 0 removes the level. */
  set(price: number, size: number): void {
    const i = this.find(price);
    if (i >= 0) {
      if (size > 0) this.sz[i] = size;
      else this.removeAt(i);
    } else if (size > 0) {
      this.insertAt(-i - 1, price, size);
    }
  }

  /** Adds a signed delta to the size at `price`; a result ≤ 0 removes the level. */
  add(price: number, delta: number): void {
    const i = this.find(price);
    if (i >= 0) {
      const s = this.sz[i] + delta;
      if (s > 0) this.sz[i] = s;
      else this.removeAt(i);
    } else if (delta > 0) {
      this.insertAt(-i - 1, price, delta);
    }
  }

  clear(): void {
    this.len = 0;
  }

  private insertAt(i: number, price: number, size: number): void {
    if (this.len === this.px.length) this.grow();
    const px = this.px;
    const sz = this.sz;
    // A plain loop beats copyWithin's native call for the few dozen levels a book side holds.
    for (let j = this.len; j > i; j--) {
      px[j] = px[j - 1];
      sz[j] = sz[j - 1];
    }
    px[i] = price;
    sz[i] = size;
    this.len++;
  }

  private removeAt(i: number): void {
    const px = this.px;
    const sz = this.sz;
    const n = --this.len;
    for (let j = i; j < n; j++) {
      px[j] = px[j + 1];
      sz[j] = sz[j + 1];
    }
  }

  private grow(): void {
    const cap = this.px.length * 2;
    const px = new Float64Array(cap);
    const sz = new Float64Array(cap);
    px.set(this.px.subarray(0, this.len));
    sz.set(this.sz.subarray(0, this.len));
    this.px = px;
    this.sz = sz;
  }
}

/** Why the collector knows a book is out of date; cleared by the event that fixes it. */
export type StaleKind = "gap" | "adapter" | "disconnected" | "silent" | "awaiting";

export class BookState {
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);
  /**
   * The seq we emit: strictly increasing per applied message within a collect run (docs/storage-format.md: monotonic per
   * book). It is the venue's seq plus `seqOffset` when the venue gives one, else the previous value + 1.
   */
  seq = 0;
  /** Added to venue seqs; rebased when a venue's seq restarts (Kalshi's new subscription starts at 1). */
  seqOffset = 0;
  /** Last venue seq applied (null: none yet, or the last message had none); gaps and duplicates are judged on it. */
  venueSeq: number | null = null;
  /** Messages applied to this book since it was (re)created. */
  messages = 0;
  /** Receive time of the last message that reached this book (applied or not), for the silence watchdog. */
  lastMessageTs: number;
  /** Receive time of the last applied change. */
  lastUpdateTs: number;
  sourceTs: number | null = null;
  /** A full book has been applied since the last reset (the base that deltas build on). */
  hasBook = false;
  staleKind: StaleKind | null;
  staleReason: string | null;
  /** A resync was asked for and has not landed yet (so we ask once per gap, not per delta). */
  resyncPending = false;
  /** Cache of the snapshotter's "no update since" text for `quietSince` (= lastUpdateTs when built). */
  quietSince = -1;
  quietReason: string | null = null;
  /** Watchdog resubscribes answered only by a full book (a quiet market, not a dead feed): each doubles its patience. */
  quietStrikes = 0;

  constructor(
    readonly marketId: string,
    readonly outcomeId: string,
    createdTs: number,
  ) {
    this.lastMessageTs = createdTs;
    this.lastUpdateTs = createdTs;
    this.staleKind = "awaiting";
    this.staleReason = `no book received since subscribing at ${new Date(createdTs).toISOString()}`;
  }

  markStale(kind: StaleKind, reason: string): void {
    this.staleKind = kind;
    this.staleReason = reason;
  }

  clearStale(): void {
    this.staleKind = null;
    this.staleReason = null;
  }
}

/** Outcome of applying one event, for counting by the caller. */
export const Applied = {
  Ok: 0,
  /** Seq gap: applied, book marked stale, resync wanted for this book (first gap since the last full book). */
  Gap: 1,
  /** Another gap while a resync is already pending: applied, no new resync. */
  GapPending: 2,
  /** seq ≤ last: dropped. */
  Duplicate: 3,
  /** NaN / infinite / negative price or size: dropped. */
  Invalid: 4,
  /** Not a book we hold (not subscribed): dropped. */
  Unknown: 5,
  /** A full book older (venue timestamp) than what the book already holds: dropped. */
  Outdated: 6,
} as const;
export type Applied = (typeof Applied)[keyof typeof Applied];

function validPrice(p: number): boolean {
  return p >= 0 && p < Infinity; // false for NaN too
}

function validSize(s: number): boolean {
  return s >= 0 && s < Infinity;
}

/** The books of one venue, keyed by market then outcome (no key string built per message). */
export class BookStore {
  private readonly markets = new Map<string, Map<string, BookState>>();
  private count = 0;
  /** Emitted seqs of books no longer held, so a resubscribed book keeps a monotonic seq. */
  private readonly retired = new Map<string, number>();

  get size(): number {
    return this.count;
  }

  get(marketId: string, outcomeId: string): BookState | undefined {
    return this.markets.get(marketId)?.get(outcomeId);
  }

  /** The books of one market, in outcome order of creation. */
  market(marketId: string): Map<string, BookState> | undefined {
    return this.markets.get(marketId);
  }

  /** Creates the market's books (fresh, awaiting their first full book); existing ones are reset. */
  addMarket(marketId: string, outcomeIds: readonly string[], now: number): BookState[] {
    let m = this.markets.get(marketId);
    if (!m) {
      m = new Map();
      this.markets.set(marketId, m);
    }
    const out: BookState[] = [];
    for (const o of outcomeIds) {
      if (!m.has(o)) this.count++;
      const b = new BookState(marketId, o, now);
      const k = `${marketId}\u0000${o}`;
      const old = m.get(o)?.seq ?? this.retired.get(k);
      if (old !== undefined) {
        b.seq = old;
        this.retired.delete(k);
      }
      m.set(o, b);
      out.push(b);
    }
    return out;
  }

  removeMarket(marketId: string): void {
    const m = this.markets.get(marketId);
    if (!m) return;
    for (const b of m.values()) this.retired.set(`${marketId}\u0000${b.outcomeId}`, b.seq);
    this.count -= m.size;
    this.markets.delete(marketId);
  }

  *all(): IterableIterator<BookState> {
    for (const m of this.markets.values()) yield* m.values();
  }

  /** Replaces the book. An invalid level rejects the whole message (a half-applied book would be wrong data). */
  applyBook(ev: BookSnapshotEvent, tsRecv: number): Applied {
    const b = this.get(ev.marketId, ev.outcomeId);
    if (!b) return Applied.Unknown;
    b.lastMessageTs = tsRecv;
    if (!validSide(ev.bidPx, ev.bidSz) || !validSide(ev.askPx, ev.askSz)) return Applied.Invalid;
    // A REST resync answered after newer socket data arrived would roll the book back while calling it ok.
    if (ev.sourceTs !== null && b.sourceTs !== null && ev.sourceTs < b.sourceTs) return Applied.Outdated;
    b.bids.clear();
    b.asks.clear();
    for (let i = 0; i < ev.bidPx.length; i++) b.bids.set(ev.bidPx[i], ev.bidSz[i]);
    for (let i = 0; i < ev.askPx.length; i++) b.asks.set(ev.askPx[i], ev.askSz[i]);
    b.messages++;
    advanceSeq(b, ev.seq);
    b.hasBook = true;
    b.resyncPending = false;
    b.lastUpdateTs = tsRecv;
    b.sourceTs = ev.sourceTs;
    // A full book fixes every kind of staleness (it cannot arrive over a dead connection).
    if (b.staleKind !== null) b.clearStale();
    return Applied.Ok;
  }

  /** Applies one level change; with per-book seqs, detects duplicates and gaps. */
  applyLevel(ev: LevelEvent, tsRecv: number): Applied {
    const b = this.get(ev.marketId, ev.outcomeId);
    if (!b) return Applied.Unknown;
    b.lastMessageTs = tsRecv;
    const price = ev.price;
    const size = ev.size;
    if (!validPrice(price) || !(size > -Infinity && size < Infinity) || (ev.mode === "set" && size < 0))
      return Applied.Invalid;
    let result: Applied = Applied.Ok;
    const seq = ev.seq;
    const last = b.venueSeq;
    if (seq !== null && ev.bookSeq && b.hasBook && last !== null) {
      if (seq <= last) return Applied.Duplicate;
      if (seq > last + 1) {
        // Apply anyway (the newest data we have) but say the book is not trustworthy until a full book lands.
        if (b.resyncPending) result = Applied.GapPending;
        else {
          b.markStale("gap", `seq gap: expected ${last + 1} got ${seq}`);
          b.resyncPending = true;
          result = Applied.Gap;
        }
      }
    }
    const side = ev.side === "bid" ? b.bids : b.asks;
    if (ev.mode === "set") side.set(price, size);
    else side.add(price, size);
    b.messages++;
    advanceSeq(b, seq);
    b.lastUpdateTs = tsRecv;
    if (ev.sourceTs !== null) b.sourceTs = ev.sourceTs;
    b.quietStrikes = 0;
    if (b.staleKind === "silent") b.clearStale();
    return result;
  }
}

/**
 * Moves the emitted seq past `venueSeq` (+ offset), or by one when the venue gives none. A venue seq that
 * would not move it forward (a new subscription restarting at 1, a resync after a null-seq REST book)
 * rebases the offset so the emitted seq still increases.
 */
function advanceSeq(b: BookState, venueSeq: number | null): void {
  b.venueSeq = venueSeq;
  if (venueSeq === null) {
    b.seq++;
    return;
  }
  let s = venueSeq + b.seqOffset;
  if (s <= b.seq) {
    b.seqOffset = b.seq + 1 - venueSeq;
    s = b.seq + 1;
  }
  b.seq = s;
}

function validSide(px: ArrayLike<number>, sz: ArrayLike<number>): boolean {
  if (px.length !== sz.length) return false;
  for (let i = 0; i < px.length; i++) if (!validPrice(px[i]) || !validSize(sz[i])) return false;
  return true;
}
