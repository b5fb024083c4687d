/**
 * The day partials on disk next to the day's stats: `partials.json` and `series.json.gz` (5-minute sums, for the
 * report), each stamped with the identity of the snapshot files it came from (path, bytes, manifest rows), so a day
 * whose files changed (a late `_1` file, a compaction) is mined again.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { DatasetFile } from "../layout.ts";
import { statsPath } from "../layout.ts";
import { accFromJson, accToJson, type BookAcc, type BookSeries, bookKey } from "./partials.ts";

/** Bumped when the meaning of a field changes: partials of another version are mined again. */
export const PARTIALS_VERSION = 2; // 2: quality sums (crossed/locked, parity)

export interface FileIdentity {
  path: string;
  bytes: number;
  /** Rows per the manifest; null when the manifest does not list the file. */
  rows: number | null;
}

export function partialsPath(dataDir: string, venue: string, date: string): string {
  return join(dirname(statsPath(dataDir, venue, date)), "partials.json");
}

export function seriesPath(dataDir: string, venue: string, date: string): string {
  return join(dirname(statsPath(dataDir, venue, date)), "series.json.gz");
}

/** The identity of a day's files: sorted by path, bytes from the listing, rows from the manifest. */
export function dayIdentity(files: DatasetFile[], manifestRows: Map<string, number>): FileIdentity[] {
  return files
    .map((f) => ({ path: f.rel, bytes: f.bytes, rows: manifestRows.get(f.rel) ?? null }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const sameIdentity = (a: FileIdentity[], b: FileIdentity[]) =>
  a.length === b.length && a.every((x, i) => x.path === b[i].path && x.bytes === b[i].bytes && x.rows === b[i].rows);

interface PartialsFile {
  version: number;
  venue: string;
  date: string;
  max_gap_ms: number;
  files: FileIdentity[];
  books: Record<string, unknown>[];
}

/**
 * The day's books from its partials when they were built from exactly `files` with the same gap rule; undefined
 * (mine the day) when there are none, they are of another version or the files differ. An unreadable partials file
 * is not an error: the day is mined again and the file rewritten.
 */
export function readPartials(
  dataDir: string,
  venue: string,
  date: string,
  files: FileIdentity[],
  maxGapMs: number,
): Map<string, BookAcc> | undefined {
  const path = partialsPath(dataDir, venue, date);
  if (!existsSync(path)) return undefined;
  let p: PartialsFile;
  try {
    p = JSON.parse(readFileSync(path, "utf8")) as PartialsFile;
  } catch {
    return undefined;
  }
  if (p.version !== PARTIALS_VERSION || p.max_gap_ms !== maxGapMs || !Array.isArray(p.files)) return undefined;
  if (!sameIdentity(p.files, files)) return undefined;
  const books = new Map<string, BookAcc>();
  for (const o of p.books) {
    const a = accFromJson(o);
    books.set(bookKey(a.market_id, a.outcome_id), a);
  }
  return books;
}

function writeAtomic(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.partial`;
  const fd = openSync(tmp, "w");
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Writes the day's series (when the books carry them), then its partials: partials present means series current. */
export function writePartials(
  dataDir: string,
  venue: string,
  date: string,
  files: FileIdentity[],
  maxGapMs: number,
  books: Map<string, BookAcc>,
): string {
  const list = [...books.values()];
  if (list.every((b) => b.series)) {
    const series = list.map((b) => ({ market_id: b.market_id, outcome_id: b.outcome_id, ...b.series }));
    const json = JSON.stringify({ version: PARTIALS_VERSION, venue, date, books: series });
    writeAtomic(seriesPath(dataDir, venue, date), Bun.gzipSync(Buffer.from(json)));
  }
  const body: PartialsFile = {
    version: PARTIALS_VERSION,
    venue,
    date,
    max_gap_ms: maxGapMs,
    files,
    books: list.map(accToJson),
  };
  const path = partialsPath(dataDir, venue, date);
  writeAtomic(path, Buffer.from(JSON.stringify(body)));
  return path;
}

export interface NamedSeries extends BookSeries {
  market_id: string;
  outcome_id: string;
}

/** The day's per-book series, or undefined when the file is missing or unreadable. */
export function readSeries(dataDir: string, venue: string, date: string): NamedSeries[] | undefined {
  const path = seriesPath(dataDir, venue, date);
  if (!existsSync(path)) return undefined;
  try {
    const o = JSON.parse(new TextDecoder().decode(Bun.gunzipSync(readFileSync(path)))) as { books: NamedSeries[] };
    return o.books;
  } catch {
    return undefined;
  }
}
