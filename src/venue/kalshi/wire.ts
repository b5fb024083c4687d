/**
 * Kalshi messages exactly as sent, decimal-string and older integer-cent forms (docs/venues/kalshi.md); valibot
 * schemas are the reference, and `isDeltaMsg`, the hot path, is a hand check accepting exactly what they accept.
 */
import * as v from "valibot";

const decimal = v.pipe(v.string(), v.regex(/^-?\d+(\.\d+)?$/));
const int = v.pipe(v.number(), v.integer());
const level = <P extends v.GenericSchema, S extends v.GenericSchema>(px: P, sz: S) => v.array(v.tuple([px, sz]));

/** `[["0.4000","500.00"],…]` dollars and counts as decimal strings; older `[[40,500],…]` cents and integer counts. */
export const SnapshotMsgSchema = v.object({
  market_ticker: v.pipe(v.string(), v.minLength(1)),
  market_id: v.optional(v.string()),
  // A side may be omitted or sent as null (an empty side); a settled market's snapshot has no level keys at all.
  yes_dollars_fp: v.optional(v.nullable(level(decimal, decimal))),
  no_dollars_fp: v.optional(v.nullable(level(decimal, decimal))),
  yes_dollars: v.optional(v.nullable(level(decimal, v.union([decimal, v.number()])))),
  no_dollars: v.optional(v.nullable(level(decimal, v.union([decimal, v.number()])))),
  yes: v.optional(v.nullable(level(int, v.number()))),
  no: v.optional(v.nullable(level(int, v.number()))),
});
export type SnapshotMsg = v.InferOutput<typeof SnapshotMsgSchema>;

export const DeltaMsgSchema = v.object({
  market_ticker: v.pipe(v.string(), v.minLength(1)),
  side: v.picklist(["yes", "no"]),
  price_dollars: v.optional(decimal),
  price: v.optional(int),
  delta_fp: v.optional(decimal),
  delta: v.optional(v.number()),
  ts_ms: v.optional(v.number()),
  ts: v.optional(v.union([v.number(), v.string()])),
});
export type DeltaMsg = v.InferOutput<typeof DeltaMsgSchema>;

/** Data messages: `{type, sid, seq, msg}`. */
export const DataEnvelopeSchema = v.object({
  type: v.string(),
  sid: int,
  seq: int,
  msg: v.unknown(),
});

/** Command replies. `subscribed` carries the new sid; `error` a code and text; `ok` answers update_subscription. */
export const SubscribedSchema = v.object({
  id: v.optional(int),
  type: v.literal("subscribed"),
  msg: v.object({ channel: v.optional(v.string()), sid: int }),
});
export const ErrorReplySchema = v.object({
  id: v.optional(v.nullable(int)),
  type: v.literal("error"),
  msg: v.optional(v.object({ code: v.optional(v.number()), msg: v.optional(v.string()) })),
});

/** REST `/markets/{ticker}/orderbook`: `orderbook_fp` (dollars) or the older `orderbook` (cents); bids only. */
export const RestOrderbookSchema = v.object({
  orderbook_fp: v.optional(
    v.nullable(
      v.object({
        yes_dollars: v.optional(v.nullable(level(decimal, decimal))),
        no_dollars: v.optional(v.nullable(level(decimal, decimal))),
      }),
    ),
  ),
  orderbook: v.optional(
    v.nullable(
      v.object({
        yes: v.optional(v.nullable(level(int, v.number()))),
        no: v.optional(v.nullable(level(int, v.number()))),
      }),
    ),
  ),
});
export type RestOrderbook = v.InferOutput<typeof RestOrderbookSchema>;

/** One market of the REST `/markets` listing (fields we keep; everything else ignored). */
export const MarketSchema = v.object({
  ticker: v.pipe(v.string(), v.minLength(1)),
  event_ticker: v.optional(v.string()),
  title: v.optional(v.string()),
  subtitle: v.optional(v.string()),
  yes_sub_title: v.optional(v.string()),
  category: v.optional(v.string()),
  status: v.optional(v.string()),
  market_type: v.optional(v.nullable(v.string())),
  strike_type: v.optional(v.nullable(v.string())),
  result: v.optional(v.nullable(v.string())),
  close_time: v.optional(v.nullable(v.string())),
  open_time: v.optional(v.nullable(v.string())),
  volume: v.optional(v.nullable(v.number())),
  volume_fp: v.optional(v.nullable(v.string())),
  open_interest: v.optional(v.nullable(v.number())),
  open_interest_fp: v.optional(v.nullable(v.string())),
  yes_bid_dollars: v.optional(v.nullable(v.string())),
  yes_ask_dollars: v.optional(v.nullable(v.string())),
});
export type WireMarket = v.InferOutput<typeof MarketSchema>;

export const MarketsPageSchema = v.object({
  markets: v.optional(v.nullable(v.array(v.unknown()))),
  cursor: v.optional(v.nullable(v.string())),
});

// ---- hand check for the hot path ---------------------------------------------------------------------------

const DECIMAL = /^-?\d+(\.\d+)?$/;
const isDecimal = (x: unknown): x is string => typeof x === "string" && DECIMAL.test(x);
const isInt = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x);

/** Accepts exactly what `DeltaMsgSchema` accepts (asserted by tests/venues/kalshi-wire.test.ts). */
export function isDeltaMsg(m: unknown): m is DeltaMsg {
  if (typeof m !== "object" || m === null || Array.isArray(m)) return false;
  const o = m as Record<string, unknown>;
  const t = o.market_ticker;
  if (typeof t !== "string" || t.length === 0) return false;
  if (o.side !== "yes" && o.side !== "no") return false;
  if (o.price_dollars !== undefined && !isDecimal(o.price_dollars)) return false;
  if (o.price !== undefined && !isInt(o.price)) return false;
  if (o.delta_fp !== undefined && !isDecimal(o.delta_fp)) return false;
  if (o.delta !== undefined && typeof o.delta !== "number") return false;
  if (o.ts_ms !== undefined && typeof o.ts_ms !== "number") return false;
  if (o.ts !== undefined && typeof o.ts !== "number" && typeof o.ts !== "string") return false;
  return true;
}
