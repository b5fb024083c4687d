/**
 * Columnar row buffer of the writer: one growable typed array per column (lists as values + Int32 offsets,
 * strings as UTF-8 bytes + offsets), filled straight from a SnapshotInput without any per-level object,
 * and turned into an Arrow RecordBatch over those same buffers.
 */
import { DataType, makeData, RecordBatch, Struct, type Data } from "apache-arrow";
import { deriveStatus, SNAPSHOT_SCHEMA, type SnapshotInput } from "../schema.ts";
import { attachStringIds } from "../parquet/encode.ts";

const TWO32 = 4294967296;
const encoder = new TextEncoder();

type Growable = Float64Array | Int32Array | Uint32Array | Uint8Array;

/** The same array when it has room for `need` elements, else a copy at least twice as large. */
function grow<T extends Growable>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

/** int64 stored as two uint32 halves (little-endian) so the hot path never allocates a BigInt. */
class Int64Column {
  words: Uint32Array;
  valid: Uint8Array | null;
  nulls = 0;
  constructor(cap: number, nullable: boolean) {
    this.words = new Uint32Array(cap * 2);
    this.valid = nullable ? new Uint8Array((cap + 7) >> 3) : null;
  }
  /** Room for `rows` rows (the buffer calls this once per growth, so put() never checks). */
  reserve(rows: number): void {
    this.words = grow(this.words, 2 * rows);
    if (this.valid) this.valid = grow(this.valid, (rows + 7) >> 3);
  }
  put(i: number, v: number): void {
    const hi = Math.floor(v / TWO32);
    this.words[2 * i] = v - hi * TWO32;
    this.words[2 * i + 1] = hi;
    if (this.valid) this.valid[i >> 3] |= 1 << (i & 7);
  }
  putNull(i: number): void {
    this.words[2 * i] = 0;
    this.words[2 * i + 1] = 0;
    this.valid![i >> 3] &= ~(1 << (i & 7));
    this.nulls++;
  }
  data(n: number): Data {
    const type = typeOf(this.kind);
    const values = new BigInt64Array(this.words.buffer, this.words.byteOffset, n);
    return this.valid
      ? makeData({
          type,
          length: n,
          nullCount: this.nulls,
          data: values,
          nullBitmap: this.valid.subarray(0, (n + 7) >> 3),
        })
      : makeData({ type, length: n, nullCount: 0, data: values });
  }
  kind = "";
  reset(): void {
    this.nulls = 0;
  }
  /** Rows [r0, r1) as staged-part buffers: [validity], values. */
  part(r0: number, r1: number, out: Uint8Array[], nulls: number[]): void {
    if (this.valid) {
      out.push(bitmapRange(this.valid, r0, r1));
      nulls.push(countNulls(this.valid, r0, r1));
    }
    out.push(view(this.words, 2 * r0, 2 * r1, 4));
  }
}

/**
 * A string column as Arrow wants it (UTF-8 bytes + offsets) plus, per row, the index of its value in the column's
 * table of distinct values: the Parquet encoder dictionary-encodes from those ids (attachStringIds) without hashing
 * bytes, and the same Map lookup gives the UTF-8 bytes without re-encoding the string.
 */
