/** dayStatus over writer-made trees: per venue and hour files, rows, markets, gaps and staged rows, from metadata or data. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import {
  appendFileSync,
  closeSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { tableToIPC } from "apache-arrow";
import { dayStatus, fileFacts, formatStatus, type DayStatus } from "../../src/ops/status.ts";
import { parsePageHeader, readFooter } from "../../src/parquet/footer.ts";
import { listDatasetFiles, snapshotPath } from "../../src/layout.ts";
import { pw } from "../../src/parquet/wasm.ts";
import { ParquetStreamEncoder } from "../../src/parquet/encode.ts";
import { SNAPSHOT_SCHEMA } from "../../src/schema.ts";
import { bookRow, rowsToTable, writeSnapshotFile } from "../helpers/snapshot-files.ts";
import { duckdbRows } from "../helpers/sql-engines.ts";
import { SimClock } from "../../src/clock.ts";
import { BookGen } from "../helpers/books.ts";
import { openWriter, tempDir, tempDirs } from "../helpers/store.ts";
import { DAY as BC_DAY, FILES, relOf, writeBucketChangeDataset } from "../helpers/bucket-change.ts";

// spawns the CLI / writes real files: the 5 s default is too short on a loaded machine (bunfig has no timeout key)
setDefaultTimeout(60_000);

const DAY = Date.UTC(2026, 2, 3);
const H = 3_600_000,
  MIN = 60_000;

/** A staged segment as the writer lays it out: IPC bytes (opaque here), JSON stats, u32 LE length, magic. */
function fakeSegment(stats: object): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(stats));
  const out = new Uint8Array(100 + json.length + 12);
  out.set(json, 100);
  new DataView(out.buffer).setUint32(100 + json.length, json.length, true);
  out.set(new TextEncoder().encode("SVSEG001"), 104 + json.length);
  return out;
}

describe("dayStatus", () => {
  let dir: string;
  const sizes: Record<string, number> = {};
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "status-"));
    // mock: buckets 10:00..10:55 except 10:20 and 10:25; 11:00 holds staged rows only; 11:05 final again.
    for (const m of [0, 5, 10, 15, 30, 35, 40, 45, 50, 55, 65]) {
      const start = DAY + 10 * H + m * MIN;
      const rows = [bookRow(start + 1000, "mock", `m${m % 3}`, "yes", 1), bookRow(start + 2000, "mock", "mx", "no", 2)];
      const rel = snapshotPath("mock", start, 5);
      sizes[rel] = await writeSnapshotFile(join(dir, rel), rows);
    }
    const seg = join(dir, "_staging", "mock", "2026-03-03T11-00_5m_g0");
    mkdirSync(seg, { recursive: true });
    writeFileSync(
      join(seg, "seg-000001.arrows"),
      fakeSegment({ rows: 40, min_ts: DAY + 11 * H + 100, max_ts: DAY + 11 * H + 9000, markets: ["s1", "s2"] }),
    );
    writeFileSync(
      join(seg, "seg-000002.arrows"),
      fakeSegment({ rows: 2, min_ts: DAY + 11 * H + 9100, max_ts: DAY + 11 * H + 9200, markets: ["s2"] }),
    );
    writeFileSync(join(seg, ".tmp-seg-000003.arrows.partial"), "in progress");
    // another day's file and staging must not show up
    await writeSnapshotFile(join(dir, snapshotPath("mock", DAY + 24 * H, 5)), [
      bookRow(DAY + 24 * H, "mock", "z", "yes", 1),
    ]);
    // kalshi: a single bucket at 09:30
    await writeSnapshotFile(join(dir, snapshotPath("kalshi", DAY + 9.5 * H, 5)), [
      bookRow(DAY + 9.5 * H + 5, "kalshi", "K1", "yes", 1),
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("per venue and hour: files, rows, markets, bytes, first/last, gaps, staged", async () => {
    const s = await dayStatus(dir, DAY, { bucketMinutes: 5 });
    expect(s.date).toBe("2026-03-03");
    expect(s.hours.map((h) => `${h.venue}/${h.hour}`)).toEqual(["kalshi/09", "mock/10", "mock/11"]);
    const [k09, m10, m11] = s.hours;
    expect(k09).toMatchObject({
      files: 1,
      rows: 1,
      markets: 1,
      first_ts: DAY + 9.5 * H + 5,
      last_ts: DAY + 9.5 * H + 5,
      missing_buckets: [],
    });
    const bytes10 = Object.entries(sizes)
      .filter(([k]) => k.includes("hour=10"))
      .reduce((t, [, v]) => t + v, 0);
    expect(m10).toMatchObject({
      files: 10,
      rows: 20,
      markets: 4,
      bytes: bytes10,
      first_ts: DAY + 10 * H + 1000,
      last_ts: DAY + 10 * H + 55 * MIN + 2000,
    });
    expect(m10.missing_buckets).toEqual(["10-20", "10-25"]);
    expect(m10.staged_rows).toBe(0);
    // 11:00 is staged (not missing); 11:05 is final
    expect(m11).toMatchObject({ files: 1, rows: 2, staged_rows: 42, staged_buckets: ["11-00"], missing_buckets: [] });
    const segSize = (n: number) =>
      statSync(join(dir, `_staging/mock/2026-03-03T11-00_5m_g0/seg-00000${n}.arrows`)).size;
    expect(m11.staged_bytes).toBe(segSize(1) + segSize(2));
    expect(m11.markets).toBe(4); // m2, mx from the final file + s1, s2 staged
    // read-only: the writer's temp file is still there
    expect(statSync(join(dir, "_staging/mock/2026-03-03T11-00_5m_g0/.tmp-seg-000003.arrows.partial")).size).toBe(11);
  });

  test("compact table", async () => {
    const text = formatStatus(await dayStatus(dir, DAY, { bucketMinutes: 5, venues: ["mock"] }));
    const lines = text.split("\n");
    expect(lines[0]).toBe("2026-03-03 (UTC), 5-minute buckets");
    expect(lines[1].split(/\s+/)).toEqual([
      "venue",
      "hour",
      "files",
      "rows",
      "markets",
      "bytes",
      "first",
      "last",
      "missing",
      "staged",
    ]);
    expect(lines[2].split(/\s+/).slice(0, 5)).toEqual(["mock", "10", "10", "20", "4"]);
    expect(lines[2]).toContain("10-20,10-25");
    expect(lines[3]).toContain("42 rows in 11-00");
    expect(lines[4]).toMatch(/^mock: 11 files, 22 rows, .*2 missing buckets, 42 staged rows$/);
    expect(text).not.toContain("kalshi");
  });
});

