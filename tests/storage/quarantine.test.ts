/** Unreadable staged segments: what is salvaged, what is quarantined and counted, and I/O errors that are neither. */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { Metrics } from "../../src/metrics.ts";
import { readSnapshotFile } from "../../src/parquet/read.ts";
import { listStagedSummary } from "../../src/ops/staged-summary.ts";
import { decodeSegment } from "../../src/storage/staging.ts";
import { dayStatus, formatStatus } from "../../src/ops/status.ts";
import { BookGen } from "../helpers/books.ts";
import { FaultyFs } from "../helpers/faulty-fs.ts";
import { globFiles, openWriter, settleOnClock, T0, tempDirs } from "../helpers/store.ts";
import { WRITER_METRICS } from "../../src/storage/metric-names.ts";

const dir = tempDirs("surv-quar-");
const MIN = 60_000;
const finals = (d: string) => globFiles(d, "orderbook_snapshots/**/*.parquet");
const rowsOf = (d: string, f: string) => readSnapshotFile(join(d, f)).length;

/** Three 1-minute buckets staged by an abandoned writer: 100 rows each, bucket 00:01 in two segments of 50. */
async function stageThreeBuckets(d: string): Promise<void> {
  const a = await openWriter(d, { bucket_minutes: 1, flush_secs: 3600, flush_rows: 1_000_000 });
  for (let b = 0; b < 3; b++) {
    const g = new BookGen({ start: T0 + b * MIN, stepMs: 10, seed: b + 1 });
    for (let i = 0; i < 100; i++) {
      a.w.append(g.next());
      if (b === 1 && i === 49) await a.w.flush();
    }
    await a.w.flush();
  }
}
/**
 * One staged segment of 40,000 rows in bucket 00:00 in three parts: raw column buffers (16,384 rows each at most),
 * or encoded row groups (row_group_rows 16,384: three of 13,333 / 13,333 / 13,334 rows).
 */
async function stageThreePartSegment(kind: "raw" | "rowgroup" = "raw"): Promise<{ d: string; seg: string }> {
  const d = dir();
  const a = await openWriter(
    d,
    { bucket_minutes: 1, flush_secs: 3600, flush_rows: 1_000_000, row_group_rows: 16_384 },
    { encodeAtFlushRows: kind === "raw" ? Infinity : 1 },
  );
  const g = new BookGen({ start: T0, stepMs: 1 });
  for (let i = 0; i < 40_000; i++) a.w.append(g.next());
  await a.w.flush();
  return { d, seg: segsOf(d, "00")[0] };
}
const segsOf = (d: string, hhmm: string) => globFiles(d, `_staging/mock/2026-01-01T00-${hhmm}_1m_g*/seg-*.arrows`);

