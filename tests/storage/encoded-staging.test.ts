/** Encoded row groups in staging: damaged parts quarantined, never copied; encoding failures staged raw. */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { Table } from "apache-arrow";
import { ColumnBuffer } from "../../src/storage/column-buffer.ts";
import { Metrics } from "../../src/metrics.ts";
import { ParquetStreamEncoder } from "../../src/parquet/encode.ts";
import { readSnapshotFile, tableToRows } from "../../src/parquet/read.ts";
import { FaultyFs } from "../helpers/faulty-fs.ts";
import { BookGen } from "../helpers/books.ts";
import { globFiles, openWriter, T0, tempDirs } from "../helpers/store.ts";
import { WRITER_METRICS } from "../../src/storage/metric-names.ts";
import { batchStats, decodeRowGroupPart, rowGroupPart } from "../../src/storage/staging.ts";
import { SNAPSHOT_SCHEMA } from "../../src/schema.ts";
import { logLines } from "../helpers/log-lines.ts";

const dir = tempDirs("surv-encoded-staging-");
const MIN = 60_000;

describe("a damaged encoded row group is quarantined, never copied", () => {
  /** One staged segment of 2,000 rows as one encoded row group, left by a process that died; returns its path. */
  async function stageOne(d: string): Promise<string> {
    const a = await openWriter(
      d,
      { bucket_minutes: 1, flush_secs: 3600, flush_rows: 1_000_000 },
      { encodeAtFlushRows: 1 },
    );
    const g = new BookGen({ start: T0, stepMs: 1 });
    for (let i = 0; i < 2000; i++) a.w.append(g.next());
    await a.w.flush();
    return globFiles(d, "_staging/mock/**/seg-*.arrows")[0];
  }

  test.each([
    // one bit in the header's JSON, still valid JSON: a chunk offset '0' → '1' (the header places the body's bytes)
    [
      "header",
      (bytes: Uint8Array, hlen: number, header: string): void =>
        void (bytes[8 + header.indexOf('"offset":0') + '"offset":'.length] ^= 0x01),
    ],
    // one bit of the last digit of max_ts: valid JSON, plausible stats, chunk offsets untouched; only the header's
    // own CRC-32 tells (without it the row group would be copied under stats it does not have)
    [
      "header stats",
      (bytes: Uint8Array, hlen: number, header: string) => {
        let j = header.indexOf('"max_ts":') + '"max_ts":'.length;
        while (header[j] >= "0" && header[j] <= "9") j++;
        bytes[8 + j - 1] ^= 0x01;
      },
    ],
    // one bit in a page of the body
    ["body", (bytes: Uint8Array, hlen: number): void => void (bytes[8 + hlen + 4 + 500] ^= 0x10)],
  ] as const)(
    "a flipped bit in the %s: the part fails its CRC, is quarantined, no unreadable final file",
    async (_where, flip) => {
      const d = dir();
      const seg = await stageOne(d);
      const bytes = readFileSync(join(d, seg));
      const hlen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
      const original = new Uint8Array(bytes);
      flip(bytes, hlen, new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
      expect(bytes).not.toEqual(original);
      writeFileSync(join(d, seg), bytes);
      const metrics = new Metrics();
      const b = await openWriter(d, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 10 * MIN), metrics });
      await b.w.close();
      expect(globFiles(d, "orderbook_snapshots/**/*.parquet")).toEqual([]); // its only rows are in quarantine
      expect(metrics.get(WRITER_METRICS.quarantined, { venue: "mock" })).toBe(1);
      const q = globFiles(d, "_staging/_quarantine/**/*.arrows");
      expect(q.length).toBe(1);
      expect(new Uint8Array(readFileSync(join(d, q[0])))).toEqual(new Uint8Array(bytes)); // kept byte for byte
    },
  );

  test("an encoding failure at flush time stages the rows raw (not retried for ever as a write error); compaction writes them", async () => {
    const d = dir();
    const metrics = new Metrics();
    const { w } = await openWriter(
      d,
      { bucket_minutes: 1, flush_secs: 3600, flush_rows: 1_000_000 },
      { encodeAtFlushRows: 1, metrics },
    );
    const ref = new ColumnBuffer(50);
    const g = new BookGen({ start: T0, stepMs: 1, seed: 8 });
    for (let i = 0; i < 1500; i++) {
      const s = g.next();
      ref.append(s);
      w.append(s);
    }
    const proto = ParquetStreamEncoder.prototype;
    const original = proto.encodeRowGroup;
    proto.encodeRowGroup = () => {
      throw new Error("injected encoder bug");
    };
    let lines: { msg: string }[];
    try {
      ({ lines } = await logLines(() => w.flush())); // must not reject: the rows go to staging raw
    } finally {
      proto.encodeRowGroup = original;
    }
    expect(lines.map((l) => l.msg)).toContain(
      "encoding a flush of 1500 rows failed (injected encoder bug); staging it raw instead",
    );
    expect(metrics.get(WRITER_METRICS.encodeFailures, { venue: "mock" })).toBe(1);
    expect(w.status()).toMatchObject({ rowsBuffered: 0, rowsStaged: 1500, writeErrors: 0 });
    await w.close();
    const finals = globFiles(d, "orderbook_snapshots/**/*.parquet");
    expect(readSnapshotFile(join(d, finals[0]))).toEqual(tableToRows(new Table([ref.toRecordBatch()])));
  });
});

