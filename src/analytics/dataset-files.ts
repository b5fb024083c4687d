/** The dataset's venues, and a cheap footer check that tells a truncated/corrupt file and whether it carries the derived depth columns. */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { datasetRoot } from "../layout.ts";

/** Venues that have a dataset directory, sorted. */
export function datasetVenues(dataDir: string): string[] {
  const root = datasetRoot(dataDir);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith("venue="))
    .map((d) => d.name.slice("venue=".length))
    .sort();
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
    if (head.readUInt32LE(0) !== MAGIC)
      return { ok: false, reason: "no Parquet header (not a Parquet file?)", hasDepth3: false };
    if (tail.readUInt32LE(4) !== MAGIC)
      return { ok: false, reason: "no Parquet footer (truncated?)", hasDepth3: false };
    const footerLen = tail.readUInt32LE(0);
    if (footerLen <= 0 || footerLen > size - 12)
      return { ok: false, reason: `bad footer length ${footerLen} (truncated?)`, hasDepth3: false };
    const footer = Buffer.alloc(footerLen);
    readSync(fd, footer, 0, footerLen, size - 8 - footerLen);
    return { ok: true, hasDepth3: footer.includes("bid_depth3") && footer.includes("ask_depth3") };
  } catch (e) {
    return { ok: false, reason: (e as Error).message, hasDepth3: false };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
