/**
 * The mock venue's wire format and its mapper: the mock emits wire messages (objects, or raw text when it
 * injects a malformed one) and every message goes through `mapMockMessage`, so malformed input is rejected
 * by real validation, as a venue's mapper would, not by a flag saying "this one is bad".
 */
import type { BookSnapshotEvent, LevelEvent, RejectedEvent } from "./types.ts";

export interface MockWireBook {
  type: "book";
  market: string;
  outcome: string;
  bid_px: number[];
  bid_sz: number[];
  ask_px: number[];
  ask_sz: number[];
  seq: number;
  ts: number;
}

export interface MockWireLevel {
  type: "level";
  market: string;
  outcome: string;
  side: "bid" | "ask";
  price: number;
  size: number;
  seq: number;
  ts: number;
}

export type MockWireMessage = MockWireBook | MockWireLevel;

const reject = (reason: string, msg: unknown): RejectedEvent => ({
  kind: "rejected",
  reason,
  sample: (typeof msg === "string" ? msg : (JSON.stringify(msg) ?? String(msg))).slice(0, 200),
});

const isPrice = (x: unknown): x is number => typeof x === "number" && x >= 0 && x <= 1;
const isSize = (x: unknown): x is number => typeof x === "number" && x >= 0 && x < Infinity;
const isSeq = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0;

function checkSide(px: unknown, sz: unknown): boolean {
  if (!Array.isArray(px) || !Array.isArray(sz) || px.length !== sz.length) return false;
  for (let i = 0; i < px.length; i++) if (!isPrice(px[i]) || !isSize(sz[i])) return false;
  return true;
}

/** Wire message (object or JSON text) → one normalized event; anything that does not validate → "rejected". */
export function mapMockMessage(msg: unknown): LevelEvent | BookSnapshotEvent | RejectedEvent {
  let m = msg;
  if (typeof m === "string") {
    try {
      m = JSON.parse(m);
    } catch {
      return reject("malformed: not JSON", msg);
    }
  }
  if (typeof m !== "object" || m === null) return reject("malformed: not an object", msg);
  const w = m as Record<string, unknown>;
  if (typeof w.market !== "string" || typeof w.outcome !== "string")
    return reject("malformed: market/outcome missing", msg);
  if (!isSeq(w.seq)) return reject("malformed: bad seq", msg);
  if (typeof w.ts !== "number") return reject("malformed: bad ts", msg);
  if (w.type === "level") {
    if (w.side !== "bid" && w.side !== "ask") return reject("malformed: bad side", msg);
    if (!isPrice(w.price)) return reject("malformed: price not a number in 0..1", msg);
    if (!isSize(w.size)) return reject("malformed: size not a number ≥ 0", msg);
    return {
      kind: "level",
      marketId: w.market,
      outcomeId: w.outcome,
      side: w.side,
      price: w.price,
      size: w.size,
      mode: "set",
      seq: w.seq,
      bookSeq: true,
      sourceTs: w.ts,
    };
  }
  if (w.type === "book") {
    if (!checkSide(w.bid_px, w.bid_sz) || !checkSide(w.ask_px, w.ask_sz))
      return reject("malformed: bad book levels", msg);
    return {
      kind: "book",
      marketId: w.market,
      outcomeId: w.outcome,
      bidPx: w.bid_px as number[],
      bidSz: w.bid_sz as number[],
      askPx: w.ask_px as number[],
      askSz: w.ask_sz as number[],
      seq: w.seq,
      sourceTs: w.ts,
    };
  }
  return reject("malformed: unknown type", msg);
}

/** Turns a valid level message into one of several malformed variants (the kinds of garbage a feed can carry). */
export function corruptLevel(w: MockWireLevel, variant: number): unknown {
  switch (variant % 5) {
    case 0:
      return JSON.stringify(w).slice(0, 25); // truncated frame
    case 1:
      return { ...w, price: "abc" };
    case 2:
      return { ...w, side: "mid" };
    case 3:
      return { ...w, price: 1.7 };
    default:
      return { ...w, size: Number.NaN };
  }
}