class Utf8Column {
  off: Int32Array;
  bytes: Uint8Array;
  ids: Int32Array;
  valid: Uint8Array | null;
  pos = 0;
  nulls = 0;
  kind = "";
  /** Distinct values seen (kept across reset: ids repeat from flush to flush), bounded by MAX_TABLE. */
  private dict = new Map<string, number>();
  private table: Uint8Array[] = [];
  /** The strings of `table`, by id. */
  private strings: string[] = [];
  private lastStr: string | undefined;
  private lastId = -1;
  private static readonly MAX_TABLE = 16_384; // err strings carry timestamps: the table must not grow for ever
  constructor(cap: number, nullable: boolean) {
    this.off = new Int32Array(cap + 1);
    this.bytes = new Uint8Array(cap * 16);
    this.ids = new Int32Array(cap);
    this.valid = nullable ? new Uint8Array((cap + 7) >> 3) : null;
  }
  /** Room for `rows` rows' offsets, ids and validity (string bytes are checked per put: their length varies). */
  reserve(rows: number): void {
    this.off = grow(this.off, rows + 1);
    this.ids = grow(this.ids, rows);
    if (this.valid) this.valid = grow(this.valid, (rows + 7) >> 3);
  }
  private idOf(s: string): number {
    // venue, outcome and status repeat row after row: one comparison instead of a hash lookup
    if (s === this.lastStr) return this.lastId;
    let id = this.dict.get(s);
    if (id === undefined) {
      id = this.table.length;
      this.table.push(encoder.encode(s));
      this.strings.push(s);
      this.dict.set(s, id);
    }
    this.lastStr = s;
    this.lastId = id;
    return id;
  }
  put(i: number, s: string): void {
    const id = this.idOf(s);
    this.ids[i] = id;
    const b = this.table[id];
    const n = b.length;
    let pos = this.pos;
    if (pos + n > this.bytes.length) this.bytes = grow(this.bytes, pos + n);
    const out = this.bytes;
    // ids and statuses are short: a loop beats a native set() call per row
    for (let k = 0; k < n; k++) out[pos++] = b[k];
    this.pos = pos;
    this.off[i + 1] = pos;
    if (this.valid) this.valid[i >> 3] |= 1 << (i & 7);
  }
  /** Rows per distinct non-null value among the first `n` rows (one pass over the ids, no hashing per row). */
  counts(n: number): Map<string, number> {
    const c = new Int32Array(this.table.length);
    for (let i = 0; i < n; i++) if (this.ids[i] >= 0) c[this.ids[i]]++;
    const out = new Map<string, number>();
    for (let id = 0; id < c.length; id++) if (c[id] > 0) out.set(this.strings[id], c[id]);
    return out;
  }
  putNull(i: number): void {
    this.off[i + 1] = this.pos;
    this.ids[i] = -1;
    this.valid![i >> 3] &= ~(1 << (i & 7));
    this.nulls++;
  }
  data(n: number): Data {
    const type = typeOf(this.kind);
    const valueOffsets = this.off.subarray(0, n + 1);
    const data = this.bytes.subarray(0, this.pos);
    const d = this.valid
      ? makeData({
          type,
          length: n,
          nullCount: this.nulls,
          valueOffsets,
          data,
          nullBitmap: this.valid.subarray(0, (n + 7) >> 3),
        })
      : makeData({ type, length: n, nullCount: 0, valueOffsets, data });
    attachStringIds(d, this.ids.subarray(0, n), this.table);
    return d;
  }
  reset(): void {
    this.pos = 0;
    this.nulls = 0;
    if (this.table.length > Utf8Column.MAX_TABLE) {
      // ids of rows already handed out stay valid: their table is the old array, not cleared in place
      this.dict = new Map();
      this.table = [];
      this.strings = [];
      this.lastStr = undefined;
    }
  }
  /** Rows [r0, r1) as staged-part buffers: [validity], offsets rebased to 0 (a copy), bytes. */
  part(r0: number, r1: number, out: Uint8Array[], nulls: number[]): void {
    if (this.valid) {
      out.push(bitmapRange(this.valid, r0, r1));
      nulls.push(countNulls(this.valid, r0, r1));
    }
    out.push(rebased(this.off, r0, r1));
    out.push(this.bytes.subarray(this.off[r0], this.off[r1]));
  }
}

function typeOf(name: string) {
  const f = SNAPSHOT_SCHEMA.fields.find((x) => x.name === name);
  if (!f) throw new Error(`no column ${name}`);
  return f.type;
}

