/**
 * Pure Kalshi mapping: wire text/objects in, normalized venue events out. Kalshi books are bids only per side;
 * our outcome `yes` = YES bids + asks derived from NO bids at 1 − p (NO's sizes), `no` symmetric. Prices are
 * dollars 0..1 (cents / 100), rounded to the 1e-4 tick so derived prices are exact (0.6, not 0.6000000000000001).
 */
import * as v from "valibot";
import type { BookSnapshotEvent, LevelEvent, RejectedEvent } from "../types.ts";
import type { MarketInfo } from "../../market.ts";
import {
  DataEnvelopeSchema,
  ErrorReplySchema,
  isDeltaMsg,
  MarketSchema,
  RestOrderbookSchema,
  SnapshotMsgSchema,
  SubscribedSchema,
  type DeltaMsg,
  type SnapshotMsg,
} from "./wire.ts";

export const VENUE = "kalshi";
export const OUTCOMES = ["yes", "no"] as const;

/** Round to the 1e-4 dollar tick. */
export function roundTick(p: number): number {
  return Math.round(p * 10_000) / 10_000;
}
/** The price of the opposite outcome's ask implied by a bid at p. */
export function complement(p: number): number {
  return Math.round((1 - p) * 10_000) / 10_000;
}

/** A decoded frame: data (snapshot/delta), a command reply, something else (counted), or a rejection. */
export type Decoded =
  | { kind: "snapshot"; sid: number; seq: number; msg: SnapshotMsg }
  | { kind: "delta"; sid: number; seq: number; msg: DeltaMsg }
  | { kind: "subscribed"; id: number | undefined; sid: number; channel: string | undefined }
  | { kind: "error"; id: number | undefined; code: number | undefined; text: string }
  | { kind: "reply"; type: string; id: number | undefined; sid: number | undefined; seq: number | undefined }
  /** sid/seq/ticker are set when the envelope was readable: the seq still counts and that book needs a snapshot. */
  | { kind: "rejected"; reason: string; sample: string; sid?: number; seq?: number; ticker?: string };

const SAMPLE = 200;
const reject = (reason: string, text: string): Decoded => ({
  kind: "rejected",
  reason,
  sample: text.length > SAMPLE ? text.slice(0, SAMPLE) : text,
});
const int = (x: unknown): number | undefined => (Number.isInteger(x) ? (x as number) : undefined);

/** A data message whose body is unusable but whose envelope says which sid/seq (and maybe market) it was. */
function rejectData(reason: string, text: string, m: Record<string, unknown>): Decoded {
  const r = reject(reason, text) as Extract<Decoded, { kind: "rejected" }>;
  const sid = int(m.sid);
  const seq = int(m.seq);
  if (sid === undefined || seq === undefined) return r;
  const t = (m.msg as { market_ticker?: unknown } | null)?.market_ticker;
  return { ...r, sid, seq, ticker: typeof t === "string" && t !== "" ? t : undefined };
}

/** JSON.parse plus validation at the edge. Deltas take the hand-checked fast path; everything else goes through valibot. */
export function decodeFrame(text: string): Decoded {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return reject("invalid_json", text);
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return reject("not_an_object", text);
  const m = o as Record<string, unknown>;
  const type = m.type;
  if (type === "orderbook_delta") {
    const sid = m.sid;
    const seq = m.seq;
    if (!Number.isInteger(sid) || !Number.isInteger(seq)) return reject("delta_bad_envelope", text);
    if (!isDeltaMsg(m.msg)) return rejectData("delta_bad_msg", text, m);
    return { kind: "delta", sid: sid as number, seq: seq as number, msg: m.msg };
  }
  if (type === "orderbook_snapshot") {
    const env = v.safeParse(DataEnvelopeSchema, m);
    if (!env.success) return reject("snapshot_bad_envelope", text);
    const msg = v.safeParse(SnapshotMsgSchema, m.msg);
    if (!msg.success) return rejectData("snapshot_bad_msg", text, m);
    return { kind: "snapshot", sid: env.output.sid, seq: env.output.seq, msg: msg.output };
  }
  if (type === "subscribed") {
    const r = v.safeParse(SubscribedSchema, m);
    if (!r.success) return reject("subscribed_bad_msg", text);
    return { kind: "subscribed", id: r.output.id, sid: r.output.msg.sid, channel: r.output.msg.channel };
  }
  if (type === "error") {
    const r = v.safeParse(ErrorReplySchema, m);
    if (!r.success) return { kind: "error", id: undefined, code: undefined, text: text.slice(0, SAMPLE) };
    return { kind: "error", id: r.output.id ?? undefined, code: r.output.msg?.code, text: r.output.msg?.msg ?? "" };
  }
  if (typeof type !== "string") return reject("no_type", text);
  return {
    kind: "reply",
    type,
    id: int(m.id),
    sid: int(m.sid),
    seq: int(m.seq),
  };
}

