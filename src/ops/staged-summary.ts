/**
 * Read-only summary of the writer's staging area (rows durable but not yet compacted into final files).
 * Reads only each segment's trailer; never deletes or renames (a live collector owns that directory).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { decodeSegment, segmentNumber, type SegmentStats } from "../storage/staging.ts";
import { QUARANTINE_DIR, parseBucketDir, stagingRoot, QUARANTINE_REL } from "../layout.ts";

export interface StagedSummary {
  venue: string;
  /** Bucket start, epoch ms, and length (from the bucket's directory name: the length it was staged under). */
  start: number;
  minutes: number;
  segments: number;
  rows: number;
  bytes: number;
  markets: string[];
  min_ts: number | null;
  max_ts: number | null;
  /** Segments whose trailer could not be read. */
  unreadable: number;
}

// Segment layout (src/storage/staging.ts): Arrow IPC stream, JSON stats, u32 LE JSON length, 8-byte magic.
const TAIL = 12;

/** Decodes only the stats trailer: reads the last bytes, not the IPC body. */
async function segmentStats(path: string, size: number): Promise<SegmentStats> {
  const f = Bun.file(path);
  if (size < TAIL) throw new Error("segment too short");
  const jsonLen = new DataView(await f.slice(size - TAIL, size - TAIL + 4).arrayBuffer()).getUint32(0, true);
  if (jsonLen + TAIL > size) throw new Error("bad trailer");
  return decodeSegment(new Uint8Array(await f.slice(size - TAIL - jsonLen, size).arrayBuffer())).stats;
}

const ls = (dir: string) => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};

export async function listStagedSummary(dataDir: string): Promise<StagedSummary[]> {
  const root = stagingRoot(dataDir);
  const byBucket = new Map<string, StagedSummary & { marketSet: Set<string> }>();
  for (const venue of ls(root)) {
    if (venue === QUARANTINE_DIR) continue; // see listQuarantined
    for (const name of ls(join(root, venue))) {
      const parsed = parseBucketDir(name);
      if (!parsed) continue;
      const { start, minutes } = parsed;
      const k = `${venue}/${start}/${minutes}`;
      let s = byBucket.get(k);
      if (!s)
        byBucket.set(
          k,
          (s = {
            venue,
            start,
            minutes,
            segments: 0,
            rows: 0,
            bytes: 0,
            markets: [],
            min_ts: null,
            max_ts: null,
            unreadable: 0,
            marketSet: new Set(),
          }),
        );
      const dir = join(root, venue, name);
      for (const seg of ls(dir)) {
        if (segmentNumber(seg) < 0) continue;
        let size: number;
        try {
          size = statSync(join(dir, seg)).size;
        } catch {
          continue; // compacted and removed while we looked
        }
        s.segments++;
        s.bytes += size;
        try {
          const st = await segmentStats(join(dir, seg), size);
          s.rows += st.rows;
          s.min_ts = s.min_ts === null ? st.min_ts : Math.min(s.min_ts, st.min_ts);
          s.max_ts = s.max_ts === null ? st.max_ts : Math.max(s.max_ts, st.max_ts);
          for (const mk of st.markets) s.marketSet.add(mk);
        } catch {
          s.unreadable++;
        }
      }
    }
  }
  return [...byBucket.values()]
    .map(({ marketSet, ...s }) => ({ ...s, markets: [...marketSet].sort() }))
    .sort((a, b) => a.start - b.start);
}

/** Quarantined staged data (`_staging/_quarantine/<venue>/<bucketdir>-<n>`, src/storage/quarantine.ts), as paths relative to the data dir. */
export function listQuarantined(dataDir: string): string[] {
  const root = QUARANTINE_REL;
  return ls(join(dataDir, root)).flatMap((venue) => ls(join(dataDir, root, venue)).map((d) => join(root, venue, d)));
}