describe("unreadable staged segments", () => {
  test("garbage bytes in a segment: the writer opens, other buckets finalize, the bad segment is quarantined and counted", async () => {
    const d = dir();
    await stageThreeBuckets(d);
    const bad = segsOf(d, "01");
    expect(bad.length).toBe(2);
    writeFileSync(join(d, bad[1]), new Uint8Array(4000).fill(0xab)); // garbage; the first segment of 00:01 is intact
    const metrics = new Metrics();
    const b = await openWriter(d, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 10 * MIN), metrics });
    await b.w.close();
    const base = "orderbook_snapshots/venue=mock/date=2026-01-01/hour=00/snapshots_2026-01-01T00-";
    expect(finals(d)).toEqual([`${base}00.parquet`, `${base}01.parquet`, `${base}02.parquet`]);
    expect([rowsOf(d, `${base}00.parquet`), rowsOf(d, `${base}01.parquet`), rowsOf(d, `${base}02.parquet`)]).toEqual([
      100, 50, 100,
    ]);
    expect(metrics.get(WRITER_METRICS.quarantined, { venue: "mock" })).toBe(1);
    const q = globFiles(d, "_staging/_quarantine/**/*");
    const qdir = `_staging/_quarantine/mock/${bad[1].split("/")[2]}-1`;
    expect(q).toEqual([`${qdir}/seg-000002.arrows`, `${qdir}/seg-000002.arrows.reason.txt`]);
    expect(statSync(join(d, q[0])).size).toBe(4000); // the bytes are kept as they were
    expect(readFileSync(join(d, q[1]), "utf8")).toContain("0 rows salvaged");
    expect(globFiles(d, "_staging/mock/**/*")).toEqual([]); // nothing else left behind
    // status: the quarantine is reported, not mistaken for a venue or staged rows
    expect(await listStagedSummary(d)).toEqual([]);
    const s = await dayStatus(d, T0, { bucketMinutes: 1 });
    expect(s.quarantined).toEqual([qdir]);
    expect(formatStatus(s)).toContain(`quarantined staged data (unreadable segments, see the writer log): ${qdir}`);
    // a second start does not touch the quarantine
    const c = await openWriter(d, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 20 * MIN) });
    await c.w.close();
    expect(globFiles(d, "_staging/_quarantine/**/*")).toEqual(q);
  });

  test("a truncated segment: its complete parts are salvaged and finalized, only the torn remainder is quarantined", async () => {
    const { d, seg } = await stageThreePartSegment(); // cut it inside the third part
    const size = statSync(join(d, seg)).size;
    truncateSync(join(d, seg), Math.floor(size * 0.9));
    const metrics = new Metrics();
    const b = await openWriter(d, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 10 * MIN), metrics });
    await b.w.close();
    expect(finals(d).length).toBe(1);
    expect(rowsOf(d, finals(d)[0])).toBe(2 * 16_384);
    expect(metrics.get(WRITER_METRICS.quarantined, { venue: "mock" })).toBe(1);
    const q = globFiles(d, "_staging/_quarantine/**/*.arrows");
    expect(q.length).toBe(1);
    expect(statSync(join(d, q[0])).size).toBe(Math.floor(size * 0.9));
  }, 60_000); // 40,000 rows through the writer twice: slow on a loaded machine

  test("a truncated segment of encoded row groups: the complete ones are salvaged (their CRC checks), the torn one quarantined", async () => {
    const { d, seg } = await stageThreePartSegment("rowgroup");
    const lens = decodeSegment(readFileSync(join(d, seg))).stats.parts!;
    expect(lens.length).toBe(3);
    const size = statSync(join(d, seg)).size;
    truncateSync(join(d, seg), lens[0] + lens[1] + Math.floor(lens[2] / 2));
    const metrics = new Metrics();
    const b = await openWriter(d, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 10 * MIN), metrics });
    await b.w.close();
    expect(finals(d).map((f) => rowsOf(d, f))).toEqual([26_666]);
    expect(metrics.get(WRITER_METRICS.quarantined, { venue: "mock" })).toBe(1);
    expect(globFiles(d, "_staging/_quarantine/**/*.arrows").length).toBe(1);
    expect(size).toBeGreaterThan(lens[0] + lens[1] + lens[2]); // the trailer was cut off too
  }, 60_000);

  test("a flipped byte inside an encoded row group (trailer intact): that row group is quarantined, the others finalized", async () => {
    const { d, seg } = await stageThreePartSegment("rowgroup");
    const bytes = readFileSync(join(d, seg));
    const lens = decodeSegment(bytes).stats.parts!;
    const at = lens[0] + Math.floor(lens[1] * 0.75); // inside the second row group's page bytes, not its header
    bytes[at] ^= 0x5a;
    writeFileSync(join(d, seg), bytes);
    const metrics = new Metrics();
    const b = await openWriter(d, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 10 * MIN), metrics });
    await b.w.close();
    expect(finals(d).map((f) => rowsOf(d, f))).toEqual([13_333 + 13_334]);
    expect(metrics.get(WRITER_METRICS.quarantined, { venue: "mock" })).toBe(1);
  }, 60_000);

  test("a corrupt middle part with an intact trailer: the parts before and after it are salvaged", async () => {
    const { d, seg } = await stageThreePartSegment();
    const bytes = readFileSync(join(d, seg));
    const lens = decodeSegment(bytes).stats.parts!;
    expect(lens.length).toBe(3);
    bytes.fill(0xff, lens[0], lens[0] + 64); // the second part's header
    writeFileSync(join(d, seg), bytes);
    const metrics = new Metrics();
    const b = await openWriter(d, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 10 * MIN), metrics });
    await b.w.close();
    expect(finals(d).map((f) => rowsOf(d, f))).toEqual([40_000 - 16_384]);
    expect(metrics.get(WRITER_METRICS.quarantined, { venue: "mock" })).toBe(1);
  }, 60_000);

  test("a segment with an intact trailer but a corrupt part: finalization quarantines it and the other buckets still finalize", async () => {
    const d = dir();
    await stageThreeBuckets(d);
    const [first] = segsOf(d, "01");
    const bytes = readFileSync(join(d, first));
    bytes.fill(0xff, 0, 64); // the first part's header: the trailer still reads, compaction does not
    writeFileSync(join(d, first), bytes);
    const metrics = new Metrics();
    const b = await openWriter(d, { bucket_minutes: 1 }, { clock: new SimClock(T0 + 10 * MIN), metrics });
    await b.w.close();
    expect(finals(d).map((f) => rowsOf(d, f))).toEqual([100, 50, 100]);
    expect(metrics.get(WRITER_METRICS.quarantined, { venue: "mock" })).toBe(1);
    expect(readdirSync(join(d, "_staging/_quarantine/mock")).length).toBe(1);
  });

  test("an I/O error reading a segment at start is not quarantined: the writer opens and finalizes once the disk recovers", async () => {
    const d = dir();
    await stageThreeBuckets(d);
    const clock = new SimClock(T0 + 10 * MIN);
    const f = new FaultyFs(() => clock.now());
    f.fail("readFile", "EIO", { match: "00-01_1m", times: 3 });
    const metrics = new Metrics();
    const b = await openWriter(d, { bucket_minutes: 1, retry_base_ms: 1000 }, { clock, fs: f.fs, metrics });
    expect(finals(d).length).toBe(2); // 00:00 and 00:02 did not wait for 00:01
    await clock.advance(10_000);
    expect(finals(d).map((x) => rowsOf(d, x))).toEqual([100, 100, 100]);
    expect(existsSync(join(d, "_staging/_quarantine"))).toBe(false);
    expect(metrics.get(WRITER_METRICS.quarantined, { venue: "mock" })).toBe(0);
    await b.w.close();
  });
});

