/**
 * Append-only manifest of finalized snapshot files, `_manifest/orderbook_snapshots.jsonl` (outside the dataset glob):
 * one JSON line per file, fsynced after its rename, so readers prune by venue/time/markets without opening files;
 * `checkManifest` compares it with the disk.
 */
import { dirname, join, relative } from "node:path";
import { DATASET_DIR, manifestPath } from "../layout.ts";
import { nodeFs, type StorageFs } from "./fs.ts";

export interface ManifestEntry {
  /** Relative to the data dir, `/`-separated: `orderbook_snapshots/venue=V/date=…/hour=HH/snapshots_….parquet`. */
  path: string;
  venue: string;
  /** Bucket start, epoch ms UTC, and the same as ISO text. */
  bucket_start: number;
  bucket_start_iso: string;
  bucket_minutes: number;
  /** 0 for the bucket's main file, N for `_N` (late rows that arrived after it was finalized). */
  part: number;
  rows: number;
  bytes: number;
  min_ts_recv: number;
  max_ts_recv: number;
  /** Distinct market_id values in the file. */
  markets: number;
  /** When it was finalized (writer clock, epoch ms). */
  written_at: number;
}

export async function appendManifest(fs: StorageFs, dataDir: string, e: ManifestEntry): Promise<void> {
  await fs.mkdirp(dirname(manifestPath(dataDir)));
  await fs.appendDurable(manifestPath(dataDir), JSON.stringify(e) + "\n");
}

export interface ManifestRead {
  entries: ManifestEntry[];
  /** 1-based line numbers that did not parse (a torn last line after a crash is expected; others are not). */
  badLines: number[];
}

export async function readManifest(dataDir: string, fs: StorageFs = nodeFs): Promise<ManifestRead> {
  const size = await fs.size(manifestPath(dataDir));
  if (size === undefined) return { entries: [], badLines: [] };
  const text = new TextDecoder().decode(await fs.readFile(manifestPath(dataDir)));
  const entries: ManifestEntry[] = [];
  const badLines: number[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const e = JSON.parse(line) as ManifestEntry;
      if (typeof e.path !== "string" || typeof e.rows !== "number") throw new Error("not an entry");
      entries.push(e);
    } catch {
      badLines.push(i + 1);
    }
  });
  return { entries, badLines };
}

export interface ManifestCheck {
  ok: boolean;
  /** Listed but not on disk. */
  missing: string[];
  /** On disk (a final `*.parquet` under orderbook_snapshots/) but not listed. */
  unlisted: string[];
  /** Listed and present but with another size. */
  sizeMismatch: { path: string; listed: number; actual: number }[];
  /** Listed more than once. */
  duplicates: string[];
  badLines: number[];
  files: number;
  rows: number;
}

/** Compares the manifest with the final files on disk (optionally only one venue). */
export async function checkManifest(
  dataDir: string,
  opts: { venue?: string; fs?: StorageFs } = {},
): Promise<ManifestCheck> {
  const fs = opts.fs ?? nodeFs;
  const { entries, badLines } = await readManifest(dataDir, fs);
  const listed = new Map<string, ManifestEntry>();
  const duplicates: string[] = [];
  for (const e of entries) {
    if (opts.venue && e.venue !== opts.venue) continue;
    if (listed.has(e.path)) duplicates.push(e.path);
    listed.set(e.path, e);
  }
  const onDisk = new Set<string>();
  const root = join(dataDir, DATASET_DIR);
  const glob = new Bun.Glob(opts.venue ? `venue=${opts.venue}/**/*.parquet` : "**/*.parquet");
  for await (const f of glob.scan({ cwd: root, onlyFiles: true }))
    onDisk.add(relative(dataDir, join(root, f)).split("\\").join("/"));
  const missing: string[] = [];
  const sizeMismatch: ManifestCheck["sizeMismatch"] = [];
  let rows = 0;
  for (const [p, e] of listed) {
    if (!onDisk.has(p)) {
      missing.push(p);
      continue;
    }
    rows += e.rows;
    const actual = await fs.size(join(dataDir, p));
    if (actual !== e.bytes) sizeMismatch.push({ path: p, listed: e.bytes, actual: actual ?? -1 });
  }
  const unlisted = [...onDisk].filter((p) => !listed.has(p)).sort();
  return {
    ok: missing.length === 0 && unlisted.length === 0 && sizeMismatch.length === 0 && duplicates.length === 0,
    missing: missing.sort(),
    unlisted,
    sizeMismatch,
    duplicates,
    badLines,
    files: listed.size,
    rows,
  };
}
