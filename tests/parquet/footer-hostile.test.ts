/** The footer reader on foreign and hostile files: unused dictionaries, deep nesting, huge footers, ZSTD sizes. */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseFileMetaData, summaryFromMetadata, zstdContentSize } from "../../src/parquet/footer.ts";
import { readStruct } from "../../src/parquet/thrift-compact.ts";
import { duckdbRows } from "../helpers/sql-engines.ts";
import { tempDir } from "../helpers/store.ts";

const tmp = tempDir("surv-footer-hostile-");
afterAll(() => tmp.cleanup());

/** Minimal Thrift compact writer (field header = delta << 4 | type). */
class W {
  b: number[] = [];
  private last = [0];
  private varint(v: number) {
    while (v >= 128) {
      this.b.push((v % 128) | 128);
      v = Math.floor(v / 128);
    }
    this.b.push(v);
  }
  private zz = (v: number) => this.varint(v >= 0 ? 2 * v : -2 * v - 1);
  private fh(id: number, type: number) {
    const d = id - this.last[this.last.length - 1];
    if (d > 0 && d <= 15) this.b.push((d << 4) | type);
    else this.b.push(type), this.zz(id);
    this.last[this.last.length - 1] = id;
  }
  i32(id: number, v: number) {
    this.fh(id, 5);
    this.zz(v);
    return this;
  }
  i64(id: number, v: number) {
    this.fh(id, 6);
    this.zz(v);
    return this;
  }
  bin(id: number, x: Uint8Array | string) {
    const u = typeof x === "string" ? new TextEncoder().encode(x) : x;
    this.fh(id, 8);
    this.varint(u.length);
    this.b.push(...u);
    return this;
  }
  struct(id: number, f: (w: this) => void) {
    this.fh(id, 12);
    this.last.push(0);
    f(this);
    this.b.push(0);
    this.last.pop();
    return this;
  }
  list(id: number, type: number, n: number, each: (w: this, i: number) => void) {
    this.fh(id, 9);
    if (n < 15) this.b.push((n << 4) | type);
    else this.b.push(0xf0 | type), this.varint(n);
    for (let i = 0; i < n; i++) {
      if (type === 12) {
        this.last.push(0);
        each(this, i);
        this.b.push(0);
        this.last.pop();
      } else each(this, i);
    }
    return this;
  }
  elemI32(v: number) {
    this.zz(v);
  }
  elemBin(s: string) {
    const u = new TextEncoder().encode(s);
    this.varint(u.length);
    this.b.push(...u);
  }
  end() {
    this.b.push(0);
    return Uint8Array.from(this.b);
  }
}
const le64 = (v: number) => {
  const x = new Uint8Array(8);
  new DataView(x.buffer).setBigInt64(0, BigInt(v), true);
  return x;
};
const plainStrings = (xs: string[]) => {
  const parts = xs.map((s) => new TextEncoder().encode(s));
  const out = new Uint8Array(parts.reduce((s, p) => s + 4 + p.length, 0));
  const v = new DataView(out.buffer);
  let o = 0;
  for (const p of parts) v.setUint32(o, p.length, true), out.set(p, o + 4), (o += 4 + p.length);
  return out;
};

/**
 * One row group, REQUIRED ts_recv INT64 (PLAIN, exact min/max, TYPE_ORDER) and REQUIRED market_id BYTE_ARRAY whose
 * dictionary page holds `dict` and whose one RLE_DICTIONARY data page refers to `idx` (bit width 2, < 8 rows),
 * uncompressed: what parquet-cpp (pyarrow) writes for a DictionaryArray / pandas Categorical, whose whole
 * dictionary goes into the page (PutDictionary), used or not.
 */
