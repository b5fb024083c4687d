/** Staged segments: parts and trailer read back exactly; bad lengths and trailers refused; another schema quarantined. */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Table } from "apache-arrow";
import { ColumnBuffer, decodePart } from "../../src/storage/column-buffer.ts";
import { nodeFs, writeAtomic } from "../../src/storage/fs.ts";
import { tableToRows } from "../../src/parquet/read.ts";
import { decodeSegment, encodeSegment, readSegmentStats } from "../../src/storage/staging.ts";
import { parseBucketDir, stagingBucketDir } from "../../src/layout.ts";
import { BookGen } from "../helpers/books.ts";
import { tempDir } from "../helpers/store.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

describe("staged segments", () => {
  test("a segment is split into parts of at most partRows rows; parts and trailer read back exactly", async () => {
    const t = tempDir("surv-seg-");
    cleanups.push(t.cleanup);
    const buf = new ColumnBuffer(50);
    const g = new BookGen({ seed: 11 });
    for (let i = 0; i < 250; i++) buf.append(g.next());
    const stats = { rows: 250, min_ts: buf.minTs, max_ts: buf.maxTs, markets: [...buf.markets].sort() };
    const path = join(t.dir, "seg-000001.arrows");
    await writeAtomic(nodeFs, path, encodeSegment(buf, stats, 100));
    const whole = tableToRows(new Table([buf.toRecordBatch()]));
    const { parts, stats: back } = decodeSegment(await Bun.file(path).bytes());
    expect(parts.map((p) => decodePart(p).numRows)).toEqual([100, 100, 50]);
    expect(parts.flatMap((p) => tableToRows(new Table([decodePart(p)])))).toEqual(whole);
    expect(back).toMatchObject(stats);
    expect(back.parts).toEqual(parts.map((p) => p.length));
    expect(await readSegmentStats(nodeFs, path)).toEqual(back);
  });

  test("a trailer whose length field claims more bytes than the segment has is refused, by decodeSegment and readSegmentStats", async () => {
    const t = tempDir("surv-seg-");
    cleanups.push(t.cleanup);
    const buf = new ColumnBuffer(50);
    const g = new BookGen({ seed: 12 });
    for (let i = 0; i < 30; i++) buf.append(g.next());
    const stats = { rows: 30, min_ts: buf.minTs, max_ts: buf.maxTs, markets: [...buf.markets].sort() };
    const chunks = [...encodeSegment(buf, stats)];
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) bytes.set(c, o), (o += c.length);
    expect(decodeSegment(bytes).stats).toMatchObject(stats);
    // The length field (u32 LE just before the 8-byte magic) grown by the segment's size: read as an offset from the
    // end it would land on the real JSON again, so only the range check refuses it.
    const dv = new DataView(bytes.buffer);
    const at = bytes.length - 12;
    dv.setUint32(at, dv.getUint32(at, true) + bytes.length, true);
    expect(() => decodeSegment(bytes)).toThrow("trailer length out of range");
    const path = join(t.dir, "seg-000001.arrows");
    await Bun.write(path, bytes);
    await expect(readSegmentStats(nodeFs, path)).rejects.toThrow("trailer length out of range");
  });

  test("a segment whose trailer magic is damaged (its last byte) is refused as having no trailer", () => {
    const buf = new ColumnBuffer(50);
    const g = new BookGen({ seed: 13 });
    for (let i = 0; i < 10; i++) buf.append(g.next());
    const stats = { rows: 10, min_ts: buf.minTs, max_ts: buf.maxTs, markets: [...buf.markets].sort() };
    const bytes = Buffer.concat([...encodeSegment(buf, stats)]);
    bytes[bytes.length - 1] ^= 0xff;
    expect(() => decodeSegment(bytes)).toThrow("has no trailer (torn or garbage)");
  });

  test("staging directory names round-trip (venue, bucket start, minutes, generation)", () => {
    const start = Date.UTC(2026, 11, 31, 23, 55);
    const dir = stagingBucketDir("/data", "kalshi", start, 5, 12);
    expect(dir).toBe("/data/_staging/kalshi/2026-12-31T23-55_5m_g12");
    expect(parseBucketDir("2026-12-31T23-55_5m_g12")).toEqual({ start, minutes: 5, gen: 12 });
    expect(parseBucketDir("2026-12-31T23-55_5m")).toBeUndefined();
  });
});

describe("a raw staged part from another schema", () => {
  test("is refused (a plain Error: quarantined), not read with its columns shifted", () => {
    const buf = new ColumnBuffer(50);
    const g = new BookGen({ seed: 4 });
    for (let i = 0; i < 20; i++) buf.append(g.next());
    const chunks = buf.partChunks(0, 20);
    const whole = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    let o = 0;
    for (const c of chunks) whole.set(c, o), (o += c.length);
    expect(decodePart(whole).numRows).toBe(20);
    // the same part as a build with one column fewer (its last buffer) would have written it
    const hlen = new DataView(whole.buffer).getUint32(0, true);
    const h = JSON.parse(new TextDecoder().decode(whole.subarray(8, 8 + hlen)));
    const json = new TextEncoder().encode(JSON.stringify({ ...h, lens: h.lens.slice(0, -1) }));
    const shorter = new Uint8Array(8 + json.length + ((8 - (json.length % 8)) % 8) + whole.length);
    new DataView(shorter.buffer).setUint32(0, json.length, true);
    shorter.set(json, 8);
    expect(() => decodePart(shorter)).toThrow("the schema needs");
  });
});
