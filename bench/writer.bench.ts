/**
 * Writer end to end (rows in → final Parquet on disk) at top_k = 50 with realistic, varied books, against DuckDB
 * writing the same rows to ZSTD Parquet with COPY on one thread. Then the per-column dictionary choice, measured.
 * `bun run bench writer` (ROWS=… to change the bucket size). Figures are noisy on a shared machine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimClock } from "../src/clock.ts";
import { WRITER_DEFAULTS } from "../src/config.ts";
import { compactSegments, DICTIONARY_COLUMNS } from "../src/storage/compact.ts";
import { readManifest } from "../src/storage/manifest.ts";
import { SnapshotWriter } from "../src/storage/writer.ts";
import { pw } from "../src/parquet/wasm.ts";
import { ColumnBuffer } from "../src/storage/column-buffer.ts";
import { encodeSegment } from "../src/storage/staging.ts";
import { nodeFs, writeAtomic } from "../src/storage/fs.ts";
import { BookGen } from "../tests/helpers/books.ts";

const ROWS = Number(process.env.ROWS ?? 1_000_000);
/** Each side is measured REPS times and the best kept: the machine is shared and noisy. */
const REPS = Number(process.env.REPS ?? 3);
const TOP_K = 50;
const MB = 1024 * 1024;
const rssMB = () => process.memoryUsage().rss / MB;
let peakRss = 0;
const sample = () => (peakRss = Math.max(peakRss, rssMB()));

