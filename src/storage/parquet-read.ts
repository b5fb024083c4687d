/** Lists the dataset's final files by Hive partition, and reads them into Arrow JS with parquet-wasm (no Polars). */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Table } from "apache-arrow";
import { DATASET_DIR } from "../timebucket.ts";
import { readSnapshotTable } from "./read.ts";

/** Reads a whole Parquet file (or only `columns`) into an Arrow table; throws on a truncated or corrupt file. */
export async function readParquetFile(path: string, columns?: string[]): Promise<Table> {
  return readSnapshotTable(new Uint8Array(await Bun.file(path).arrayBuffer()), columns);
}

/** One final file of the dataset, located by its Hive partition path. */
export interface DatasetFile {
  /** Path relative to the data dir: `orderbook_snapshots/venue=V/date=D/hour=HH/name`. */
  rel: string;
  abs: string;
  venue: string;
  date: string;
  hour: number;
  name: string;
  bytes: number;
}

const dirsMatching = (dir: string, key: string): [string, string][] => {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(`${key}=`))
    .sort()
    .map((n) => [n.slice(key.length + 1), join(dir, n)]);
};

/**
 * Every `*.parquet` under the dataset tree, optionally limited to venues and a [fromTs, toTs) range of hours
 * (by partition path, so a file in the wrong partition is still found where it lies).
 */
export function listDatasetFiles(
  dataDir: string,
  opts: { venues?: string[]; fromTs?: number; toTs?: number } = {},
): DatasetFile[] {
  const out: DatasetFile[] = [];
  for (const [venue, vdir] of dirsMatching(join(dataDir, DATASET_DIR), "venue")) {
    if (opts.venues?.length && !opts.venues.includes(venue)) continue;
    for (const [date, ddir] of dirsMatching(vdir, "date")) {
      for (const [hh, hdir] of dirsMatching(ddir, "hour")) {
        const hour = Number(hh);
        const hourTs = Date.parse(`${date}T${hh.padStart(2, "0")}:00:00Z`);
        if (opts.fromTs !== undefined && !(hourTs >= opts.fromTs)) continue;
        if (opts.toTs !== undefined && !(hourTs < opts.toTs)) continue;
        for (const name of readdirSync(hdir).sort()) {
          if (!name.endsWith(".parquet")) continue;
          const abs = join(hdir, name);
          out.push({
            rel: `${DATASET_DIR}/venue=${venue}/date=${date}/hour=${hh}/${name}`,
            abs,
            venue,
            date,
            hour,
            name,
            bytes: statSync(abs).size,
          });
        }
      }
    }
  }
  return out;
}