describe("close() under a brief disk failure", () => {
  async function hundredRowsOnFaultyFs() {
    const d = dir();
    const clock = new SimClock(T0);
    const f = new FaultyFs(() => clock.now());
    const { w } = await openWriter(d, { flush_secs: 3600 }, { clock, fs: f.fs });
    const g = new BookGen({ start: T0, stepMs: 1 });
    for (let i = 0; i < 100; i++) w.append(g.next());
    return { d, clock, f, w, g };
  }
  test("backs off on the clock between attempts and finalizes once the disk recovers; no row is lost", async () => {
    const { d, clock, f, w } = await hundredRowsOnFaultyFs();
    f.fail("create", "ENOSPC", { times: 3 });
    await settleOnClock(clock, w.close());
    expect(f.failures.map((x) => x.at - T0)).toEqual([0, 1000, 3000]); // delays 1 s, 2 s, 4 s, then success
    expect(clock.now() - T0).toBe(7000); // close() is done at the success, not at the end of its 60 s budget
    expect(finals(d).map((x) => rowsOf(d, x))).toEqual([100]);
  });

  test("gives up after about 60 s, saying how many rows are staged and lost", async () => {
    const { clock, f, w, g } = await hundredRowsOnFaultyFs();
    await w.flush();
    for (let i = 0; i < 30; i++) w.append(g.next());
    f.fail("create", "EIO");
    const done = w.close().catch((e: Error) => e.message);
    await settleOnClock(clock, done);
    expect(await done).toMatch(/after 7 attempt\(s\) with 100 staged rows not finalized .* 30 buffered rows lost: EIO/);
    expect(Math.max(...f.failures.map((x) => x.at - T0))).toBe(60_000); // 1+2+4+8+16 s, then the rest of the budget
  });
});
