/**
 * The staging area: rows made durable between flushes, under `_staging/<venue>/<bucket>_<M>m_g<N>/` where no dataset
 * glob sees them. A segment is parts (raw column buffers, or an encoded row group with CRCs) + a JSON trailer + its
 * length + magic; the byte layout and why two kinds of part: docs/storage-format.md.
 */
import { dirname, join } from "node:path";
import type { RecordBatch } from "apache-arrow";
import type { ColumnBuffer } from "./column-buffer.ts";
import { type ChunkMeta, type EncodedRowGroup, validateRowGroup } from "../parquet/encode.ts";
import { SNAPSHOT_SCHEMA } from "../schema.ts";
import { errCode, type StorageFs } from "./fs.ts";
import { stagingRoot, QUARANTINE_DIR, parseBucketDir } from "../layout.ts";

export const SEGMENT_EXT = ".arrows"; // historical name: parts are raw column buffers, not Arrow IPC
/** Written before a staged bucket's final file is renamed into place; lets recovery tell "done" from "redo". */
export const MARKER = "finalizing.json";
export const MAGIC = new TextEncoder().encode("SVSEG001");
/** A finalized bucket's staging directory is renamed to this suffix before it is deleted. */
const DONE_SUFFIX = ".done";

export interface SegmentStats {
  rows: number;
  min_ts: number;
  max_ts: number;
  markets: string[];
  /** Byte length of each part, in order (absent: one part). */
  parts?: number[];
  /** How many of the parts are encoded row groups (PART_ROWGROUP); absent: none. */
  rowgroups?: number;
}

/** Part kinds (the second u32 of a part's head). */
export const PART_RAW = 0;
export const PART_ROWGROUP = 1;

/**
 * A flush of at least this many rows is staged as encoded row groups (PART_ROWGROUP). Measured on realistic books
 * (bench/writer.bench.ts): row groups of 16k rows cost ~10% more bytes than 65k-row ones, 1k-row ones twice as many,
 * so smaller flushes stay raw and are encoded together at compaction.
 */
export const ENCODE_AT_FLUSH_ROWS = 16_384;

/** Rows per part of a segment: bounds what compaction holds in memory at once (~13 MB at 20 levels a side). */
export const PART_ROWS = 16_384;

export interface FinalizeMarker {
  /** Final file, relative to the data dir. */
  target: string;
  rows: number;
}

