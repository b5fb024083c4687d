/** The footer reader on our files (checked field by field against DuckDB's parquet_metadata) and on other writers'. */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Table, tableToIPC } from "apache-arrow";
import { ColumnBuffer } from "../../src/storage/column-buffer.ts";
import { ParquetStreamEncoder } from "../../src/parquet/encode.ts";
import {
  chunkDictionary,
  decodePlainByteArrays,
  int64Range,
  parsePageHeader,
  readFooter,
  summaryFromMetadata,
  type ColumnChunkInfo,
  type FooterInfo,
} from "../../src/parquet/footer.ts";
import { pw } from "../../src/parquet/wasm.ts";
import { SNAPSHOT_SCHEMA } from "../../src/schema.ts";
import { BookGen } from "../helpers/books.ts";
import { tempDir } from "../helpers/store.ts";
import { withDuckdb } from "../helpers/sql-engines.ts";

const tmp = tempDir("surv-footer-");
afterAll(() => tmp.cleanup());

interface Written {
  path: string;
  /** ts_recv and market_id of every row, in file order. */
  ts: number[];
  markets: string[];
}

/** `n` generated snapshots through ColumnBuffer, encoded by our encoder (the writer's) in row groups of `rowGroupRows`. */
/** `n` generated snapshots as one batch, with their ts_recv and market_id. */
function generate(seed: number, n: number, markets: number, stepMs: number) {
  const g = new BookGen({ seed, markets, start: Date.UTC(2026, 4, 1, 10), stepMs });
  const buf = new ColumnBuffer(50);
  const ts: number[] = [],
    ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = g.next();
    ts.push(s.tsRecv);
    ids.push(s.marketId);
    buf.append(s);
  }
  return { batch: buf.toRecordBatch(), ts, ids };
}

async function encoderFile(
  name: string,
  codec: "zstd" | "uncompressed",
  n: number,
  rowGroupRows: number,
  markets = 40,
): Promise<Written & { bytes: Uint8Array }> {
  const { batch, ts, ids } = generate(9, n, markets, 97);
  const pieces: Uint8Array[] = [];
  const enc = new ParquetStreamEncoder(
    SNAPSHOT_SCHEMA,
    { codec, rowGroupRows, createdBy: "surveillance" },
    async (b) => {
      pieces.push(b.slice());
    },
  );
  await enc.write(batch);
  await enc.finish();
  const bytes = new Uint8Array(pieces.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of pieces) bytes.set(p, (o += p.length) - p.length);
  const path = join(tmp.dir, `${name}.parquet`);
  writeFileSync(path, bytes);
  return { path, ts, markets: ids, bytes };
}

/** The same kind of rows written by parquet-wasm (arrow-rs) with the given writer properties. */
function wasmFile(
  name: string,
  n: number,
  props: (b: pw.WriterPropertiesBuilder) => pw.WriterPropertiesBuilder,
  markets = 40,
): Written {
  const { batch, ts, ids } = generate(11, n, markets, 53);
  const path = join(tmp.dir, `${name}.parquet`);
  const ipc = tableToIPC(new Table([batch]), "stream");
  writeFileSync(path, pw.writeParquet(pw.Table.fromIPCStream(ipc), props(new pw.WriterPropertiesBuilder()).build()));
  return { path, ts, markets: ids };
}

function footerOf(path: string) {
  const fd = openSync(path, "r");
  try {
    return readFooter(fd, Bun.file(path).size);
  } finally {
    closeSync(fd);
  }
}

const chunk = (f: FooterInfo, rg: number, col: string) =>
  f.rowGroups[rg].columns.find((c) => c.path.join(".") === col)!;
const chunkBytes = (path: string, c: ColumnChunkInfo) =>
  readFileSync(path).subarray(c.dictionaryPageOffset!, c.dictionaryPageOffset! + c.totalCompressedSize);

