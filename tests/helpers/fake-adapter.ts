/** A scripted VenueAdapter: records every command, and lets the test push events with `emit`. */
import type { Clock } from "../../src/clock.ts";
import type { BookKey, EventSink, VenueAdapter, VenueEvent } from "../../src/venue/types.ts";
import type { MarketInfo, MarketRef } from "../../src/market.ts";

export interface AdapterCall {
  ts: number;
  op: "subscribe" | "unsubscribe" | "resync" | "connect" | "close";
  ids: string[];
}

export class FakeAdapter implements VenueAdapter {
  readonly name = "fake";
  calls: AdapterCall[] = [];
  sink: EventSink | null = null;
  /** Market ids currently subscribed at the venue, as the adapter sees them. */
  readonly subscribed = new Set<string>();
  constructor(
    private readonly clock: Clock,
    private readonly universe: MarketInfo[] = [],
    /** Emit a `connected` event on connect (connId 0). */
    private readonly autoConnect = true,
  ) {}
  async discover(): Promise<MarketInfo[]> {
    return this.universe;
  }
  async connect(sink: EventSink): Promise<void> {
    this.sink = sink;
    this.calls.push({ ts: this.clock.now(), op: "connect", ids: [] });
    if (this.autoConnect) this.emit({ kind: "connection", state: "connected", connId: 0 });
  }
  subscribe(markets: MarketRef[]): void {
    for (const m of markets) this.subscribed.add(m.market_id);
    this.calls.push({ ts: this.clock.now(), op: "subscribe", ids: markets.map((m) => m.market_id) });
  }
  unsubscribe(markets: MarketRef[]): void {
    for (const m of markets) this.subscribed.delete(m.market_id);
    this.calls.push({ ts: this.clock.now(), op: "unsubscribe", ids: markets.map((m) => m.market_id) });
  }
  resync(keys: BookKey[]): void {
    this.calls.push({ ts: this.clock.now(), op: "resync", ids: keys.map((k) => `${k.marketId}/${k.outcomeId}`) });
  }
  async close(): Promise<void> {
    this.calls.push({ ts: this.clock.now(), op: "close", ids: [] });
  }
  emit(ev: VenueEvent): void {
    this.sink!(ev, this.clock.now());
  }
  ops(op: AdapterCall["op"]): AdapterCall[] {
    return this.calls.filter((c) => c.op === op);
  }
}

export function bookEvent(
  marketId: string,
  outcomeId: string,
  bids: [number, number][],
  asks: [number, number][],
  seq: number | null = null,
): VenueEvent {
  return {
    kind: "book",
    marketId,
    outcomeId,
    bidPx: bids.map((l) => l[0]),
    bidSz: bids.map((l) => l[1]),
    askPx: asks.map((l) => l[0]),
    askSz: asks.map((l) => l[1]),
    seq,
    sourceTs: null,
  };
}

export function levelEvent(
  marketId: string,
  outcomeId: string,
  side: "bid" | "ask",
  price: number,
  size: number,
  seq: number | null = null,
  mode: "set" | "add" = "set",
): VenueEvent {
  return { kind: "level", marketId, outcomeId, side, price, size, mode, seq, bookSeq: seq !== null, sourceTs: null };
}

export function refs(n: number, prefix = "m"): MarketRef[] {
  return Array.from({ length: n }, (_, i) => ({ market_id: `${prefix}${i}`, outcome_ids: ["yes", "no"] }));
}
