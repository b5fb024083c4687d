/**
 * SIGKILL scenario: the collector runs as a child process and is killed at seeded random moments (during start-up,
 * recovery, flushes, compaction, whatever it is doing), then restarted; a last run is stopped gracefully. Every row a
 * child reported durable must then be in exactly one final file, and every final file must read in Polars and DuckDB.
 */
import { createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RealClock } from "../../src/clock.ts";
import { parquetFileInfo } from "../../src/parquet/read.ts";
import { DATASET_DIR } from "../../src/layout.ts";
import { mulberry32 } from "../../src/venue/mock.ts";
import type { ChildParams } from "./child.ts";
import { spawnLineChild } from "../line-child.ts";
import { startKalshiServer } from "../../tests/helpers/kalshi-server.ts";
import { conditionId, PolymarketServer, tokenIds } from "../../tests/helpers/polymarket-server.ts";
import { checkDataset, FinalFileWatch } from "./dataset-check.ts";

export interface KillOptions {
  kills: number;
  seed: number;
  /** Range of a child's life before its SIGKILL, real ms after it is ready (one kill in five strikes during start-up). */
  minLifeMs?: number;
  maxLifeMs?: number;
  speed?: number;
  keepDir?: boolean;
  log?: (m: string) => void;
  /** "polymarket" / "kalshi": the child collects from a loopback server of that venue over real sockets. */
  venue?: "mock" | "polymarket" | "kalshi";
}

export interface KillResult {
  venue: string;
  kills: number;
  /** Kills that landed before the child said READY (start-up or recovery). */
  killsBeforeReady: number;
  restarts: number;
  produced: number;
  durable: number;
  found: number;
  duplicates: number;
  lost: number;
  /** Markets whose found count is below what was reported durable. */
  lostMarkets: string[];
  files: number;
  unreadable: number;
  /** Files a `*.parquet` glob saw that were not complete Parquet, checked after every kill. */
  partialVisible: number;
  strayFiles: number;
  finalsChanged: number;
  manifestOk: boolean;
  polarsRows: number;
  duckRows: number;
  /** Largest peak RSS (VmHWM) of a collector child, read just before its kill. */
  childPeakRssMb: number;
  dataDir: string;
}

/** Peak resident set of a live process (Linux), MB; 0 when unknown. */
function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

interface Session {
  ready: boolean;
  appended: number;
  done?: Record<string, number>;
}

function spawnChild(params: ChildParams, durable: Map<string, number>, session: Session) {
  const readyWaiters: (() => void)[] = [];
  const { proc, closed } = spawnLineChild(
    ["bun", join(import.meta.dir, "child.ts"), JSON.stringify(params)],
    (line) => {
      if (line === "READY") {
        session.ready = true;
        for (const w of readyWaiters.splice(0)) w();
      } else if (line.startsWith("D ")) {
        const sp = line.indexOf(" ", 2);
        session.appended = Math.max(session.appended, Number(line.slice(2, sp)));
        for (const [m, n] of Object.entries(JSON.parse(line.slice(sp + 1)) as Record<string, number>))
          durable.set(m, (durable.get(m) ?? 0) + n);
      } else if (line.startsWith("DONE ")) {
        session.done = JSON.parse(line.slice(5));
      }
    },
  );
  const ready = () => (session.ready ? Promise.resolve() : new Promise<void>((r) => readyWaiters.push(r)));
  return { proc, closed, ready };
}