describe("footer of our encoder's files", () => {
  test.each(["zstd", "uncompressed"] as const)(
    "%s: every field read agrees with DuckDB's parquet_metadata",
    async (codec) => {
      const w = await encoderFile(`duck-${codec}`, codec, 2500, 700);
      const { footer } = footerOf(w.path);
      expect(footer.numRows).toBe(2500);
      expect(footer.rowGroups.map((g) => g.numRows)).toEqual([700, 700, 700, 400]);
      expect(footer.createdBy).toBe("surveillance");
      await withDuckdb(async (query) => {
        const meta =
          await query(`SELECT row_group_id AS g, row_group_num_rows AS n, path_in_schema AS p, type, compression, num_values, dictionary_page_offset AS d,
           data_page_offset AS o, total_compressed_size AS c, total_uncompressed_size AS u, stats_min_value AS lo, stats_max_value AS hi
         FROM parquet_metadata('${w.path}') ORDER BY row_group_id, column_id`);
        const mine = footer.rowGroups.flatMap((g, i) => g.columns.map((c) => ({ g: i, n: g.numRows, c })));
        expect(mine.length).toBe(meta.length);
        for (let k = 0; k < meta.length; k++) {
          const m = meta[k],
            { g, n, c } = mine[k];
          expect([
            g,
            n,
            c.path.join("."),
            c.numValues,
            c.dictionaryPageOffset ?? null,
            c.dataPageOffset,
            c.totalCompressedSize,
            c.totalUncompressedSize,
          ]).toEqual([
            Number(m.g),
            Number(m.n),
            String(m.p).replaceAll(", ", "."),
            Number(m.num_values),
            m.d === null ? null : Number(m.d),
            Number(m.o),
            Number(m.c),
            Number(m.u),
          ]);
          expect(String(m.compression)).toBe(codec === "zstd" ? "ZSTD" : "UNCOMPRESSED");
          expect(c.codec).toBe(codec === "zstd" ? 6 : 0);
          if (c.path[0] === "ts_recv") {
            const view = (b: Uint8Array) => String(new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true));
            expect([view(c.stats!.min!), view(c.stats!.max!)]).toEqual([String(m.lo), String(m.hi)]);
          }
        }
        expect(footer.leaves.map((l) => l.path.join("."))).toEqual([
          ...new Set(meta.map((m) => String(m.p).replaceAll(", ", "."))),
        ]);
      });
    },
  );

  test.each(["zstd", "uncompressed"] as const)(
    "%s: ts_recv range and each row group's market_id dictionary match the rows written",
    async (codec) => {
      const w = await encoderFile(`dict-${codec}`, codec, 3000, 800, 300);
      const { footer } = footerOf(w.path);
      expect(int64Range(footer, "ts_recv")).toEqual([Math.min(...w.ts), Math.max(...w.ts)]);
      for (let g = 0; g < footer.rowGroups.length; g++) {
        const c = chunk(footer, g, "market_id");
        const dict = chunkDictionary(c, chunkBytes(w.path, c))!;
        const expected = new Set(w.markets.slice(g * 800, (g + 1) * 800));
        expect(dict.length).toBe(expected.size);
        expect(new Set(dict)).toEqual(expected);
      }
      const s = summaryFromMetadata(w.path, { int64: "ts_recv", string: "market_id" })!;
      expect(s).toEqual({ rows: 3000, min: Math.min(...w.ts), max: Math.max(...w.ts), values: new Set(w.markets) });
    },
  );

  test("a corrupt market_id dictionary page (ZSTD frame, or PLAIN lengths) gives no summary", async () => {
    const w = await encoderFile("corrupt", "zstd", 1000, 1000);
    const c = chunk(footerOf(w.path).footer, 0, "market_id");
    const h = parsePageHeader(chunkBytes(w.path, c), 0);
    const bad = w.bytes.slice();
    for (let k = 0; k < 8; k++) bad[c.dictionaryPageOffset! + h.end + 4 + k] ^= 0x5a; // inside the frame, past its magic
    writeFileSync(w.path, bad);
    expect(summaryFromMetadata(w.path, { int64: "ts_recv", string: "market_id" })).toBeUndefined();

    const u = await encoderFile("corrupt-plain", "uncompressed", 1000, 1000);
    const cu = chunk(footerOf(u.path).footer, 0, "market_id");
    const hu = parsePageHeader(chunkBytes(u.path, cu), 0);
    const badU = u.bytes.slice();
    badU[cu.dictionaryPageOffset! + hu.end + 1] = 0x7f; // first length's second byte: past the page
    writeFileSync(u.path, badU);
    expect(summaryFromMetadata(u.path, { int64: "ts_recv", string: "market_id" })).toBeUndefined();
  });

  test("a truncated file, a file cut before its footer, not Parquet: no summary", async () => {
    const w = await encoderFile("trunc", "zstd", 500, 500);
    writeFileSync(w.path, w.bytes.subarray(0, w.bytes.length - 3));
    expect(summaryFromMetadata(w.path, { int64: "ts_recv", string: "market_id" })).toBeUndefined();
    writeFileSync(w.path, w.bytes.subarray(0, 200));
    expect(summaryFromMetadata(w.path, { int64: "ts_recv", string: "market_id" })).toBeUndefined();
    writeFileSync(w.path, "not parquet at all");
    expect(summaryFromMetadata(w.path, { int64: "ts_recv", string: "market_id" })).toBeUndefined();
    expect(
      summaryFromMetadata(join(tmp.dir, "absent.parquet"), { int64: "ts_recv", string: "market_id" }),
    ).toBeUndefined();
  });
});

