/**
 * A small streaming Parquet encoder for the snapshot schema's flat int64/float64/utf8/list<float64> columns: v1 data
 * pages, PLAIN or RLE_DICTIONARY, RLE-hybrid levels, native ZSTD, one page per column chunk per row group. Why ours
 * and not parquet-wasm (measured): docs/storage-format.md.
 */
import { type Data, DataType, type RecordBatch, type Schema } from "apache-arrow";

// parquet.thrift enums
const T_INT64 = 2,
  T_DOUBLE = 5,
  T_BYTE_ARRAY = 6;
const REQUIRED = 0,
  OPTIONAL = 1,
  REPEATED = 2;
const CT_UTF8 = 0,
  CT_LIST = 3;
const ENC_PLAIN = 0,
  ENC_RLE = 3,
  ENC_RLE_DICTIONARY = 8;
const CODEC_UNCOMPRESSED = 0,
  CODEC_ZSTD = 6;
const PAGE_DATA = 0,
  PAGE_DICTIONARY = 2;
// thrift compact types
const CT_I32 = 5,
  CT_I64 = 6,
  CT_BINARY = 8,
  CT_LIST_T = 9,
  CT_STRUCT = 12;

/** Thrift compact protocol, just what the Parquet footer and page headers need. */
class Thrift {
  private buf = new Uint8Array(256);
  private n = 0;
  private last: number[] = [0];

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
  private byte(b: number): void {
    if (this.n >= this.buf.length) {
      const nb = new Uint8Array(this.buf.length * 2);
      nb.set(this.buf);
      this.buf = nb;
    }
    this.buf[this.n++] = b;
  }
  /** Unsigned varint of a non-negative safe integer (no 32-bit bit ops: offsets can exceed 2^31). */
  private uvarint(v: number): void {
    while (v >= 128) {
      this.byte((v % 128) | 128);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }
  private zigzag(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  private field(id: number, type: number): void {
    const top = this.last.length - 1;
    const delta = id - this.last[top];
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.last[top] = id;
  }
  i32(id: number, v: number): this {
    this.field(id, CT_I32);
    this.zigzag(v);
    return this;
  }
  i64(id: number, v: number): this {
    this.field(id, CT_I64);
    this.zigzag(v);
    return this;
  }
  binary(id: number, b: Uint8Array): this {
    this.field(id, CT_BINARY);
    this.uvarint(b.length);
    for (let i = 0; i < b.length; i++) this.byte(b[i]);
    return this;
  }
  string(id: number, s: string): this {
    return this.binary(id, new TextEncoder().encode(s));
  }
  /** A struct field: `body` writes its fields. */
  struct(id: number, body: (t: this) => void): this {
    this.field(id, CT_STRUCT);
    this.inStruct(body);
    return this;
  }
  private inStruct(body: (t: this) => void): void {
    this.last.push(0);
    body(this);
    this.byte(0); // STOP
    this.last.pop();
  }
  private listHeader(id: number, size: number, elemType: number): void {
    this.field(id, CT_LIST_T);
    if (size < 15) this.byte((size << 4) | elemType);
    else {
      this.byte(0xf0 | elemType);
      this.uvarint(size);
    }
  }
  listI32(id: number, xs: number[]): this {
    this.listHeader(id, xs.length, CT_I32);
    for (const x of xs) this.zigzag(x);
    return this;
  }
  listString(id: number, xs: string[]): this {
    this.listHeader(id, xs.length, CT_BINARY);
    for (const x of xs) {
      const b = new TextEncoder().encode(x);
      this.uvarint(b.length);
      for (let i = 0; i < b.length; i++) this.byte(b[i]);
    }
    return this;
  }
  listStruct<T>(id: number, xs: T[], body: (t: this, x: T) => void): this {
    this.listHeader(id, xs.length, CT_STRUCT);
    for (const x of xs) this.inStruct((t) => body(t, x));
    return this;
  }
  /** Ends the top-level struct. */
  end(): Uint8Array {
    this.byte(0);
    return this.bytes();
  }
}

type Kind = "i64" | "f64" | "utf8" | "listf64";

interface ColumnSpec {
  name: string;
  kind: Kind;
  nullable: boolean;
  /** Leaf name inside a list (`item`, Arrow's convention, so Arrow readers get the same field back). */
  item?: string;
}

/** One column chunk of an encoded row group; offsets are relative to the row group's first byte until it is placed. */
export interface ChunkMeta {
  path: string[];
  type: number;
  /** parquet.thrift CompressionCodec of this chunk's pages. */
  codec: number;
  numValues: number;
  offset: number;
  /** Offset of the dictionary page, when the chunk is dictionary-encoded. */
  dictOffset?: number;
  uncompressed: number;
  compressed: number;
  stats?: { min?: Uint8Array; max?: Uint8Array; nulls: number };
}

function kindOf(type: DataType): Kind {
  if (DataType.isInt(type) && type.bitWidth === 64) return "i64";
  if (DataType.isFloat(type) && type.precision === 2) return "f64";
  if (DataType.isUtf8(type)) return "utf8";
  if (DataType.isList(type) && DataType.isFloat(type.children[0].type)) return "listf64";
  throw new Error(`parquet-encode: unsupported column type ${type}`);
}

/** Growable byte sink for one page body. */
class Bytes {
  buf: Uint8Array;
  n = 0;
  constructor(cap: number) {
    this.buf = new Uint8Array(Math.max(64, cap));
  }
  ensure(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const nb = new Uint8Array(Math.max(this.n + k, this.buf.length * 2));
    nb.set(this.buf.subarray(0, this.n));
    this.buf = nb;
  }
  put(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf[this.n++] = v & 0xff;
    this.buf[this.n++] = (v >>> 8) & 0xff;
    this.buf[this.n++] = (v >>> 16) & 0xff;
    this.buf[this.n++] = (v >>> 24) & 0xff;
  }
}

/** Levels of bit width 1 as one bitset (zero-filled: only ones are written), written as bit-packed runs. */
class BitLevels {
  bits: Uint8Array;
  count = 0;
  constructor(cap: number) {
    this.bits = new Uint8Array((cap + 7) >> 3);
  }
  private room(n: number): void {
    const need = (this.count + n + 7) >> 3;
    if (need <= this.bits.length) return;
    const nb = new Uint8Array(Math.max(need, this.bits.length * 2));
    nb.set(this.bits);
    this.bits = nb;
  }
  /** Empties the levels for reuse (ones() relies on zeroed bits). */
  clear(): void {
    this.bits.fill(0, 0, (this.count + 7) >> 3);
    this.count = 0;
  }
  /** Appends `n` ones with one fill of the whole bytes (list and validity levels are mostly ones). */
  fillOnes(n: number): void {
    this.room(n);
    let p = this.count;
    const end = p + n;
    const bits = this.bits;
    while (p < end && (p & 7) !== 0) bits[p >> 3] |= 1 << (p++ & 7);
    if (end - p >= 8) {
      bits.fill(0xff, p >> 3, end >> 3);
      p = (end >> 3) << 3;
    }
    while (p < end) bits[p >> 3] |= 1 << (p++ & 7);
    this.count = end;
  }
  /** Appends `<u32 length><runs>` to `out`. */
  writeTo(out: Bytes): void {
    const groups = (this.count + 7) >> 3;
    const runs = Math.ceil(groups / 63);
    out.u32(groups + runs);
    out.ensure(groups + runs);
    for (let g = 0; g < groups; g += 63) {
      const k = Math.min(63, groups - g);
      out.buf[out.n++] = (k << 1) | 1;
      out.buf.set(this.bits.subarray(g, g + k), out.n);
      out.n += k;
    }
  }
}

/** Whether two list column chunks have the same list lengths, row for row (then their levels are equal). */
function sameListShape(a: Data[], b: Data[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    if (a[k].length !== b[k].length) return false;
    const x = a[k].valueOffsets as Int32Array;
    const y = b[k].valueOffsets as Int32Array;
    const dx = x[0];
    const dy = y[0];
    for (let i = 1; i <= a[k].length; i++) if (x[i] - dx !== y[i] - dy) return false;
  }
  return true;
}

const bytesOf = (a: ArrayBufferView, start: number, count: number, width: number) =>
  new Uint8Array(a.buffer, a.byteOffset + start * width, count * width);

/** Row i of d is not null (call only when d.nullCount > 0: the bitmap may be absent otherwise). */
const isValid = (d: Data, i: number) => ((d.nullBitmap![(d.offset + i) >> 3] >> ((d.offset + i) & 7)) & 1) === 1;

/**
 * One row group, encoded: its column chunks' bytes back to back (`pieces`, `bytes` in total) and their metadata with
 * offsets relative to the row group's first byte. The writer stages these at flush time; compaction then places them
 * in the final file as they are (ParquetStreamEncoder.writeEncoded), which only shifts the offsets.
 */
export interface EncodedRowGroup {
  rows: number;
  bytes: number;
  pieces: Uint8Array[];
  chunks: ChunkMeta[];
}

/** The leaf columns of a schema as Parquet sees them: path and physical type, in order. */
function columnSpecs(schema: Schema): ColumnSpec[] {
  return schema.fields.map((f) => {
    if (DataType.isList(f.type) && (f.nullable || f.type.children[0].nullable))
      throw new Error(`parquet-encode: ${f.name}: only non-null lists of non-null items`);
    return {
      name: f.name,
      kind: kindOf(f.type),
      nullable: f.nullable,
      item: DataType.isList(f.type) ? f.type.children[0].name : undefined,
    };
  });
}

/** A column's Parquet leaf: its path in the schema and its physical type. */
function leafOf(col: ColumnSpec): { path: string[]; type: number } {
  return col.kind === "listf64"
    ? { path: [col.name, "list", col.item ?? "item"], type: T_DOUBLE }
    : { path: [col.name], type: col.kind === "i64" ? T_INT64 : col.kind === "f64" ? T_DOUBLE : T_BYTE_ARRAY };
}

/**
 * Checks that an encoded row group (possibly read back from staging) fits `schema` and holds together: one chunk per
 * leaf with its path and type, a known codec, pages laid back to back inside its bytes, value counts that cover the
 * rows. Throws (a plain Error: a corrupt part, not an I/O error) otherwise, so a bad part is quarantined instead of
 * producing a final file no reader can open.
 */
export function validateRowGroup(schema: Schema, g: EncodedRowGroup): void {
  const bad = (why: string) => {
    throw new Error(`encoded row group does not fit the schema: ${why}`);
  };
  const leaves = columnSpecs(schema).map(leafOf);
  if (!Number.isInteger(g.rows) || g.rows <= 0 || !Number.isInteger(g.bytes) || g.bytes <= 0) bad("rows/bytes");
  if (!Array.isArray(g.chunks) || g.chunks.length !== leaves.length)
    bad(`${g.chunks?.length} chunks for ${leaves.length} columns`);
  let pos = 0;
  for (let i = 0; i < leaves.length; i++) {
    const c = g.chunks[i];
    const name = leaves[i].path.join(".");
    if (!Array.isArray(c.path) || c.path.join("\u0000") !== leaves[i].path.join("\u0000"))
      bad(`chunk ${i} is ${c.path}, expected ${name}`);
    if (c.type !== leaves[i].type) bad(`${name}: type ${c.type}`);
    if (c.codec !== CODEC_ZSTD && c.codec !== CODEC_UNCOMPRESSED) bad(`${name}: codec ${c.codec}`);
    const first = c.dictOffset ?? c.offset;
    if (first !== pos || (c.dictOffset !== undefined && !(c.dictOffset < c.offset)))
      bad(`${name}: pages not back to back`);
    if (
      !Number.isInteger(c.compressed) ||
      c.compressed <= 0 ||
      !Number.isInteger(c.uncompressed) ||
      c.uncompressed <= 0
    )
      bad(`${name}: sizes`);
    if (!(c.offset < first + c.compressed)) bad(`${name}: data page outside the chunk`);
    pos = first + c.compressed;
    if (
      !Number.isInteger(c.numValues) ||
      c.numValues < g.rows ||
      (leaves[i].path.length === 1 && c.numValues !== g.rows)
    )
      bad(`${name}: ${c.numValues} values for ${g.rows} rows`);
  }
  if (pos !== g.bytes) bad(`chunks end at ${pos}, the row group has ${g.bytes} bytes`);
}

export interface EncoderOptions {
  codec: "zstd" | "uncompressed";
  zstdLevel?: number;
  rowGroupRows: number;
  createdBy?: string;
}

export class ParquetStreamEncoder {
  private readonly cols: ColumnSpec[];
  private pending: RecordBatch[] = [];
  /** Rows accepted but not yet encoded (they still reference their input batches). */
  pendingRows = 0;
  private offset = 0;
  private rowGroups: { rows: number; chunks: ChunkMeta[] }[] = [];
  /** Row groups written so far. */
  get rowGroupCount(): number {
    return this.rowGroups.length;
  }
  // scratch reused by every page: allocating (and zero-filling) megabytes per column was a sixth of the time
  private readonly body = new Bytes(1 << 20);
  private readonly rep = new BitLevels(1 << 16);
  private readonly def = new BitLevels(1 << 16);
  private readonly dictionary = new Float64Dictionary();
  private readonly strings = new StringDictionary();
  /** The last list column's encoded rep+def levels, reused by the next list column when its list lengths match. */
  private readonly levels = { datas: null as Data[] | null, numValues: 0, nvals: 0, bytes: new Bytes(1 << 16) };
  rows = 0;

  constructor(
    private readonly schema: Schema,
    private readonly opts: EncoderOptions,
    private readonly sink: (b: Uint8Array) => Promise<void>,
  ) {
    this.cols = columnSpecs(schema);
  }

  async write(batch: RecordBatch): Promise<void> {
    let b = batch;
    while (b.numRows > 0) {
      const room = this.opts.rowGroupRows - this.pendingRows;
      const take = Math.min(room, b.numRows);
      this.pending.push(take === b.numRows ? b : b.slice(0, take));
      this.pendingRows += take;
      b = take === b.numRows ? b.slice(0, 0) : b.slice(take);
      if (this.pendingRows >= this.opts.rowGroupRows) await this.flushRowGroup();
    }
  }

  async finish(): Promise<number> {
    if (this.pendingRows > 0) await this.flushRowGroup();
    if (this.offset === 0) {
      this.offset = 4;
      await this.sink(MAGIC);
    }
    const footer = this.footer();
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(MAGIC, 4);
    await this.sink(footer);
    await this.sink(tail);
    this.offset += footer.length + 8;
    return this.offset;
  }

  /** Writes the rows accepted so far (if any) as one row group, whatever their count. */
  async flushPending(): Promise<void> {
    if (this.pendingRows > 0) await this.flushRowGroup();
  }

  private async flushRowGroup(): Promise<void> {
    const batches = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    await this.writeEncoded(this.encodeBatches(batches));
  }

  /** `batch` as one row group, encoded but not written (the writer stages it; writeEncoded places it later). */
  encodeRowGroup(batch: RecordBatch): EncodedRowGroup {
    return this.encodeBatches([batch]);
  }

  private encodeBatches(batches: RecordBatch[]): EncodedRowGroup {
    const rows = batches.reduce((s, b) => s + b.numRows, 0);
    const out = { pieces: [] as Uint8Array[], bytes: 0 };
    const chunks: ChunkMeta[] = [];
    for (let c = 0; c < this.cols.length; c++) {
      const datas = batches.map((b) => b.data.children[c]);
      chunks.push(this.encodeColumn(this.cols[c], datas, rows, out));
    }
    this.levels.datas = null; // do not keep the row group's batches alive
    return { rows, bytes: out.bytes, pieces: out.pieces, chunks };
  }

  /** Appends an encoded row group (from this or an earlier encoder with the same schema) to the file. */
  async writeEncoded(g: EncodedRowGroup): Promise<void> {
    validateRowGroup(this.schema, g);
    if (this.offset === 0) {
      this.offset = 4;
      await this.sink(MAGIC);
    }
    const base = this.offset;
    for (const p of g.pieces) await this.sink(p);
    this.offset += g.bytes;
    const chunks = g.chunks.map((c) => ({
      ...c,
      offset: c.offset + base,
      dictOffset: c.dictOffset === undefined ? undefined : c.dictOffset + base,
    }));
    this.rowGroups.push({ rows: g.rows, chunks });
    this.rows += g.rows;
  }

  /**
   * One column chunk of a row group, read as levels → values → pages: the rep/def levels and the values go into the
   * page body (scratch), then the dictionary page (if any) and the data page are appended to `out`. Its metadata,
   * offsets relative to out's start.
   */
  private encodeColumn(
    col: ColumnSpec,
    datas: Data[],
    rows: number,
    out: { pieces: Uint8Array[]; bytes: number },
  ): ChunkMeta {
    this.body.n = 0;
    const levels = col.kind === "listf64" ? this.listLevels(datas) : this.nullLevels(col, datas, rows);
    const values =
      col.kind === "listf64" ? this.listValues(datas, levels.nvals) : this.scalarValues(col, datas, rows, levels.nulls);
    return this.pages(col, levels.numValues, values, out);
  }

  /**
   * A list column's rep and def levels into the body. An empty list is one (rep 0, def 0) entry; a list of n items
   * is rep 0,1,1… and def 1,1,1…. So def is all ones but a zero per empty list, rep all ones but a zero where each
   * list starts: fill, then clear bits. px and sz of a side have the same list lengths: the levels of the previous
   * list column are reused when its lengths match.
   */
  private listLevels(datas: Data[]): { numValues: number; nvals: number; nulls: number } {
    const body = this.body;
    const cached = this.levels;
    if (cached.datas !== null && sameListShape(cached.datas, datas)) {
      body.put(cached.bytes.buf.subarray(0, cached.bytes.n));
      return { numValues: cached.numValues, nvals: cached.nvals, nulls: 0 };
    }
    const rep = this.rep;
    const def = this.def;
    let nvals = 0;
    let entries = 0;
    for (const d of datas) {
      const off = d.valueOffsets as Int32Array;
      nvals += off[d.length] - off[0];
      for (let i = 0; i < d.length; i++) if (off[i + 1] === off[i]) entries++;
    }
    entries += nvals;
    rep.clear();
    def.clear();
    rep.fillOnes(entries);
    def.fillOnes(entries);
    const rb = rep.bits;
    const db = def.bits;
    let p = 0;
    for (const d of datas) {
      const off = d.valueOffsets as Int32Array;
      for (let i = 0; i < d.length; i++) {
        const n = off[i + 1] - off[i];
        rb[p >> 3] &= ~(1 << (p & 7));
        if (n === 0) {
          db[p >> 3] &= ~(1 << (p & 7));
          p++;
        } else p += n;
      }
    }
    rep.writeTo(body);
    def.writeTo(body);
    cached.datas = datas;
    cached.numValues = entries;
    cached.nvals = nvals;
    cached.bytes.n = 0;
    cached.bytes.put(body.buf.subarray(0, body.n));
    return { numValues: entries, nvals, nulls: 0 };
  }

  /** A scalar column's def levels into the body when it is nullable (the validity bits are the levels, max 1). */
  private nullLevels(
    col: ColumnSpec,
    datas: Data[],
    rows: number,
  ): { numValues: number; nvals: number; nulls: number } {
    let nulls = 0;
    if (col.nullable) {
      const def = this.def;
      def.clear();
      for (const d of datas) {
        if (d.nullCount === 0) {
          def.fillOnes(d.length);
          continue;
        }
        // copied bit by bit: the offsets need not align
        const p0 = def.count;
        def.fillOnes(d.length);
        const db = def.bits;
        const bm = d.nullBitmap!;
        const o = d.offset;
        for (let i = 0; i < d.length; i++) {
          if (((bm[(o + i) >> 3] >> ((o + i) & 7)) & 1) === 0) {
            db[(p0 + i) >> 3] &= ~(1 << ((p0 + i) & 7));
            nulls++;
          }
        }
      }
      def.writeTo(this.body);
    }
    return { numValues: rows, nvals: rows - nulls, nulls };
  }

  /** A list column's item values into the body: dictionary indices when the floats have few distinct values, else PLAIN. */
  private listValues(datas: Data[], nvals: number): ColumnValues {
    const body = this.body;
    const ranges: [Float64Array, number, number][] = datas.map((d) => {
      const off = d.valueOffsets as Int32Array;
      return [d.children[0].values as Float64Array, off[0], off[d.length]];
    });
    const dict = this.dictionary.build(ranges, nvals);
    if (dict) this.dictionary.writeIndices(body, nvals);
    else {
      body.ensure(nvals * 8);
      for (const [vals, a, b] of ranges) body.put(bytesOf(vals, a, b - a, 8));
    }
    return { dictPage: dict && floatPage(dict) };
  }

  /** A scalar column's non-null values into the body: a string or float dictionary's indices, else PLAIN; int64 stats. */
  private scalarValues(col: ColumnSpec, datas: Data[], rows: number, nulls: number): ColumnValues {
    const body = this.body;
    if (col.kind === "utf8") {
      const dictPage = this.strings.build(datas);
      if (dictPage) this.strings.writeIndices(body);
      else writePlainStrings(body, datas);
      return { dictPage };
    }
    if (col.kind === "f64" && !col.nullable) {
      const dict = this.dictionary.build(
        datas.map((d) => [d.values as Float64Array, 0, d.length]),
        rows,
      );
      if (dict) {
        this.dictionary.writeIndices(body, rows);
        return { dictPage: floatPage(dict) };
      }
    }
    if (nulls === 0) {
      for (const d of datas) body.put(bytesOf(d.values as ArrayBufferView, 0, d.length, 8));
    } else {
      body.ensure((rows - nulls) * 8);
      for (const d of datas) {
        const src = bytesOf(d.values as ArrayBufferView, 0, d.length, 8);
        const someNull = d.nullCount > 0;
        const bm = d.nullBitmap;
        const o = d.offset;
        const out = body.buf;
        let n = body.n;
        for (let i = 0; i < d.length; i++) {
          if (someNull && ((bm![(o + i) >> 3] >> ((o + i) & 7)) & 1) === 0) continue;
          for (let k = i * 8; k < i * 8 + 8; k++) out[n++] = src[k];
        }
        body.n = n;
      }
    }
    return { stats: col.kind === "i64" ? int64Stats(datas, nulls) : undefined };
  }

  /** The dictionary page (the distinct values, PLAIN) if any, then the data page (the body), appended to `out`. */
  private pages(
    col: ColumnSpec,
    numValues: number,
    { dictPage, stats }: ColumnValues,
    out: { pieces: Uint8Array[]; bytes: number },
  ): ChunkMeta {
    const leaf = leafOf(col);
    let dictOffset: number | undefined;
    let dictBytes = { raw: 0, compressed: 0 };
    if (dictPage) {
      const draw = dictPage.raw;
      const dpage = this.compress(draw);
      const dheader = new Thrift()
        .i32(1, PAGE_DICTIONARY)
        .i32(2, draw.length)
        .i32(3, dpage.length)
        .struct(7, (t) => t.i32(1, dictPage.count).i32(2, ENC_PLAIN))
        .end()
        .slice();
      dictOffset = out.bytes;
      out.pieces.push(dheader, dpage);
      out.bytes += dheader.length + dpage.length;
      dictBytes = { raw: dheader.length + draw.length, compressed: dheader.length + dpage.length };
    }
    const body = this.body;
    const raw = body.buf.subarray(0, body.n);
    const page = this.compress(raw);
    const header = new Thrift()
      .i32(1, PAGE_DATA)
      .i32(2, raw.length)
      .i32(3, page.length)
      .struct(5, (t) =>
        t
          .i32(1, numValues)
          .i32(2, dictPage ? ENC_RLE_DICTIONARY : ENC_PLAIN)
          .i32(3, ENC_RLE)
          .i32(4, ENC_RLE),
      )
      .end()
      .slice();
    const offset = out.bytes;
    out.pieces.push(header, page);
    out.bytes += header.length + page.length;
    return {
      path: leaf.path,
      type: leaf.type,
      codec: this.opts.codec === "zstd" ? CODEC_ZSTD : CODEC_UNCOMPRESSED,
      numValues,
      offset,
      dictOffset,
      uncompressed: dictBytes.raw + header.length + raw.length,
      compressed: dictBytes.compressed + header.length + page.length,
      stats,
    };
  }

  private compress(raw: Uint8Array): Uint8Array {
    // uncompressed: a copy, as `raw` is reused scratch and an encoded row group's pieces outlive it
    return this.opts.codec === "zstd" ? Bun.zstdCompressSync(raw, { level: this.opts.zstdLevel ?? 1 }) : raw.slice();
  }

  private footer(): Uint8Array {
    const t = new Thrift();
    t.i32(1, 1);
    const schema: ((t: Thrift) => void)[] = [(t) => t.string(4, "schema").i32(5, this.cols.length)];
    for (const c of this.cols) {
      if (c.kind === "listf64") {
        schema.push((t) =>
          t
            .i32(3, c.nullable ? OPTIONAL : REQUIRED)
            .string(4, c.name)
            .i32(5, 1)
            .i32(6, CT_LIST)
            .struct(10, (u) => u.struct(3, () => {})),
        );
        schema.push((t) => t.i32(3, REPEATED).string(4, "list").i32(5, 1));
        schema.push((t) =>
          t
            .i32(1, T_DOUBLE)
            .i32(3, REQUIRED)
            .string(4, c.item ?? "item"),
        );
      } else if (c.kind === "utf8") {
        schema.push((t) =>
          t
            .i32(1, T_BYTE_ARRAY)
            .i32(3, c.nullable ? OPTIONAL : REQUIRED)
            .string(4, c.name)
            .i32(6, CT_UTF8)
            .struct(10, (u) => u.struct(1, () => {})),
        );
      } else {
        schema.push((t) =>
          t
            .i32(1, c.kind === "i64" ? T_INT64 : T_DOUBLE)
            .i32(3, c.nullable ? OPTIONAL : REQUIRED)
            .string(4, c.name),
        );
      }
    }
    t.listStruct(2, schema, (u, f) => f(u));
    t.i64(3, this.rows);
    t.listStruct(4, this.rowGroups, (u, rg) => {
      u.listStruct(1, rg.chunks, (v, ch) => {
        v.i64(2, ch.dictOffset ?? ch.offset);
        v.struct(3, (m) => {
          m.i32(1, ch.type)
            .listI32(2, ch.dictOffset === undefined ? [ENC_PLAIN, ENC_RLE] : [ENC_PLAIN, ENC_RLE, ENC_RLE_DICTIONARY])
            .listString(3, ch.path)
            .i32(4, ch.codec);
          m.i64(5, ch.numValues).i64(6, ch.uncompressed).i64(7, ch.compressed).i64(9, ch.offset);
          if (ch.dictOffset !== undefined) m.i64(11, ch.dictOffset);
          if (ch.stats) {
            const s = ch.stats;
            m.struct(12, (x) => {
              x.i64(3, s.nulls);
              if (s.max && s.min) x.binary(5, s.max).binary(6, s.min);
            });
          }
        });
      });
      u.i64(
        2,
        rg.chunks.reduce((s, c) => s + c.uncompressed, 0),
      );
      u.i64(3, rg.rows);
      u.i64(5, rg.chunks[0].dictOffset ?? rg.chunks[0].offset);
      u.i64(
        6,
        rg.chunks.reduce((s, c) => s + c.compressed, 0),
      );
    });
    if (this.opts.createdBy) t.string(6, this.opts.createdBy);
    // column_orders: TYPE_ORDER for every leaf, without which readers ignore min_value/max_value
    t.listStruct(7, this.cols, (u) => u.struct(1, () => {}));
    return t.end();
  }
}

const MAGIC = new TextEncoder().encode("PAR1");

/**
 * RLE_DICTIONARY data: bit width byte, then runs of ≤ 63 groups of 8 indices (`idx[0..n)`), bit-packed. The width is
 * rounded up to 8 or 16 bits when the dictionary allows: byte-aligned indices let ZSTD see the repeats (a book's
 * price levels recur snapshot after snapshot) that odd widths smear across bytes: smaller output, faster ZSTD, and a
 * plain byte copy instead of bit shuffling. Readers take any width ≥ the minimum.
 */
/** What a column's values leave for its pages: the dictionary page's content, if any, and int64 statistics. */
interface ColumnValues {
  dictPage?: { raw: Uint8Array; count: number };
  stats?: ChunkMeta["stats"];
}

/** A float dictionary's values as its page content (PLAIN). */
function floatPage(dict: Float64Array): { raw: Uint8Array; count: number } {
  return { raw: new Uint8Array(dict.buffer, dict.byteOffset, dict.byteLength), count: dict.length };
}

function writeBitPacked(out: Bytes, idx: Int32Array, n: number, distinct: number): void {
  let w = 1;
  while (1 << w < distinct) w++;
  if (w <= 8) w = 8;
  else if (w <= 16) w = 16;
  const groups = (n + 7) >> 3;
  out.ensure(1 + Math.ceil(groups / 63) + groups * w);
  const buf = out.buf;
  let o = out.n;
  buf[o++] = w;
  for (let g = 0; g < groups; g += 63) {
    const k = Math.min(63, groups - g);
    buf[o++] = (k << 1) | 1;
    const start = g * 8;
    const end = (g + k) * 8;
    const last = Math.min(end, n);
    if (w === 8) {
      for (let i = start; i < last; i++) buf[o++] = idx[i];
      for (let i = last; i < end; i++) buf[o++] = 0;
    } else if (w === 16) {
      for (let i = start; i < last; i++) {
        const x = idx[i];
        buf[o++] = x & 0xff;
        buf[o++] = x >>> 8;
      }
      for (let i = last; i < end; i++) (buf[o++] = 0), (buf[o++] = 0);
    } else {
      let acc = 0;
      let bits = 0;
      for (let i = start; i < end; i++) {
        acc |= (i < n ? idx[i] : 0) << bits;
        bits += w;
        while (bits >= 8) {
          buf[o++] = acc & 0xff;
          acc >>>= 8;
          bits -= 8;
        }
      }
    }
  }
  out.n = o;
}

/** c / 100 for every cent c in [0, 100000] (prices and many sizes sit on this grid: one multiply and a lookup). */
let CENT_VALUES: Float64Array | undefined;
const centValues = () => (CENT_VALUES ??= Float64Array.from({ length: 100_001 }, (_, c) => c / 100));

/**
 * Dictionary of a float column chunk (a list's values or a scalar column) when its values are few: prices on a cent
 * grid (≤ 101 values), mids and spreads (a few hundred), so the page holds bit-packed indices instead of 8-byte
 * doubles and ZSTD has ~8× less to chew. Varied values (sizes) give up after MAX_DISTINCT and stay PLAIN. Values on
 * the cent grid are found by a multiply and a table lookup, others in a small open-addressing table keyed by their
 * bits (NaN included), never a Map.
 */
class Float64Dictionary {
  private static readonly MAX_DISTINCT = 1024;
  private static readonly SLOTS = 4096; // ≤ 25% load
  /** cents → dictionary index + 1 (0 = absent). */
  private readonly cents = new Int32Array(100_001);
  private readonly usedCents = new Int32Array(Float64Dictionary.MAX_DISTINCT);
  private nUsedCents = 0;
  /** Open addressing on the value's two 32-bit halves; slotId = index + 1 (0 = empty). */
  private readonly slotLo = new Int32Array(Float64Dictionary.SLOTS);
  private readonly slotHi = new Int32Array(Float64Dictionary.SLOTS);
  private readonly slotId = new Int32Array(Float64Dictionary.SLOTS);
  private readonly usedSlots = new Int32Array(Float64Dictionary.MAX_DISTINCT);
  private nUsedSlots = 0;
  private readonly scratch = new Float64Array(1);
  private readonly scratchBits = new Int32Array(this.scratch.buffer);
  private readonly values = new Float64Array(Float64Dictionary.MAX_DISTINCT);
  private size = 0;
  private indices = new Int32Array(1 << 16);

  /** Indexes every value of the ranges; returns the distinct values, or undefined (nothing kept) when there are too many. */
  build(ranges: [Float64Array, number, number][], n: number): Float64Array | undefined {
    this.reset();
    if (this.indices.length < n) this.indices = new Int32Array(Math.max(n, this.indices.length * 2));
    const idx = this.indices;
    const grid = centValues();
    const cents = this.cents;
    let k = 0;
    // indexed loops and an int32 rounding: ~4× faster here than for-of destructuring and Math.round
    for (let r = 0; r < ranges.length; r++) {
      const vals = ranges[r][0];
      const end = ranges[r][2];
      for (let j = ranges[r][1]; j < end; j++) {
        const v = vals[j];
        const c = (v * 100 + 0.5) | 0; // any value maps to some int; only an exact grid hit counts
        let id: number;
        // (-0 is not the grid's 0: its bits differ, it goes to the table)
        if (c >>> 0 <= 100_000 && grid[c] === v && (v !== 0 || 1 / v > 0)) {
          id = cents[c] - 1;
          if (id < 0) {
            id = this.add(v);
            if (id < 0) return this.reset();
            cents[c] = id + 1;
            this.usedCents[this.nUsedCents++] = c;
          }
        } else {
          id = this.other(v);
          if (id < 0) return this.reset();
        }
        idx[k++] = id;
      }
    }
    return this.values.subarray(0, this.size);
  }

  /** Index of a value off the cent grid, added when new; -1 when the dictionary is full. */
  private other(v: number): number {
    this.scratch[0] = v;
    const lo = this.scratchBits[0];
    const hi = this.scratchBits[1];
    const mask = Float64Dictionary.SLOTS - 1;
    let h = (Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi, 0x85ebca77)) >>> 20;
    for (;;) {
      const id = this.slotId[h];
      if (id === 0) break;
      if (this.slotLo[h] === lo && this.slotHi[h] === hi) return id - 1;
      h = (h + 1) & mask;
    }
    const id = this.add(v);
    if (id < 0) return -1;
    this.slotLo[h] = lo;
    this.slotHi[h] = hi;
    this.slotId[h] = id + 1;
    this.usedSlots[this.nUsedSlots++] = h;
    return id;
  }

  private add(v: number): number {
    if (this.size >= Float64Dictionary.MAX_DISTINCT) return -1;
    this.values[this.size] = v;
    return this.size++;
  }

  private reset(): undefined {
    for (let i = 0; i < this.nUsedCents; i++) this.cents[this.usedCents[i]] = 0;
    for (let i = 0; i < this.nUsedSlots; i++) this.slotId[this.usedSlots[i]] = 0;
    this.nUsedCents = 0;
    this.nUsedSlots = 0;
    this.size = 0;
    return undefined;
  }

  writeIndices(out: Bytes, n: number): void {
    writeBitPacked(out, this.indices, n, this.size);
  }
}

/**
 * Dictionary ids of a string column's rows, attached by the buffer that built the column (ColumnBuffer keeps one
 * id per row and a table of distinct UTF-8 values), so the encoder dictionary-encodes strings without hashing
 * bytes. Keyed by the column's UTF-8 byte buffer, which Arrow's slices share (their rows are ids[offset…]).
 */
const STRING_IDS = new WeakMap<object, { ids: Int32Array; table: Uint8Array[] }>();

/** Attaches row → table index ids (-1 for a null row) to a utf8 column built from `table` (rows from offset 0). */
export function attachStringIds(d: Data, ids: Int32Array, table: Uint8Array[]): void {
  if (d.offset !== 0 || ids.length !== d.length)
    throw new Error("attachStringIds: ids must cover the column from row 0");
  STRING_IDS.set(d.values, { ids, table });
}

/** Past this many distinct strings in a row group (ids, not a few categories), PLAIN is as small and cheaper. */
const MAX_STRINGS = 65_536;

/**
 * A row group's string dictionary, distinct values in first-seen order: from the ids attached to its columns when
 * they all have them (rows straight from the writer's buffers), else by hashing the values' bytes.
 */
class StringDictionary {
  private indices = new Int32Array(1 << 16);
  private n = 0;
  private size = 0;

