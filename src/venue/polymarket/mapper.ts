/**
 * Pure Polymarket mapper: one market-channel frame in, normalized VenueEvents out (the caller stamps receive time).
 * Validation is a hand check accepting exactly what wire.ts's valibot schemas accept (tests compare both on every
 * fixture): valibot halved throughput (docs/venues/polymarket.md, bench/polymarket.bench.ts).
 */
import type { BookSnapshotEvent, LevelEvent, VenueEvent } from "../types.ts";
import { INFO_EVENT_TYPES } from "./wire.ts";

/**
 * Same pattern as wire.ts NumStr / MsStr. A decimal is what a JSON number parser takes (digits, fraction, exponent)
 * plus the leading-dot form the venue's documentation writes (".48"); finiteness and range are checked after.
 */
const DECIMAL = /^(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^\d+$/;
const INFO = new Set<string>(INFO_EVENT_TYPES);

/** Decimal string (or finite JSON number) → number; NaN when malformed. */
export function decimal(x: unknown): number {
  if (typeof x === "string") {
    if (!DECIMAL.test(x)) return NaN;
    const n = +x;
    return Number.isFinite(n) ? n : NaN;
  }
  if (typeof x === "number") return Number.isFinite(x) ? x : NaN;
  return NaN;
}

/** Epoch-ms string → number; undefined/absent → null; NaN when malformed. */
function millis(x: unknown): number | null {
  if (x === undefined) return null;
  if (typeof x === "string") return INTEGER.test(x) ? +x : NaN;
  if (typeof x === "number") return Number.isInteger(x) ? x : NaN;
  return NaN;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const nonEmpty = (x: unknown): x is string => typeof x === "string" && x.length > 0;

function rejected(reason: string, msg: unknown): VenueEvent {
  return { kind: "rejected", reason, sample: preview(msg, 200) };
}

/**
 * `JSON.stringify(v).slice(0, max)` without serializing the rest: a rejected frame may be megabytes or nested
 * 100k deep (the fault harness measured 4.5 s for one such sample), and only its first `max` characters are kept.
 */
export function preview(v: unknown, max: number): string {
  let out = "";
  const walk = (x: unknown): void => {
    if (out.length >= max) return;
    if (Array.isArray(x)) {
      out += "[";
      for (let i = 0; i < x.length && out.length < max; i++) {
        if (i > 0) out += ",";
        walk(x[i]);
      }
      out += "]";
    } else if (x !== null && typeof x === "object") {
      out += "{";
      let first = true;
      for (const k of Object.keys(x)) {
        if (out.length >= max) break;
        if (!first) out += ",";
        first = false;
        out += `${JSON.stringify(k.slice(0, max))}:`;
        walk((x as Record<string, unknown>)[k]);
      }
      out += "}";
    } else if (typeof x === "string") out += JSON.stringify(x.slice(0, max));
    else out += JSON.stringify(x) ?? "null";
  };
  walk(v);
  return out.slice(0, max);
}

/** Parses one WebSocket text frame. `PONG` is the feed's business and never reaches here. */
export function mapFrame(text: string): VenueEvent[] {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return [{ kind: "rejected", reason: "invalid_json", sample: text.slice(0, 200) }];
  }
  const out: VenueEvent[] = [];
  if (Array.isArray(msg)) {
    // An array frame is several independent messages: a bad one is rejected alone.
    for (let i = 0; i < msg.length; i++) mapMessage(msg[i], out);
  } else {
    mapMessage(msg, out);
  }
  return out;
}

/** Maps one message object, appending to `out`. A malformed message yields exactly one `rejected` and nothing else. */
export function mapMessage(msg: unknown, out: VenueEvent[]): void {
  if (!isObj(msg)) {
    out.push(rejected("not_an_object", msg));
    return;
  }
  const type = msg.event_type;
  switch (type) {
    case "price_change":
      mapPriceChange(msg, out);
      return;
    case "book": {
      const ev = mapBook(msg);
      out.push(typeof ev === "string" ? rejected(ev, msg) : ev);
      return;
    }
    case "market_resolved":
      if (typeof msg.market !== "string" || Number.isNaN(millis(msg.timestamp)))
        out.push(rejected("bad_market_resolved", msg));
      else out.push({ kind: "resolved", marketId: msg.market });
      return;
    default:
      if (typeof type !== "string") out.push(rejected("missing_event_type", msg));
      else out.push({ kind: "info", type: INFO.has(type) ? type : "unknown" });
  }
}

function mapPriceChange(msg: Record<string, unknown>, out: VenueEvent[]): void {
  const market = msg.market;
  const ts = millis(msg.timestamp);
  // Current form: price_changes[] each with asset_id. The pre-2025-09 form had one top-level asset_id and changes[].
  let changes = msg.price_changes;
  let defaultAsset: unknown;
  if (changes === undefined && Array.isArray(msg.changes)) {
    changes = msg.changes;
    defaultAsset = msg.asset_id;
  }
  if (typeof market !== "string" || !Array.isArray(changes) || Number.isNaN(ts)) {
    out.push(rejected("bad_price_change", msg));
    return;
  }
  // Validate every entry before emitting any, so a bad frame never half-applies. The one exception: the venue's own
  // client types an entry's size as optional, so an entry without a usable size is skipped alone (one `rejected`,
  // counted under its own reason) and its siblings stay valid.
  const start = out.length;
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i];
    if (!isObj(c)) return reject(out, start, "bad_price_change_entry", msg);
    const asset = c.asset_id ?? defaultAsset;
    const side = c.side;
    const price = decimal(c.price);
    const size = decimal(c.size);
    if (!nonEmpty(asset) || (side !== "BUY" && side !== "SELL") || Number.isNaN(price)) {
      return reject(out, start, "bad_price_change_entry", msg);
    }
    if (price < 0 || price > 1) return reject(out, start, "price_out_of_range", msg);
    if (Number.isNaN(size)) {
      out.push(rejected(SIZELESS_ENTRY, c));
      continue;
    }
    const ev: LevelEvent = {
      kind: "level",
      marketId: market,
      outcomeId: asset,
      side: side === "BUY" ? "bid" : "ask",
      price,
      size,
      mode: "set",
      seq: null,
      bookSeq: false,
      sourceTs: ts,
    };
    out.push(ev);
  }
}

