/**
 * Soak part 2: real time on the real protocols. A collector child (the chaos child: real adapters, real sockets,
 * real clock) records 1,000 markets from each loopback server while the harness drops sockets, goes half-open,
 * answers upgrades with 429, skips seqs, closes tickers and restarts the child twice. Afterwards every `ok` row of
 * the final files must equal a book the server had sent before the row's time, never older than the one before.
 */
import { createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { DATASET_DIR } from "../../src/layout.ts";
import { mulberry32 } from "../../src/venue/mock.ts";
import { type KalshiServer, startKalshiServer } from "../../tests/helpers/kalshi-server.ts";
import { conditionId, PolymarketServer, tokenIds } from "../../tests/helpers/polymarket-server.ts";
import type { ChildParams } from "../chaos/child.ts";
import { spawnLineChild } from "../line-child.ts";

const TOP_K = 10;
const MIN = 60_000;

/** What the server had sent for one outcome: the time each state went out and its top-k book as a key. */
interface History {
  t: number[];
  key: string[];
}

const keyOf = (bidPx: number[], bidSz: number[], askPx: number[], askSz: number[]) =>
  `${bidPx.slice(0, TOP_K).join(",")}|${bidSz.slice(0, TOP_K).join(",")}|${askPx.slice(0, TOP_K).join(",")}|${askSz.slice(0, TOP_K).join(",")}`;

class RecordingPolymarket extends PolymarketServer {
  readonly history = new Map<string, History>();
  private touched = new Set<string>();
  private recording = false;
  override book(asset: string) {
    const fresh = !this.books.has(asset);
    const b = super.book(asset);
    if (this.recording) return b;
    this.touched.add(asset);
    if (fresh) this.record(asset, -Infinity);
    return b;
  }
  record(asset: string, t: number): void {
    this.recording = true;
    const e = this.expectedBook(asset);
    this.recording = false;
    let h = this.history.get(asset);
    if (!h) this.history.set(asset, (h = { t: [], key: [] }));
    const key = keyOf(e.bidPx, e.bidSz, e.askPx, e.askSz);
    if (h.key[h.key.length - 1] !== key) {
      h.t.push(t);
      h.key.push(key);
    }
  }
  /** Random updates, each touched book's new state recorded at the time it was sent. */
  updates(n: number): number {
    this.touched.clear();
    const now = Date.now(); // before sending: a row of the collector can carry this same millisecond
    const sent = this.randomUpdates(n);
    for (const a of [...this.touched]) this.record(a, now);
    this.touched.clear();
    return sent;
  }
}

function kalshiKey(server: KalshiServer, ticker: string, outcome: "yes" | "no"): string {
  const b = server.books.get(ticker)!;
  const own = [...(outcome === "yes" ? b.yes : b.no)].sort((x, y) => y[0] - x[0]);
  const other = [...(outcome === "yes" ? b.no : b.yes)].sort((x, y) => y[0] - x[0]);
  return keyOf(
    own.map(([p]) => p / 100),
    own.map(([, z]) => z),
    other.map(([p]) => (100 - p) / 100),
    other.map(([, z]) => z),
  );
}

export interface RealtimeResult {
  venue: string;
  minutes: number;
  markets: number;
  restarts: number;
  faults: Record<string, number>;
  rows: number;
  okRows: number;
  mismatched: number;
  /** ok rows whose book was more than 2 s behind what the server had sent... */
  lagging: number;
  /** ...of which not while a half-open socket went undetected. */
  laggingUnexplained: number;
  unmatchedExamples: string[];
  upgradeAttempts: number;
  maxAttemptsPerMinute: number;
  attemptBound: number;
  statusCounts: Record<string, number>;
}

function maxPerWindow(ts: number[], windowMs: number): number {
  const s = [...ts].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i] - s[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

async function spawnChild(params: ChildParams) {
  const file = join(params.dataDir, "..", `${params.dataDir.split("/").pop()}.params.json`);
  await Bun.write(file, JSON.stringify(params));
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  let done = false;
  const { proc, closed } = spawnLineChild(["bun", join(import.meta.dir, "../chaos/child.ts"), `@${file}`], (line) => {
    if (line === "READY") ready();
    else if (line.startsWith("DONE ")) done = true;
  });
  await Promise.race([isReady, proc.exited]);
  return {
    proc,
    async stop(): Promise<void> {
      proc.kill("SIGTERM");
      const code = await closed;
      if (code !== 0 || !done) throw new Error(`collector child did not stop cleanly (exit ${code})`);
    },
  };
}

/** One venue's loopback server as the harness drives it. */
interface Rig {
  /** Sends the next level changes (every 50 ms). */
  tick: () => void;
  /** Applies one seeded fault (drop, half-open, 429 burst, seq gap, closed ticker), counted in `faults`. */
  fault: () => void;
  /** What the server had sent for the outcome key `market\0outcome`. */
  check: (outcomeKey: string) => History | undefined;
  /** The times of the upgrade requests the server saw. */
  attempts: () => number[];
  stop: () => void;
  /** Upgrade attempts allowed per minute within one collector process. */
  attemptBound: number;
}

interface RigContext {
  markets: number;
  ratePerSec: number;
  rand: () => number;
  faults: Record<string, number>;
  /** When a socket went half-open: rows behind the server until the silence is detected are expected. */
  halfOpenAt: number[];
  params: ChildParams;
}

function polymarketRig(c: RigContext): Rig {
  const { rand, faults } = c;
  const server = new RecordingPolymarket({ markets: c.markets + 20, depth: 8, maxAssetsPerConnection: 500 });
  const targets = Array.from({ length: c.markets }, (_, i) => ({
    market_id: conditionId(i + 1),
    outcome_ids: tokenIds(i + 1),
  }));
  c.params.remote = {
    kind: "polymarket",
    options: { ...server.venueOptions(), max_assets_per_connection: 500, connection_open_pause_ms: 200 },
    targets,
  };
  const perTick = Math.max(1, Math.round(c.ratePerSec / 20));
  const conns = Math.ceil((c.markets * 2) / 500);
  return {
    tick: () => void server.updates(perTick),
    fault: () => {
      const r = rand();
      const ids = [...server.conns.keys()];
      if (ids.length === 0) return;
      const id = ids[Math.floor(rand() * ids.length)];
      if (r < 0.4) {
        server.drop(id);
        faults.drops++;
      } else if (r < 0.7) {
        server.mute(id);
        faults.halfOpen++;
        c.halfOpenAt.push(Date.now());
      } else {
        (server.opts as { ws429Always: boolean }).ws429Always = true;
        setTimeout(() => ((server.opts as { ws429Always: boolean }).ws429Always = false), 5000);
        server.drop(id);
        faults.bursts429++;
      }
    },
    check: (k) => server.history.get(k.split("\u0000")[1]),
    attempts: () => server.upgradeAttempts,
    stop: () => server.stop(),
    attemptBound: conns * 10 + conns,
  };
}

async function kalshiRig(c: RigContext): Promise<Rig> {
  const { rand, faults } = c;
  const dir = join(import.meta.dir, "..", "..", "tests", "fixtures", "kalshi");
  const publicKey = createPublicKey(readFileSync(join(dir, "test-public-key.pem"), "utf8"));
  const { RealClock } = await import("../../src/clock.ts");
  const server = startKalshiServer({ clock: new RealClock(), publicKey, keyId: "k", markets: c.markets + 40 });
  const tickers = server.openTickers.slice(0, c.markets);
  c.params.remote = {
    kind: "kalshi",
    options: { rest_url: server.restUrl, ws_url: server.wsUrl, heartbeat_timeout_secs: 20 },
    env: { KALSHI_API_KEY_ID: "k", KALSHI_PRIVATE_KEY_PATH: join(dir, "test-private-key.pem") },
    targets: tickers.map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] })),
  };
  const history = new Map<string, History>();
  const rec = (t: string, when: number) => {
    for (const side of ["yes", "no"] as const) {
      const k = `${t}\u0000${side}`;
      let h = history.get(k);
      if (!h) history.set(k, (h = { t: [], key: [] }));
      const key = kalshiKey(server, t, side);
      if (h.key[h.key.length - 1] !== key) {
        h.t.push(when);
        h.key.push(key);
      }
    }
  };
  for (const t of tickers) rec(t, -Infinity);
  const perTick = Math.max(1, Math.round(c.ratePerSec / 20));
  let pings = 0;
  let muted = false;
  return {
    tick: () => {
      if (++pings % 100 === 0) server.ping();
      for (let i = 0; i < perTick; i++) {
        const t = tickers[Math.floor(rand() * tickers.length)];
        const side = rand() < 0.5 ? "yes" : "no";
        const book = server.books.get(t)![side];
        const best = Math.max(1, ...book.keys());
        const now = Date.now();
        server.delta(
          t,
          side,
          Math.max(1, best - Math.floor(rand() * 3)),
          rand() < 0.3 ? -1 : 1 + Math.floor(rand() * 20),
          now,
        );
        rec(t, now);
      }
    },
    fault: () => {
      const r = rand();
      if (muted) {
        server.mute(false);
        muted = false;
      } else if (r < 0.3) {
        server.drop();
        faults.drops++;
      } else if (r < 0.5) {
        server.mute(true);
        muted = true;
        faults.halfOpen++;
        c.halfOpenAt.push(Date.now());
      } else if (r < 0.65) {
        server.refuseUpgrades(429);
        setTimeout(() => server.refuseUpgrades(null), 5000);
        server.drop();
        faults.bursts429++;
      } else if (r < 0.9) {
        server.skipSeq();
        faults.seqGaps++;
      } else {
        server.setClosed(tickers[Math.floor(rand() * tickers.length)], true);
        faults.closedTickers++;
      }
    },
    check: (k) => history.get(k),
    attempts: () => server.upgradeAttempts,
    stop: () => server.stop(),
    attemptBound: 11,
  };
}