export interface StagedBucket {
  venue: string;
  start: number;
  minutes: number;
  gen: number;
  dir: string;
  /** Segment file names in write order. */
  segments: string[];
  marker?: FinalizeMarker;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

export function segmentName(n: number): string {
  return `seg-${pad(n, 6)}${SEGMENT_EXT}`;
}

export function segmentNumber(name: string): number {
  const m = /^seg-(\d+)\.arrows$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** A segment's bytes, part by part: views of the buffer's arrays (written as they are), then the trailer. */
export function* encodeSegment(buf: ColumnBuffer, stats: SegmentStats, partRows = PART_ROWS): Generator<Uint8Array> {
  const parts: number[] = [];
  for (let r0 = 0; r0 < buf.length; r0 += partRows) {
    const chunks = buf.partChunks(r0, Math.min(buf.length, r0 + partRows));
    parts.push(chunks.reduce((s, c) => s + c.length, 0));
    yield* chunks;
  }
  yield* segmentTrailer({ ...stats, parts });
}

/** The JSON header of a PART_ROWGROUP part. */
interface RowGroupHeader {
  rows: number;
  min_ts: number;
  max_ts: number;
  markets: string[];
  /** Byte length and CRC-32 of the row group's bytes (after the padded header). */
  len: number;
  crc: number;
  chunks: (Omit<ChunkMeta, "stats"> & { stats?: { min?: number[]; max?: number[]; nulls: number } })[];
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;
const PAD = new Uint8Array(8);

/**
 * The 8-byte head and the JSON header of a row-group part, followed by the header's CRC-32 (u32 LE: the header
 * places every byte of the body, so it is checked like the body) and padding to 8.
 */
function rowGroupHead(header: unknown): Uint8Array[] {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(8);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, json.length, true);
  dv.setUint32(4, PART_ROWGROUP, true);
  const crc = new Uint8Array(4);
  new DataView(crc.buffer).setUint32(0, Bun.hash.crc32(json), true);
  return [head, json, crc, PAD.subarray(0, pad8(json.length + 4))];
}

/** A part's kind, from its head. */
export function partKind(part: Uint8Array): number {
  return new DataView(part.buffer, part.byteOffset, part.byteLength).getUint32(4, true);
}

/** An encoded row group as a PART_ROWGROUP part: head, header (stats, chunk metadata, CRC-32), the row group's bytes. */
export function rowGroupPart(
  g: EncodedRowGroup,
  stats: { min_ts: number; max_ts: number; markets: string[] },
): Uint8Array[] {
  let crc = 0;
  for (const p of g.pieces) crc = Bun.hash.crc32(p, crc);
  const chunks = g.chunks.map(({ stats: st, ...c }) => ({
    ...c,
    stats: st && { nulls: st.nulls, min: st.min && [...st.min], max: st.max && [...st.max] },
  }));
  const header: RowGroupHeader = { rows: g.rows, ...stats, len: g.bytes, crc, chunks };
  return [...rowGroupHead(header), ...g.pieces];
}

/**
 * A PART_ROWGROUP part back as the row group it holds (views of `part`) and its stats; throws (a plain Error: the
 * part is corrupt) when the header's or the body's CRC-32 does not match, the header does not parse, its stats are
 * not numbers, or its chunks do not fit the snapshot schema (validateRowGroup).
 */
export function decodeRowGroupPart(part: Uint8Array): { group: EncodedRowGroup; header: RowGroupHeader; len: number } {
  if (part.length < 8 || partKind(part) !== PART_ROWGROUP) throw new Error("not a row-group part");
  const dv = new DataView(part.buffer, part.byteOffset, part.byteLength);
  const hlen = dv.getUint32(0, true);
  const start = 8 + hlen + 4 + pad8(hlen + 4);
  if (start > part.length) throw new Error("row-group part header out of range");
  const json = part.subarray(8, 8 + hlen);
  if (Bun.hash.crc32(json) !== dv.getUint32(8 + hlen, true)) throw new Error("row-group part header CRC mismatch");
  const h = JSON.parse(new TextDecoder().decode(json)) as RowGroupHeader;
  if (!Number.isInteger(h.rows) || h.rows <= 0 || !Number.isInteger(h.len) || h.len <= 0 || !Array.isArray(h.chunks))
    throw new Error("bad row-group part header");
  if (
    !Number.isFinite(h.min_ts) ||
    !Number.isFinite(h.max_ts) ||
    !Array.isArray(h.markets) ||
    !h.markets.every((m) => typeof m === "string")
  ) {
    throw new Error("bad row-group part stats");
  }
  if (start + h.len > part.length) throw new Error("row-group part truncated");
  const body = part.subarray(start, start + h.len);
  if (Bun.hash.crc32(body) !== h.crc) throw new Error("row-group part CRC mismatch");
  const chunks: ChunkMeta[] = h.chunks.map(({ stats: st, ...c }) => ({
    ...c,
    stats: st && { nulls: st.nulls, min: st.min && Uint8Array.from(st.min), max: st.max && Uint8Array.from(st.max) },
  }));
  const group = { rows: h.rows, bytes: h.len, pieces: [body], chunks };
  validateRowGroup(SNAPSHOT_SCHEMA, group);
  return { group, header: h, len: start + h.len };
}

/**
 * A segment of encoded row groups: `batch` (the flushed buffer's rows) cut into near-equal row groups of at most
 * `rowGroupRows` rows, each encoded by `encode` and written as a PART_ROWGROUP part, then the trailer.
 */
export function* encodeRowGroupSegment(
  batch: RecordBatch,
  stats: SegmentStats,
  rowGroupRows: number,
  encode: (b: RecordBatch) => EncodedRowGroup,
): Generator<Uint8Array> {
  const n = batch.numRows;
  const k = Math.max(1, Math.ceil(n / rowGroupRows));
  const parts: number[] = [];
  for (let i = 0; i < k; i++) {
    const r0 = Math.floor((i * n) / k);
    const r1 = Math.floor(((i + 1) * n) / k);
    const slice = k === 1 ? batch : batch.slice(r0, r1);
    const chunks = rowGroupPart(encode(slice), k === 1 ? stats : batchStats(slice));
    parts.push(chunks.reduce((s, c) => s + c.length, 0));
    yield* chunks;
  }
  yield* segmentTrailer({ ...stats, parts, rowgroups: k });
}

/**
 * min/max ts_recv and distinct market_ids of a batch's rows (a slice, when one flush makes several row groups; a
 * staged part being salvaged); throws on a ts_recv that is not a finite number (a part that does not decode).
 */
export function batchStats(b: RecordBatch): { min_ts: number; max_ts: number; markets: string[] } {
  const ts = b.getChild("ts_recv")!;
  const mk = b.getChild("market_id")!;
  let lo = Infinity;
  let hi = -Infinity;
  const markets = new Set<string>();
  for (let i = 0; i < b.numRows; i++) {
    const t = Number(ts.get(i));
    if (!Number.isFinite(t)) throw new Error("bad ts_recv");
    if (t < lo) lo = t;
    if (t > hi) hi = t;
    markets.add(String(mk.get(i)));
  }
  return { min_ts: lo, max_ts: hi, markets: [...markets] };
}

/** A segment's trailer: JSON stats (with part lengths), their length (u32 LE), the magic. */
export function segmentTrailer(stats: SegmentStats): Uint8Array[] {
  const json = new TextEncoder().encode(JSON.stringify(stats));
  const tail = new Uint8Array(4 + MAGIC.length);
  new DataView(tail.buffer).setUint32(0, json.length, true);
  tail.set(MAGIC, 4);
  return [json, tail];
}

export const TAIL_LEN = 4 + MAGIC.length;

function parseTail(tail: Uint8Array, path = "segment"): number {
  for (let i = 0; i < MAGIC.length; i++)
    if (tail[4 + i] !== MAGIC[i]) throw new Error(`${path} has no trailer (torn or garbage)`);
  return new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true);
}

/** A whole segment in memory: its parts and stats (tests, small segments). */
export function decodeSegment(bytes: Uint8Array): { parts: Uint8Array[]; stats: SegmentStats } {
  const n = bytes.length;
  if (n < TAIL_LEN) throw new Error("segment too short");
  const jsonLen = parseTail(bytes.subarray(n - TAIL_LEN));
  const jsonStart = n - TAIL_LEN - jsonLen;
  if (jsonStart < 0) throw new Error("segment trailer length out of range");
  const stats = JSON.parse(new TextDecoder().decode(bytes.subarray(jsonStart, n - TAIL_LEN))) as SegmentStats;
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const len of stats.parts ?? [jsonStart]) {
    parts.push(bytes.subarray(off, off + len));
    off += len;
  }
  return { parts, stats };
}

