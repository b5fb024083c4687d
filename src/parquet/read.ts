/** Polars-free reading of snapshot Parquet files (parquet-wasm + apache-arrow), for tests, verify and the scheduler. */
import { readFileSync } from "node:fs";
import { type Table, tableFromIPC } from "apache-arrow";
import type { SnapshotRow, SnapshotStatus } from "../schema.ts";
import { pw } from "./wasm.ts";

/** Reads a Parquet file (or its bytes) into an Arrow JS table; `columns` limits what is decoded. */
export function readSnapshotTable(pathOrBytes: string | Uint8Array, columns?: string[]): Table {
  const bytes = typeof pathOrBytes === "string" ? readFileSync(pathOrBytes) : pathOrBytes;
  const wasmTable = pw.readParquet(bytes, columns ? { columns } : undefined);
  return tableFromIPC(wasmTable.intoIPCStream());
}

/** Reads a whole Parquet file (or only `columns`) into an Arrow table; throws on a truncated or corrupt file. */
export async function readParquetFile(path: string, columns?: string[]): Promise<Table> {
  return readSnapshotTable(new Uint8Array(await Bun.file(path).arrayBuffer()), columns);
}

/** Row count and rows per row group from the footer alone (nothing decoded). */
export async function parquetFileInfo(path: string): Promise<{ rows: number; rowGroupRows: number[] }> {
  const f = await pw.ParquetFile.fromFile(Bun.file(path));
  try {
    const meta = f.metadata();
    const rowGroupRows = meta.rowGroups().map((g) => g.numRows());
    return { rows: meta.fileMetadata().numRows(), rowGroupRows };
  } finally {
    f.free();
  }
}

const num = (v: unknown): number => (typeof v === "bigint" ? Number(v) : (v as number));
const list = (v: unknown): number[] => (v == null ? [] : Array.from(v as ArrayLike<number>, Number));

/** Converts an Arrow table of snapshots to plain rows (int64 → number). For tests and small files. */
export function tableToRows(t: Table): SnapshotRow[] {
  const rows: SnapshotRow[] = [];
  for (const r of t) {
    const o = r as unknown as Record<string, unknown>;
    rows.push({
      ts_recv: num(o.ts_recv),
      venue: o.venue as string,
      market_id: o.market_id as string,
      outcome_id: o.outcome_id as string,
      seq: num(o.seq),
      best_bid_px: o.best_bid_px as number,
      best_bid_sz: o.best_bid_sz as number,
      best_ask_px: o.best_ask_px as number,
      best_ask_sz: o.best_ask_sz as number,
      mid: o.mid as number,
      spread: o.spread as number,
      bid_px: list(o.bid_px && (o.bid_px as { toArray(): ArrayLike<number> }).toArray()),
      bid_sz: list(o.bid_sz && (o.bid_sz as { toArray(): ArrayLike<number> }).toArray()),
      ask_px: list(o.ask_px && (o.ask_px as { toArray(): ArrayLike<number> }).toArray()),
      ask_sz: list(o.ask_sz && (o.ask_sz as { toArray(): ArrayLike<number> }).toArray()),
      status: o.status as SnapshotStatus,
      err: (o.err as string | null) ?? null,
      source_ts: o.source_ts == null ? null : num(o.source_ts),
      bid_depth3: o.bid_depth3 as number,
      ask_depth3: o.ask_depth3 as number,
    });
  }
  return rows;
}

/** Every row of a snapshot Parquet file. */
export function readSnapshotFile(path: string): SnapshotRow[] {
  return tableToRows(readSnapshotTable(path));
}
