/** Seeded synthetic snapshots with realistic, varied books (tests and benchmarks). */
import type { SnapshotInput } from "../../src/schema.ts";

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

/**
 * Yields SnapshotInputs into one reused object and reused typed arrays (like the collector does), so a
 * consumer that keeps them must copy. Books: ~20 levels a side typical (1..maxLevels), cent ticks, a few
 * empty/one-sided/stale ones, Polymarket-like long numeric ids.
 */
export class BookGen {
  readonly input: SnapshotInput;
  private r: () => number;
  private ids: string[];
  private seqs: number[];
  private mids: number[];
  private t: number;
  private readonly step: number;
  private readonly maxLevels: number;
  private i = 0;

  constructor(o: BookGenOptions = {}) {
    this.r = rng(o.seed ?? 1);
    const markets = o.markets ?? 200;
    this.maxLevels = o.maxLevels ?? 60;
    this.ids = Array.from({ length: markets }, (_, k) => `0x${(k * 2654435761 >>> 0).toString(16).padStart(8, "0")}${"ab".repeat(28)}`);
    this.seqs = new Array(markets * 2).fill(0);
    this.mids = Array.from({ length: markets }, () => 0.05 + this.r() * 0.9);
    this.t = o.start ?? Date.UTC(2026, 0, 1, 0, 0);
    this.step = o.stepMs ?? 1;
    const side = () => ({ px: new Float64Array(this.maxLevels), sz: new Float64Array(this.maxLevels), len: 0 });
    this.input = {
      tsRecv: 0, venue: o.venue ?? "mock", marketId: "", outcomeId: "", seq: 0,
      bids: side(), asks: side(), staleReason: null, sourceTs: null,
    };
  }

  next(): SnapshotInput {
    const r = this.r;
    const s = this.input;
    const k = this.i++ % this.ids.length;
    const outcome = r() < 0.5 ? 0 : 1;
    s.tsRecv = this.t;
    this.t += this.step;
    s.marketId = this.ids[k];
    s.outcomeId = outcome === 0 ? "yes" : "no";
    s.seq = ++this.seqs[k * 2 + outcome];
    const u = r();
    // typical ~20 levels, varied: 1..maxLevels, some empty sides
    const lenOf = () => (u < 0.03 ? 0 : Math.max(1, Math.min(this.maxLevels, Math.round(20 + (r() - 0.5) * 30 + (r() < 0.1 ? 30 : 0)))));
    let mid = this.mids[k] + (r() - 0.5) * 0.01;
    mid = Math.min(0.97, Math.max(0.03, mid));
    this.mids[k] = mid;
    const bb = Math.floor(mid * 100) / 100;
    const nb = lenOf();
    const na = u > 0.97 ? 0 : lenOf();
    s.bids.len = 0;
    for (let j = 0; j < nb; j++) {
      const p = Math.round((bb - j * 0.01) * 100) / 100;
      if (p <= 0) break;
      s.bids.px[j] = p;
      s.bids.sz[j] = Math.round(r() * 500_000 + 1) / 100;
      s.bids.len = j + 1;
    }
    s.asks.len = 0;
    for (let j = 0; j < na; j++) {
      const p = Math.round((bb + 0.01 + j * 0.01) * 100) / 100;
      if (p >= 1) break;
      s.asks.px[j] = p;
      s.asks.sz[j] = Math.round(r() * 500_000 + 1) / 100;
      s.asks.len = j + 1;
    }
    s.staleReason = r() < 0.01 ? "seq gap: awaiting resync" : null;
    s.sourceTs = r() < 0.8 ? this.t - Math.floor(r() * 500) : null;
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
    tsRecv: s.tsRecv, venue: s.venue, marketId: s.marketId, outcomeId: s.outcomeId, seq: s.seq,
    bidPx: Array.from(s.bids.px.subarray(0, s.bids.len)), bidSz: Array.from(s.bids.sz.subarray(0, s.bids.len)),
    askPx: Array.from(s.asks.px.subarray(0, s.asks.len)), askSz: Array.from(s.asks.sz.subarray(0, s.asks.len)),
    staleReason: s.staleReason, sourceTs: s.sourceTs,
  };
}