/** One side's two list columns (px, sz); offsets are shared while filling and copied at build (one buffer per column). */
class SideColumns {
  off: Int32Array;
  px: Float64Array;
  sz: Float64Array;
  n = 0;
  constructor(cap: number, levels: number) {
    this.off = new Int32Array(cap + 1);
    this.px = new Float64Array(cap * levels);
    this.sz = new Float64Array(cap * levels);
  }
  /** Copies up to topK valid levels (finite price ≥ 0, finite size > 0) of an already sorted side; returns how many. */
  put(i: number, px: Float64Array, sz: Float64Array, len: number, topK: number): number {
    const start = this.n;
    const room = start + Math.min(len, topK);
    if (room > this.px.length) {
      this.px = grow(this.px, room);
      this.sz = grow(this.sz, room);
    }
    let k = start;
    const end = start + topK;
    for (let j = 0; j < len && k < end; j++) {
      const p = px[j];
      const s = sz[j];
      if (s > 0 && p >= 0 && s !== Infinity && p !== Infinity) {
        this.px[k] = p;
        this.sz[k] = s;
        k++;
      }
    }
    this.n = k;
    this.off[i + 1] = k;
    return k - start;
  }
  reserve(rows: number): void {
    this.off = grow(this.off, rows + 1);
  }
  lists(n: number): [Data, Data] {
    const type = typeOf("bid_px");
    const item = (type as { children: { type: unknown }[] }).children[0].type as never;
    const mk = (vals: Float64Array, off: Int32Array) =>
      makeData({
        type,
        length: n,
        nullCount: 0,
        valueOffsets: off,
        child: makeData({ type: item, length: this.n, nullCount: 0, data: vals.subarray(0, this.n) }),
      });
    return [mk(this.px, this.off.subarray(0, n + 1)), mk(this.sz, this.off.slice(0, n + 1))];
  }
  reset(): void {
    this.n = 0;
  }
  /** Rows [r0, r1) as staged-part buffers of the px list then the sz list, each with its own offsets. */
  part(r0: number, r1: number, out: Uint8Array[]): void {
    const a = this.off[r0];
    const b = this.off[r1];
    out.push(rebased(this.off, r0, r1), view(this.px, a, b, 8));
    out.push(rebased(this.off, r0, r1), view(this.sz, a, b, 8));
  }
}

const view = (a: ArrayBufferView, start: number, end: number, width: number) =>
  new Uint8Array(a.buffer, a.byteOffset + start * width, (end - start) * width);

function rebased(off: Int32Array, r0: number, r1: number): Uint8Array {
  const o = new Int32Array(r1 - r0 + 1);
  const base = off[r0];
  for (let i = 0; i <= r1 - r0; i++) o[i] = off[r0 + i] - base;
  return new Uint8Array(o.buffer);
}

/** Validity bits of rows [r0, r1) starting at bit 0: a view when r0 is byte-aligned (the writer's parts are), else a copy. */
function bitmapRange(valid: Uint8Array, r0: number, r1: number): Uint8Array {
  if ((r0 & 7) === 0) return valid.subarray(r0 >> 3, (r1 + 7) >> 3);
  const out = new Uint8Array((r1 - r0 + 7) >> 3);
  for (let i = r0; i < r1; i++) if ((valid[i >> 3] >> (i & 7)) & 1) out[(i - r0) >> 3] |= 1 << ((i - r0) & 7);
  return out;
}

function countNulls(valid: Uint8Array, r0: number, r1: number): number {
  let n = 0;
  for (let i = r0; i < r1; i++) if (((valid[i >> 3] >> (i & 7)) & 1) === 0) n++;
  return n;
}

/** Per-buffer facts the manifest needs, gathered while appending. */
export interface BufferStats {
  rows: number;
  minTs: number;
  maxTs: number;
  markets: Set<string>;
}

export class ColumnBuffer {
  length = 0;
  minTs = Infinity;
  maxTs = -Infinity;
  /** Rows per market_id in this buffer (the writer's onDurable report), counted from the column's ids when asked. */
  get marketRows(): Map<string, number> {
    return this.marketId.counts(this.length);
  }
  /** Distinct market_ids of this buffer. */
  get markets(): Set<string> {
    return new Set(this.marketRows.keys());
  }

