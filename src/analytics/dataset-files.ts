/**
 * Lists the snapshot files of a venue in a time range from the partition directory names alone
 * (`venue=V/date=D/hour=H`), so a file outside the range is never opened; and a cheap footer check
 * that tells a truncated/corrupt file and whether it carries the derived depth columns.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import { DATASET_DIR, utcDate } from "../timebucket.ts";

export interface SnapshotFile {
  venue: string;
  path: string;
  /** Start of the hour partition the file sits in (epoch ms). */
  hourTs: number;
}

const DATE_DIR = /^date=(\d{4}-\d{2}-\d{2})$/;
const HOUR_DIR = /^hour=(\d{2})$/;

/** Venues that have a dataset directory, sorted. */
export function datasetVenues(dataDir: string): string[] {
  const root = join(dataDir, DATASET_DIR);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith("venue="))
    .map((d) => d.name.slice("venue=".length))
    .sort();
}

/** Files of `venue` whose hour partition starts in [from, to), in time order (by hour, then file name). */
export function listSnapshotFiles(dataDir: string, venue: string, from: number, to: number): SnapshotFile[] {
  const venueDir = join(dataDir, DATASET_DIR, `venue=${venue}`);
  if (!existsSync(venueDir)) return [];
  const firstDate = utcDate(from);
  const lastDate = utcDate(to - 1);
  const out: SnapshotFile[] = [];
  for (const dateName of readdirSync(venueDir).sort()) {
    const dm = DATE_DIR.exec(dateName);
    if (!dm || dm[1] < firstDate || dm[1] > lastDate) continue;
    const dateTs = Date.parse(`${dm[1]}T00:00:00Z`);
    const dateDir = join(venueDir, dateName);
    for (const hourName of readdirSync(dateDir).sort()) {
      const hm = HOUR_DIR.exec(hourName);
      if (!hm) continue;
      const hourTs = dateTs + Number(hm[1]) * 3_600_000;
      if (hourTs < from || hourTs >= to) continue;
      const hourDir = join(dateDir, hourName);
      for (const f of readdirSync(hourDir).sort()) {
        // Dot-files are temp files of an atomic write in progress.
        if (f.endsWith(".parquet") && !f.startsWith(".")) out.push({ venue, path: join(hourDir, f), hourTs });
      }
    }
  }
  return out;
}

export interface FileCheck {
  ok: boolean;
  /** Why the file cannot be read (when !ok). */
  reason?: string;
  /** The file has the derived scalar columns bid_depth3/ask_depth3. */
  hasDepth3: boolean;
}

const MAGIC = 0x31524150; // "PAR1" little-endian

/**
 * Reads the 4-byte header and the footer only: a Parquet file starts and ends with "PAR1", preceded at the end by the
 * footer length. Column names sit in the Thrift footer as plain bytes, so a byte search tells whether the derived
 * columns are there without decoding it. Page-level corruption is caught later, when the file is actually read.
 */
export function checkParquetFile(path: string): FileCheck {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    if (size < 12) return { ok: false, reason: `too small to be Parquet (${size} bytes)`, hasDepth3: false };
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    if (head.readUInt32LE(0) !== MAGIC) return { ok: false, reason: "no Parquet header (not a Parquet file?)", hasDepth3: false };
    if (tail.readUInt32LE(4) !== MAGIC) return { ok: false, reason: "no Parquet footer (truncated?)", hasDepth3: false };
    const footerLen = tail.readUInt32LE(0);
    if (footerLen <= 0 || footerLen > size - 12) return { ok: false, reason: `bad footer length ${footerLen} (truncated?)`, hasDepth3: false };
    const footer = Buffer.alloc(footerLen);
    readSync(fd, footer, 0, footerLen, size - 8 - footerLen);
    return { ok: true, hasDepth3: footer.includes("bid_depth3") && footer.includes("ask_depth3") };
  } catch (e) {
    return { ok: false, reason: (e as Error).message, hasDepth3: false };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