describe("a row-group part header whose CRCs hold but whose stats are not numbers is refused", () => {
  /** One encoded row group of 50 rows and its true stats. */
  function group() {
    const buf = new ColumnBuffer(50);
    const g = new BookGen({ start: T0, stepMs: 1, seed: 9 });
    for (let i = 0; i < 50; i++) buf.append(g.next());
    const batch = buf.toRecordBatch();
    const enc = new ParquetStreamEncoder(SNAPSHOT_SCHEMA, { codec: "zstd", rowGroupRows: 65_536 }, () => {
      throw new Error("no sink");
    });
    return { g: enc.encodeRowGroup(batch), stats: batchStats(batch) };
  }
  const joined = (chunks: Uint8Array[]) => {
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) out.set(c, (o += c.length) - c.length);
    return out;
  };

  test("the true stats decode; min_ts, max_ts or markets of the wrong kind each throw 'bad row-group part stats'", () => {
    const { g, stats } = group();
    expect(decodeRowGroupPart(joined(rowGroupPart(g, stats))).header).toMatchObject({ rows: 50, ...stats });
    // NaN is written as null by JSON: the header's own CRC is computed over exactly that text, so only the check stops it
    for (const bad of [
      { ...stats, min_ts: Number.NaN },
      { ...stats, max_ts: Number.NaN },
      { ...stats, max_ts: Number.POSITIVE_INFINITY },
      { ...stats, markets: "m1" as unknown as string[] },
      { ...stats, markets: [...stats.markets, 7 as unknown as string] },
    ])
      expect(() => decodeRowGroupPart(joined(rowGroupPart(g, bad)))).toThrow("bad row-group part stats");
  });
});

describe("write errors on encoded (PART_ROWGROUP) segments", () => {
  for (const op of ["write", "commit", "rename", "syncDir"] as const)
    test(`${op} fails once on the staged segment: after the retry every row is in the final file exactly once, in order`, async () => {
      const d = dir();
      const clock = new SimClock(T0);
      const f = new FaultyFs(() => clock.now());
      const { w } = await openWriter(
        d,
        { bucket_minutes: 1, flush_secs: 3600, flush_rows: 1_000_000, row_group_rows: 1000, retry_base_ms: 100 },
        { clock, fs: f.fs, encodeAtFlushRows: 1 },
      );
      const g = new BookGen({ start: T0, stepMs: 1, seed: 5 });
      const ref = new ColumnBuffer(50);
      for (let i = 0; i < 4321; i++) {
        const s = g.next();
        ref.append(s);
        w.append(s);
      }
      f.fail(op, "EIO", { match: op === "syncDir" ? "_staging/mock/" : "seg-", times: 1 });
      await w.flush().catch(() => {});
      expect(f.failures.length).toBe(1);
      // more rows while the first flush waits for its retry
      for (let i = 0; i < 2000; i++) {
        const s = g.next();
        ref.append(s);
        w.append(s);
      }
      await clock.advance(1000);
      await w.close();
      const finals = globFiles(d, "orderbook_snapshots/**/*.parquet");
      expect(finals.length).toBe(1);
      expect(readSnapshotFile(join(d, finals[0]))).toEqual(tableToRows(new Table([ref.toRecordBatch()])));
    });
});