  private tsRecv: Int64Column;
  private seq: Int64Column;
  private sourceTs: Int64Column;
  private venue: Utf8Column;
  private marketId: Utf8Column;
  private outcomeId: Utf8Column;
  private status: Utf8Column;
  private err: Utf8Column;
  private bestBidPx: Float64Array;
  private bestBidSz: Float64Array;
  private bestAskPx: Float64Array;
  private bestAskSz: Float64Array;
  private mid: Float64Array;
  private spread: Float64Array;
  private bidDepth3: Float64Array;
  private askDepth3: Float64Array;
  private bids: SideColumns;
  private asks: SideColumns;

  constructor(
    private readonly topK: number,
    cap = 1024,
  ) {
    const named = <T extends { kind: string }>(c: T, k: string) => ((c.kind = k), c);
    this.tsRecv = named(new Int64Column(cap, false), "ts_recv");
    this.seq = named(new Int64Column(cap, false), "seq");
    this.sourceTs = named(new Int64Column(cap, true), "source_ts");
    this.venue = named(new Utf8Column(cap, false), "venue");
    this.marketId = named(new Utf8Column(cap, false), "market_id");
    this.outcomeId = named(new Utf8Column(cap, false), "outcome_id");
    this.status = named(new Utf8Column(cap, false), "status");
    this.err = named(new Utf8Column(cap, true), "err");
    this.bestBidPx = new Float64Array(cap);
    this.bestBidSz = new Float64Array(cap);
    this.bestAskPx = new Float64Array(cap);
    this.bestAskSz = new Float64Array(cap);
    this.mid = new Float64Array(cap);
    this.spread = new Float64Array(cap);
    this.bidDepth3 = new Float64Array(cap);
    this.askDepth3 = new Float64Array(cap);
    const levels = Math.min(topK, 24);
    this.bids = new SideColumns(cap, levels);
    this.asks = new SideColumns(cap, levels);
  }

  append(s: SnapshotInput): void {
    const i = this.length;
    if (i >= this.mid.length) this.growRows(i + 1);
    this.tsRecv.put(i, s.tsRecv);
    this.seq.put(i, s.seq);
    if (s.sourceTs === null || s.sourceTs === undefined) this.sourceTs.putNull(i);
    else this.sourceTs.put(i, s.sourceTs);
    this.venue.put(i, s.venue);
    this.marketId.put(i, s.marketId);
    this.outcomeId.put(i, s.outcomeId);

    const b0 = this.bids.n;
    const a0 = this.asks.n;
    const nb = this.bids.put(i, s.bids.px, s.bids.sz, s.bids.len, this.topK);
    const na = this.asks.put(i, s.asks.px, s.asks.sz, s.asks.len, this.topK);
    const bb = nb > 0 ? this.bids.px[b0] : NaN;
    const ba = na > 0 ? this.asks.px[a0] : NaN;
    this.bestBidPx[i] = bb;
    this.bestBidSz[i] = nb > 0 ? this.bids.sz[b0] : NaN;
    this.bestAskPx[i] = ba;
    this.bestAskSz[i] = na > 0 ? this.asks.sz[a0] : NaN;
    const both = nb > 0 && na > 0;
    this.mid[i] = both ? (bb + ba) / 2 : NaN;
    this.spread[i] = both ? ba - bb : NaN;
    this.bidDepth3[i] = sum3(this.bids.sz, b0, nb);
    this.askDepth3[i] = sum3(this.asks.sz, a0, na);

    const st = deriveStatus(nb, na, s.staleReason ?? null);
    this.status.put(i, st.status);
    if (st.err === null) this.err.putNull(i);
    else this.err.put(i, st.err);

    if (s.tsRecv < this.minTs) this.minTs = s.tsRecv;
    if (s.tsRecv > this.maxTs) this.maxTs = s.tsRecv;
    this.length = i + 1;
  }

  /** Approximate bytes held (for status). */
  byteSize(): number {
    return (
      this.mid.length * 8 * 8 +
      (this.bids.px.length + this.asks.px.length) * 16 +
      this.marketId.bytes.length +
      this.outcomeId.bytes.length
    );
  }

