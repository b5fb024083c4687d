/**
 * Answers from a Parquet file's metadata instead of its pages: row counts, an INT64 column's min/max, a string
 * column's distinct values from its dictionaries. When that does not plainly hold (inexact statistics, a chunk not
 * wholly dictionary-encoded, an unknown codec, bytes that do not parse): undefined, and the caller reads the data.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { readStruct, type ThriftStruct, type ThriftValue } from "./thrift-compact.ts";

// parquet.thrift
const T_INT64 = 2,
  T_BYTE_ARRAY = 6;
const REQUIRED = 0;
const CODEC_UNCOMPRESSED = 0,
  CODEC_ZSTD = 6;
const ENC_PLAIN = 0,
  ENC_PLAIN_DICTIONARY = 2,
  ENC_RLE_DICTIONARY = 8;
const PAGE_DATA = 0,
  PAGE_DICTIONARY = 2,
  PAGE_DATA_V2 = 3;

export interface ChunkStats {
  /** min_value/max_value (the fields readers may trust under column_orders), raw bytes. */
  min?: Uint8Array;
  max?: Uint8Array;
  nullCount?: number;
  /** False only when the writer said the bound is not the actual value. */
  minExact: boolean;
  maxExact: boolean;
}

export interface ColumnChunkInfo {
  path: string[];
  type: number;
  codec: number;
  numValues: number;
  dataPageOffset: number;
  dictionaryPageOffset?: number;
  totalCompressedSize: number;
  totalUncompressedSize: number;
  /** Set when the chunk lives in another file. */
  filePath?: string;
  stats?: ChunkStats;
}

export interface RowGroupInfo {
  numRows: number;
  columns: ColumnChunkInfo[];
}

export interface LeafInfo {
  path: string[];
  type?: number;
  repetition?: number;
  /** column_orders says TYPE_ORDER for this leaf (min_value/max_value are then comparable as its type). */
  typeOrder: boolean;
  /** The leaf has a converted or logical type (e.g. UINT_64: its TYPE_ORDER is then not signed). */
  logical: boolean;
}

export interface FooterInfo {
  numRows: number;
  rowGroups: RowGroupInfo[];
  leaves: LeafInfo[];
  createdBy?: string;
}

const utf8 = new TextDecoder();
const MAX_SCHEMA_DEPTH = 32;
/** A larger footer is refused (ours are a few KB; it is decoded into objects, ~50× its size). */
const MAX_FOOTER = 16 * 1024 * 1024;
/** A larger dictionary page is not decompressed (ours are KBs: a few hundred market ids). */
const MAX_DICTIONARY = 64 * 1024 * 1024;
const bad = (why: string): never => {
  throw new Error(`parquet footer: ${why}`);
};
const int = (s: ThriftStruct, id: number): number | undefined => {
  const v = s.get(id);
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) bad(`field ${id} is not a non-negative integer`);
  return v as number;
};
const needInt = (s: ThriftStruct, id: number): number => int(s, id) ?? bad(`field ${id} missing`);
const bin = (s: ThriftStruct, id: number): Uint8Array | undefined => {
  const v = s.get(id);
  if (v !== undefined && !(v instanceof Uint8Array)) bad(`field ${id} is not binary`);
  return v as Uint8Array | undefined;
};
const str = (s: ThriftStruct, id: number): string | undefined => {
  const b = bin(s, id);
  return b === undefined ? undefined : utf8.decode(b);
};
const list = (s: ThriftStruct, id: number): ThriftValue[] => {
  const v = s.get(id);
  if (v === undefined) return [];
  if (!Array.isArray(v)) bad(`field ${id} is not a list`);
  return v as ThriftValue[];
};
const struct = (v: ThriftValue | undefined): ThriftStruct | undefined => {
  if (v === undefined) return undefined;
  if (!(v instanceof Map)) bad("not a struct");
  return v as ThriftStruct;
};
const bool = (s: ThriftStruct, id: number): boolean | undefined => {
  const v = s.get(id);
  if (v !== undefined && typeof v !== "boolean") bad(`field ${id} is not a bool`);
  return v as boolean | undefined;
};

