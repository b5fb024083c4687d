/** The canonical snapshot row (docs/storage-format.md "The snapshot row"), its exact Arrow schema, and the normalization rules. */
import { Field, Float64, Int64, List, Schema, Utf8 } from "apache-arrow";

export type SnapshotStatus = "ok" | "stale" | "partial" | "empty";

/** One snapshot row as read back or built in tests. The hot path never builds these (see SnapshotInput). */
export interface SnapshotRow {
  ts_recv: number;
  venue: string;
  market_id: string;
  outcome_id: string;
  seq: number;
  best_bid_px: number;
  best_bid_sz: number;
  best_ask_px: number;
  best_ask_sz: number;
  mid: number;
  spread: number;
  bid_px: number[];
  bid_sz: number[];
  ask_px: number[];
  ask_sz: number[];
  status: SnapshotStatus;
  err: string | null;
  source_ts: number | null;
  /** Derived: sum of the top-3 bid sizes (0 when empty). */
  bid_depth3: number;
  /** Derived: sum of the top-3 ask sizes (0 when empty). */
  ask_depth3: number;
}

/** Required columns, in order, then derived ones. Never reorder or retype: the files on disk depend on it. */
export const REQUIRED_COLUMNS = [
  "ts_recv",
  "venue",
  "market_id",
  "outcome_id",
  "seq",
  "best_bid_px",
  "best_bid_sz",
  "best_ask_px",
  "best_ask_sz",
  "mid",
  "spread",
  "bid_px",
  "bid_sz",
  "ask_px",
  "ask_sz",
  "status",
  "err",
  "source_ts",
] as const;
export const DERIVED_COLUMNS = ["bid_depth3", "ask_depth3"] as const;
export const ALL_COLUMNS = [...REQUIRED_COLUMNS, ...DERIVED_COLUMNS] as const;
export type ColumnName = (typeof ALL_COLUMNS)[number];

const f64 = () => new Float64();
/** list<float64> with a non-null float64 item named "item" (the Arrow/Parquet convention every engine reads). */
export const listF64 = () => new List(new Field("item", new Float64(), false));

export const SNAPSHOT_SCHEMA = new Schema([
  new Field("ts_recv", new Int64(), false),
  new Field("venue", new Utf8(), false),
  new Field("market_id", new Utf8(), false),
  new Field("outcome_id", new Utf8(), false),
  new Field("seq", new Int64(), false),
  new Field("best_bid_px", f64(), false),
  new Field("best_bid_sz", f64(), false),
  new Field("best_ask_px", f64(), false),
  new Field("best_ask_sz", f64(), false),
  new Field("mid", f64(), false),
  new Field("spread", f64(), false),
  new Field("bid_px", listF64(), false),
  new Field("bid_sz", listF64(), false),
  new Field("ask_px", listF64(), false),
  new Field("ask_sz", listF64(), false),
  new Field("status", new Utf8(), false),
  new Field("err", new Utf8(), true),
  new Field("source_ts", new Int64(), true),
  new Field("bid_depth3", f64(), false),
  new Field("ask_depth3", f64(), false),
]);

/**
 * A book side as the collector holds it: parallel typed arrays, `len` levels used, already sorted
 * (bids descending, asks ascending), no zero or negative sizes.
 */
export interface SideView {
  px: Float64Array;
  sz: Float64Array;
  len: number;
}

/** What the snapshotter hands the writer for one (market, outcome): one object per snapshot, none per level. */
export interface SnapshotInput {
  tsRecv: number;
  venue: string;
  marketId: string;
  outcomeId: string;
  seq: number;
  bids: SideView;
  asks: SideView;
  /** Set when the book is known to be out of date (seq gap awaiting resync, silent feed, disconnected). */
  staleReason: string | null;
  sourceTs: number | null;
}

/** Anything that accepts snapshots (the Parquet writer, a test collector). */
export interface SnapshotSink {
  append(s: SnapshotInput): void;
  /** Every row appended with an earlier ts_recv is durable (the writer's last complete flush); journaled on `alive`. */
  durableBefore?(): number;
  /** Rows dropped for `venue` since the last call, per hour start (epoch ms); journaled as `dropped`. */
  takeDropped?(venue: string): Map<number, number>;
}

/** Status and err from the side lengths and staleness: stale wins, then empty, then partial. */
export function deriveStatus(
  bidLen: number,
  askLen: number,
  staleReason: string | null,
): { status: SnapshotStatus; err: string | null } {
  if (staleReason) return { status: "stale", err: staleReason };
  if (bidLen === 0 && askLen === 0) return { status: "empty", err: "no bids and no asks" };
  if (bidLen === 0) return { status: "partial", err: "no bids" };
  if (askLen === 0) return { status: "partial", err: "no asks" };
  return { status: "ok", err: null };
}

export function depth3(sz: ArrayLike<number>, len: number): number {
  let s = 0;
  for (let i = 0; i < len && i < 3; i++) s += sz[i];
  return s;
}

/**
 * Reference normalization of one snapshot into a row (tests and non-hot paths): sorts each side
 * (bids descending, asks ascending), drops non-finite or non-positive sizes and non-finite prices,
 * caps at topK, and fills best/mid/spread (NaN when a side is missing) and the derived columns.
 */
export function normalizeSnapshot(
  input: {
    tsRecv: number;
    venue: string;
    marketId: string;
    outcomeId: string;
    seq: number;
    bidPx: ArrayLike<number>;
    bidSz: ArrayLike<number>;
    askPx: ArrayLike<number>;
    askSz: ArrayLike<number>;
    staleReason?: string | null;
    sourceTs?: number | null;
  },
  topK: number,
): SnapshotRow {
  const side = (px: ArrayLike<number>, sz: ArrayLike<number>, desc: boolean) => {
    const idx: number[] = [];
    for (let i = 0; i < Math.min(px.length, sz.length); i++) {
      if (Number.isFinite(px[i]) && Number.isFinite(sz[i]) && sz[i] > 0 && px[i] >= 0) idx.push(i);
    }
    idx.sort((a, b) => (desc ? px[b] - px[a] : px[a] - px[b]));
    const top = idx.slice(0, topK);
    return { px: top.map((i) => px[i]), sz: top.map((i) => sz[i]) };
  };
  const b = side(input.bidPx, input.bidSz, true);
  const a = side(input.askPx, input.askSz, false);
  const { status, err } = deriveStatus(b.px.length, a.px.length, input.staleReason ?? null);
  const bb = b.px.length ? b.px[0] : NaN;
  const ba = a.px.length ? a.px[0] : NaN;
  const both = b.px.length > 0 && a.px.length > 0;
  return {
    ts_recv: input.tsRecv,
    venue: input.venue,
    market_id: input.marketId,
    outcome_id: input.outcomeId,
    seq: input.seq,
    best_bid_px: bb,
    best_bid_sz: b.px.length ? b.sz[0] : NaN,
    best_ask_px: ba,
    best_ask_sz: a.px.length ? a.sz[0] : NaN,
    mid: both ? (bb + ba) / 2 : NaN,
    spread: both ? ba - bb : NaN,
    bid_px: b.px,
    bid_sz: b.sz,
    ask_px: a.px,
    ask_sz: a.sz,
    status,
    err,
    source_ts: input.sourceTs ?? null,
    bid_depth3: depth3(b.sz, b.sz.length),
    ask_depth3: depth3(a.sz, a.sz.length),
  };
}