describe("files the metadata cannot answer for (parquet-wasm, arrow-rs)", () => {
  const cols = { int64: "ts_recv", string: "market_id" };

  test("dictionary fell back to PLAIN mid-chunk: the dictionary page lacks values, so no answer from it", () => {
    // a tiny dictionary page limit: arrow-rs starts with a dictionary, then writes PLAIN data pages
    const w = wasmFile(
      "fallback",
      4000,
      (b) =>
        b
          .setCompression(pw.Compression.UNCOMPRESSED)
          .setDictionaryEnabled(true)
          .setDictionaryPageSizeLimit(512)
          .setDataPageSizeLimit(1024),
      300,
    );
    const { footer } = footerOf(w.path);
    const c = chunk(footer, 0, "market_id");
    expect(c.dictionaryPageOffset).toBeDefined();
    // what trusting the dictionary page alone would say: fewer markets than the rows hold
    const bytes = chunkBytes(w.path, c);
    const h = parsePageHeader(bytes, 0);
    const dictOnly = decodePlainByteArrays(bytes.subarray(h.end, h.end + h.compressedSize), h.numValues!);
    expect(dictOnly.length).toBeLessThan(new Set(w.markets).size);
    expect(chunkDictionary(c, bytes)).toBeUndefined();
    expect(summaryFromMetadata(w.path, cols)).toBeUndefined();
  });

  test("market_id without a dictionary, SNAPPY pages, no statistics, another writer's dictionaries: no summary", () => {
    const plain = wasmFile("plain", 1500, (b) =>
      b.setCompression(pw.Compression.UNCOMPRESSED).setDictionaryEnabled(false),
    );
    expect(chunk(footerOf(plain.path).footer, 0, "market_id").dictionaryPageOffset).toBeUndefined();
    expect(summaryFromMetadata(plain.path, cols)).toBeUndefined();
    const snappy = wasmFile("snappy", 1500, (b) => b.setCompression(pw.Compression.SNAPPY).setDictionaryEnabled(true));
    expect(chunk(footerOf(snappy.path).footer, 0, "market_id").codec).toBe(1);
    expect(summaryFromMetadata(snappy.path, cols)).toBeUndefined();
    const nostats = wasmFile("nostats", 1500, (b) =>
      b.setCompression(pw.Compression.UNCOMPRESSED).setStatisticsEnabled(pw.EnabledStatistics.None),
    );
    expect(chunk(footerOf(nostats.path).footer, 0, "ts_recv").stats?.min).toBeUndefined();
    expect(summaryFromMetadata(nostats.path, cols)).toBeUndefined();
    // arrow-rs's dictionaries happen to be exact, but another writer's need not be (pyarrow categoricals, DuckDB
    // ENUMs list unused values): only files created_by "surveillance" are answered from metadata
    const other = wasmFile("arrow-dict", 1500, (b) =>
      b.setCompression(pw.Compression.UNCOMPRESSED).setDictionaryEnabled(true),
    );
    expect(footerOf(other.path).footer.createdBy).not.toBe("surveillance");
    expect(summaryFromMetadata(other.path, cols)).toBeUndefined();
  });
});

