/**
 * Unreadable staged segments. A torn or garbage segment must not stop the writer from opening (a crash loop under
 * systemd) nor block the other buckets: its readable parts are salvaged into a fresh segment and the original is
 * moved to `<dataDir>/_staging/_quarantine/<venue>/<bucketdir>-<n>/` with a REASON file, for an operator to inspect.
 */
import { basename, join } from "node:path";
import { decodePart } from "./column-buffer.ts";
import { type StorageFs, writeAtomic } from "./fs.ts";
import {
  batchStats,
  decodeRowGroupPart,
  MAGIC,
  PART_ROWGROUP,
  type SegmentStats,
  segmentTrailer,
  TAIL_LEN,
} from "./staging.ts";
import { quarantineVenueDir } from "../layout.ts";

/** True for a decode failure (bad bytes), false for an I/O error (errno code), which is retried instead. */
export function isCorrupt(e: unknown): boolean {
  return typeof (e as { code?: unknown } | undefined)?.code !== "string";
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/**
 * Keeps every part of a segment that decodes. With the trailer's part lengths (`lens`) a bad part is skipped and
 * the walk goes on; without them (torn segment) parts are found by their own headers, up to the first bad one.
 * `complete` says every part up to `end` (the trailer's start) decoded.
 */
export function salvageParts(
  bytes: Uint8Array,
  end = bytes.length,
  lens?: number[],
): { parts: Uint8Array[]; stats: SegmentStats; complete: boolean } {
  const parts: Uint8Array[] = [];
  const stats: SegmentStats = { rows: 0, min_ts: Infinity, max_ts: -Infinity, markets: [], parts: [] };
  const markets = new Set<string>();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  /** Keeps a part that decoded, with its rows and stats. */
  const keep = (
    off: number,
    len: number,
    rows: number,
    s: { min_ts: number; max_ts: number; markets: string[] },
  ): number => {
    for (const m of s.markets) markets.add(m);
    stats.min_ts = Math.min(stats.min_ts, s.min_ts);
    stats.max_ts = Math.max(stats.max_ts, s.max_ts);
    parts.push(bytes.subarray(off, off + len));
    stats.parts!.push(len);
    stats.rows += rows;
    return len;
  };
  /** The part at `off` (its length from its header, checked against `expect` when known); throws when it does not decode. */
  const take = (off: number, expect?: number): number => {
    if (dv.getUint32(off + 4, true) === PART_ROWGROUP) {
      // an encoded row group: its header carries its stats, its CRC-32 says whether its bytes are intact
      const { header: h, len } = decodeRowGroupPart(bytes.subarray(off, end));
      if (expect !== undefined && len !== expect) throw new Error("bad part length");
      stats.rowgroups = (stats.rowgroups ?? 0) + 1;
      return keep(off, len, h.rows, h);
    }
    const hlen = dv.getUint32(off, true);
    if (off + 8 + hlen > end) throw new Error("part header out of range");
    const h = JSON.parse(new TextDecoder().decode(bytes.subarray(off + 8, off + 8 + hlen))) as {
      rows: number;
      lens: number[];
    };
    if (!Number.isInteger(h.rows) || h.rows <= 0 || !Array.isArray(h.lens)) throw new Error("bad part header");
    const len = 8 + hlen + pad8(hlen) + h.lens.reduce((s, l) => s + l + pad8(l), 0);
    if (!(len > 0) || off + len > end || (expect !== undefined && len !== expect)) throw new Error("bad part length");
    const batch = decodePart(bytes.subarray(off, off + len));
    if (batch.numRows !== h.rows) throw new Error("bad row count");
    return keep(off, len, h.rows, batchStats(batch)); // batchStats throws before anything is kept
  };
  let complete = true;
  let off = 0;
  if (lens) {
    for (const len of lens) {
      try {
        take(off, len);
      } catch {
        complete = false;
      }
      off += len;
    }
    complete &&= off === end;
  } else {
    for (;;) {
      if (off === end) break;
      try {
        if (off + 8 > end) throw new Error("short");
        off += take(off);
      } catch {
        complete = false;
        break;
      }
    }
  }
  stats.markets = [...markets];
  return { parts, stats, complete };
}

/** The part lengths from a segment's trailer, if it has a well-formed one that adds up. */
export function trailerParts(bytes: Uint8Array): number[] | undefined {
  const end = trailerStart(bytes);
  if (end === undefined) return undefined;
  try {
    const lens = (JSON.parse(new TextDecoder().decode(bytes.subarray(end, bytes.length - TAIL_LEN))) as SegmentStats)
      .parts ?? [end];
    return lens.every((l) => Number.isInteger(l) && l > 0) && lens.reduce((x, y) => x + y, 0) === end
      ? lens
      : undefined;
  } catch {
    return undefined;
  }
}

/** Where the parts end if the segment has a well-formed trailer, else undefined (torn: walk to the end). */
export function trailerStart(bytes: Uint8Array): number | undefined {
  const n = bytes.length;
  if (n < TAIL_LEN) return undefined;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[n - MAGIC.length + i] !== MAGIC[i]) return undefined;
  const start = n - TAIL_LEN - new DataView(bytes.buffer, bytes.byteOffset + n - TAIL_LEN, 4).getUint32(0, true);
  return start >= 0 ? start : undefined;
}

/** A free `<bucketdir>-<n>` directory under the quarantine area for this bucket (not created). */
export async function freeQuarantineDir(
  fs: StorageFs,
  dataDir: string,
  venue: string,
  bucketDir: string,
): Promise<string> {
  const root = quarantineVenueDir(dataDir, venue);
  const taken = new Set(await fs.readdir(root).catch(() => [] as string[]));
  for (let n = 1; ; n++)
    if (!taken.has(`${basename(bucketDir)}-${n}`)) return join(root, `${basename(bucketDir)}-${n}`);
}

/**
 * Moves one unreadable segment (its bytes already read) into `qdir`; when some of its parts decode they are then
 * written back under the same name (fsynced) so those rows still reach the final file. The original is moved out
 * first: a crash in between leaves every byte in the quarantine copy. Returns the salvaged segment's stats.
 */
export async function quarantineSegment(
  fs: StorageFs,
  bucketDir: string,
  seg: string,
  bytes: Uint8Array,
  reason: string,
  qdir: string,
): Promise<SegmentStats> {
  const lens = trailerParts(bytes);
  const { parts, stats } = salvageParts(bytes, lens ? trailerStart(bytes) : bytes.length, lens);
  await fs.mkdirp(qdir);
  const src = join(bucketDir, seg);
  await fs.rename(src, join(qdir, seg));
  await writeAtomic(fs, join(qdir, `${seg}.reason.txt`), [
    new TextEncoder().encode(`${src}: ${reason}; ${stats.rows} rows salvaged back into staging\n`),
  ]);
  await fs.syncDir(bucketDir);
  if (stats.rows > 0) await writeAtomic(fs, src, [...parts, ...segmentTrailer(stats)]);
  return stats;
}