/** FileMetaData (the Thrift bytes between the data and the footer length), the fields this module uses. */
export function parseFileMetaData(bytes: Uint8Array): FooterInfo {
  const { value: fm, end } = readStruct(bytes);
  if (end !== bytes.length) bad(`${bytes.length - end} bytes after the metadata`);
  // schema: a depth-first list; a group has num_children, a leaf has none
  const elements = list(fm, 2).map((e) => struct(e)!);
  if (elements.length === 0) bad("no schema");
  const orders = list(fm, 7).map((o) => struct(o)!);
  const leaves: LeafInfo[] = [];
  let next = 1;
  // one shared path (copied for leaves only) and a depth limit: a hostile footer of deeply nested groups must not
  // cost memory quadratic in its depth nor the stack (ours is 3 deep; real-world schemas a few levels)
  const path: string[] = [];
  const walk = (children: number) => {
    if (path.length > MAX_SCHEMA_DEPTH) bad("schema nested too deeply");
    for (let c = 0; c < children; c++) {
      if (next >= elements.length) bad("schema shorter than its num_children");
      const e = elements[next++];
      const name = str(e, 4) ?? bad("schema element without a name");
      const n = int(e, 5);
      if (n !== undefined && n > 0) {
        path.push(name);
        walk(n);
        path.pop();
      } else {
        const order = orders[leaves.length];
        leaves.push({
          path: [...path, name],
          type: int(e, 1),
          repetition: int(e, 3),
          typeOrder: order !== undefined && order.has(1),
          logical: e.has(6) || e.has(10),
        });
      }
    }
  };
  walk(int(elements[0], 5) ?? 0);
  if (next !== elements.length) bad("schema longer than its num_children");
  const rowGroups = list(fm, 4).map((rgv): RowGroupInfo => {
    const rg = struct(rgv)!;
    const columns = list(rg, 1).map((ccv): ColumnChunkInfo => {
      const cc = struct(ccv)!;
      const md = struct(cc.get(3)) ?? bad("column chunk without meta_data");
      const sv = struct(md.get(12));
      return {
        path: list(md, 3).map((p) => (p instanceof Uint8Array ? utf8.decode(p) : bad("path_in_schema"))),
        type: needInt(md, 1),
        codec: needInt(md, 4),
        numValues: needInt(md, 5),
        totalUncompressedSize: needInt(md, 6),
        totalCompressedSize: needInt(md, 7),
        dataPageOffset: needInt(md, 9),
        dictionaryPageOffset: int(md, 11),
        filePath: str(cc, 1),
        stats: sv && {
          min: bin(sv, 6),
          max: bin(sv, 5),
          nullCount: int(sv, 3),
          minExact: bool(sv, 8) !== false,
          maxExact: bool(sv, 7) !== false,
        },
      };
    });
    return { numRows: needInt(rg, 3), columns };
  });
  return { numRows: needInt(fm, 3), rowGroups, leaves, createdBy: str(fm, 6) };
}

export interface PageHeaderInfo {
  type: number;
  uncompressedSize: number;
  compressedSize: number;
  /** Data pages: values in the page (nulls included); dictionary pages: entries. */
  numValues?: number;
  /** The page's value encoding (data pages v1/v2 and dictionary pages). */
  encoding?: number;
  /** Offset just past the header (the page body starts there). */
  end: number;
}

/** The PageHeader at `pos` of `bytes`. */
export function parsePageHeader(bytes: Uint8Array, pos: number): PageHeaderInfo {
  const { value: h, end } = readStruct(bytes, pos);
  const type = needInt(h, 1);
  const sub = struct(h.get(type === PAGE_DATA ? 5 : type === PAGE_DICTIONARY ? 7 : type === PAGE_DATA_V2 ? 8 : -1));
  const uncompressedSize = needInt(h, 2),
    compressedSize = needInt(h, 3);
  if (uncompressedSize < 0 || compressedSize < 0) bad("negative page size");
  return {
    type,
    uncompressedSize,
    compressedSize,
    end,
    numValues: sub && int(sub, 1),
    encoding: sub && int(sub, type === PAGE_DATA_V2 ? 4 : 2),
  };
}

/** `count` PLAIN byte arrays (u32 LE length, bytes) filling `bytes` exactly, as strings; throws otherwise. */
export function decodePlainByteArrays(bytes: Uint8Array, count: number): string[] {
  const out: string[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 4 > bytes.length) bad("byte array past the page");
    const n = view.getUint32(p, true);
    p += 4;
    if (p + n > bytes.length) bad("byte array past the page");
    out.push(utf8.decode(bytes.subarray(p, p + n)));
    p += n;
  }
  if (p !== bytes.length) bad(`${bytes.length - p} bytes after ${count} byte arrays`);
  return out;
}