  /** An Arrow RecordBatch over this buffer's arrays (no copy except the second list's offsets). Valid until reset(). */
  toRecordBatch(): RecordBatch {
    const n = this.length;
    const f = (a: Float64Array, name: string) =>
      makeData({ type: typeOf(name) as never, length: n, nullCount: 0, data: a.subarray(0, n) });
    const [bidPx, bidSz] = this.bids.lists(n);
    const [askPx, askSz] = this.asks.lists(n);
    const children: Data[] = [
      this.tsRecv.data(n),
      this.venue.data(n),
      this.marketId.data(n),
      this.outcomeId.data(n),
      this.seq.data(n),
      f(this.bestBidPx, "best_bid_px"),
      f(this.bestBidSz, "best_bid_sz"),
      f(this.bestAskPx, "best_ask_px"),
      f(this.bestAskSz, "best_ask_sz"),
      f(this.mid, "mid"),
      f(this.spread, "spread"),
      bidPx,
      bidSz,
      askPx,
      askSz,
      this.status.data(n),
      this.err.data(n),
      this.sourceTs.data(n),
      f(this.bidDepth3, "bid_depth3"),
      f(this.askDepth3, "ask_depth3"),
    ];
    const data = makeData({ type: new Struct(SNAPSHOT_SCHEMA.fields), length: n, nullCount: 0, children });
    return new RecordBatch(SNAPSHOT_SCHEMA, data);
  }

  /**
   * Rows [r0, r1) as one staged part: a header (u32 length, u32 0, JSON with the row count,
   * buffer lengths and null counts, padded to 8) then every column's buffers in schema order, each padded to 8
   * bytes so a reader can view them in place. The big buffers are views of this buffer, not copies.
   */
  partChunks(r0: number, r1: number): Uint8Array[] {
    const bufs: Uint8Array[] = [];
    const nulls: number[] = [];
    const f = (a: Float64Array) => bufs.push(view(a, r0, r1, 8));
    this.tsRecv.part(r0, r1, bufs, nulls);
    this.venue.part(r0, r1, bufs, nulls);
    this.marketId.part(r0, r1, bufs, nulls);
    this.outcomeId.part(r0, r1, bufs, nulls);
    this.seq.part(r0, r1, bufs, nulls);
    for (const a of [this.bestBidPx, this.bestBidSz, this.bestAskPx, this.bestAskSz, this.mid, this.spread]) f(a);
    this.bids.part(r0, r1, bufs);
    this.asks.part(r0, r1, bufs);
    this.status.part(r0, r1, bufs, nulls);
    this.err.part(r0, r1, bufs, nulls);
    this.sourceTs.part(r0, r1, bufs, nulls);
    f(this.bidDepth3);
    f(this.askDepth3);
    const header = new TextEncoder().encode(JSON.stringify({ rows: r1 - r0, lens: bufs.map((b) => b.length), nulls }));
    const head = new Uint8Array(8);
    new DataView(head.buffer).setUint32(0, header.length, true);
    const out: Uint8Array[] = [head, header];
    if (header.length % 8) out.push(PAD.subarray(0, 8 - (header.length % 8)));
    for (const b of bufs) {
      out.push(b);
      if (b.length % 8) out.push(PAD.subarray(0, 8 - (b.length % 8)));
    }
    return out;
  }

  stats(): BufferStats {
    return { rows: this.length, minTs: this.minTs, maxTs: this.maxTs, markets: this.markets };
  }

  /** The int64 and string column builders (the float scalars are plain arrays grown below, the lists the sides'). */
  private keyedColumns() {
    return [this.tsRecv, this.seq, this.sourceTs, this.venue, this.marketId, this.outcomeId, this.status, this.err];
  }

  /** Empties the buffer, keeping its capacity for reuse. */
  reset(): void {
    this.length = 0;
    this.minTs = Infinity;
    this.maxTs = -Infinity;
    for (const c of this.keyedColumns()) c.reset();
    this.bids.reset();
    this.asks.reset();
  }