const dir = mkdtempSync(join(tmpdir(), "surv-bench-writer-"));
const baseRss = rssMB();
try {
  // ---- 1. our writer: one 60-minute bucket of ROWS rows, default flush_rows / row_group_rows, ZSTD; best of REPS ----
  const start = Date.UTC(2026, 0, 1, 0, 0);
  const sampler = setInterval(sample, 20);
  let best: Awaited<ReturnType<typeof runWriter>> | undefined;
  let peakStaging = 0;
  let peakFirst = 0;
  for (let rep = 0; rep < REPS; rep++) {
    const r = await runWriter(join(dir, `run${rep}`), start);
    if (rep === 0) {
      // RSS of one bucket in a fresh process; later runs only time (their RSS includes the earlier runs' garbage)
      sample();
      peakStaging = r.peakStaging;
      peakFirst = peakRss;
    }
    console.log(
      `  run ${rep + 1}: ${r.secs.toFixed(2)} s (append+staging ${r.stagingSecs.toFixed(2)} s in ${r.flushes} flushes, compaction ${r.compactSecs.toFixed(2)} s)`,
    );
    if (!best || r.secs < best.secs) best = r;
  }
  clearInterval(sampler);
  sample();
  // The generator is the producer, not the writer: time it alone on the same rows (best of REPS) and take it out,
  // as DuckDB's COPY below starts from rows already in memory.
  let genSecs = Infinity;
  for (let rep = 0; rep < REPS; rep++) {
    const g = new BookGen({ seed: 3, start, stepMs: 3_000_000 / ROWS, markets: 200, maxLevels: 60 });
    const g0 = performance.now();
    for (let i = 0; i < ROWS; i++) g.next();
    genSecs = Math.min(genSecs, (performance.now() - g0) / 1000);
  }
  const { secs: grossSecs, rows, bytes, levels, finalPath } = best!;
  const secs = grossSecs - genSecs;
  console.log(
    `writer: ${rows.toLocaleString()} rows (avg ${(levels / ROWS / 2).toFixed(1)} levels/side, top_k ${TOP_K}) → 1 file, ${(bytes / MB).toFixed(1)} MB; best of ${REPS}:`,
  );
  console.log(
    `  end to end ${grossSecs.toFixed(2)} s with the row generator, which alone takes ${genSecs.toFixed(2)} s; the writer:`,
  );
  console.log(
    `  writer ${secs.toFixed(2)} s: ${Math.round(rows / secs).toLocaleString()} rows/s, ${(bytes / rows).toFixed(1)} B/row, ` +
      `${(bytes / MB / secs).toFixed(1)} MB/s Parquet out, ${((levels * 16) / MB / secs).toFixed(0)} MB/s of level data in`,
  );
  console.log(
    `  peak RSS (first run) ${peakFirst.toFixed(0)} MB (target < 512 MB): ${peakStaging.toFixed(0)} MB while appending/staging, ` +
      `${baseRss.toFixed(0)} MB at start; wasm memory ${(pw.wasmMemory().buffer.byteLength / MB).toFixed(0)} MB`,
  );
  const oursRate = rows / secs;

  // ---- 2. DuckDB: the same rows (loaded from our file, untimed) written with COPY … ZSTD, threads = 1 ----
  const { DuckDBInstance } = await import("@duckdb/node-api"); // loaded only now: its native library is not our RSS
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  await conn.run("SET threads = 1");
  await conn.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${finalPath}')`);
  const duckOut = join(dir, "duckdb.parquet");
  let dSecs = Infinity;
  for (let rep = 0; rep < REPS; rep++) {
    const d0 = performance.now();
    await conn.run(`COPY t TO '${duckOut}' (FORMAT parquet, COMPRESSION zstd)`);
    dSecs = Math.min(dSecs, (performance.now() - d0) / 1000);
  }
  const dBytes = Bun.file(duckOut).size;
  conn.closeSync();
  const duckRate = rows / dSecs;
  console.log(
    `duckdb COPY (threads=1, ZSTD, from an in-memory table), best of ${REPS}: ${dSecs.toFixed(2)} s, ${Math.round(duckRate).toLocaleString()} rows/s, ${(dBytes / rows).toFixed(1)} B/row`,
  );
  console.log(
    `ratio: writer (rows in → final file on disk) / duckdb COPY = ${(oursRate / duckRate).toFixed(2)}× (target ≥ 2×); ` +
      `counting the generator too: ${(rows / grossSecs / duckRate).toFixed(2)}×`,
  );

  // ---- 3. dictionary on/off per column group, compaction only, same staged rows ----
  const N = Math.min(ROWS, 200_000);
  const segDir = join(dir, "dict");
  await nodeFs.mkdirp(segDir);
  const gen = new BookGen({ seed: 5, start, stepMs: 10, markets: 200, maxLevels: 60 });
  const segs: string[] = [];
  for (let s = 0; s < N / 50_000; s++) {
    const buf = new ColumnBuffer(TOP_K, 50_000);
    for (let i = 0; i < 50_000; i++) buf.append(gen.next());
    const p = join(segDir, `seg-${s}.arrows`);
    await writeAtomic(
      nodeFs,
      p,
      encodeSegment(buf, { rows: buf.length, min_ts: buf.minTs, max_ts: buf.maxTs, markets: [...buf.markets] }),
    );
    segs.push(p);
  }
  // parquet-wasm 0.8 matches per-column settings on the top-level name only, so list leaves (bid_px.list.item)
  // follow the global setting: "global on" is the only way to dictionary-encode the lists.
  const floats = [
    "best_bid_px",
    "best_bid_sz",
    "best_ask_px",
    "best_ask_sz",
    "mid",
    "spread",
    "bid_depth3",
    "ask_depth3",
  ];
  const ints = ["ts_recv", "seq", "source_ts"];
  const on = (cols: string[]) => Object.fromEntries(cols.map((c) => [c, true]));
  const off = (cols: string[]) => Object.fromEntries(cols.map((c) => [c, false]));
  const variants: [string, Record<string, boolean>, boolean][] = [
    ["strings only", DICTIONARY_COLUMNS, false],
    ["none", {}, false],
    ["strings + float scalars", { ...DICTIONARY_COLUMNS, ...on(floats) }, false],
    ["strings + ints", { ...DICTIONARY_COLUMNS, ...on(ints) }, false],
    ["all but scalars (lists on)", { ...off(floats), ...off(ints) }, true],
    ["all", {}, true],
  ];
  console.log(
    `compaction of ${N.toLocaleString()} staged rows to ZSTD Parquet: our encoder vs parquet-wasm with dictionary variants:`,
  );
  for (const [name, dict, globalOn, engine] of [
    ["native encoder (chosen)", {}, false, "native"] as const,
    ...variants.map(([n, d, g]) => [`parquet-wasm, dict ${n}`, d, g, "wasm"] as const),
  ]) {
    const out = join(segDir, `.tmp-${name.replace(/\W+/g, "_")}.partial`);
    const c0 = performance.now();
    const res = await compactSegments(
      nodeFs,
      segs,
      out,
      { compression: "zstd", row_group_rows: WRITER_DEFAULTS.row_group_rows },
      dict,
      globalOn,
      engine,
    );
    const cs = (performance.now() - c0) / 1000;
    console.log(
      `  ${name.padEnd(42)} ${Math.round(N / cs)
        .toLocaleString()
        .padStart(9)} rows/s  ${(res.bytes / N).toFixed(1).padStart(6)} B/row`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** One end-to-end run of the writer into `dataDir`: rows in (append) → staged → one final Parquet file. */
async function runWriter(dataDir: string, start: number) {
  const clock = new SimClock(start);
  const w = await SnapshotWriter.open({
    dataDir,
    settings: { ...WRITER_DEFAULTS, bucket_minutes: 60 },
    topK: TOP_K,
    clock,
  });
  const g = new BookGen({ seed: 3, start, stepMs: 3_000_000 / ROWS, markets: 200, maxLevels: 60 });
  let levels = 0;
  const t0 = performance.now();
  for (let i = 0; i < ROWS; i++) {
    const s = g.next();
    levels += Math.min(s.bids.len, TOP_K) + Math.min(s.asks.len, TOP_K);
    w.append(s);
    if ((i + 1) % 10_000 === 0) {
      await Bun.sleep(0); // the event loop turns, as in the collector: triggered flushes run
      // a producer this fast (the collector is ~100× slower) waits for the writer once flush_rows are buffered
      if (w.status().rowsBuffered >= WRITER_DEFAULTS.flush_rows) await w.flush();
    }
  }
  await w.flush();
  const tStaged = performance.now();
  sample();
  const peakStaging = peakRss;
  await w.close();
  const t1 = performance.now();
  const { entries } = await readManifest(dataDir);
  return {
    secs: (t1 - t0) / 1000,
    stagingSecs: (tStaged - t0) / 1000,
    compactSecs: (t1 - tStaged) / 1000,
    flushes: w.status().flushes,
    rows: entries.reduce((s, e) => s + e.rows, 0),
    bytes: entries.reduce((s, e) => s + e.bytes, 0),
    levels,
    peakStaging,
    finalPath: join(dataDir, entries[0].path),
  };
}
