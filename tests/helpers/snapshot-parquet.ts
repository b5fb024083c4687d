/** Writes SnapshotRows to Parquet in the exact SPEC schema with apache-arrow + parquet-wasm, independent of the app's writer. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Field, Schema, Table, type Vector, tableToIPC, Type, vectorFromArray, type DataType } from "apache-arrow";
import { Table as WasmTable, writeParquet, WriterPropertiesBuilder, Compression } from "parquet-wasm";
import { ALL_COLUMNS, REQUIRED_COLUMNS, SNAPSHOT_SCHEMA, type SnapshotRow } from "../../src/schema.ts";

/** `withDerived: false` writes only the required columns (files from before the derived columns existed). */
export function writeSnapshotFile(path: string, rows: SnapshotRow[], opts: { withDerived?: boolean } = {}): void {
  const cols = opts.withDerived === false ? REQUIRED_COLUMNS : ALL_COLUMNS;
  const fields = cols.map((c) => SNAPSHOT_SCHEMA.fields.find((f) => f.name === c)!);
  const vectors: Record<string, Vector> = {};
  for (const f of fields) {
    const isInt64 = f.type.typeId === Type.Int;
    const values = rows.map((r) => {
      const v = (r as unknown as Record<string, unknown>)[f.name];
      return isInt64 && v !== null ? BigInt(v as number) : v;
    });
    vectors[f.name] = vectorFromArray(values as never, f.type as DataType);
  }
  const table = new Table(new Schema(fields), vectors);
  const wasm = WasmTable.fromIPCStream(tableToIPC(table, "stream"));
  const props = new WriterPropertiesBuilder().setCompression(Compression.ZSTD).build();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, writeParquet(wasm, props));
}