/** Reason of the `rejected` counted for a price_change entry skipped for want of a usable size. */
export const SIZELESS_ENTRY = "price_change_entry_without_size";

function reject(out: VenueEvent[], start: number, reason: string, msg: unknown): void {
  out.length = start;
  out.push(rejected(reason, msg));
}

/**
 * A full book (socket `book` or REST `/book`) → BookSnapshotEvent sorted client-side (bids descending, asks
 * ascending; the venue's order is not to be trusted), zero sizes dropped, a repeated price keeps its last size.
 * Returns the rejection reason instead when malformed.
 */
export function mapBook(msg: Record<string, unknown>): BookSnapshotEvent | string {
  const market = msg.market;
  const asset = msg.asset_id;
  const ts = millis(msg.timestamp);
  // Older book messages named the sides buys/sells.
  const rawBids = msg.bids ?? msg.buys;
  const rawAsks = msg.asks ?? msg.sells;
  if (
    typeof market !== "string" ||
    !nonEmpty(asset) ||
    Number.isNaN(ts) ||
    !Array.isArray(rawBids) ||
    !Array.isArray(rawAsks)
  ) {
    return "bad_book";
  }
  const bids = side(rawBids, true);
  const asks = side(rawAsks, false);
  if (typeof bids === "string") return bids;
  if (typeof asks === "string") return asks;
  return {
    kind: "book",
    marketId: market,
    outcomeId: asset,
    bidPx: bids[0],
    bidSz: bids[1],
    askPx: asks[0],
    askSz: asks[1],
    seq: null,
    sourceTs: ts,
  };
}

function side(levels: unknown[], descending: boolean): [number[], number[]] | string {
  const byPrice = new Map<number, number>();
  for (const l of levels) {
    if (!isObj(l)) return "bad_book_level";
    const p = decimal(l.price);
    const s = decimal(l.size);
    if (Number.isNaN(p) || Number.isNaN(s)) return "bad_book_level";
    if (p < 0 || p > 1) return "price_out_of_range";
    byPrice.set(p, s);
  }
  const px: number[] = [];
  for (const [p, s] of byPrice) if (s > 0) px.push(p);
  px.sort(descending ? (a, b) => b - a : (a, b) => a - b);
  return [px, px.map((p) => byPrice.get(p)!)];
}
