/**
 * One simulated day by the real writer, mined by the miner, the miner on the list columns and DuckDB (each its own
 * process), then new-day, a 30-day merge and its report (docs/performance.md, docs/mining.md).
 * `bun bench/miner.bench.ts [--scale F] [--regen] [--skip-lists]`; the day is cached in $TMPDIR/surveillance-bench.
 */
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const VENUES = ["bench_a", "bench_b"];
const HOT_BOOKS = 80;
const WARM_BOOKS = 320;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Deterministic xorshift. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

interface SimBook {
  marketId: string;
  outcomeId: string;
  hot: boolean;
  seq: number;
  /** Chance that the book changed between two snapshots (activity differs a lot between books). */
  pChange: number;
  bids: { px: Float64Array; sz: Float64Array; len: number };
  asks: { px: Float64Array; sz: Float64Array; len: number };
}

function makeBooks(venue: string, rand: () => number): SimBook[] {
  const books: SimBook[] = [];
  for (let i = 0; i < (HOT_BOOKS + WARM_BOOKS) / 2; i++) {
    for (const outcomeId of ["yes", "no"]) {
      const mid = 0.1 + rand() * 0.8;
      const tick = 0.01;
      const half = tick * (1 + Math.floor(rand() * 4));
      const nb = 15 + Math.floor(rand() * 11);
      const na = 15 + Math.floor(rand() * 11);
      const side = (n: number, start: number, dir: number) => {
        const px = new Float64Array(n);
        const sz = new Float64Array(n);
        for (let l = 0; l < n; l++) {
          px[l] = Math.round((start + dir * l * tick) * 1000) / 1000;
          sz[l] = Math.round(10 + rand() * 2000);
        }
        return { px, sz, len: n };
      };
      books.push({
        marketId: `${venue}-m${String(i).padStart(3, "0")}`,
        outcomeId,
        hot: i < HOT_BOOKS / 2,
        seq: 1,
        pChange: rand() ** 2,
        bids: side(nb, mid - half, -1),
        asks: side(na, mid + half, 1),
      });
    }
  }
  return books;
}

function step(b: SimBook, rand: () => number): void {
  if (rand() >= b.pChange) return;
  b.seq += 1 + Math.floor(rand() * 3);
  const side = rand() < 0.5 ? b.bids : b.asks;
  const l = Math.floor(rand() * Math.min(side.len, 5));
  side.sz[l] = Math.max(1, Math.round(side.sz[l] * (0.5 + rand())));
  if (rand() < 0.2) {
    // Move the ask side a tick, keeping the spread within 1..10 ticks.
    const d = rand() < 0.5 ? -0.01 : 0.01;
    const spread = b.asks.px[0] + d - b.bids.px[0];
    if (spread > 0.0095 && spread < 0.1005)
      for (let i = 0; i < b.asks.len; i++) b.asks.px[i] = Math.round((b.asks.px[i] + d) * 1000) / 1000;
  }
}

