/**
 * Polymarket frames replayed from memory through JSON.parse → mapper → BookStore, and again with valibot's safeParse
 * in front (why the hot path checks by hand): entries/s, frames/s, MB/s, peak RSS (docs/venues/polymarket.md).
 */
import * as v from "valibot";
import { mapFrame, mapMessage } from "../src/venue/polymarket/mapper.ts";
import { WireMessage } from "../src/venue/polymarket/wire.ts";
import type { BookSnapshotEvent, LevelEvent, VenueEvent } from "../src/venue/types.ts";

interface Books {
  addMarket(marketId: string, outcomeIds: readonly string[], now: number): unknown;
  applyBook(ev: BookSnapshotEvent, tsRecv: number): unknown;
  applyLevel(ev: LevelEvent, tsRecv: number): unknown;
}

/** Fallback when the collector's book is not there: sorted parallel typed arrays per side, binary search. */
class MiniSide {
  px = new Float64Array(64);
  sz = new Float64Array(64);
  len = 0;
  constructor(readonly desc: boolean) {}
  set(p: number, s: number): void {
    let lo = 0;
    let hi = this.len;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (this.desc ? this.px[m] > p : this.px[m] < p) lo = m + 1;
      else hi = m;
    }
    if (lo < this.len && this.px[lo] === p) {
      if (s > 0) this.sz[lo] = s;
      else {
        this.px.copyWithin(lo, lo + 1, this.len);
        this.sz.copyWithin(lo, lo + 1, this.len);
        this.len--;
      }
    } else if (s > 0) {
      if (this.len === this.px.length) {
        const px = new Float64Array(this.len * 2);
        const sz = new Float64Array(this.len * 2);
        px.set(this.px);
        sz.set(this.sz);
        this.px = px;
        this.sz = sz;
      }
      this.px.copyWithin(lo + 1, lo, this.len);
      this.sz.copyWithin(lo + 1, lo, this.len);
      this.px[lo] = p;
      this.sz[lo] = s;
      this.len++;
    }
  }
}
class MiniBooks implements Books {
  private readonly m = new Map<string, Map<string, { bids: MiniSide; asks: MiniSide }>>();
  addMarket(marketId: string, outcomeIds: readonly string[]): void {
    this.m.set(marketId, new Map(outcomeIds.map((o) => [o, { bids: new MiniSide(true), asks: new MiniSide(false) }])));
  }
  applyBook(ev: BookSnapshotEvent): void {
    const b = this.m.get(ev.marketId)?.get(ev.outcomeId);
    if (!b) return;
    b.bids.len = b.asks.len = 0;
    for (let i = 0; i < ev.bidPx.length; i++) b.bids.set(ev.bidPx[i], ev.bidSz[i]);
    for (let i = 0; i < ev.askPx.length; i++) b.asks.set(ev.askPx[i], ev.askSz[i]);
  }
  applyLevel(ev: LevelEvent): void {
    const b = this.m.get(ev.marketId)?.get(ev.outcomeId);
    if (b) (ev.side === "bid" ? b.bids : b.asks).set(ev.price, ev.size);
  }
}

async function makeBooks(): Promise<{ books: Books; which: string }> {
  const path = "../src/collector/book.ts"; // a variable path: this file must typecheck before the collector lands
  try {
    const mod = (await import(path)) as { BookStore?: new () => Books };
    if (mod.BookStore) return { books: new mod.BookStore(), which: "collector BookStore (src/collector/book.ts)" };
  } catch {
    // not there yet
  }
  return { books: new MiniBooks(), which: "minimal typed-array book (collector's book not on this branch)" };
}

// ---- the stream: 500 markets × 2 tokens; frames of 1–3 changes, sizes "0" ~25 % of the time ----
const MARKETS = 500;
const FRAMES = 250_000;
let seed = 12345;
const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
const market = (i: number) => `0x${i.toString(16).padStart(64, "0")}`;
const token = (i: number, k: number) => String(10n ** 76n + BigInt(i * 2 + k));