  private slots = new Int32Array(1 << 12);

  /** The dictionary page body (PLAIN byte arrays) and its count, or undefined (PLAIN) when there are too many values. */
  build(datas: Data[]): { raw: Uint8Array; count: number } | undefined {
    const rows = datas.reduce((s, d) => s + d.length, 0);
    if (this.indices.length < rows) this.indices = new Int32Array(Math.max(rows, this.indices.length * 2));
    const attached = datas.map((d) => STRING_IDS.get(d.values));
    const ids = attached.every((a) => a !== undefined)
      ? this.fromIds(datas, attached as { ids: Int32Array; table: Uint8Array[] }[])
      : undefined;
    const values = ids === undefined ? this.fromBytes(datas) : ids;
    if (!values) return undefined; // too many distinct values: PLAIN is smaller
    this.size = values.length;
    const raw = new Bytes(values.reduce((s, v) => s + 4 + v.length, 0));
    for (const v of values) {
      raw.u32(v.length);
      raw.put(v);
    }
    return { raw: raw.buf.subarray(0, raw.n), count: values.length };
  }

  /**
   * Without ids (rows decoded from staging): distinct values found by an FNV-1a hash of their bytes in an
   * open-addressing table, compared byte for byte on a hit. Gives up past MAX_STRINGS values.
   */
  private fromBytes(datas: Data[]): Uint8Array[] | undefined {
    const values: Uint8Array[] = [];
    const idx = this.indices;
    let k = 0;
    let slots = this.slots;
    slots.fill(0);
    let mask = slots.length - 1;
    for (const d of datas) {
      const off = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      const someNull = d.nullCount > 0;
      for (let i = 0; i < d.length; i++) {
        if (someNull && !isValid(d, i)) continue;
        const a = off[i];
        const b = off[i + 1];
        let h = 0x811c9dc5;
        for (let j = a; j < b; j++) h = Math.imul(h ^ bytes[j], 0x01000193);
        let s = (h >>> 0) & mask;
        let id = -1;
        for (;;) {
          const e = slots[s] - 1;
          if (e < 0) break;
          const v = values[e];
          if (v.length === b - a) {
            let j = 0;
            while (j < v.length && v[j] === bytes[a + j]) j++;
            if (j === v.length) {
              id = e;
              break;
            }
          }
          s = (s + 1) & mask;
        }
        if (id < 0) {
          if (values.length >= MAX_STRINGS) return undefined;
          id = values.length;
          values.push(bytes.subarray(a, b));
          slots[s] = id + 1;
          if (values.length * 4 > slots.length) {
            // keep the load ≤ 25%: rehash into a table twice as large
            const bigger = new Int32Array(slots.length * 2);
            const m2 = bigger.length - 1;
            for (let e = 0; e < values.length; e++) {
              const v = values[e];
              let h2 = 0x811c9dc5;
              for (let j = 0; j < v.length; j++) h2 = Math.imul(h2 ^ v[j], 0x01000193);
              let s2 = (h2 >>> 0) & m2;
              while (bigger[s2] !== 0) s2 = (s2 + 1) & m2;
              bigger[s2] = e + 1;
            }
            this.slots = slots = bigger;
            mask = m2;
          }
        }
        idx[k++] = id;
      }
    }
    this.n = k;
    return values;
  }