function sourceTsOf(msg: DeltaMsg): number | null {
  if (msg.ts_ms !== undefined) return msg.ts_ms;
  if (typeof msg.ts === "number") return msg.ts * 1000;
  if (typeof msg.ts === "string") return isoMillis(msg.ts);
  return null;
}

/** ISO-8601 fraction beyond milliseconds (the venue sends micro- and nanoseconds): cut to 3 digits before parsing. */
const FRACTION = /(\.\d{3})\d+/;

/** ISO-8601 text → epoch ms (µs/ns fractions truncated, not rounded: a row never claims a later time); null if unreadable. */
export function isoMillis(s: string): number | null {
  const t = Date.parse(s.replace(FRACTION, "$1"));
  return Number.isFinite(t) ? t : null;
}

/** `orderbook_delta` → one `add` level on the side's own bids and one on the other outcome's asks at 1 − p. */
export function deltaEvents(msg: DeltaMsg, seq: number | null): [LevelEvent, LevelEvent] | RejectedEvent {
  let price: number;
  if (msg.price_dollars !== undefined) price = roundTick(+msg.price_dollars);
  else if (msg.price !== undefined) price = roundTick(msg.price / 100);
  else return { kind: "rejected", reason: "delta_no_price", sample: msg.market_ticker };
  if (!(price >= 0 && price <= 1))
    return { kind: "rejected", reason: "price_out_of_range", sample: `${msg.market_ticker} ${price}` };
  let size: number;
  if (msg.delta_fp !== undefined) size = +msg.delta_fp;
  else if (msg.delta !== undefined) size = msg.delta;
  else return { kind: "rejected", reason: "delta_no_size", sample: msg.market_ticker };
  const sourceTs = sourceTsOf(msg);
  const own = msg.side;
  const other = own === "yes" ? "no" : "yes";
  const marketId = msg.market_ticker;
  return [
    { kind: "level", marketId, outcomeId: own, side: "bid", price, size, mode: "add", seq, bookSeq: false, sourceTs },
    {
      kind: "level",
      marketId,
      outcomeId: other,
      side: "ask",
      price: complement(price),
      size,
      mode: "add",
      seq,
      bookSeq: false,
      sourceTs,
    },
  ];
}

interface Bids {
  px: number[];
  sz: number[];
}

/** Converts one side's bid list; null when a price or size is unusable. */
function bids(
  levels: ReadonlyArray<readonly [string | number, string | number]> | null | undefined,
  cents: boolean,
): Bids | null {
  const px: number[] = [];
  const sz: number[] = [];
  if (levels) {
    for (const [p, s] of levels) {
      const price = roundTick(cents ? (p as number) / 100 : +p);
      const size = +s;
      if (!(price >= 0 && price <= 1) || !(size >= 0) || !Number.isFinite(size)) return null;
      px.push(price);
      sz.push(size);
    }
  }
  return { px, sz };
}

/** Two full books from both sides' bids: each outcome's asks are the other side's bids at 1 − p. */
export function booksFromBids(
  marketId: string,
  yes: Bids,
  no: Bids,
  seq: number | null,
  sourceTs: number | null,
): [BookSnapshotEvent, BookSnapshotEvent] {
  return [
    {
      kind: "book",
      marketId,
      outcomeId: "yes",
      bidPx: yes.px.slice(),
      bidSz: yes.sz.slice(),
      askPx: no.px.map(complement),
      askSz: no.sz.slice(),
      seq,
      sourceTs,
    },
    {
      kind: "book",
      marketId,
      outcomeId: "no",
      bidPx: no.px.slice(),
      bidSz: no.sz.slice(),
      askPx: yes.px.map(complement),
      askSz: yes.sz.slice(),
      seq,
      sourceTs,
    },
  ];
}

/** `orderbook_snapshot` → `book` for yes and no. Newest form wins when a message carries several. */
export function snapshotEvents(
  msg: SnapshotMsg,
  seq: number | null,
  sourceTs: number | null = null,
): [BookSnapshotEvent, BookSnapshotEvent] | RejectedEvent {
  const yes = pickSide(msg.yes_dollars_fp, msg.yes_dollars, msg.yes);
  const no = pickSide(msg.no_dollars_fp, msg.no_dollars, msg.no);
  if (!yes || !no) return { kind: "rejected", reason: "snapshot_bad_level", sample: msg.market_ticker };
  return booksFromBids(msg.market_ticker, yes, no, seq, sourceTs);
}