export async function runKills(o: KillOptions): Promise<KillResult> {
  const log = o.log ?? (() => {});
  const rand = mulberry32(o.seed);
  const dataDir = mkdtempSync(join(tmpdir(), "chaos-kill-"));
  const params: ChildParams = {
    dataDir,
    simStart: Date.UTC(2026, 0, 1, 0, 0, 0),
    realAnchor: Date.now(),
    speed: o.speed ?? 30,
    seed: o.seed,
    mock: { universe_size: 300, updates_per_sec: 4, gap_rate: 0.002, malformed_rate: 0.001 },
    writer: { flush_secs: 2, flush_rows: 3000 },
    hot: 20,
    warm: 60,
  };
  // A loopback venue lives in the harness across the child's restarts, streaming updates to whoever is connected.
  let stopServer = () => {};
  let feeder: ReturnType<typeof setInterval> | null = null;
  if (o.venue === "polymarket") {
    const server = new PolymarketServer({ markets: 100 });
    const targets = Array.from({ length: 40 }, (_, i) => ({
      market_id: conditionId(i + 1),
      outcome_ids: tokenIds(i + 1),
    }));
    params.remote = { kind: "polymarket", options: { ...server.venueOptions(), connection_open_pause_ms: 0 }, targets };
    feeder = setInterval(() => server.randomUpdates(40), 20);
    stopServer = () => server.stop();
  } else if (o.venue === "kalshi") {
    const dir = join(import.meta.dir, "..", "..", "tests", "fixtures", "kalshi");
    const publicKey = createPublicKey(readFileSync(join(dir, "test-public-key.pem"), "utf8"));
    // The child signs with its scaled (simulated) clock, not real time: the login timestamp window does not apply.
    const server = startKalshiServer({
      clock: new RealClock(),
      publicKey,
      keyId: "k",
      markets: 100,
      timestampWindowMs: Number.POSITIVE_INFINITY,
    });
    const tickers = server.openTickers.slice(0, 40);
    params.remote = {
      kind: "kalshi",
      options: { rest_url: server.restUrl, ws_url: server.wsUrl, heartbeat_timeout_secs: 600 },
      env: { KALSHI_API_KEY_ID: "k", KALSHI_PRIVATE_KEY_PATH: join(dir, "test-private-key.pem") },
      targets: tickers.map((t) => ({ market_id: t, outcome_ids: ["yes", "no"] })),
    };
    const r = mulberry32(o.seed ^ 0x4b);
    feeder = setInterval(() => {
      for (let i = 0; i < 40; i++) {
        const t = tickers[Math.floor(r() * tickers.length)];
        const side = r() < 0.5 ? "yes" : "no";
        const book = server.books.get(t)![side];
        const best = Math.max(1, ...book.keys());
        server.delta(
          t,
          side,
          Math.max(1, best - Math.floor(r() * 3)),
          r() < 0.3 ? -1 : 1 + Math.floor(r() * 20),
          Date.now(),
        );
      }
    }, 20);
    stopServer = () => server.stop();
  }
  if (o.venue && o.venue !== "mock") {
    params.hot = 10;
    params.warm = 30;
  }
  const durable = new Map<string, number>();
  const watch = new FinalFileWatch();
  let produced = 0;
  let killsBeforeReady = 0;
  let partialVisible = 0;
  let childPeak = 0;
  const minLife = o.minLifeMs ?? 100;
  const maxLife = o.maxLifeMs ?? 3000;
  for (let k = 0; k < o.kills; k++) {
    const session: Session = { ready: false, appended: 0 };
    const c = spawnChild(params, durable, session);
    // When to strike (fault timing, not a wait for a result): one kill in five during start-up and recovery,
    // the others at a random moment of collection (flushes, compaction, finalization…).
    const early = rand() < 0.2;
    const life = minLife + rand() * (maxLife - minLife);
    if (early) await Bun.sleep(rand() * 1500);
    else await Promise.race([c.ready().then(() => Bun.sleep(life)), c.proc.exited]);
    if (!session.ready) killsBeforeReady++;
    childPeak = Math.max(childPeak, peakRssMb(c.proc.pid));
    c.proc.kill("SIGKILL");
    await c.closed;
    produced += session.appended;
    // Whatever a dataset glob sees right after a kill must be complete Parquet.
    for (const f of watch.scan(dataDir)) {
      try {
        await parquetFileInfo(join(dataDir, DATASET_DIR, f));
      } catch {
        partialVisible++;
      }
    }
    log(
      `kill ${k + 1}/${o.kills} ${early ? "during start-up" : `${life.toFixed(0)} ms after ready`}${session.ready ? "" : " (before ready)"}; durable rows so far ${sum(durable)}`,
    );
  }
  // The last run recovers, collects a little, and stops cleanly (finalizing the open buckets).
  const session: Session = { ready: false, appended: 0 };
  const c = spawnChild(params, durable, session);
  await c.ready();
  await Bun.sleep(500);
  childPeak = Math.max(childPeak, peakRssMb(c.proc.pid));
  c.proc.kill("SIGTERM");
  const code = await c.closed;
  if (feeder) clearInterval(feeder);
  stopServer();
  if (code !== 0 || !session.done) throw new Error(`the final collector run did not stop cleanly (exit ${code})`);
  produced += session.done.appended;
  watch.scan(dataDir);

  const ds = await checkDataset(dataDir);
  let lost = 0;
  const lostMarkets: string[] = [];
  for (const [m, n] of durable) {
    const found = ds.rowsByMarket.get(m) ?? 0;
    if (found < n) {
      lost += n - found;
      lostMarkets.push(m);
    }
  }
  if (!o.keepDir && lost === 0 && ds.duplicates === 0) rmSync(dataDir, { recursive: true, force: true });
  return {
    venue: o.venue ?? "mock",
    kills: o.kills,
    killsBeforeReady,
    restarts: o.kills,
    produced,
    durable: sum(durable),
    found: ds.rows,
    duplicates: ds.duplicates,
    lost,
    lostMarkets,
    files: ds.files,
    unreadable: ds.unreadable.length,
    partialVisible,
    strayFiles: ds.strayFiles.length,
    finalsChanged: watch.changed.length,
    manifestOk: ds.manifestOk,
    polarsRows: ds.polarsRows,
    duckRows: ds.duckRows,
    childPeakRssMb: childPeak,
    dataDir,
  };
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