const bookFrames: string[] = [];
for (let i = 0; i < MARKETS; i++) {
  for (let k = 0; k < 2; k++) {
    const bids = Array.from({ length: 20 }, (_, j) => ({ price: ((30 - j) / 100).toFixed(2), size: String(100 + j) }));
    const asks = Array.from({ length: 20 }, (_, j) => ({ price: ((70 + j) / 100).toFixed(2), size: String(100 + j) }));
    bookFrames.push(
      JSON.stringify({
        event_type: "book",
        market: market(i),
        asset_id: token(i, k),
        timestamp: "1757908892351",
        hash: "0x0",
        bids,
        asks,
      }),
    );
  }
}
const frames: string[] = [];
let entries = 0;
let bytes = 0;
for (let f = 0; f < FRAMES; f++) {
  const i = Math.floor(rand() * MARKETS);
  const n = 1 + Math.floor(rand() * 3);
  const changes = [];
  for (let c = 0; c < n; c++) {
    const bid = rand() < 0.5;
    const cents = bid ? 10 + Math.floor(rand() * 25) : 66 + Math.floor(rand() * 25);
    changes.push({
      asset_id: token(i, rand() < 0.5 ? 0 : 1),
      price: (cents / 100).toFixed(2),
      size: rand() < 0.25 ? "0" : (rand() * 1000).toFixed(2),
      side: bid ? "BUY" : "SELL",
      hash: "56621a121a47ed9333273e21c83b660cff37ae50",
      best_bid: "0.3",
      best_ask: "0.7",
    });
  }
  entries += n;
  const s = JSON.stringify({
    market: market(i),
    price_changes: changes,
    timestamp: String(1757908892351 + f),
    event_type: "price_change",
  });
  bytes += s.length;
  frames.push(s);
}

let peakRss = process.memoryUsage().rss;
const sampleRss = () => {
  const r = process.memoryUsage().rss;
  if (r > peakRss) peakRss = r;
};

async function run(label: string, validate: (text: string) => VenueEvent[]): Promise<void> {
  const { books, which } = await makeBooks();
  for (let i = 0; i < MARKETS; i++) books.addMarket(market(i), [token(i, 0), token(i, 1)], 0);
  for (const f of bookFrames) for (const ev of validate(f)) if (ev.kind === "book") books.applyBook(ev, 0);
  let applied = 0;
  const pass = (limit: number) => {
    for (let f = 0; f < limit; f++) {
      const evs = validate(frames[f]);
      for (let j = 0; j < evs.length; j++) {
        const ev = evs[j];
        if (ev.kind === "level") {
          books.applyLevel(ev, f);
          applied++;
        }
      }
      if ((f & 0xffff) === 0) sampleRss();
    }
  };
  pass(50_000); // warm-up
  // The machine is shared (load ≫ cores): CPU time of this process is the one-core figure; wall time is shown too.
  let best = { cpu: Infinity, wall: Infinity };
  for (let round = 0; round < 3; round++) {
    applied = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    pass(frames.length);
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    if (applied !== entries) throw new Error(`applied ${applied} of ${entries} entries`);
    best = { cpu: Math.min(best.cpu, (c.user + c.system) / 1e6), wall: Math.min(best.wall, wall) };
  }
  sampleRss();
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(10);
  console.log(
    `${label.padEnd(34)} ${fmt(entries / best.cpu)} entries/cpu-s ${fmt(entries / best.wall)} entries/wall-s  ` +
      `${fmt(frames.length / best.cpu)} frames/cpu-s  ${(bytes / 1e6 / best.cpu).toFixed(1).padStart(6)} MB/cpu-s  book: ${which}`,
  );
}

console.log(
  `polymarket: ${frames.length.toLocaleString("en-US")} price_change frames, ${entries.toLocaleString("en-US")} entries, ${(bytes / 1e6).toFixed(1)} MB, ${MARKETS * 2} books (one core, noisy shared machine)`,
);
await run("parse+mapper(hand check)+book", mapFrame);
await run("parse+valibot safeParse+mapper+book", (text) => {
  const msg = JSON.parse(text);
  if (!v.safeParse(WireMessage, msg).success) return [{ kind: "rejected", reason: "schema" }];
  const out: VenueEvent[] = [];
  mapMessage(msg, out);
  return out;
});
console.log(`peak RSS ${(peakRss / 1e6).toFixed(0)} MB`);
