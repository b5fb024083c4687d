/** Seeded synthetic snapshots with realistic, varied books (tests and benchmarks). */
import type { SideView, SnapshotInput } from "../../src/schema.ts";

/** One side of a hand-made snapshot from [price, size] levels, best first. */
export function sideOf(levels: number[][]): SideView {
  return {
    px: Float64Array.from(levels.map((l) => l[0])),
    sz: Float64Array.from(levels.map((l) => l[1])),
    len: levels.length,
  };
}

/** mulberry32: small deterministic PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BookGenOptions {
  seed?: number;
  venue?: string;
  markets?: number;
  /** Max levels generated per side (the writer caps at its top_k). */
  maxLevels?: number;
  start?: number;
  /** ms between consecutive snapshots. */
  stepMs?: number;
}

/** One (market, outcome) book the generator keeps between snapshots: consecutive snapshots differ by a few levels, as real ones do. */
interface GenBook {
  depth: number;
  bestBid: number;
  bidSz: Float64Array;
  askSz: Float64Array;
  seq: number;
}

/**
 * Yields SnapshotInputs into one reused object and reused typed arrays (like the collector does), so a
 * consumer that keeps them must copy. Books are realistic and varied: each (market, outcome) keeps its book,
 * ~20 levels a side typical (1..maxLevels), cent ticks, sizes in cents of a contract; between two snapshots of
 * a book a few sizes change and now and then the touch moves. A few empty/one-sided/stale snapshots.
 */
export class BookGen {
  readonly input: SnapshotInput;
  private r: () => number;
  private ids: string[];
  private books: GenBook[];
  private t: number;
  private readonly step: number;
  private readonly maxLevels: number;

  constructor(o: BookGenOptions = {}) {
    this.r = rng(o.seed ?? 1);
    const r = this.r;
    const markets = o.markets ?? 200;
    this.maxLevels = o.maxLevels ?? 60;
    this.ids = Array.from(
      { length: markets },
      (_, k) => `0x${((k * 2654435761) >>> 0).toString(16).padStart(8, "0")}${"ab".repeat(28)}`,
    );
    const size = () => Math.round(r() * r() * 500_000 + 1) / 100;
    this.books = Array.from({ length: markets * 2 }, () => {
      const depth = Math.max(1, Math.min(this.maxLevels, Math.round(20 + (r() - 0.5) * 24 + (r() < 0.1 ? 30 : 0))));
      return {
        depth,
        bestBid: 1 + Math.floor(r() * 97),
        bidSz: Float64Array.from({ length: this.maxLevels }, size),
        askSz: Float64Array.from({ length: this.maxLevels }, size),
        seq: 0,
      };
    });
    this.t = o.start ?? Date.UTC(2026, 0, 1, 0, 0);
    this.step = o.stepMs ?? 1;
    const side = () => ({ px: new Float64Array(this.maxLevels), sz: new Float64Array(this.maxLevels), len: 0 });
    this.input = {
      tsRecv: 0,
      venue: o.venue ?? "mock",
      marketId: "",
      outcomeId: "",
      seq: 0,
      bids: side(),
      asks: side(),
      staleReason: null,
      sourceTs: null,
    };
  }

  next(): SnapshotInput {
    const r = this.r;
    const s = this.input;
    const k = Math.floor(r() * this.books.length);
    const b = this.books[k];
    s.tsRecv = Math.floor(this.t);
    this.t += this.step;
    s.marketId = this.ids[k >> 1];
    s.outcomeId = (k & 1) === 0 ? "yes" : "no";
    // a few updates since the last snapshot of this book
    const changes = Math.floor(r() * 4);
    for (let c = 0; c < changes; c++) {
      const lvl = Math.floor(r() * r() * b.depth);
      const sizes = r() < 0.5 ? b.bidSz : b.askSz;
      sizes[lvl] = Math.round(r() * r() * 500_000 + 1) / 100;
    }
    if (r() < 0.05) b.bestBid = Math.min(98, Math.max(1, b.bestBid + (r() < 0.5 ? -1 : 1)));
    s.seq = b.seq += 1 + changes;
    const u = r();
    const nb = u < 0.02 ? 0 : Math.min(b.depth, b.bestBid);
    const na = u > 0.98 || u < 0.005 ? 0 : Math.min(b.depth, 99 - b.bestBid); // u < 0.005: both sides empty
    for (let j = 0; j < nb; j++) {
      s.bids.px[j] = (b.bestBid - j) / 100;
      s.bids.sz[j] = b.bidSz[j];
    }
    s.bids.len = nb;
    for (let j = 0; j < na; j++) {
      s.asks.px[j] = (b.bestBid + 1 + j) / 100;
      s.asks.sz[j] = b.askSz[j];
    }
    s.asks.len = na;
    s.staleReason = r() < 0.01 ? "seq gap: awaiting resync" : null;
    s.sourceTs = r() < 0.8 ? s.tsRecv - Math.floor(r() * 500) : null;
    return s;
  }

  /** Moves the generator's clock. */
  setTime(ts: number): void {
    this.t = ts;
  }
}

/** The arguments normalizeSnapshot takes, copied out of a (reused) SnapshotInput. */
export function copyInput(s: SnapshotInput) {
  return {
    tsRecv: s.tsRecv,
    venue: s.venue,
    marketId: s.marketId,
    outcomeId: s.outcomeId,
    seq: s.seq,
    bidPx: Array.from(s.bids.px.subarray(0, s.bids.len)),
    bidSz: Array.from(s.bids.sz.subarray(0, s.bids.len)),
    askPx: Array.from(s.asks.px.subarray(0, s.asks.len)),
    askSz: Array.from(s.asks.sz.subarray(0, s.asks.len)),
    staleReason: s.staleReason,
    sourceTs: s.sourceTs,
  };
}