  /** Distinct values from the attached ids; null past MAX_STRINGS values, undefined when the ids do not cover the rows. */
  private fromIds(
    datas: Data[],
    attached: { ids: Int32Array; table: Uint8Array[] }[],
  ): Uint8Array[] | null | undefined {
    const idx = this.indices;
    const values: Uint8Array[] = [];
    let k = 0;
    const locals = new Map<Uint8Array[], Int32Array>();
    for (let c = 0; c < datas.length; c++) {
      const { ids, table } = attached[c];
      const r0 = datas[c].offset;
      const r1 = r0 + datas[c].length;
      if (r1 > ids.length) return undefined; // not the rows the ids were attached for
      let local = locals.get(table);
      if (!local) locals.set(table, (local = new Int32Array(table.length)));
      for (let i = r0; i < r1; i++) {
        const id = ids[i];
        if (id < 0) continue; // null: no value, its def level says so
        let l = local[id] - 1;
        if (l < 0) {
          if (values.length >= MAX_STRINGS) return null;
          l = values.length;
          values.push(table[id]);
          local[id] = l + 1;
        }
        idx[k++] = l;
      }
    }
    this.n = k;
    return values;
  }

  writeIndices(out: Bytes): void {
    writeBitPacked(out, this.indices, this.n, this.size);
  }
}

/** PLAIN byte arrays: u32 length then the bytes, for each non-null row. */
function writePlainStrings(body: Bytes, datas: Data[]): void {
  for (const d of datas) {
    const off = d.valueOffsets as Int32Array;
    const bytes = d.values as Uint8Array;
    const someNull = d.nullCount > 0;
    body.ensure(off[d.length] - off[0] + d.length * 4);
    for (let i = 0; i < d.length; i++) {
      if (someNull && !isValid(d, i)) continue;
      const a = off[i];
      const len = off[i + 1] - a;
      body.u32(len);
      const out = body.buf;
      let o = body.n;
      for (let k = a; k < a + len; k++) out[o++] = bytes[k]; // short ids: a loop beats a subarray per row
      body.n = o;
    }
  }
}

/** Min/max of an int64 column chunk (8-byte little-endian, as Parquet stores INT64 statistics); compared as
 * numbers from the two 32-bit halves, exact below 2^53 (epoch ms, sequence numbers), no BigInt per row. */
function int64Stats(datas: Data[], nulls: number): ChunkMeta["stats"] {
  let min = Infinity;
  let max = -Infinity;
  // where the extremes are, as (chunk, row): no tuple per new extreme (ts_recv and seq rise on every row)
  let minD = -1,
    minI = 0,
    maxD = -1,
    maxI = 0;
  for (let k = 0; k < datas.length; k++) {
    const d = datas[k];
    const v = d.values as BigInt64Array;
    const w = new Int32Array(v.buffer, v.byteOffset, d.length * 2);
    const someNull = nulls > 0 && d.nullCount > 0;
    for (let i = 0; i < d.length; i++) {
      if (someNull && !isValid(d, i)) continue;
      const x = w[2 * i + 1] * 4294967296 + (w[2 * i] >>> 0);
      if (x < min) (min = x), (minD = k), (minI = i);
      if (x > max) (max = x), (maxD = k), (maxI = i);
    }
  }
  if (minD < 0 || maxD < 0) return { nulls };
  const enc = (d: Data, i: number) => {
    const v = d.values as BigInt64Array;
    return new Uint8Array(new Int32Array(v.buffer, v.byteOffset + i * 8, 2).slice().buffer);
  };
  return { min: enc(datas[minD], minI), max: enc(datas[maxD], maxI), nulls };
}
