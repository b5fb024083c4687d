/**
 * Byte identity of the encoder's output: SHA-256 of whole files over every column path (list levels shared or not,
 * float dictionaries or PLAIN, nullable values, string dictionaries or PLAIN, int64 stats, batches sliced across row
 * groups). The digests were taken from the encoder before encodeColumn was split; a refactor must not change a byte.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  vectorFromArray,
  type DataType,
} from "apache-arrow";
import { type EncoderOptions, ParquetStreamEncoder } from "../../src/parquet/encode.ts";
import { listF64, SNAPSHOT_SCHEMA } from "../../src/schema.ts";
import { ColumnBuffer } from "../../src/storage/column-buffer.ts";
import { BookGen } from "../helpers/books.ts";

const T0 = Date.UTC(2026, 0, 1);

async function encode(schema: Schema, batches: RecordBatch[], opts: EncoderOptions): Promise<string> {
  const h = createHash("sha256");
  const enc = new ParquetStreamEncoder(schema, opts, async (b) => void h.update(b));
  for (const b of batches) await enc.write(b);
  await enc.finish();
  return h.digest("hex");
}

/** Realistic books in batches of 700 rows (row groups of 1,000 slice them), plus the edge rows of `edges`. */
function snapshotBatches(edges: boolean): RecordBatch[] {
  const g = new BookGen({ seed: 11, markets: 30, start: T0, stepMs: 250 });
  const out: RecordBatch[] = [];
  for (let b = 0; b < 5; b++) {
    const buf = new ColumnBuffer(50);
    for (let i = 0; i < 700; i++) {
      const s = g.next();
      if (edges && i % 50 === 0) buf.append({ ...s, bids: { ...s.bids, len: 0 }, asks: { ...s.asks, len: 0 } });
      else if (edges && i % 37 === 0) buf.append({ ...s, staleReason: "silent feed", sourceTs: s.tsRecv - 5 });
      else if (edges && i % 11 === 0) buf.append({ ...s, asks: { ...s.asks, len: 0 }, sourceTs: s.tsRecv - 1 });
      else buf.append(s);
    }
    out.push(buf.toRecordBatch());
  }
  return out;
}

function batchOf(fields: Field[], columns: { values: unknown[]; type: DataType }[]): RecordBatch {
  const vecs = columns.map((c) => vectorFromArray(c.values, c.type));
  const data = makeData({
    type: new Struct(fields),
    length: vecs[0].length,
    nullCount: 0,
    children: vecs.map((v) => v.data[0]),
  });
  return new RecordBatch(new Schema(fields), data);
}

/** A schema of the paths the snapshot schema does not take: nullable float64, many distinct strings, few floats. */
function otherBatches(): { schema: Schema; batches: RecordBatch[] } {
  const fields = [
    new Field("maybe", new Float64(), true),
    new Field("few", new Float64(), false),
    new Field("many", new Float64(), false),
    new Field("name", new Utf8(), false),
    new Field("note", new Utf8(), true),
    new Field("n", new Int64(), true),
    new Field("lst", listF64(), false),
  ];
  const batches: RecordBatch[] = [];
  for (let b = 0; b < 3; b++) {
    const rows = 900;
    const ix = Array.from({ length: rows }, (_, i) => b * rows + i);
    batches.push(
      batchOf(fields, [
        { values: ix.map((i) => (i % 7 === 0 ? null : i / 8)), type: new Float64() },
        { values: ix.map((i) => [0.25, 0.5, 0.75][i % 3]), type: new Float64() },
        { values: ix.map((i) => Math.sin(i) * 1000), type: new Float64() },
        { values: ix.map((i) => `name-${(i * 7919) % 5003}`), type: new Utf8() },
        { values: ix.map((i) => (i % 5 === 0 ? null : `n${i % 4}`)), type: new Utf8() },
        { values: ix.map((i) => (i % 9 === 0 ? null : BigInt(i * 1000 - 7))), type: new Int64() },
        { values: ix.map((i) => Array.from({ length: i % 4 }, (_, k) => (i + k) / 100)), type: listF64() },
      ]),
    );
  }
  return { schema: new Schema(fields), batches };
}

describe("encoder byte identity", () => {
  test("snapshot rows, ZSTD, row groups slicing the batches", async () => {
    expect(await encode(SNAPSHOT_SCHEMA, snapshotBatches(false), { codec: "zstd", rowGroupRows: 1000 })).toBe(
      "3b915417e5ec62d825728cd8cddaf990942c3a7f3ee1e3153c00d35491b83433",
    );
  });

  test("snapshot rows with empty, one-sided and stale books and source times, uncompressed", async () => {
    expect(
      await encode(SNAPSHOT_SCHEMA, snapshotBatches(true), {
        codec: "uncompressed",
        rowGroupRows: 1000,
        createdBy: "golden",
      }),
    ).toBe("a4aeb6cb7f0b5fad281a689ca669738f745a5436aac0d228e18bc47505872f2b");
  });

  test("the same with ZSTD level 3, one row group", async () => {
    expect(
      await encode(SNAPSHOT_SCHEMA, snapshotBatches(true), { codec: "zstd", zstdLevel: 3, rowGroupRows: 65_536 }),
    ).toBe("dd0e43099853a62458efc1b22947e7d7d3c289dcf49ec0960dbb851e5d665901");
  });

  test("nullable float64 and int64, float and string dictionaries and their PLAIN fallbacks, short lists", async () => {
    const { schema, batches } = otherBatches();
    expect(await encode(schema, batches, { codec: "zstd", rowGroupRows: 1000 })).toBe(
      "0568e00123f4a71bcbb4395c92c91710e047c5656a08c60b1a798dc4da9d63f9",
    );
    expect(await encode(schema, batches, { codec: "uncompressed", rowGroupRows: 2700 })).toBe(
      "0f54e6458461bb257879f73f32d2a74524934070c93e8426c9c2dae98e3689cd",
    );
  });

  test("PLAIN strings: more distinct values in a row group than the string dictionary takes (65,536)", async () => {
    const fields = [new Field("id", new Utf8(), false)];
    const batch = batchOf(fields, [{ values: Array.from({ length: 70_000 }, (_, i) => `k${i}`), type: new Utf8() }]);
    expect(await encode(new Schema(fields), [batch], { codec: "zstd", rowGroupRows: 100_000 })).toBe(
      "9b7a50ab96015671c6c0fdbbbdc445d9c3859e18d5fd839b58980c7c49a50592",
    );
  });
});
