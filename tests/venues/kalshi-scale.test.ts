/**
 * 5,000 Kalshi tickers against the loopback venue on a simulated clock: the first fill is one `subscribe` of all of
 * them, every book's snapshot arrives, and the snapshot rows equal the server's books (computed here, independently).
 */
import { afterAll, expect, test } from "bun:test";
import { consola } from "consola";
import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimClock } from "../../src/clock.ts";
import { runCollect } from "../../src/collector/run.ts";
import { parseConfig } from "../../src/config.ts";
import { scanAll } from "../../src/scanner/scanner.ts";
import type { SnapshotInput, SnapshotSink } from "../../src/schema.ts";
import { startKalshiServer } from "../helpers/kalshi-server.ts";

const fixtures = join(import.meta.dir, "..", "fixtures", "kalshi");
const env = { KALSHI_API_KEY_ID: "test-key-id", KALSHI_PRIVATE_KEY_PATH: join(fixtures, "test-private-key.pem") };
const T0 = Date.UTC(2026, 10, 25, 17, 0, 0);
const N = 5000;

class FirstRowSink implements SnapshotSink {
  readonly first = new Map<string, number[][]>();
  append(s: SnapshotInput): void {
    const k = `${s.marketId}/${s.outcomeId}`;
    if (s.staleReason !== null || this.first.has(k)) return;
    this.first.set(k, [
      Array.from(s.bids.px.subarray(0, s.bids.len)),
      Array.from(s.bids.sz.subarray(0, s.bids.len)),
      Array.from(s.asks.px.subarray(0, s.asks.len)),
      Array.from(s.asks.sz.subarray(0, s.asks.len)),
    ]);
  }
  async close(): Promise<void> {}
}

const clock = new SimClock(T0);
// 1 in 50 listed markets is past its close time: 5,102 listed, 5,000 open.
const server = startKalshiServer({
  clock,
  publicKey: createPublicKey(readFileSync(join(fixtures, "test-public-key.pem"), "utf8")),
  keyId: "test-key-id",
  markets: 5102,
});
const dataDir = await mkdtemp(join(tmpdir(), "kalshi-scale-"));
afterAll(async () => {
  server.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Server cent books → rows: bids descending, asks = the other side's bids at 1 − p, ascending. */
function expectedBook(ticker: string, outcome: "yes" | "no"): number[][] {
  const b = server.books.get(ticker)!;
  const own = [...(outcome === "yes" ? b.yes : b.no)].sort((x, y) => y[0] - x[0]);
  const other = [...(outcome === "yes" ? b.no : b.yes)].sort((x, y) => y[0] - x[0]);
  return [
    own.map(([p]) => p / 100),
    own.map(([, z]) => z),
    other.map(([p]) => (100 - p) / 100),
    other.map(([, z]) => z),
  ];
}

test("5,000 tickers: one subscribe carries the first fill, every book arrives, rows = server books", async () => {
  expect(server.openTickers.length).toBe(N);
  const config = parseConfig({
    data_dir: dataDir,
    top_k: 50,
    metrics: { log_interval_secs: 3600 },
    collector: { max_subs_per_venue: N, hot_count: 40, silence_timeout_secs: 3600 },
    venues: { kalshi: { rest_url: server.restUrl, ws_url: server.wsUrl, rest_requests_per_sec: 20 } },
  });
  const settled = (p: Promise<unknown>) => {
    const st = { done: false, error: undefined as unknown };
    p.then(
      () => (st.done = true),
      (e) => Object.assign(st, { done: true, error: e }),
    );
    return st;
  };
  const stepUntil = async (pred: () => boolean, what: string) => {
    const deadline = performance.now() + 120_000;
    while (!pred()) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await clock.advance(50);
      await Bun.sleep(1);
    }
  };
  const sink = new FirstRowSink();
  consola.level = 0;
  let start = 0;
  try {
    const scan = settled(scanAll(config, { clock, env }));
    await stepUntil(() => scan.done, "scan");
    expect(scan.error).toBeUndefined();
    start = clock.now();
    const run = settled(runCollect(config, { clock, durationMs: 30_000, env, sink }));
    await stepUntil(() => run.done, "30 simulated seconds");
    expect(run.error).toBeUndefined();
  } finally {
    consola.level = 3;
  }
  const subs = server.commands.filter((c) => c.at >= start && c.cmd === "subscribe");
  expect(subs.length).toBe(1);
  expect((subs[0].params.market_tickers as string[]).length).toBe(N);
  expect(server.commands.filter((c) => c.at >= start && c.cmd === "update_subscription")).toEqual([]);
  expect(sink.first.size).toBe(2 * N);
  for (const t of server.openTickers)
    for (const o of ["yes", "no"] as const) expect(sink.first.get(`${t}/${o}`)).toEqual(expectedBook(t, o));
}, 180_000);