export async function runRealtime(
  venue: "polymarket" | "kalshi",
  o: { minutes: number; markets: number; seed: number; ratePerSec: number; log: (m: string) => void },
): Promise<RealtimeResult> {
  const rand = mulberry32(o.seed);
  const dataDir = mkdtempSync(join(tmpdir(), `soak-rt-${venue}-`));
  const faults: Record<string, number> = { drops: 0, halfOpen: 0, bursts429: 0, seqGaps: 0, closedTickers: 0 };
  /** When a socket went half-open: rows behind the server until the silence is detected are expected. */
  const halfOpenAt: number[] = [];
  /** [start, end) of each collector process: the reconnect ceiling holds within one process. */
  const sessions: [number, number][] = [];
  const params: ChildParams = {
    dataDir,
    simStart: Date.now(),
    realAnchor: Date.now(),
    speed: 1,
    seed: o.seed,
    writer: { flush_secs: 5, flush_rows: 50_000 },
    hot: Math.round(o.markets / 5),
    warm: o.markets - Math.round(o.markets / 5),
  };
  const ctx: RigContext = { markets: o.markets, ratePerSec: o.ratePerSec, rand, faults, halfOpenAt, params };
  const rig = venue === "polymarket" ? polymarketRig(ctx) : await kalshiRig(ctx);
  const durationMs = o.minutes * MIN;
  const started = Date.now();
  let sessionStart = Date.now();
  let child = await spawnChild(params);
  const feeder = setInterval(rig.tick, 50);
  const faultEvery = Math.max(10_000, durationMs / 20);
  const faulter = setInterval(rig.fault, faultEvery);
  let restarts = 0;
  for (const at of [durationMs / 3, (2 * durationMs) / 3]) {
    await Bun.sleep(Math.max(0, started + at - Date.now()));
    await child.stop();
    sessions.push([sessionStart, Date.now()]);
    sessionStart = Date.now();
    child = await spawnChild(params);
    restarts++;
    o.log(`${venue}: restart ${restarts} at ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  await Bun.sleep(Math.max(0, started + durationMs - Date.now()));
  clearInterval(faulter);
  await child.stop();
  sessions.push([sessionStart, Date.now()]);
  clearInterval(feeder);
  const upgrade = [...rig.attempts()];
  rig.stop();

  // The oracle: each ok row equals a state the server had sent before the row's time (and no older than the
  // state the previous row of that book matched).
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  const reader = await conn.runAndReadAll(
    `SELECT market_id, outcome_id, ts_recv, status, bid_px, bid_sz, ask_px, ask_sz FROM read_parquet('${join(dataDir, DATASET_DIR)}/**/*.parquet', hive_partitioning = false) ORDER BY market_id, outcome_id, ts_recv`,
  );
  const rows = reader.getRowObjectsJS() as {
    market_id: string;
    outcome_id: string;
    ts_recv: bigint;
    status: string;
    bid_px: number[];
    bid_sz: number[];
    ask_px: number[];
    ask_sz: number[];
  }[];
  conn.closeSync();
  const statusCounts: Record<string, number> = {};
  let okRows = 0;
  let mismatched = 0;
  let lagging = 0;
  const lagBoundMs = 2000;
  let laggingUnexplained = 0;
  // Silence detection (pong/heartbeat timeout) plus a reconnect and resync.
  const halfOpenWindowMs = (venue === "polymarket" ? 30_000 : 20_000) + 15_000;
  const examples: string[] = [];
  const lastIdx = new Map<string, number>();
  for (const r of rows) {
    statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
    if (r.status !== "ok") continue;
    okRows++;
    const k = `${r.market_id}\u0000${r.outcome_id}`;
    const h = rig.check(k);
    const key = keyOf(r.bid_px, r.bid_sz, r.ask_px, r.ask_sz);
    const ts = Number(r.ts_recv);
    const from = lastIdx.get(k) ?? 0;
    let found = -1;
    if (h)
      for (let i = h.t.length - 1; i >= from; i--)
        if (h.t[i] <= ts && h.key[i] === key) {
          found = i;
          break;
        }
    if (found < 0) {
      mismatched++;
      if (examples.length < 3) examples.push(`${r.market_id.slice(0, 12)}… ${r.outcome_id.slice(0, 8)} @${ts}`);
      continue;
    }
    lastIdx.set(k, found);
    if (found + 1 < h!.t.length && h!.t[found + 1] < ts - lagBoundMs) {
      lagging++;
      const since = h!.t[found + 1];
      if (!halfOpenAt.some((t) => since >= t - lagBoundMs && since <= t + halfOpenWindowMs)) laggingUnexplained++;
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  return {
    venue,
    minutes: o.minutes,
    markets: o.markets,
    restarts,
    faults,
    rows: rows.length,
    okRows,
    mismatched,
    lagging,
    laggingUnexplained,
    unmatchedExamples: examples,
    upgradeAttempts: upgrade.length,
    maxAttemptsPerMinute: Math.max(
      ...sessions.map(([a, b]) =>
        maxPerWindow(
          upgrade.filter((t) => t >= a && t < b),
          MIN,
        ),
      ),
    ),
    attemptBound: rig.attemptBound,
    statusCounts,
  };
}