function handFile(ts: number[], dict: string[], idx: number[]): Uint8Array {
  const n = ts.length;
  const out: number[] = [0x50, 0x41, 0x52, 0x31];
  const page = (hdr: Uint8Array, body: Uint8Array) => {
    out.push(...hdr, ...body);
  };
  // ts_recv
  const tsBody = new Uint8Array(8 * n);
  ts.forEach((t, i) => tsBody.set(le64(t), 8 * i));
  const tsOff = out.length;
  page(
    new W()
      .i32(1, 0)
      .i32(2, tsBody.length)
      .i32(3, tsBody.length)
      .struct(5, (w) => w.i32(1, n).i32(2, 0).i32(3, 3).i32(4, 3))
      .end(),
    tsBody,
  );
  const tsSize = out.length - tsOff;
  // market_id: dictionary page, then one data page of 2-bit indices (one bit-packed group of 8)
  const dBody = plainStrings(dict);
  const dictOff = out.length;
  page(
    new W()
      .i32(1, 2)
      .i32(2, dBody.length)
      .i32(3, dBody.length)
      .struct(7, (w) => w.i32(1, dict.length).i32(2, 0))
      .end(),
    dBody,
  );
  let packed = 0;
  idx.forEach((k, i) => (packed += k * 4 ** i));
  const iBody = Uint8Array.from([2, 0x03, packed & 0xff, (packed >> 8) & 0xff]);
  const dataOff = out.length;
  page(
    new W()
      .i32(1, 0)
      .i32(2, iBody.length)
      .i32(3, iBody.length)
      .struct(5, (w) => w.i32(1, n).i32(2, 8).i32(3, 3).i32(4, 3))
      .end(),
    iBody,
  );
  const mSize = out.length - dictOff;
  const meta = new W()
    .i32(1, 1)
    .list(2, 12, 3, (w, i) => {
      if (i === 0) w.bin(4, "schema").i32(5, 2);
      else if (i === 1) w.i32(1, 2).i32(3, 0).bin(4, "ts_recv");
      else w.i32(1, 6).i32(3, 0).bin(4, "market_id").i32(6, 0); // converted_type UTF8
    })
    .i64(3, n)
    .list(4, 12, 1, (w) => {
      w.list(1, 12, 2, (c, i) => {
        c.i64(2, i === 0 ? tsOff : dictOff).struct(3, (m) => {
          m.i32(1, i === 0 ? 2 : 6)
            .list(2, 5, 2, (l, k) => l.elemI32(k === 0 ? 0 : 8))
            .list(3, 8, 1, (l) => l.elemBin(i === 0 ? "ts_recv" : "market_id"))
            .i32(4, 0)
            .i64(5, n)
            .i64(6, i === 0 ? tsSize : mSize)
            .i64(7, i === 0 ? tsSize : mSize)
            .i64(9, i === 0 ? tsOff : dataOff);
          if (i === 1) m.i64(11, dictOff);
          if (i === 0)
            m.struct(12, (s) =>
              s
                .i64(3, 0)
                .bin(5, le64(Math.max(...ts)))
                .bin(6, le64(Math.min(...ts))),
            );
        });
      })
        .i64(2, tsSize + mSize)
        .i64(3, n);
    })
    .bin(6, "hand-built (parquet-cpp dictionary layout)")
    .list(7, 12, 2, (w) => w.struct(1, () => {}))
    .end();
  out.push(...meta);
  const len = meta.length;
  out.push(len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >>> 24, 0x50, 0x41, 0x52, 0x31);
  return Uint8Array.from(out);
}

describe("foreign and hostile files", () => {
  test("a dictionary page with entries no row uses (parquet-cpp categoricals, DuckDB ENUMs): not trusted, the data is read", async () => {
    const path = join(tmp.dir, "unused-dict.parquet");
    writeFileSync(path, handFile([1000, 2000, 3000], ["m-a", "m-b", "never-traded"], [0, 1, 0]));
    const [truth] = await duckdbRows(
      `SELECT count(*)::INT AS n, min(ts_recv)::BIGINT AS lo, max(ts_recv)::BIGINT AS hi, list(DISTINCT market_id ORDER BY market_id) AS m FROM '${path}'`,
    );
    expect(truth.n).toBe(3); // the file itself is valid: DuckDB reads it
    expect(truth.m).toEqual(["m-a", "m-b"]);
    const s = summaryFromMetadata(path, { int64: "ts_recv", string: "market_id" });
    expect(s).toBeUndefined(); // another writer's dictionary: the caller reads the data (m-a, m-b)
  });

  test("lists nested past MAX_DEPTH are refused like structs (not a stack overflow)", () => {
    const nested = (n: number) => Uint8Array.from([0x19, ...Array(n).fill(0x19), 0x00, 0x00]); // field 1: list<list<…>> n deep
    expect(() => readStruct(nested(1000))).toThrow(/deeply/);
  });

  test("a 60 KB footer of 10 000 nested groups is refused (it cost ~0.9 GB RSS before the depth limit)", () => {
    const D = 10_000;
    const el = [0x48, 0x01, 0x61, 0x15, 0x02, 0x00]; // SchemaElement { 4: "a", 5: num_children 1 }
    const bytes: number[] = [0x29, 0xfc];
    let v = D + 1;
    while (v >= 128) bytes.push((v & 127) | 128), (v = Math.floor(v / 128));
    bytes.push(v);
    for (let i = 0; i < D; i++) bytes.push(...el);
    bytes.push(0x48, 0x01, 0x61, 0x00); // the leaf
    bytes.push(0x16, 0x00, 0x00); // 3: num_rows 0, STOP
    expect(() => parseFileMetaData(Uint8Array.from(bytes))).toThrow(/deep/);
  });

  test("a ZSTD frame's declared content size is read from its header; a frame without one is not decompressed", () => {
    for (const n of [0, 1, 255, 256, 300, 70_000, 1 << 20]) {
      const frame = Bun.zstdCompressSync(new Uint8Array(n).fill(7), { level: 1 });
      expect(zstdContentSize(frame)).toBe(n);
    }
    expect(zstdContentSize(new Uint8Array([1, 2, 3, 4, 5, 6]))).toBeUndefined(); // not a frame
    // single-segment flag off and no content size (FHD 0x00, a window byte): unknown size
    expect(zstdContentSize(Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x48, 0, 0]))).toBeUndefined();
  });
});
