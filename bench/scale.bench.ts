/**
 * `surveillance collect` for real with 5,000 markets against the loopback Polymarket in its own process, then a
 * 120,000-line universe parse and one rotation in memory; each figure next to its target (docs/scale.md).
 * `bun run bench scale [--seconds 60] [--rate 10000]`
 */
import { consola } from "consola";
import { mkdtemp, rm } from "node:fs/promises";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { runCollect } from "../src/collector/run.ts";
import { RealClock } from "../src/clock.ts";
import { parseConfig } from "../src/config.ts";
import { Metrics } from "../src/metrics.ts";
import { scanAll } from "../src/scanner/scanner.ts";
import type { SnapshotInput } from "../src/schema.ts";
import { circleOrder, computeTargets } from "../src/scheduler/scheduler.ts";
import { selectMarkets } from "../src/scheduler/selection.ts";
import { SnapshotWriter } from "../src/storage/writer.ts";
import { parseUniverseYielding } from "../src/scanner/scanner.ts";
import { mockUniverse } from "../src/venue/mock.ts";
import { COLLECTOR_METRICS } from "../src/collector/metric-names.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg("seconds", 60);
const RATE = arg("rate", 10_000);
const MARKETS = 5556; // the loopback venue pauses every 10th market: 5,000 active, 10,000 tokens
const TOKENS = 10_000;

const venue = Bun.spawn(["bun", join(import.meta.dir, "scale-venue.ts"), String(MARKETS), String(RATE)], {
  stdout: "pipe",
  stderr: "inherit",
});
const lines = (async function* () {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of venue.stdout) {
    buf += dec.decode(chunk);
    let i = buf.indexOf("\n");
    while (i >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
      i = buf.indexOf("\n");
    }
  }
})();
const port = Number((await lines.next()).value?.split(" ")[1]);
let wireFullAt = 0;
/** Entries the venue process has sent so far (it reports every second). */
let sent = 0;
void (async () => {
  for await (const l of lines) {
    if (l.startsWith("FULL ")) wireFullAt = performance.now();
    else if (l.startsWith("SENT ")) sent = Number(l.slice(5));
  }
})();

const dir = await mkdtemp(join(tmpdir(), "bench-scale-"));
const http = `http://127.0.0.1:${port}`;
const config = parseConfig({
  data_dir: dir,
  top_k: 50,
  metrics: { log_interval_secs: 3600 },
  collector: { max_subs_per_venue: 5000, hot_count: 40 },
  venues: {
    mock: { enabled: false },
    polymarket: {
      enabled: true,
      gamma_url: http,
      clob_url: http,
      ws_url: `ws://127.0.0.1:${port}/ws/market`,
      max_assets_per_connection: 500,
      connection_open_pause_ms: 1000,
    },
  },
});
consola.level = 1; // errors and warnings only
const clock = new RealClock();
await scanAll(config, { clock, env: {} });

// The real writer, wrapped to see when every book has been in a snapshot.
const writer = await SnapshotWriter.open({
  dataDir: dir,
  settings: config.writer,
  topK: config.top_k,
  clock,
  metrics: new Metrics(),
});
const seen = new Set<string>();
let booksFullAt = 0;
const sink = {
  append(s: SnapshotInput) {
    if (booksFullAt === 0 && s.bids.len + s.asks.len > 0 && !seen.has(s.outcomeId)) {
      seen.add(s.outcomeId);
      if (seen.size === TOKENS) booksFullAt = performance.now();
    }
    writer.append(s);
  },
  start: () => writer.start(),
  close: () => writer.close(),
};

const metrics = new Metrics();
const stop = new AbortController();
let peakRss = 0;
const sampleRss = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
const t0 = performance.now();
const run = runCollect(config, { clock, metrics, signal: stop.signal, sink });

