/**
 * The staging area: rows made durable between flushes, outside the dataset tree so no dataset glob sees them.
 * `<dataDir>/_staging/<venue>/<YYYY-MM-DDTHH-mm>_<M>m_g<N>/seg-000001.arrows`, one directory per (venue, bucket,
 * generation). A segment is a run of "parts" (≤ PART_ROWS rows each, so compaction never holds more than one):
 * the writer's column buffers written as they are, 8-byte aligned (ColumnBuffer.partChunks / decodePart), then a
 * JSON trailer with the segment's stats and part lengths, the trailer's length (u32 LE) and an 8-byte magic.
 */
import { dirname, join } from "node:path";
import type { ColumnBuffer } from "./_columns.ts";
import { utcDate } from "./../timebucket.ts";
import { errCode, type StorageFs } from "./fs.ts";

export const STAGING_DIR = "_staging";
export const SEGMENT_EXT = ".arrows"; // historical name: parts are raw column buffers, not Arrow IPC
/** Written before a staged bucket's final file is renamed into place; lets recovery tell "done" from "redo". */
export const MARKER = "finalizing.json";
export const MAGIC = new TextEncoder().encode("SVSEG001");
/** Unreadable segments are moved here (src/storage/quarantine.ts); recovery and status skip it. */
export const QUARANTINE_DIR = "_quarantine";
/** A finalized bucket's staging directory is renamed to this suffix before it is deleted. */
const DONE_SUFFIX = ".done";

export interface SegmentStats {
  rows: number;
  min_ts: number;
  max_ts: number;
  markets: string[];
  /** Byte length of each IPC stream part, in order (absent: one part). */
  parts?: number[];
}

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

export function stagingBucketDir(dataDir: string, venue: string, start: number, minutes: number, gen: number): string {
  const d = new Date(start);
  return join(dataDir, STAGING_DIR, venue, `${utcDate(start)}T${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}_${minutes}m_g${gen}`);
}

const BUCKET_DIR = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})_(\d+)m_g(\d+)$/;

export function parseBucketDir(name: string): { start: number; minutes: number; gen: number } | undefined {
  const m = BUCKET_DIR.exec(name);
  if (!m) return undefined;
  const start = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  return { start, minutes: +m[6], gen: +m[7] };
}

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
  for (let i = 0; i < MAGIC.length; i++) if (tail[4 + i] !== MAGIC[i]) throw new Error(`${path} has no trailer (torn or garbage)`);
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
  const stats = JSON.parse(new TextDecoder().decode(await fs.readRange(path, size - TAIL_LEN - jsonLen, jsonLen))) as SegmentStats;
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
  const root = join(dataDir, STAGING_DIR);
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