/**
 * The distinct values of a BYTE_ARRAY column chunk from its dictionary page, given the chunk's bytes (from its
 * dictionary page offset, total_compressed_size long). Undefined unless the chunk is a dictionary page then data
 * pages that are all dictionary-encoded (a writer that fell back to PLAIN mid-chunk has values the dictionary
 * lacks) and that tile the chunk exactly; throws on bytes that do not decode.
 */
export function chunkDictionary(chunk: ColumnChunkInfo, bytes: Uint8Array): string[] | undefined {
  if (chunk.type !== T_BYTE_ARRAY || chunk.dictionaryPageOffset === undefined) return undefined;
  if (chunk.codec !== CODEC_UNCOMPRESSED && chunk.codec !== CODEC_ZSTD) return undefined;
  if (bytes.length !== chunk.totalCompressedSize) return undefined;
  const dict = parsePageHeader(bytes, 0);
  if (dict.type !== PAGE_DICTIONARY || dict.numValues === undefined || dict.numValues < 0) return undefined;
  if (dict.encoding !== ENC_PLAIN && dict.encoding !== ENC_PLAIN_DICTIONARY) return undefined;
  let pos = dict.end + dict.compressedSize;
  if (pos !== chunk.dataPageOffset - chunk.dictionaryPageOffset) return undefined;
  let values = 0;
  while (pos < bytes.length) {
    const h = parsePageHeader(bytes, pos);
    if (h.type !== PAGE_DATA && h.type !== PAGE_DATA_V2) return undefined;
    if (h.encoding !== ENC_RLE_DICTIONARY && h.encoding !== ENC_PLAIN_DICTIONARY) return undefined;
    if (h.numValues === undefined) return undefined;
    values += h.numValues;
    pos = h.end + h.compressedSize;
  }
  if (pos !== bytes.length || values !== chunk.numValues) return undefined;
  const body = bytes.subarray(dict.end, dict.end + dict.compressedSize);
  if (dict.uncompressedSize > MAX_DICTIONARY) return undefined;
  // decompress only a frame that declares exactly the page's size (no bomb: the size is checked first)
  if (chunk.codec === CODEC_ZSTD && zstdContentSize(body) !== dict.uncompressedSize) return undefined;
  const raw = chunk.codec === CODEC_ZSTD ? Bun.zstdDecompressSync(body) : body;
  if (raw.length !== dict.uncompressedSize) bad("dictionary page size differs from its header");
  return decodePlainByteArrays(raw, dict.numValues);
}

/** The content size a single ZSTD frame declares in its header, or undefined (no size, not a frame). */
export function zstdContentSize(b: Uint8Array): number | undefined {
  if (b.length < 6 || b[0] !== 0x28 || b[1] !== 0xb5 || b[2] !== 0x2f || b[3] !== 0xfd) return undefined;
  const fhd = b[4];
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const didFlag = fhd & 3;
  const p = 5 + (single ? 0 : 1) + [0, 1, 2, 4][didFlag];
  const fcsLen = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
  if (fcsLen === 0 || p + fcsLen > b.length) return undefined;
  let v = 0;
  for (let i = fcsLen - 1; i >= 0; i--) v = v * 256 + b[p + i];
  return fcsLen === 2 ? v + 256 : v;
}

/** Number of an INT64 statistic (8 bytes little-endian, signed); undefined when it is not 8 bytes. */
function int64Of(b: Uint8Array | undefined): number | undefined {
  if (b === undefined || b.length !== 8) return undefined;
  return Number(new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true));
}

const samePath = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The chunk of top-level `column` in a row group, if it has exactly one. */
function chunkOf(rg: RowGroupInfo, column: string): ColumnChunkInfo | undefined {
  const cs = rg.columns.filter((c) => samePath(c.path, [column]));
  return cs.length === 1 ? cs[0] : undefined;
}

/** A top-level REQUIRED leaf of `type`, or undefined. */
function requiredLeaf(f: FooterInfo, column: string, type: number): LeafInfo | undefined {
  const l = f.leaves.find((x) => samePath(x.path, [column]));
  return l && l.type === type && l.repetition === REQUIRED ? l : undefined;
}

/**
 * Smallest and largest value of a REQUIRED INT64 column over the file, from the row groups' exact min_value/max_value
 * statistics (trusted only under column_orders' TYPE_ORDER). `[]` for a file without rows; undefined when some row
 * group with rows lacks them.
 */