describe("int64Range trusts only exact, ordered, null-free statistics", () => {
  const stats = (min: bigint, max: bigint) => {
    const b = (v: bigint) => {
      const x = new Uint8Array(8);
      new DataView(x.buffer).setBigInt64(0, v, true);
      return x;
    };
    return { min: b(min), max: b(max), nullCount: 0, minExact: true, maxExact: true };
  };
  const col = (s: ColumnChunkInfo["stats"], numValues = 10): ColumnChunkInfo => ({
    path: ["ts"],
    type: 2,
    codec: 0,
    numValues,
    dataPageOffset: 4,
    totalCompressedSize: 1,
    totalUncompressedSize: 1,
    stats: s,
  });
  const footer = (over: Partial<FooterInfo> = {}, ...groups: ColumnChunkInfo[]): FooterInfo => ({
    numRows: groups.length * 10,
    rowGroups: groups.map((c) => ({ numRows: 10, columns: [c] })),
    leaves: [{ path: ["ts"], type: 2, repetition: 0, typeOrder: true, logical: false }],
    ...over,
  });

  test("min and max over row groups; negative values; a file without rows", () => {
    expect(int64Range(footer({}, col(stats(5n, 9n)), col(stats(-3n, 4n)), col(stats(6n, 12n))), "ts")).toEqual([
      -3, 12,
    ]);
    expect(int64Range(footer({}), "ts")).toEqual([]);
    // a row group without rows has nothing to say, with or without statistics
    expect(
      int64Range(
        {
          ...footer({}, col(stats(5n, 9n))),
          rowGroups: [
            { numRows: 0, columns: [col(undefined, 0)] },
            { numRows: 10, columns: [col(stats(5n, 9n))] },
          ],
        },
        "ts",
      ),
    ).toEqual([5, 9]);
  });

  test("anything in doubt: undefined", () => {
    const good = col(stats(1n, 2n));
    expect(int64Range(footer({}, good, col(undefined)), "ts")).toBeUndefined();
    expect(int64Range(footer({}, good, col({ nullCount: 0, minExact: true, maxExact: true })), "ts")).toBeUndefined();
    expect(int64Range(footer({}, col({ ...stats(1n, 2n), minExact: false })), "ts")).toBeUndefined();
    expect(int64Range(footer({}, col({ ...stats(1n, 2n), nullCount: 1 })), "ts")).toBeUndefined();
    expect(int64Range(footer({}, col({ ...stats(1n, 2n), min: new Uint8Array(4) })), "ts")).toBeUndefined();
    expect(int64Range(footer({}, col(stats(3n, 2n))), "ts")).toBeUndefined();
    expect(int64Range(footer({}, col(stats(1n, 2n), 9)), "ts")).toBeUndefined();
    expect(
      int64Range(
        footer({ leaves: [{ path: ["ts"], type: 2, repetition: 0, typeOrder: false, logical: false }] }, good),
        "ts",
      ),
    ).toBeUndefined();
    expect(
      int64Range(
        footer({ leaves: [{ path: ["ts"], type: 2, repetition: 1, typeOrder: true, logical: false }] }, good),
        "ts",
      ),
    ).toBeUndefined();
    expect(
      int64Range(
        footer({ leaves: [{ path: ["ts"], type: 1, repetition: 0, typeOrder: true, logical: false }] }, good),
        "ts",
      ),
    ).toBeUndefined();
    // UINT_64 (a converted/logical type) orders unsigned under TYPE_ORDER: not read as signed
    expect(
      int64Range(
        footer({ leaves: [{ path: ["ts"], type: 2, repetition: 0, typeOrder: true, logical: true }] }, good),
        "ts",
      ),
    ).toBeUndefined();
    expect(int64Range(footer({}, good), "other")).toBeUndefined();
  });
});

describe("decodePlainByteArrays", () => {
  const enc = (...xs: string[]) => {
    const parts = xs.map((x) => new TextEncoder().encode(x));
    const out = new Uint8Array(parts.reduce((s, p) => s + 4 + p.length, 0));
    const v = new DataView(out.buffer);
    let o = 0;
    for (const p of parts) {
      v.setUint32(o, p.length, true);
      out.set(p, o + 4);
      o += 4 + p.length;
    }
    return out;
  };
  test("exactly `count` arrays filling the bytes; anything else throws", () => {
    expect(decodePlainByteArrays(enc("a", "", "ünï"), 3)).toEqual(["a", "", "ünï"]);
    expect(decodePlainByteArrays(new Uint8Array(0), 0)).toEqual([]);
    expect(() => decodePlainByteArrays(enc("a", "b"), 1)).toThrow(/after/);
    expect(() => decodePlainByteArrays(enc("a", "b"), 3)).toThrow(/past/);
    expect(() => decodePlainByteArrays(enc("abc").subarray(0, 6), 1)).toThrow(/past/);
  });
});