describe("dayStatus with the real writer", () => {
  test("rows staged by a live writer show as staged, then as final rows once the bucket closes", async () => {
    const { dir, cleanup } = tempDir("status-writer-");
    try {
      const start = Date.UTC(2026, 2, 4, 13, 0);
      const { w, clock } = await openWriter(dir, { flush_secs: 5 }, { clock: new SimClock(start) });
      w.start();
      const g = new BookGen({ seed: 7, markets: 10, start: start + 60_000, stepMs: 100 });
      for (let i = 0; i < 500; i++) w.append(g.next());
      await clock.advance(61_000); // one flush_secs tick: staged, bucket still open
      const staged = w.status().rowsStaged;
      expect(staged).toBe(500);
      let s = await dayStatus(dir, Date.UTC(2026, 2, 4), { bucketMinutes: 5 });
      expect(s.hours).toHaveLength(1);
      expect(s.hours[0]).toMatchObject({
        venue: "mock",
        hour: "13",
        files: 0,
        rows: 0,
        staged_rows: 500,
        staged_buckets: ["13-00"],
        missing_buckets: [],
      });
      expect(s.hours[0].markets).toBe(10);
      await clock.advance(5 * 60_000); // past the bucket's end + grace: compacted into its final file
      await w.close();
      s = await dayStatus(dir, Date.UTC(2026, 2, 4), { bucketMinutes: 5 });
      expect(s.hours[0]).toMatchObject({
        files: 1,
        rows: 500,
        staged_rows: 0,
        markets: 10,
        first_ts: start + 60_000,
        last_ts: start + 60_000 + 499 * 100,
      });
    } finally {
      cleanup();
    }
  });
});