export function int64Range(f: FooterInfo, column: string): [number, number] | [] | undefined {
  const leaf = requiredLeaf(f, column, T_INT64);
  if (!leaf?.typeOrder || leaf.logical) return undefined; // a plain (signed) INT64 only: UINT_64 orders otherwise
  let lo: number | undefined, hi: number | undefined;
  for (const rg of f.rowGroups) {
    if (rg.numRows === 0) continue;
    const c = chunkOf(rg, column);
    const s = c?.stats;
    if (!c || !s || c.numValues !== rg.numRows || (s.nullCount ?? 0) !== 0 || !s.minExact || !s.maxExact)
      return undefined;
    const min = int64Of(s.min),
      max = int64Of(s.max);
    if (min === undefined || max === undefined || min > max) return undefined;
    if (lo === undefined || min < lo) lo = min;
    if (hi === undefined || max > hi) hi = max;
  }
  return lo === undefined ? [] : [lo, hi!];
}

/** Reads `length` bytes at `position` of an open file; throws when the file is shorter. */
function readAt(fd: number, position: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  let n = 0;
  while (n < length) {
    const k = readSync(fd, b, n, length - n, position + n);
    if (k === 0) bad("file shorter than its metadata says");
    n += k;
  }
  return b;
}

const MAGIC = 0x31524150; // "PAR1" little-endian
const TAIL_GUESS = 64 * 1024;

/** The footer of an open file of `size` bytes, and where it starts. Throws when it is missing or does not parse. */
export function readFooter(fd: number, size: number): { footer: FooterInfo; footerStart: number } {
  if (size < 12) bad("too small");
  // one read for the usual footer (a few KB), a second only for a larger one
  let tailLen = Math.min(size, TAIL_GUESS);
  let tail = readAt(fd, size - tailLen, tailLen);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  if (view.getUint32(tailLen - 4, true) !== MAGIC) bad("no PAR1 at the end");
  const len = view.getUint32(tailLen - 8, true);
  if (len > size - 12) bad("footer length past the file");
  if (len > MAX_FOOTER) bad("footer too large");
  if (len + 8 > tailLen) {
    tailLen = len + 8;
    tail = readAt(fd, size - tailLen, tailLen);
  }
  const footerStart = size - 8 - len;
  return { footer: parseFileMetaData(tail.subarray(tailLen - 8 - len, tailLen - 8)), footerStart };
}

/** created_by of the files src/parquet/encode.ts writes. */
const OUR_WRITER = "surveillance";

export interface MetadataSummary {
  rows: number;
  /** Min and max of the INT64 column; undefined for a file without rows. */
  min?: number;
  max?: number;
  /** Distinct values of the string column. */
  values: Set<string>;
}

/**
 * Rows, min/max of a REQUIRED INT64 column and distinct values of a REQUIRED string column of the Parquet file at
 * `path`, from the footer and the string column's chunks (dictionary page and data page headers; data pages are
 * not decompressed). Undefined whenever the file does not allow that (see the module comment) or does not parse.
 */
export function summaryFromMetadata(
  path: string,
  cols: { int64: string; string: string },
): MetadataSummary | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    const { footer, footerStart } = readFooter(fd, size);
    // A dictionary page may hold values no row uses (pyarrow writes a categorical's whole dictionary, DuckDB an
    // ENUM's): only our writer's dictionaries are known to list exactly the values of their rows.
    if (footer.createdBy !== OUR_WRITER) return undefined;
    if (footer.rowGroups.reduce((s, g) => s + g.numRows, 0) !== footer.numRows) return undefined;
    const range = int64Range(footer, cols.int64);
    if (range === undefined || !requiredLeaf(footer, cols.string, T_BYTE_ARRAY)) return undefined;
    const values = new Set<string>();
    for (const rg of footer.rowGroups) {
      if (rg.numRows === 0) continue;
      const c = chunkOf(rg, cols.string);
      if (!c || c.filePath !== undefined || c.dictionaryPageOffset === undefined || c.numValues !== rg.numRows)
        return undefined;
      const start = c.dictionaryPageOffset;
      if (!(start >= 4 && start < c.dataPageOffset && start + c.totalCompressedSize <= footerStart)) return undefined;
      const dict = chunkDictionary(c, readAt(fd, start, c.totalCompressedSize));
      if (dict === undefined) return undefined;
      for (const v of dict) values.add(v);
    }
    return { rows: footer.numRows, min: range[0], max: range[1], values };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
