/** What is in a data dir's final files, read by two independent engines (nodejs-polars and DuckDB). */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { checkManifest } from "../../src/storage/manifest.ts";
import { parquetFileInfo } from "../../src/parquet/read.ts";
import { DATASET_DIR } from "../../src/layout.ts";

export interface DatasetCheck {
  files: number;
  /** Rows per market_id (DuckDB). */
  rowsByMarket: Map<string, number>;
  rows: number;
  /** Rows whose (market, outcome, ts_recv, seq) occurs more than once, beyond the first. */
  duplicates: number;
  polarsRows: number;
  polarsDistinct: number;
  duckRows: number;
  duckDistinct: number;
  /** Final files a reader failed on. */
  unreadable: string[];
  /** Anything under orderbook_snapshots/ that is not a final `*.parquet` (leftover temp files). */
  strayFiles: string[];
  manifestOk: boolean;
}

export const DATASET_GLOB = "**/*.parquet";

/** Final files, relative to the dataset dir: exactly what a `orderbook_snapshots/**\/*.parquet` glob sees. */
export function finalFiles(dataDir: string): string[] {
  if (!existsSync(join(dataDir, DATASET_DIR))) return [];
  return [...new Bun.Glob(DATASET_GLOB).scanSync({ cwd: join(dataDir, DATASET_DIR), onlyFiles: true })].sort();
}

export async function checkDataset(dataDir: string): Promise<DatasetCheck> {
  const root = join(dataDir, DATASET_DIR);
  const files = finalFiles(dataDir);
  const all = existsSync(root) ? [...new Bun.Glob("**/*").scanSync({ cwd: root, onlyFiles: true, dot: true })] : [];
  const strayFiles = all.filter((f) => !files.includes(f)).sort();
  const unreadable: string[] = [];
  for (const f of files) {
    try {
      await parquetFileInfo(join(root, f));
    } catch {
      unreadable.push(f);
    }
  }
  const glob = join(root, DATASET_GLOB);
  const res: DatasetCheck = {
    files: files.length,
    rowsByMarket: new Map(),
    rows: 0,
    duplicates: 0,
    polarsRows: 0,
    polarsDistinct: 0,
    duckRows: 0,
    duckDistinct: 0,
    unreadable,
    strayFiles,
    manifestOk: (await checkManifest(dataDir)).ok,
  };
  if (files.length === 0) return res;

  const pl = (await import("nodejs-polars")).default;
  const keys = pl
    .scanParquet(glob, { hivePartitioning: true } as never)
    .select("market_id", "outcome_id", "ts_recv", "seq")
    .collectSync();
  res.polarsRows = keys.height;
  res.polarsDistinct = keys.unique().height;

  const inst = await DuckDBInstance.create(":memory:", { threads: "2" });
  const conn = await inst.connect();
  try {
    const src = `read_parquet('${glob}', hive_partitioning = false)`;
    const tot = (
      await conn.runAndReadAll(
        `SELECT count(*)::BIGINT AS n, count(DISTINCT (market_id, outcome_id, ts_recv, seq))::BIGINT AS d FROM ${src}`,
      )
    ).getRowObjects()[0];
    res.duckRows = Number(tot.n);
    res.duckDistinct = Number(tot.d);
    const per = (
      await conn.runAndReadAll(`SELECT market_id, count(*)::BIGINT AS n FROM ${src} GROUP BY 1`)
    ).getRowObjects();
    for (const r of per) res.rowsByMarket.set(String(r.market_id), Number(r.n));
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
  res.rows = res.duckRows;
  res.duplicates = res.duckRows - res.duckDistinct;
  return res;
}

/** Final files are immutable: remembers each one's size and mtime and reports any that changed or vanished. */
export class FinalFileWatch {
  private seen = new Map<string, string>();
  changed: string[] = [];
  /** Checks every known file and records new ones; returns the new ones. */
  scan(dataDir: string): string[] {
    const root = join(dataDir, DATASET_DIR);
    const now = finalFiles(dataDir);
    const fresh: string[] = [];
    for (const [f, sig] of this.seen) {
      let cur = "missing";
      try {
        const s = statSync(join(root, f));
        cur = `${s.size}:${s.mtimeMs}`;
      } catch {}
      if (cur !== sig && !this.changed.includes(f)) this.changed.push(f);
    }
    for (const f of now) {
      if (this.seen.has(f)) continue;
      const s = statSync(join(root, f));
      this.seen.set(f, `${s.size}:${s.mtimeMs}`);
      fresh.push(f);
    }
    return fresh;
  }
}
