/** Writes SnapshotRows through the real SnapshotWriter (so tests cover the files the collector produces). */
import type { SnapshotRow } from "../../src/schema.ts";
import { openWriter } from "./store.ts";

export async function writeRowsWithWriter(dataDir: string, rows: SnapshotRow[]): Promise<void> {
  const { w } = await openWriter(dataDir);
  for (const r of [...rows].sort((a, b) => a.ts_recv - b.ts_recv)) {
    w.append({
      tsRecv: r.ts_recv,
      venue: r.venue,
      marketId: r.market_id,
      outcomeId: r.outcome_id,
      seq: r.seq,
      bids: { px: Float64Array.from(r.bid_px), sz: Float64Array.from(r.bid_sz), len: r.bid_px.length },
      asks: { px: Float64Array.from(r.ask_px), sz: Float64Array.from(r.ask_sz), len: r.ask_px.length },
      staleReason: r.status === "stale" ? r.err : null,
      sourceTs: r.source_ts,
    });
  }
  await w.close();
}