describe("dayStatus after writer.bucket_minutes changed (5 → 15 → 5)", () => {
  let dir: string;
  const copy = tempDirs("status-bm-");
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "status-bm-"));
    await writeBucketChangeDataset(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const damaged = () => {
    const d = copy();
    cpSync(dir, d, { recursive: true });
    return d;
  };
  /** Files per hour, counted from the hand-written list of buckets. */
  const filesIn = (hour: number) => FILES.filter((f) => new Date(f.start).getUTCHours() === hour).length;

  test("full coverage under either configured length, hour by hour (5-minute, 15-minute and mixed hours)", async () => {
    for (const bucketMinutes of [5, 15]) {
      const s = await dayStatus(dir, BC_DAY, { bucketMinutes });
      expect(s.hours.map((h) => [h.hour, h.files, h.missing_buckets])).toEqual([
        ["10", filesIn(10), []],
        ["11", filesIn(11), []],
        ["12", filesIn(12), []],
      ]);
      expect([filesIn(10), filesIn(11), filesIn(12)]).toEqual([12, 4, 5]);
      expect(s.hours[2]).toMatchObject({ first_ts: BC_DAY + 12 * H, last_ts: BC_DAY + 12.75 * H - 1000 });
      expect(s.bucket_minutes_found).toEqual([5, 15]);
      expect(s.inferred).toEqual([]);
      const text = formatStatus(s);
      expect(text.split("\n")[0]).toBe(`2026-06-10 (UTC), 5- and 15-minute buckets (configured: ${bucketMinutes})`);
      expect(text).toContain("mock: 21 files, ");
      expect(text).toContain(", 0 missing buckets, ");
    }
  });

  test("a missing bucket is named by its own length, whatever the configured one", async () => {
    const d = damaged();
    rmSync(join(d, relOf({ start: BC_DAY + 10 * H + 20 * MIN, minutes: 5 })));
    rmSync(join(d, relOf({ start: BC_DAY + 11 * H + 15 * MIN, minutes: 15 })));
    rmSync(join(d, relOf({ start: BC_DAY + 12 * H + 15 * MIN, minutes: 15 }))); // between a 15- and a 5-minute file: the 5-minute grid
    for (const bucketMinutes of [5, 15]) {
      const s = await dayStatus(d, BC_DAY, { bucketMinutes });
      expect(s.hours.map((h) => [h.hour, h.missing_buckets])).toEqual([
        ["10", ["10-20"]],
        ["11", ["11-15"]],
        ["12", ["12-15", "12-20", "12-25"]],
      ]);
    }
  });

  test("a staged bucket counts with the length it was staged under", async () => {
    const d = damaged();
    // left by a run with 15-minute buckets (12:45..13:00), then a 5-minute file at 13:00
    const seg = join(d, "_staging", "mock", "2026-06-10T12-45_15m_g9");
    mkdirSync(seg, { recursive: true });
    writeFileSync(
      join(seg, "seg-000001.arrows"),
      fakeSegment({ rows: 3, min_ts: BC_DAY + 12.75 * H, max_ts: BC_DAY + 12.95 * H, markets: ["s1"] }),
    );
    const rel = snapshotPath("mock", BC_DAY + 13 * H, 5);
    await writeSnapshotFile(join(d, rel), [bookRow(BC_DAY + 13 * H + 1000, "mock", "m", "yes", 1)]);
    appendFileSync(
      join(d, "_manifest", "orderbook_snapshots.jsonl"),
      JSON.stringify({ path: rel, venue: "mock", bucket_start: BC_DAY + 13 * H, bucket_minutes: 5, rows: 1 }) + "\n",
    );
    for (const bucketMinutes of [5, 15]) {
      const s = await dayStatus(d, BC_DAY, { bucketMinutes });
      expect(s.hours.map((h) => [h.hour, h.staged_rows, h.missing_buckets])).toEqual([
        ["10", 0, []],
        ["11", 0, []],
        ["12", 3, []],
        ["13", 0, []],
      ]);
    }
  });

  test("files without the manifest's word: the configured length if they fit it, else the shortest they fit, said in the output", async () => {
    const d = damaged();
    rmSync(join(d, "_manifest"), { recursive: true });
    const s5 = await dayStatus(d, BC_DAY, { bucketMinutes: 5 });
    expect(s5.hours.every((h) => h.missing_buckets.length === 0)).toBe(true);
    expect(s5.inferred).toEqual(
      FILES.filter((f) => f.minutes === 15).map((f) => ({ file: relOf(f), bucket_minutes: 15 })),
    );
    const text = formatStatus(s5).split("\n");
    expect(text[0]).toBe("2026-06-10 (UTC), 5- and 15-minute buckets (configured: 5)");
    expect(text.at(-1)).toBe(
      `note: 6 file(s) without a bucket length in the manifest do not fit the configured 5-minute buckets; judged as 15-minute buckets, the shortest their names and rows fit (first: ${relOf(FILES[12])})`,
    );
    // configured 15: the 5-minute files at :00/:15/:30/:45 fit a 15-minute bucket and are taken as one
    const s15 = await dayStatus(d, BC_DAY, { bucketMinutes: 15 });
    expect(s15.hours.every((h) => h.missing_buckets.length === 0)).toBe(true);
    expect(s15.inferred.map((i) => i.bucket_minutes)).toEqual(Array(10).fill(5));
  });
});