  /** Grows every per-row array at once, so the per-column puts of the hot path never check capacity. */
  private growRows(need: number): void {
    const rows = Math.max(need, this.mid.length * 2);
    for (const c of this.keyedColumns()) c.reserve(rows);
    this.bids.reserve(rows);
    this.asks.reserve(rows);
    this.bestBidPx = grow(this.bestBidPx, rows);
    this.bestBidSz = grow(this.bestBidSz, rows);
    this.bestAskPx = grow(this.bestAskPx, rows);
    this.bestAskSz = grow(this.bestAskSz, rows);
    this.mid = grow(this.mid, rows);
    this.spread = grow(this.spread, rows);
    this.bidDepth3 = grow(this.bidDepth3, rows);
    this.askDepth3 = grow(this.askDepth3, rows);
  }
}

function sum3(sz: Float64Array, start: number, n: number): number {
  let s = 0;
  for (let j = 0; j < n && j < 3; j++) s += sz[start + j];
  return s;
}

const PAD = new Uint8Array(8);

/** Buffers per staged part: per column its validity (when nullable), then values (+ offsets for strings and lists). */
const PART_BUFFERS = SNAPSHOT_SCHEMA.fields.reduce(
  (n, f) => n + (f.nullable ? 1 : 0) + (DataType.isUtf8(f.type) || DataType.isList(f.type) ? 2 : 1),
  0,
);

/** A staged part (see ColumnBuffer.partChunks) as an Arrow RecordBatch whose buffers are views of `bytes`. */
export function decodePart(bytes: Uint8Array): RecordBatch {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(0, true);
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as {
    rows: number;
    lens: number[];
    nulls: number[];
  };
  // a part staged under another schema (a column added or removed since) must not be read column-shifted
  if (!Array.isArray(h.lens) || h.lens.length !== PART_BUFFERS)
    throw new Error(`staged part has ${h.lens?.length} buffers, the schema needs ${PART_BUFFERS}`);
  const n = h.rows;
  let pos = 8 + hlen + ((8 - (hlen % 8)) % 8);
  let k = 0;
  let nk = 0;
  const next = (): Uint8Array => {
    const len = h.lens[k++];
    if (pos + len > bytes.length) throw new Error("staged part truncated");
    const b = bytes.subarray(pos, pos + len);
    pos += len + ((8 - (len % 8)) % 8);
    return b;
  };
  const copyAligned = (b: Uint8Array) => (b.byteOffset % 8 === 0 ? b : b.slice());
  const f64 = (b: Uint8Array) => {
    const a = copyAligned(b);
    return new Float64Array(a.buffer, a.byteOffset, a.length / 8);
  };
  const i64 = (b: Uint8Array) => {
    const a = copyAligned(b);
    return new BigInt64Array(a.buffer, a.byteOffset, a.length / 8);
  };
  const i32 = (b: Uint8Array) => {
    const a = copyAligned(b);
    return new Int32Array(a.buffer, a.byteOffset, a.length / 4);
  };
  const children: Data[] = [];
  for (const field of SNAPSHOT_SCHEMA.fields) {
    const type = field.type;
    const nullBitmap = field.nullable ? next() : undefined;
    const nullCount = field.nullable ? h.nulls[nk++] : 0;
    if (DataType.isInt(type)) children.push(makeData({ type, length: n, nullCount, nullBitmap, data: i64(next()) }));
    else if (DataType.isFloat(type)) children.push(makeData({ type, length: n, nullCount, data: f64(next()) }));
    else if (DataType.isUtf8(type))
      children.push(makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: i32(next()), data: next() }));
    else if (DataType.isList(type)) {
      const valueOffsets = i32(next());
      const vals = f64(next());
      children.push(
        makeData({
          type,
          length: n,
          nullCount,
          valueOffsets,
          child: makeData({ type: type.children[0].type, length: vals.length, nullCount: 0, data: vals }),
        }),
      );
    } else throw new Error(`staged part: unexpected column type ${type}`);
  }
  return new RecordBatch(
    SNAPSHOT_SCHEMA,
    makeData({ type: new Struct(SNAPSHOT_SCHEMA.fields), length: n, nullCount: 0, children }),
  );
}