async function generate(dir: string, scale: number): Promise<void> {
  const { SnapshotWriter } = await import("../src/storage/writer.ts");
  const { WRITER_DEFAULTS } = await import("../src/config.ts");
  const { SimClock } = await import("../src/clock.ts");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const clock = new SimClock(START);
  const writer = await SnapshotWriter.open({ dataDir: dir, settings: { ...WRITER_DEFAULTS }, topK: 50, clock });
  const end = START + Math.round(DAY * scale);
  const venues = VENUES.map((v, i) => ({ venue: v, books: makeBooks(v, rng(7 + i)), rand: rng(99 + i) }));
  const t0 = performance.now();
  let rows = 0;
  for (let t = START; t < end; t += 2000) {
    const warmTick = (t - START) % 10_000 === 0;
    for (const { venue, books, rand } of venues) {
      for (let i = 0; i < books.length; i++) {
        const b = books[i];
        if (!b.hot && !warmTick) continue;
        step(b, rand);
        writer.append({
          tsRecv: t + (i % 1000),
          venue,
          marketId: b.marketId,
          outcomeId: b.outcomeId,
          seq: b.seq,
          bids: b.bids,
          asks: b.asks,
          staleReason: null,
          sourceTs: null,
        });
        rows++;
      }
    }
    if ((t - START) % 60_000 === 0) {
      clock.set(t);
      await writer.flush();
      if ((t - START) % 3_600_000 === 0)
        process.stderr.write(
          `\rgenerating: ${((t - START) / 3_600_000).toFixed(0)} h, ${rows.toLocaleString()} rows, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
        );
    }
  }
  clock.set(end + 10_000);
  await writer.close();
  process.stderr.write(
    `\rgenerated ${rows.toLocaleString()} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s${" ".repeat(20)}\n`,
  );
  writeFileSync(join(dir, "READY"), JSON.stringify({ rows, scale, writer: writerVersion() }));
}

/** A hash of the writer's encoding sources: a cached dataset written by other code is regenerated. */
function writerVersion(): string {
  const src = ["parquet/encode.ts", "storage/staging.ts", "storage/column-buffer.ts", "storage/compact.ts"].map((f) =>
    readFileSync(join(import.meta.dir, "../src", f), "utf8"),
  );
  return Bun.hash(src.join("\n")).toString(16);
}

function datasetBytes(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".parquet")) {
        files++;
        bytes += statSync(p).size;
      }
    }
  };
  walk(join(dir, "orderbook_snapshots"));
  return { files, bytes };
}

interface ChildResult {
  engine: string;
  ms: number;
  rssMb: number;
  top: Record<string, string[]>;
  mergeMs?: number;
  reportMs?: number;
  reportBytes?: number;
}

/** Child process body: one engine, three rankings, prints one JSON line. */
async function child(engine: string, dir: string, to: number): Promise<void> {
  const t0 = performance.now();
  const top: Record<string, string[]> = {};
  const extra: Record<string, number> = {};
  if (engine === "duckdb") {
    const { duckdbBooks } = await import("../tests/helpers/duckdb-rankings.ts");
    const { topByActivity, topByDepth, topBySpread } = await import("../src/analytics/score.ts");
    for (const venue of VENUES) {
      const books = await duckdbBooks(join(dir, `orderbook_snapshots/venue=${venue}/*/*/*.parquet`), 2);
      const id = (b: { market_id: string; outcome_id: string }) => `${b.market_id}/${b.outcome_id}`;
      // The per-book table from SQL; ordering 800 rows is the same few lines for both engines.
      top[`${venue}.depth`] = topByDepth(books, 10).map(id);
      top[`${venue}.spread`] = topBySpread(books, 10).map(id);
      top[`${venue}.activity`] = topByActivity(books, 10).map(id);
    }
  } else if (engine === "new-day" || engine === "merge30") {
    // new-day: a day never mined, its partials and series written; merge30: 30 mined days merged, then the report.
    const { mine } = await import("../src/analytics/miner.ts");
    if (engine === "new-day") rmSync(join(dir, "stats"), { recursive: true, force: true });
    const days = engine === "merge30" ? 30 : 1;
    const r = await mine({ dataDir: dir, from: START, to: START + days * DAY, top: 10 });
    if (engine === "merge30" && r.totals.filesRead > 0) throw new Error(`merge30 read ${r.totals.filesRead} files`);
    for (const v of r.venues) {
      const id = (b: { market_id: string; outcome_id: string }) => `${b.market_id}/${b.outcome_id}`;
      top[`${v.venue}.depth`] = v.top.depth.map(id);
      top[`${v.venue}.spread`] = v.top.spread.map(id);
      top[`${v.venue}.activity`] = v.top.activity.map(id);
    }
    if (engine === "merge30") {
      const mergeMs = performance.now() - t0;
      const { buildReport } = await import("../src/analytics/report.ts");
      const { writeReport } = await import("../src/analytics/report-html.ts");
      const r0 = performance.now();
      const bytes = await writeReport(join(dir, "report.html"), buildReport(dir, r, START + days * DAY));
      extra.reportMs = performance.now() - r0;
      extra.reportBytes = bytes;
      extra.mergeMs = mergeMs;
    }
  } else {
    const { mine } = await import("../src/analytics/miner.ts");
    const r = await mine({
      dataDir: dir,
      from: START,
      to,
      top: 10,
      writeStats: false,
      partials: false, // one pass over the snapshots, as before partials (a stored day would answer instantly)
      ignoreDerived: engine === "polars-lists",
    });
    for (const v of r.venues) {
      const id = (b: { market_id: string; outcome_id: string }) => `${b.market_id}/${b.outcome_id}`;
      top[`${v.venue}.depth`] = v.top.depth.map(id);
      top[`${v.venue}.spread`] = v.top.spread.map(id);
      top[`${v.venue}.activity`] = v.top.activity.map(id);
    }
  }
  const ms = performance.now() - t0;
  // Peak resident set of this process (VmHWM), native allocations (Polars, DuckDB) included.
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  const rssMb = hwm ? Number(hwm[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ engine, ms, rssMb, top, ...extra } satisfies ChildResult));
}

/** Builds the 30-day tree from the mined day (see main); reused while the day's partials are unchanged. */
function thirtyDays(dir: string, dir30: string): void {
  const { gunzipSync, gzipSync } = Bun;
  const day0 = "2026-01-01";
  const stamp = readFileSync(join(dir, "stats", `venue=${VENUES[0]}`, `date=${day0}`, "partials.json"), "utf8").length;
  const ready = join(dir30, "READY");
  if (existsSync(ready) && readFileSync(ready, "utf8") === String(stamp)) return;
  rmSync(dir30, { recursive: true, force: true });
  for (const venue of VENUES) {
    const p = JSON.parse(readFileSync(join(dir, "stats", `venue=${venue}`, `date=${day0}`, "partials.json"), "utf8"));
    const series = JSON.parse(
      new TextDecoder().decode(
        gunzipSync(readFileSync(join(dir, "stats", `venue=${venue}`, `date=${day0}`, "series.json.gz"))),
      ),
    );
    for (let k = 0; k < 30; k++) {
      const date = new Date(START + k * DAY).toISOString().slice(0, 10);
      const shift = k * DAY;
      for (const f of p.files as { path: string }[]) {
        const to = join(dir30, f.path.replace(`date=${day0}`, `date=${date}`));
        mkdirSync(join(to, ".."), { recursive: true });
        linkSync(join(dir, f.path), to);
      }
      const out = join(dir30, "stats", `venue=${venue}`, `date=${date}`);
      mkdirSync(out, { recursive: true });
      const files = (p.files as { path: string; bytes: number }[]).map((f) => ({
        path: f.path.replace(`date=${day0}`, `date=${date}`),
        bytes: f.bytes,
        rows: null,
      }));
      const books = (p.books as Record<string, number>[]).map((b) => ({
        ...b,
        firstTs: b.firstTs + shift,
        lastTs: b.lastTs + shift,
        lastMinute: b.lastMinute + shift / 60_000,
      }));
      writeFileSync(join(out, "partials.json"), JSON.stringify({ ...p, date, files, books }));
      const sb = (series.books as { bucket: number[] }[]).map((b) => ({
        ...b,
        bucket: b.bucket.map((x) => x + shift / 300_000),
      }));
      writeFileSync(join(out, "series.json.gz"), gzipSync(Buffer.from(JSON.stringify({ ...series, date, books: sb }))));
    }
  }
  writeFileSync(ready, String(stamp));
}

async function main(): Promise<void> {
  const engine = flag("child");
  const scale = Number(flag("scale") ?? "1");
  if (!(scale > 0 && scale <= 1)) throw new Error("--scale must be in (0, 1]");
  const dir = flag("dir") ?? join(tmpdir(), "surveillance-bench", `miner-day-scale-${scale}`);
  const to = START + Math.ceil((DAY * scale) / 3_600_000) * 3_600_000;
  if (engine) return child(engine, dir, to);

  if (
    process.argv.includes("--regen") ||
    !existsSync(join(dir, "READY")) ||
    JSON.parse(readFileSync(join(dir, "READY"), "utf8")).writer !== writerVersion()
  ) {
    await generate(dir, scale); // missing, asked for, or written by another version of the writer's encoding
  }
  const { rows } = JSON.parse(await Bun.file(join(dir, "READY")).text()) as { rows: number };
  const { files, bytes } = datasetBytes(dir);
  console.log(
    `dataset: ${dir}\n  scale ${scale} of a day, ${rows.toLocaleString()} rows, ${files} files, ${(bytes / 1e6).toFixed(0)} MB Parquet`,
  );
  const engines = ["polars", "duckdb", "new-day", ...(process.argv.includes("--skip-lists") ? [] : ["polars-lists"])];
  const run = (e: string, d: string): ChildResult => {
    const p = Bun.spawnSync(["bun", import.meta.path, "--child", e, "--dir", d, "--scale", String(scale)], {
      stdout: "pipe",
      stderr: "inherit",
    });
    if (p.exitCode !== 0) throw new Error(`${e} child failed (exit ${p.exitCode})`);
    const line = p.stdout.toString().trim().split("\n").pop()!;
    return JSON.parse(line) as ChildResult;
  };
  const results: ChildResult[] = engines.map((e) => run(e, dir));
  // 30 days: the mined day's files hard-linked under 29 more dates, its partials and series copied with the times
  // shifted and the file identities of each date, so the merge reads partials as it would after 30 real days.
  const dir30 = `${dir}-30days`;
  thirtyDays(dir, dir30);
  results.push(run("merge30", dir30));
  const duck = results.find((r) => r.engine === "duckdb")!;
  for (const r of results) {
    if (r.engine === "merge30") continue; // its own line below
    const same = Object.keys(duck.top).filter((k) => JSON.stringify(duck.top[k]) === JSON.stringify(r.top[k])).length;
    console.log(
      `  ${r.engine.padEnd(13)} ${(r.ms / 1000).toFixed(2).padStart(7)} s  ${(rows / (r.ms / 1000) / 1e6).toFixed(2)} M rows/s  ` +
        `${(bytes / 1e6 / (r.ms / 1000)).toFixed(0)} MB/s  peak RSS ${r.rssMb.toFixed(0)} MB  ` +
        `time vs DuckDB ${(r.ms / duck.ms).toFixed(2)}  rankings equal to DuckDB's: ${same}/${Object.keys(duck.top).length}`,
    );
  }
  const m = results.find((r) => r.engine === "merge30")!;
  console.log(
    `  30-day range from partials (${VENUES.length} venues, ${(rows * 30).toLocaleString()} rows): merge ${(m.mergeMs! / 1000).toFixed(2)} s, ` +
      `peak RSS ${m.rssMb.toFixed(0)} MB; report ${(m.reportMs! / 1000).toFixed(2)} s, ${(m.reportBytes! / 1e6).toFixed(2)} MB`,
  );
}

await main();