describe("status from metadata (footer statistics and market_id dictionaries) equals status from the data", () => {
  const SDAY = Date.UTC(2026, 4, 20);
  const dirs = tempDirs("status-meta-");
  const venueFiles = (d: string) => listDatasetFiles(d).filter((f) => f.date === "2026-05-20");

  /** Two venues, 10:48 → 11:12 (two hours, 5-minute files), written by the real writer with small row groups. */
  async function writeDay(compression: "zstd" | "uncompressed" | "snappy"): Promise<string> {
    const dir = dirs();
    const start = SDAY + 10.8 * H;
    const { w } = await openWriter(
      dir,
      { compression, row_group_rows: 400, flush_rows: 100_000 },
      { clock: new SimClock(start) },
    );
    for (const [venue, seed] of [
      ["mock", 3],
      ["kalshi", 4],
    ] as const) {
      const g = new BookGen({ seed, venue, markets: 1500, start, stepMs: (24 * MIN) / 3000 }); // more markets than a row group holds
      for (let i = 0; i < 3000; i++) {
        w.append(g.next());
        if ((i + 1) % 900 === 0) await w.flush();
      }
    }
    await w.close();
    return dir;
  }

  /** Per venue and hour: rows, first/last ts_recv and distinct market ids, by DuckDB over the same files. */
  async function duckdbHours(dir: string): Promise<string[]> {
    const rows = await duckdbRows(
      `SELECT venue, hour, count(*) AS n, min(ts_recv) AS lo, max(ts_recv) AS hi, count(DISTINCT market_id) AS m
       FROM read_parquet('${dir}/orderbook_snapshots/*/date=2026-05-20/*/*.parquet', hive_partitioning = true, union_by_name = true)
       GROUP BY ALL ORDER BY venue, hour`,
    );
    return rows.map(
      (r) => `${r.venue}/${String(r.hour).padStart(2, "0")}: ${r.n} rows, ${r.m} markets, ${r.lo}..${r.hi}`,
    );
  }
  const ours = (s: DayStatus) =>
    s.hours.map((h) => `${h.venue}/${h.hour}: ${h.rows} rows, ${h.markets} markets, ${h.first_ts}..${h.last_ts}`);

  test.each(["zstd", "uncompressed"] as const)(
    "%s files of the writer: every file answered from metadata, same status as reading the columns, same as DuckDB",
    async (compression) => {
      const dir = await writeDay(compression);
      const files = venueFiles(dir);
      expect(files.length).toBeGreaterThanOrEqual(10);
      const groups = files.map((f) => {
        const fd = openSync(f.abs, "r");
        try {
          return readFooter(fd, f.bytes).footer.rowGroups.length;
        } finally {
          closeSync(fd);
        }
      });
      expect(Math.max(...groups)).toBeGreaterThan(1);
      for (const f of files) expect((await fileFacts(f.abs)).source).toBe("metadata");
      const fast = await dayStatus(dir, SDAY, { bucketMinutes: 5 });
      expect(fast).toEqual(await dayStatus(dir, SDAY, { bucketMinutes: 5, fromData: true }));
      expect(fast.hours.map((h) => `${h.venue}/${h.hour}`)).toEqual(["kalshi/10", "kalshi/11", "mock/10", "mock/11"]);
      expect(fast.hours.every((h) => h.unreadable.length === 0)).toBe(true);
      expect(ours(fast)).toEqual(await duckdbHours(dir));
      expect(formatStatus(fast)).toBe(formatStatus(await dayStatus(dir, SDAY, { bucketMinutes: 5, fromData: true })));
      // without the manifest each file's length is inferred from its rows' range: the same from metadata
      rmSync(join(dir, "_manifest"), { recursive: true });
      expect(await dayStatus(dir, SDAY, { bucketMinutes: 15 })).toEqual(
        await dayStatus(dir, SDAY, { bucketMinutes: 15, fromData: true }),
      );
    },
  );

  test("snappy files (parquet-wasm) are read from the data, with the same answer as DuckDB", async () => {
    const dir = await writeDay("snappy");
    for (const f of venueFiles(dir)) expect((await fileFacts(f.abs)).source).toBe("data");
    const s = await dayStatus(dir, SDAY, { bucketMinutes: 5 });
    expect(ours(s)).toEqual(await duckdbHours(dir));
    expect(s).toEqual(await dayStatus(dir, SDAY, { bucketMinutes: 5, fromData: true }));
  });

  test("a hand-built file with PLAIN market_id next to the writer's files: read from its data, counted right", async () => {
    const dir = await writeDay("zstd");
    const start = SDAY + 11.25 * H; // 11:15, after the writer's last bucket
    const rows = [
      bookRow(start + 1000, "mock", "plain-1", "yes", 1),
      bookRow(start + 2000, "mock", "plain-2", "no", 2),
      bookRow(start + 3000, "mock", "plain-1", "no", 3),
    ];
    const props = new pw.WriterPropertiesBuilder()
      .setDictionaryEnabled(false)
      .setCompression(pw.Compression.UNCOMPRESSED)
      .build();
    const rel = snapshotPath("mock", start, 5);
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(
      join(dir, rel),
      pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(rowsToTable(rows), "stream")), props),
    );
    expect((await fileFacts(join(dir, rel))).source).toBe("data");
    const s = await dayStatus(dir, SDAY, { bucketMinutes: 5, venues: ["mock"] });
    expect(s).toEqual(await dayStatus(dir, SDAY, { bucketMinutes: 5, venues: ["mock"], fromData: true }));
    expect(ours(s)).toEqual((await duckdbHours(dir)).filter((l) => l.startsWith("mock/")));
    expect(s.hours[1].last_ts).toBe(start + 3000);
  });

  test("a corrupt market_id dictionary page: the file is unreadable, as when reading its data", async () => {
    const dir = await writeDay("zstd");
    const f = venueFiles(dir).find((x) => x.venue === "mock" && x.hour === 11)!;
    const bytes = new Uint8Array(readFileSync(f.abs));
    const fd = openSync(f.abs, "r");
    const { footer } = readFooter(fd, f.bytes);
    closeSync(fd);
    const c = footer.rowGroups[0].columns.find((x) => x.path[0] === "market_id")!;
    const h = parsePageHeader(bytes, c.dictionaryPageOffset!);
    for (let k = 0; k < 8; k++) bytes[h.end + 4 + k] ^= 0x5a; // inside the ZSTD frame, past its magic
    writeFileSync(f.abs, bytes);
    const s = await dayStatus(dir, SDAY, { bucketMinutes: 5 });
    expect(s.hours.flatMap((x) => x.unreadable)).toEqual([f.rel]);
    expect(s).toEqual(await dayStatus(dir, SDAY, { bucketMinutes: 5, fromData: true }));
  });

  test("without the manifest, a file with rows outside its hour is read from its data (the in-hour range is needed)", async () => {
    const dir = dirs();
    const start = SDAY + 10 * H;
    const rel = snapshotPath("mock", start, 5);
    // written by our encoder (created_by "surveillance"): its metadata is trusted
    const table = rowsToTable([
      bookRow(start + 1000, "mock", "a", "yes", 1),
      bookRow(start + 4 * MIN, "mock", "b", "yes", 2),
      bookRow(start + H + 10 * MIN, "mock", "a", "no", 3),
    ]);
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    const chunks: Uint8Array[] = [];
    const enc = new ParquetStreamEncoder(
      SNAPSHOT_SCHEMA,
      { codec: "zstd", rowGroupRows: 65_536, createdBy: "surveillance" },
      async (b) => void chunks.push(b.slice()),
    );
    for (const b of table.batches) await enc.write(b);
    await enc.finish();
    writeFileSync(join(dir, rel), Buffer.concat(chunks));
    expect((await fileFacts(join(dir, rel))).source).toBe("metadata");
    const f = await fileFacts(join(dir, rel), start);
    expect(f).toMatchObject({
      source: "data",
      range: [start + 1000, start + H + 10 * MIN],
      hourRange: [start + 1000, start + 4 * MIN],
    });
    expect(await dayStatus(dir, SDAY, { bucketMinutes: 15 })).toEqual(
      await dayStatus(dir, SDAY, { bucketMinutes: 15, fromData: true }),
    );
  });
});
