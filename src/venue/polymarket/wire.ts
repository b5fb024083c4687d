/**
 * Polymarket messages exactly as the venue sends them (docs/venues/polymarket.md): numbers as decimal strings,
 * `clobTokenIds`/`outcomes` as JSON-encoded strings, WebSocket frames that are one object or an array of them.
 * Unknown fields are ignored (valibot `object` strips them). Conversion to numbers happens in the mapper.
 */
import * as v from "valibot";

/**
 * A decimal number as the venue sends it ("0.45", or ".48" as its documentation writes it; an exponent as a JSON
 * number parser reads it); a plain JSON number is tolerated too.
 */
export const NumStr = v.union([
  v.pipe(
    v.string(),
    v.regex(/^(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/, "not a decimal"),
    v.check((s) => Number.isFinite(+s), "not finite"),
  ),
  v.pipe(v.number(), v.finite()),
]);
/** Epoch milliseconds, sent as a string ("1700000000123"). */
export const MsStr = v.union([v.pipe(v.string(), v.regex(/^\d+$/, "not an integer")), v.pipe(v.number(), v.integer())]);

export const WireLevel = v.object({ price: NumStr, size: NumStr });
export type WireLevel = v.InferOutput<typeof WireLevel>;

export const Side = v.picklist(["BUY", "SELL"]);

/**
 * REST `GET /book?token_id=T`; the socket `book` event is the same plus `event_type`. Older messages named the
 * sides `buys`/`sells`: either name is accepted, one of them is required per side.
 */
const bookEntries = {
  market: v.string(),
  asset_id: v.pipe(v.string(), v.minLength(1)),
  timestamp: v.optional(MsStr),
  hash: v.optional(v.string()),
  bids: v.optional(v.array(WireLevel)),
  asks: v.optional(v.array(WireLevel)),
  buys: v.optional(v.array(WireLevel)),
  sells: v.optional(v.array(WireLevel)),
};
type BookSides = { bids?: unknown; asks?: unknown; buys?: unknown; sells?: unknown };
const hasBothSides = <T extends BookSides>(b: T) =>
  (b.bids ?? b.buys) !== undefined && (b.asks ?? b.sells) !== undefined;
const SIDES_MSG = "a book needs bids/buys and asks/sells";
export const RestBook = v.pipe(v.object(bookEntries), v.check(hasBothSides, SIDES_MSG));
export type RestBook = v.InferOutput<typeof RestBook>;
export const WireBook = v.pipe(
  v.object({ ...bookEntries, event_type: v.literal("book") }),
  v.check(hasBothSides, SIDES_MSG),
);
export type WireBook = v.InferOutput<typeof WireBook>;

export const WirePriceChangeEntry = v.object({
  asset_id: v.pipe(v.string(), v.minLength(1)),
  price: NumStr,
  /** Optional in the venue's own client: an entry without a usable size is skipped alone by the mapper. */
  size: v.optional(v.unknown()),
  side: Side,
  hash: v.optional(v.string()),
  best_bid: v.optional(v.string()),
  best_ask: v.optional(v.string()),
});

/** Current form: `price_changes[]` with an asset_id each. The pre-2025-09 form: one top-level asset_id and `changes[]`. */
export const WirePriceChange = v.union([
  v.object({
    event_type: v.literal("price_change"),
    market: v.string(),
    timestamp: v.optional(MsStr),
    price_changes: v.array(WirePriceChangeEntry),
  }),
  v.object({
    event_type: v.literal("price_change"),
    market: v.string(),
    asset_id: v.pipe(v.string(), v.minLength(1)),
    timestamp: v.optional(MsStr),
    changes: v.array(
      v.object({ ...WirePriceChangeEntry.entries, asset_id: v.optional(v.pipe(v.string(), v.minLength(1))) }),
    ),
  }),
]);
export type WirePriceChange = v.InferOutput<typeof WirePriceChange>;

/** Informational: counted, never applied to a book. */
export const INFO_EVENT_TYPES = ["tick_size_change", "last_trade_price", "best_bid_ask", "new_market"] as const;
export const WireInfo = v.object({ event_type: v.picklist(INFO_EVENT_TYPES) });

export const WireResolved = v.object({
  event_type: v.literal("market_resolved"),
  market: v.string(),
  assets_ids: v.optional(v.array(v.string())),
  winning_asset_id: v.optional(v.string()),
  timestamp: v.optional(MsStr),
});

/** Any single market-channel message we understand. */
export const WireMessage = v.union([WireBook, WirePriceChange, WireResolved, WireInfo]);
export type WireMessage = v.InferOutput<typeof WireMessage>;

/** Subscribe messages we send. */
export interface InitialSubscribe {
  assets_ids: string[];
  type: "market";
  initial_dump: true;
  /** Adds best_bid_ask, new_market and market_resolved events (we need market_resolved). */
  custom_feature_enabled: true;
}
export interface DynamicSubscribe {
  operation: "subscribe" | "unsubscribe";
  assets_ids: string[];
}

// ---- Gamma REST (discovery) ----

const NumLoose = v.optional(v.nullable(v.union([v.number(), v.string()])));
const Tag = v.object({ label: v.optional(v.nullable(v.string())), slug: v.optional(v.nullable(v.string())) });

export const GammaMarket = v.object({
  conditionId: v.pipe(v.string(), v.minLength(1)),
  question: v.optional(v.nullable(v.string())),
  slug: v.optional(v.nullable(v.string())),
  endDate: v.optional(v.nullable(v.string())),
  createdAt: v.optional(v.nullable(v.string())),
  active: v.optional(v.nullable(v.boolean())),
  closed: v.optional(v.nullable(v.boolean())),
  acceptingOrders: v.optional(v.nullable(v.boolean())),
  /** false: the market has no CLOB order book (nothing to subscribe to); kept in the universe line, never scheduled. */
  enableOrderBook: v.optional(v.nullable(v.boolean())),
  negRisk: v.optional(v.nullable(v.boolean())),
  orderPriceMinTickSize: NumLoose,
  closedTime: v.optional(v.nullable(v.string())),
  /** JSON-encoded array of token ids, e.g. "[\"123\",\"456\"]". */
  clobTokenIds: v.string(),
  /** JSON-encoded array of outcome names, e.g. "[\"Yes\",\"No\"]". */
  outcomes: v.string(),
  volume: NumLoose,
  volumeNum: NumLoose,
  liquidity: NumLoose,
  liquidityNum: NumLoose,
  tags: v.optional(v.nullable(v.array(Tag))),
  events: v.optional(v.nullable(v.array(v.object({ tags: v.optional(v.nullable(v.array(Tag))) })))),
});
export type GammaMarket = v.InferOutput<typeof GammaMarket>;

/** `GET /markets/keyset` envelope. Markets are validated one by one so one bad market does not lose the page. */
export const GammaKeysetPage = v.object({
  markets: v.array(v.unknown()),
  next_cursor: v.optional(v.nullable(v.string())),
});
