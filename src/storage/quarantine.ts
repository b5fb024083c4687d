/**
 * Unreadable staged segments. A torn or garbage segment must not stop the writer from opening (a crash loop under
 * systemd) nor block the other buckets: its readable parts are salvaged into a fresh segment and the original is
 * moved to `<dataDir>/_staging/_quarantine/<venue>/<bucketdir>-<n>/` with a REASON file, for an operator to inspect.
 */
import { basename, join } from "node:path";
import { decodePart } from "./_columns.ts";
import { type StorageFs, writeAtomic } from "./fs.ts";
import { MAGIC, QUARANTINE_DIR, STAGING_DIR, type SegmentStats, segmentTrailer, TAIL_LEN } from "./staging.ts";

/** True for a decode failure (bad bytes), false for an I/O error (errno code), which is retried instead. */
export function isCorrupt(e: unknown): boolean {
  return typeof (e as { code?: unknown } | undefined)?.code !== "string";
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/**
 * Walks a segment's parts from the start by their own headers (no trailer needed) and keeps every part that
 * decodes, up to the first one that does not. `complete` says the walk reached `end` (the trailer's start).
 */
export function salvageParts(bytes: Uint8Array, end = bytes.length): { parts: Uint8Array[]; stats: SegmentStats; complete: boolean } {
  const parts: Uint8Array[] = [];
  const stats: SegmentStats = { rows: 0, min_ts: Infinity, max_ts: -Infinity, markets: [], parts: [] };
  const markets = new Set<string>();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  while (off + 8 <= end) {
    try {
      const hlen = dv.getUint32(off, true);
      if (off + 8 + hlen > end) break;
      const h = JSON.parse(new TextDecoder().decode(bytes.subarray(off + 8, off + 8 + hlen))) as { rows: number; lens: number[] };
      if (!Number.isInteger(h.rows) || h.rows <= 0 || !Array.isArray(h.lens)) break;
      const len = 8 + hlen + pad8(hlen) + h.lens.reduce((s, l) => s + l + pad8(l), 0);
      if (!(len > 0) || off + len > end) break;
      const part = bytes.subarray(off, off + len);
      const batch = decodePart(part);
      if (batch.numRows !== h.rows) break;
      const ts = batch.getChild("ts_recv")!;
      const mk = batch.getChild("market_id")!;
      for (let i = 0; i < batch.numRows; i++) {
        const t = Number(ts.get(i));
        if (!Number.isFinite(t)) throw new Error("bad ts_recv");
        if (t < stats.min_ts) stats.min_ts = t;
        if (t > stats.max_ts) stats.max_ts = t;
        markets.add(String(mk.get(i)));
      }
      parts.push(part);
      stats.parts!.push(len);
      stats.rows += h.rows;
      off += len;
    } catch {
      break;
    }
  }
  stats.markets = [...markets];
  return { parts, stats, complete: off === end };
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
export async function freeQuarantineDir(fs: StorageFs, dataDir: string, venue: string, bucketDir: string): Promise<string> {
  const root = join(dataDir, STAGING_DIR, QUARANTINE_DIR, venue);
  const taken = new Set(await fs.readdir(root).catch(() => [] as string[]));
  for (let n = 1; ; n++) if (!taken.has(`${basename(bucketDir)}-${n}`)) return join(root, `${basename(bucketDir)}-${n}`);
}

/**
 * Moves one unreadable segment (its bytes already read) into `qdir`; when some of its parts decode they are then
 * written back under the same name (fsynced) so those rows still reach the final file. The original is moved out
 * first: a crash in between leaves every byte in the quarantine copy. Returns the salvaged segment's stats.
 */
export async function quarantineSegment(fs: StorageFs, bucketDir: string, seg: string, bytes: Uint8Array, reason: string, qdir: string): Promise<SegmentStats> {
  const { parts, stats } = salvageParts(bytes, trailerStart(bytes) ?? bytes.length);
  await fs.mkdirp(qdir);
  const src = join(bucketDir, seg);
  await fs.rename(src, join(qdir, seg));
  await writeAtomic(fs, join(qdir, `${seg}.reason.txt`), [new TextEncoder().encode(`${src}: ${reason}; ${stats.rows} rows salvaged back into staging\n`)]);
  await fs.syncDir(bucketDir);
  if (stats.rows > 0) await writeAtomic(fs, src, [...parts, ...segmentTrailer(stats)]);
  return stats;
}