/** A segment's stats from its trailer alone. */
export async function readSegmentStats(fs: StorageFs, path: string): Promise<SegmentStats> {
  const size = await fs.size(path);
  if (size === undefined || size < TAIL_LEN) throw new Error(`segment ${path} missing or too short`);
  const jsonLen = parseTail(await fs.readRange(path, size - TAIL_LEN, TAIL_LEN), `segment ${path}`);
  if (jsonLen + TAIL_LEN > size) throw new Error(`segment ${path}: trailer length out of range`);
  const stats = JSON.parse(
    new TextDecoder().decode(await fs.readRange(path, size - TAIL_LEN - jsonLen, jsonLen)),
  ) as SegmentStats;
  stats.parts ??= [size - TAIL_LEN - jsonLen];
  return stats;
}

/**
 * Deletes a finalized bucket's staging directory. It is first renamed out of the staging namespace: a recursive
 * delete cut short by a crash could otherwise leave segments without their marker, and recovery would then
 * compact those rows a second time (into a `_N` file) although they are already in the final file.
 */
export async function removeStaged(fs: StorageFs, dir: string): Promise<void> {
  const trash = dir + DONE_SUFFIX;
  try {
    await fs.rename(dir, trash);
    await fs.syncDir(dirname(dir));
  } catch (e) {
    if (errCode(e) !== "ENOENT") throw e; // already renamed by an earlier attempt
  }
  await fs.rmrf(trash);
}

/** Every staged bucket directory under `<dataDir>/_staging`, with its segments in order. Leftover temp files are removed. */
export async function listStaged(fs: StorageFs, dataDir: string): Promise<StagedBucket[]> {
  const root = stagingRoot(dataDir);
  const out: StagedBucket[] = [];
  for (const venue of await fs.readdir(root)) {
    if (venue === QUARANTINE_DIR || !(await fs.isDir(join(root, venue)))) continue;
    for (const name of await fs.readdir(join(root, venue))) {
      if (name.endsWith(DONE_SUFFIX)) {
        await fs.rmrf(join(root, venue, name)); // finalized; its deletion was cut short
        continue;
      }
      const parsed = parseBucketDir(name);
      if (!parsed) continue;
      const dir = join(root, venue, name);
      const files = await fs.readdir(dir);
      for (const f of files) if (f.endsWith(".partial")) await fs.unlink(join(dir, f));
      const segments = files.filter((f) => segmentNumber(f) >= 0).sort((a, b) => segmentNumber(a) - segmentNumber(b));
      let marker: FinalizeMarker | undefined;
      if (files.includes(MARKER)) {
        try {
          marker = JSON.parse(new TextDecoder().decode(await fs.readFile(join(dir, MARKER)))) as FinalizeMarker;
        } catch {
          marker = undefined; // a torn marker was never acted on: the rename comes after its fsync
        }
      }
      out.push({ venue, ...parsed, dir, segments, marker });
    }
  }
  return out.sort((a, b) => a.start - b.start || a.gen - b.gen);
}
