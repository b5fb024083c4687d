/**
 * 5,000 markets on Polymarket (10,000 tokens) against the loopback venue on a simulated clock: the first fill
 * spreads over sockets of at most 500 tokens (the server closes one that goes past), opened
 * connection_open_pause_ms apart, every token's first book arrives, and the snapshot rows equal the server's books.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJournal } from "../../src/collector/journal.ts";
import { journalPath } from "../../src/layout.ts";
import { type Clock, SimClock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import { PolymarketServer } from "../helpers/polymarket-server.ts";
import { FirstRowSink, scanThenCollect } from "../helpers/scan-collect.ts";

const T0 = Date.UTC(2026, 2, 1, 12);
const MARKETS = 5556; // every 10th is not accepting orders (server fixture): 5,000 active, 10,000 tokens
const PAUSE_MS = 1000;
const PER_SOCKET = 500;

let dir = "";
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("5,000 markets / 10,000 tokens: sockets ≤ 500 tokens, paced openings, every first book, rows = server books", async () => {
  const sim = new SimClock(T0);
  const clock: Clock = {
    now: () => sim.now(),
    sleep: (ms, sig) => sim.sleep(ms, sig),
    setTimer: (ms, fn) => sim.setTimer(ms, fn),
  };
  const server = new PolymarketServer({ markets: MARKETS, now: () => sim.now(), maxAssetsPerConnection: PER_SOCKET });
  dir = await mkdtemp(join(tmpdir(), "pm-scale-"));
  const config = parseConfig({
    data_dir: dir,
    top_k: 50,
    metrics: { log_interval_secs: 3600 },
    collector: { max_subs_per_venue: 5000, hot_count: 40, silence_timeout_secs: 3600 },
    venues: {
      mock: { enabled: false },
      polymarket: {
        ...server.venueOptions(),
        max_assets_per_connection: PER_SOCKET,
        connection_open_pause_ms: PAUSE_MS,
        rest_requests_per_10s: 1000,
      },
    },
  });
  const sink = new FirstRowSink((s) => s.outcomeId);
  let start = 0;
  try {
    ({ start } = await scanThenCollect(config, { sim, clock, env: {}, durationMs: 45_000, sink }));
  } finally {
    server.stop();
  }

  // Sockets: no subscription past 500 tokens (the server counts and closes such a socket), at least 20 of them.
  expect(server.violations).toBe(0);
  const opens = server.upgradeAttempts.filter((t) => t >= start);
  expect(opens.length).toBeGreaterThanOrEqual(10_000 / PER_SOCKET);
  const perSocket = new Map<number, number>();
  for (const r of server.received) {
    const m = r.msg as { type?: string; assets_ids?: string[] };
    if (m.type === "market") perSocket.set(r.conn, (perSocket.get(r.conn) ?? 0) + (m.assets_ids?.length ?? 0));
  }
  expect(perSocket.size).toBeGreaterThanOrEqual(20);
  for (const n of perSocket.values()) expect(n).toBeLessThanOrEqual(PER_SOCKET);
  expect([...perSocket.values()].reduce((a, b) => a + b, 0)).toBe(10_000); // all in the initial messages
  // The whole set was on the wire within the openings' pacing plus a few seconds.
  const lastInitial = Math.max(
    ...server.received.filter((r) => (r.msg as { type?: string }).type === "market").map((r) => r.t),
  );
  expect(lastInitial - start).toBeLessThanOrEqual(PAUSE_MS * perSocket.size + 3000);
  // The journal has a subscribe for every target market at the start (reasons hot / warm: the first fill).
  const journal = (await readJournal(join(dir, journalPath("polymarket", start)))).filter(
    (e) => e.action === "subscribe",
  );
  const firstTs = Math.min(...journal.map((e) => e.ts));
  // Simulated time moves 50 ms a step while collect reads the 5,000-market universe: how many steps that takes
  // depends on the machine's load (1000 ms was reached at load 15), so the bound is well inside the first 10 s (the first rotation is due at 180 s), not a speed.
  expect(firstTs - start).toBeLessThan(10_000);
  const atStart = new Set(journal.filter((e) => e.ts === firstTs).map((e) => e.market_id));
  expect(atStart.size).toBe(5000);
  expect(new Set(journal.map((e) => e.reason))).toEqual(new Set(["hot", "warm"]));
  // Openings paced: consecutive upgrades at least the pause apart (less one 50 ms step of delivery skew).
  for (let i = 1; i < opens.length; i++) expect(opens[i] - opens[i - 1]).toBeGreaterThanOrEqual(PAUSE_MS - 50);

  // Every token's first book arrived, within the openings' pacing plus a few seconds, and equals the server's.
  const tokens = server.universe
    .filter((m) => m.acceptingOrders)
    .flatMap((m) => JSON.parse(m.clobTokenIds) as string[]);
  expect(tokens.length).toBe(10_000);
  expect(sink.first.size).toBe(10_000);
  const fullBy = start + PAUSE_MS * perSocket.size + 5000;
  let compared = 0;
  for (const t of tokens) {
    const row = sink.first.get(t);
    expect(row).toBeDefined();
    expect(row!.ts).toBeLessThanOrEqual(fullBy + 10_000); // the first WARM snapshot after the book (10 s cadence)
    const want = server.expectedBook(t);
    expect([row!.bidPx, row!.bidSz, row!.askPx, row!.askSz]).toEqual([want.bidPx, want.bidSz, want.askPx, want.askSz]);
    compared++;
  }
  expect(compared).toBe(10_000);
  // Nothing went to REST for books the sockets delivered (the sockets' initial dumps carried them all).
  expect(server.bookRequests.length).toBe(0);
}, 180_000);
