/**
 * Which files of the data tree are final, and so may be copied: snapshot files once the manifest lists them (it is
 * appended after their rename), the manifest and today's journal (appended: copied now and then), past journal days,
 * universe and stats files (replaced atomically). Never the staging area, temp files or the upload ledger.
 */
import { join } from "node:path";
import {
  DATASET_DIR,
  MANIFEST_DIR,
  MANIFEST_FILE,
  manifestPath,
  METADATA_DIR,
  STATS_DIR,
  SUBSCRIPTIONS_DIR,
} from "../layout.ts";
import type { ManifestEntry } from "../storage/manifest.ts";
import { nodeFs, type StorageFs } from "../storage/fs.ts";

export type FileKind = "snapshot" | "manifest" | "journal" | "universe" | "stats";

export interface Candidate {
  /** Relative to the data dir, `/`-separated. */
  rel: string;
  kind: FileKind;
  venue?: string;
  /** The `date=` partition, when the path has one. */
  date?: string;
  /** Appended in place (the manifest, a journal day not yet over): copied at most every mutable_upload_secs. */
  appending: boolean;
  /** A snapshot file's size as the manifest lists it. */
  bytes?: number;
}

const DAY_MS = 86_400_000;
/** A journal day is final this long after its UTC midnight (the last buffered lines of the day are flushed by then). */
export const JOURNAL_SETTLE_MS = 10 * 60_000;

/** Directories (under the data dir) scanned for non-snapshot files, with the kind of what they hold. */
const GLOBS: { kind: FileKind; dir: string; glob: string }[] = [
  { kind: "journal", dir: SUBSCRIPTIONS_DIR, glob: "venue=*/date=*/*.jsonl" },
  { kind: "universe", dir: METADATA_DIR, glob: "venue=*/date=*/*" },
  { kind: "stats", dir: STATS_DIR, glob: "venue=*/date=*/*" },
];

const PARTS = /(?:^|\/)venue=([^/]+)\/date=(\d{4}-\d{2}-\d{2})\//;

export function partsOf(rel: string): { venue?: string; date?: string } {
  const m = PARTS.exec(rel);
  return m ? { venue: m[1], date: m[2] } : {};
}

/** Temp files of the atomic writers (`.tmp-NAME.partial`) and anything else hidden or partial is never final. */
export function isTempName(name: string): boolean {
  return name.startsWith(".") || name.endsWith(".partial") || name.endsWith(".tmp");
}

/** Reads the manifest incrementally (only what was appended since the last call; a torn last line waits). */
export class ManifestTail {
  private offset = 0;
  constructor(
    private readonly dataDir: string,
    private readonly fs: StorageFs = nodeFs,
  ) {}

  async next(): Promise<ManifestEntry[]> {
    const p = manifestPath(this.dataDir);
    const size = await this.fs.size(p);
    if (size === undefined || size <= this.offset) return [];
    const bytes = await this.fs.readRange(p, this.offset, size - this.offset);
    const end = bytes.lastIndexOf(0x0a);
    if (end < 0) return [];
    this.offset += end + 1;
    const out: ManifestEntry[] = [];
    for (const line of new TextDecoder().decode(bytes.subarray(0, end)).split("\n")) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as ManifestEntry;
        if (typeof e.path === "string" && e.path.startsWith(`${DATASET_DIR}/`)) out.push(e);
      } catch {
        // a line torn by a crash in the middle of the file: the writer starts the next one on a fresh line
      }
    }
    return out;
  }
}

/** Every non-snapshot final file now (journal days past or current, universe, stats, the manifest). */
export async function listOtherFiles(dataDir: string, now: number): Promise<Candidate[]> {
  const out: Candidate[] = [];
  if (await Bun.file(manifestPath(dataDir)).exists())
    out.push({ rel: `${MANIFEST_DIR}/${MANIFEST_FILE}`, kind: "manifest", appending: true });
  for (const g of GLOBS) {
    const root = join(dataDir, g.dir);
    let names: string[];
    try {
      names = await Array.fromAsync(new Bun.Glob(g.glob).scan({ cwd: root, onlyFiles: true }));
    } catch {
      continue; // the directory does not exist (yet)
    }
    for (const name of names.sort()) {
      const base = name.slice(name.lastIndexOf("/") + 1);
      if (isTempName(base)) continue;
      const rel = `${g.dir}/${name.split("\\").join("/")}`;
      const { venue, date } = partsOf(rel);
      const appending =
        g.kind === "journal" && (date === undefined || now < Date.parse(date) + DAY_MS + JOURNAL_SETTLE_MS);
      out.push({ rel, kind: g.kind, venue, date, appending });
    }
  }
  return out;
}

export function snapshotCandidate(e: ManifestEntry): Candidate {
  const { venue, date } = partsOf(e.path);
  return { rel: e.path, kind: "snapshot", venue: venue ?? e.venue, date, appending: false, bytes: e.bytes };
}