const L = { venue: "polymarket" };
const read = () => ({
  t: performance.now(),
  cpu: process.cpuUsage(),
  updates: metrics.get(COLLECTOR_METRICS.updates, L),
  rows: metrics.get(COLLECTOR_METRICS.snapshots, L),
  sent,
});
const until = async (pred: () => boolean, maxMs: number) => {
  const end = performance.now() + maxMs;
  while (!pred() && performance.now() < end) await Bun.sleep(100);
};
await until(() => wireFullAt > 0 && booksFullAt > 0, 120_000);
await Bun.sleep(5000); // let the first WARM snapshots and the update stream settle
metrics.render();
const a = read();
await Bun.sleep(SECONDS * 1000);
metrics.render();
const b = read();
stop.abort();
await run;
clearInterval(sampleRss);
venue.kill();
await rm(dir, { recursive: true, force: true });

const dt = (b.t - a.t) / 1000;
const cpu = (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1e6 / dt;
const sec = (t: number) => (t > 0 ? `${((t - t0) / 1000).toFixed(1)} s` : "not reached");
const row = (what: string, figure: string, target: string) =>
  console.log(`${what.padEnd(44)} ${figure.padStart(16)}   target ${target}`);
console.log(
  `scale: 5,000 markets / ${TOKENS} tokens on Polymarket (loopback), ${RATE} entries/s offered, ${SECONDS} s window`,
);
row("start → every token subscribed on the wire", sec(wireFullAt), "< 60 s (incl. 1 s per socket)");
row("start → every book in a snapshot", sec(booksFullAt), "< 60 s (+ one WARM interval)");
row(
  "book updates/s sustained",
  ((b.updates - a.updates) / dt).toFixed(0),
  `≈ sent ${((b.sent - a.sent) / dt).toFixed(0)}/s (asked ${RATE})`,
);
row("snapshot rows/s sustained", ((b.rows - a.rows) / dt).toFixed(0), "≈ 40×2/2 s + 4,960×2/10 s = 1,032");
row("peak RSS", `${(peakRss / 2 ** 20).toFixed(0)} MB`, "< 1024 MB");
row("CPU, share of one core (collector process)", `${(cpu * 100).toFixed(1)} %`, "< 50 %");

// A big universe: the reload parse and one rotation's selection + targets.
const big = mockUniverse(
  "mock",
  { universe_size: 120_000, seed: 1, closed_share: 0.05, updates_per_sec: 1 },
  Date.now(),
);
const text = big.map((m) => JSON.stringify(m)).join("\n");
let p0 = performance.now();
const parsed = await parseUniverseYielding(text);
const parseMs = performance.now() - p0;
const settings = { ...config.selected[0].collect, max_subs_per_venue: 5000, hot_count: 40 };
const now = Date.now();
const sel = { pin: parsed.slice(0, 20).map((m) => m.market_id), filter: { tags_none: ["weather"], min_volume: 1000 } };
p0 = performance.now();
const circle = circleOrder(parsed); // once per universe load (the Scheduler keeps it)
const circleMs = performance.now() - p0;
p0 = performance.now();
const first = computeTargets({ universe: parsed, now, settings, selection: selectMarkets(parsed, now, sel), circle });
const firstMs = performance.now() - p0;
p0 = performance.now();
const next = computeTargets({
  universe: parsed,
  now: now + 180_000,
  settings,
  previous: first,
  selection: selectMarkets(parsed, now + 180_000, sel),
  circle,
});
const rotMs = performance.now() - p0;
row(`parse a ${parsed.length.toLocaleString("en-US")}-line universe`, `${parseMs.toFixed(0)} ms`, "< 2,000 ms");
row("rotation circle, once per universe load", `${circleMs.toFixed(0)} ms`, "< 1,000 ms");
row("selection + targets, first (5,000 of them)", `${firstMs.toFixed(0)} ms`, "< 500 ms");
row(`selection + targets, a rotation (${next.warm.length + next.hot.length})`, `${rotMs.toFixed(0)} ms`, "< 500 ms");
row("machine load average (1 min), for reading the above", os.loadavg()[0].toFixed(1), "figures scale with it");
