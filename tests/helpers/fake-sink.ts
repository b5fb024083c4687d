/** A SnapshotSink that keeps every snapshot as a plain row (copies the sides, as a real writer must). */
import { deriveStatus, depth3, type SnapshotInput, type SnapshotRow, type SnapshotSink } from "../../src/schema.ts";

export class FakeSink implements SnapshotSink {
  rows: SnapshotRow[] = [];
  closed = false;
  append(s: SnapshotInput): void {
    const bidPx = Array.from(s.bids.px.subarray(0, s.bids.len));
    const bidSz = Array.from(s.bids.sz.subarray(0, s.bids.len));
    const askPx = Array.from(s.asks.px.subarray(0, s.asks.len));
    const askSz = Array.from(s.asks.sz.subarray(0, s.asks.len));
    const { status, err } = deriveStatus(bidPx.length, askPx.length, s.staleReason);
    const both = bidPx.length > 0 && askPx.length > 0;
    this.rows.push({
      ts_recv: s.tsRecv,
      venue: s.venue,
      market_id: s.marketId,
      outcome_id: s.outcomeId,
      seq: s.seq,
      best_bid_px: bidPx[0] ?? NaN,
      best_bid_sz: bidSz[0] ?? NaN,
      best_ask_px: askPx[0] ?? NaN,
      best_ask_sz: askSz[0] ?? NaN,
      mid: both ? (bidPx[0] + askPx[0]) / 2 : NaN,
      spread: both ? askPx[0] - bidPx[0] : NaN,
      bid_px: bidPx,
      bid_sz: bidSz,
      ask_px: askPx,
      ask_sz: askSz,
      status,
      err,
      source_ts: s.sourceTs,
      bid_depth3: depth3(bidSz, bidSz.length),
      ask_depth3: depth3(askSz, askSz.length),
    });
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  of(marketId: string, outcomeId?: string): SnapshotRow[] {
    return this.rows.filter((r) => r.market_id === marketId && (outcomeId === undefined || r.outcome_id === outcomeId));
  }
}