function pickSide(
  fp: SnapshotMsg["yes_dollars_fp"],
  dollars: SnapshotMsg["yes_dollars"],
  cents: SnapshotMsg["yes"],
): Bids | null {
  if (fp) return bids(fp, false);
  if (dollars) return bids(dollars, false);
  return bids(cents, true);
}

/** REST `/markets/{ticker}/orderbook` (either form) → `book` for yes and no; a rejection when the body is not a book. */
export function restBookEvents(
  ticker: string,
  body: unknown,
  sourceTs: number | null,
): [BookSnapshotEvent, BookSnapshotEvent] | RejectedEvent {
  const r = v.safeParse(RestOrderbookSchema, body);
  if (!r.success) return { kind: "rejected", reason: "rest_orderbook_bad_body", sample: ticker };
  const fp = r.output.orderbook_fp;
  const old = r.output.orderbook;
  let yes: Bids | null;
  let no: Bids | null;
  if (fp) {
    yes = bids(fp.yes_dollars, false);
    no = bids(fp.no_dollars, false);
  } else if (old) {
    yes = bids(old.yes, true);
    no = bids(old.no, true);
  } else return { kind: "rejected", reason: "rest_orderbook_empty_body", sample: ticker };
  if (!yes || !no) return { kind: "rejected", reason: "rest_orderbook_bad_level", sample: ticker };
  return booksFromBids(ticker, yes, no, null, sourceTs);
}

const num = (fp: string | null | undefined, n: number | null | undefined): number | null => {
  if (fp !== undefined && fp !== null && fp !== "") {
    const x = Number(fp);
    if (Number.isFinite(x)) return x;
  }
  return n ?? null;
};
const isoMs = (s: string | null | undefined): number | null => (s ? isoMillis(s) : null);

/** Venue market statuses → the universe's words: only `active` is tradable; the venue's own word is kept in extra. */
const STATUS: Record<string, string> = {
  active: "active",
  open: "active",
  initialized: "inactive",
  unopened: "inactive",
  paused: "paused",
  closed: "closed",
  determined: "closed",
  settled: "closed",
  finalized: "closed",
};

/** A display part that carries no words: empty, or punctuation only (the venue sends "::" as a placeholder). */
const placeholder = (s: string | undefined): boolean => !s || !/[\p{L}\p{N}]/u.test(s);

/** Display title from `title` and `subtitle`/`yes_sub_title`, placeholders dropped, falling back to the ticker. */
export function displayTitle(m: { ticker: string; title?: string; subtitle?: string; yes_sub_title?: string }): string {
  const title = placeholder(m.title) ? "" : m.title!.trim();
  const sub = [m.subtitle, m.yes_sub_title].find((x) => !placeholder(x))?.trim() ?? "";
  if (title && sub) return `${title} — ${sub}`;
  return title || sub || m.ticker;
}

/**
 * One `/markets` entry → MarketInfo, or the reason it is skipped. A market past its close_time is skipped even when
 * the listing calls it open (status=open can return markets that settled in the last seconds).
 */
export function marketInfo(raw: unknown, now: number): MarketInfo | { skip: string } {
  const r = v.safeParse(MarketSchema, raw);
  if (!r.success) return { skip: "invalid_market" };
  const m = r.output;
  const close = isoMs(m.close_time);
  if (close !== null && close <= now) return { skip: "past_close_time" };
  const status = m.status === undefined ? "active" : (STATUS[m.status] ?? m.status);
  const tags: string[] = [];
  if (m.event_ticker) tags.push(m.event_ticker);
  if (m.category) tags.push(m.category);
  return {
    venue: VENUE,
    market_id: m.ticker,
    outcome_ids: ["yes", "no"],
    title: displayTitle(m),
    close_ts: close,
    status,
    tags,
    created_ts: isoMs(m.open_time),
    extra: {
      event_ticker: m.event_ticker ?? null,
      volume: num(m.volume_fp, m.volume),
      open_interest: num(m.open_interest_fp, m.open_interest),
      ...(m.status !== undefined && m.status !== "open" && STATUS[m.status] !== m.status
        ? { venue_status: m.status }
        : {}),
      ...(m.market_type ? { market_type: m.market_type } : {}),
      ...(m.strike_type ? { strike_type: m.strike_type } : {}),
      ...(m.result ? { result: m.result } : {}),
    },
  };
}
