/** Builds snapshot Parquet files in the exact snapshot schema (docs/storage-format.md) (or deliberately not) for ops tests, independent of the writer. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Field, Schema, Table, tableToIPC, vectorFromArray, type DataType } from "apache-arrow";
import { Table as WasmTable, writeParquet } from "parquet-wasm";
import { SNAPSHOT_SCHEMA, normalizeSnapshot, type SnapshotRow } from "../../src/schema.ts";

/** A plausible book row at `ts` (levels around 0.5, sorted by normalizeSnapshot); `size` sets every level's size. */
export function bookRow(
  ts: number,
  venue: string,
  market: string,
  outcome: string,
  seq: number,
  levels = 3,
  size?: number,
): SnapshotRow {
  const bidPx: number[] = [],
    bidSz: number[] = [],
    askPx: number[] = [],
    askSz: number[] = [];
  for (let i = 0; i < levels; i++) {
    bidPx.push(0.49 - i * 0.01);
    bidSz.push(size ?? 100 + i * 10 + seq);
    askPx.push(0.51 + i * 0.01);
    askSz.push(size ?? 50 + i * 5);
  }
  return normalizeSnapshot(
    {
      tsRecv: ts,
      venue,
      marketId: market,
      outcomeId: outcome,
      seq,
      bidPx,
      bidSz,
      askPx,
      askSz,
      sourceTs: seq % 2 ? ts - 5 : null,
    },
    50,
  );
}

/** Column → Arrow type overrides, to build files with a wrong type on purpose. */
export type TypeOverrides = Partial<Record<keyof SnapshotRow, DataType>>;

export function rowsToTable(rows: SnapshotRow[], overrides: TypeOverrides = {}): Table {
  const fields = SNAPSHOT_SCHEMA.fields.map((f) => {
    const t = overrides[f.name as keyof SnapshotRow];
    return t ? new Field(f.name, t, f.nullable) : f;
  });
  const cols: Record<string, ReturnType<typeof vectorFromArray>> = {};
  for (const f of fields) {
    const key = f.name as keyof SnapshotRow;
    const isInt64 = f.type.typeId === 2 && (f.type as { bitWidth?: number }).bitWidth === 64;
    const values = rows.map((r) => {
      const v = r[key];
      return isInt64 && typeof v === "number" ? BigInt(v) : v;
    });
    cols[f.name] = vectorFromArray(values as never, f.type);
  }
  return new Table(new Schema(fields), cols);
}

export function parquetBytes(table: Table): Uint8Array {
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, "stream")));
}

export async function writeSnapshotFile(
  path: string,
  rows: SnapshotRow[],
  overrides: TypeOverrides = {},
): Promise<number> {
  mkdirSync(dirname(path), { recursive: true });
  const bytes = parquetBytes(rowsToTable(rows, overrides));
  await Bun.write(path, bytes);
  return bytes.length;
}
