/**
 * 5,000 Kalshi tickers against the loopback venue on a simulated clock: the first fill is one `subscribe` of all of
 * them, every book's snapshot arrives, and the snapshot rows equal the server's books (computed here, independently).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config.ts";
import { KALSHI_TEST_ENV, kalshiLoopback } from "../helpers/kalshi-loopback.ts";
import { FirstRowSink, scanThenCollect } from "../helpers/scan-collect.ts";

const env = KALSHI_TEST_ENV;
const N = 5000;

// 1 in 50 listed markets is past its close time: 5,102 listed, 5,000 open.
const { clock, server } = kalshiLoopback(5102);
const dataDir = await mkdtemp(join(tmpdir(), "kalshi-scale-"));
afterAll(async () => {
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
  const sink = new FirstRowSink();
  const { start } = await scanThenCollect(config, { sim: clock, env, durationMs: 30_000, sink });
  const subs = server.commands.filter((c) => c.at >= start && c.cmd === "subscribe");
  expect(subs.length).toBe(1);
  expect((subs[0].params.market_tickers as string[]).length).toBe(N);
  expect(server.commands.filter((c) => c.at >= start && c.cmd === "update_subscription")).toEqual([]);
  expect(sink.first.size).toBe(2 * N);
  for (const t of server.openTickers)
    for (const o of ["yes", "no"] as const) {
      const r = sink.first.get(`${t}/${o}`)!;
      expect([r.bidPx, r.bidSz, r.askPx, r.askSz]).toEqual(expectedBook(t, o));
    }
}, 180_000);
