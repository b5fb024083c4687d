/**
 * The system under test, assembled the way `collect` assembles it: the mock venue → VenueCollector → SnapshotWriter,
 * on an injected clock (and optionally an injected file layer). Used by the kill child and the in-process scenarios.
 */
import type { Clock } from "../../src/clock.ts";
import { Collector, VenueCollector } from "../../src/collector/collector.ts";
import { parseConfig, type WriterSettings } from "../../src/config.ts";
import { Metrics } from "../../src/metrics.ts";
import type { StorageFs } from "../../src/storage/fs.ts";
import { SnapshotWriter } from "../../src/storage/writer.ts";
import { MockVenue } from "../../src/venue/mock.ts";
import { createAdapter } from "../../src/venue/index.ts";
import type { VenueAdapter } from "../../src/venue/types.ts";
import type { MarketRef } from "../../src/market.ts";

export interface RigOptions {
  dataDir: string;
  clock: Clock;
  writer?: Partial<WriterSettings>;
  /** Mock venue options (universe_size, seed, updates_per_sec, gap_rate, malformed_rate, drop_rate_per_hour…). */
  mock?: Record<string, number>;
  hot?: number;
  warm?: number;
  fs?: StorageFs;
  onDurable?: (venue: string, rowsByMarket: ReadonlyMap<string, number>) => void;
  /** Every row handed to the writer (rows produced), and whether the writer dropped it (buffer cap, closed). */
  onAppend?: (marketId: string, dropped: boolean, tsRecv: number) => void;
  topK?: number;
  /** Collect through a real adapter (Polymarket, Kalshi) pointed at a loopback server, instead of the mock. */
  remote?: RemoteVenue;
}

export interface RemoteVenue {
  kind: "polymarket" | "kalshi";
  /** Venue options (server URLs…). */
  options: Record<string, unknown>;
  /** Credentials environment (Kalshi). */
  env?: Record<string, string>;
  targets: MarketRef[];
}

export interface Rig {
  collector: Collector;
  vc: VenueCollector;
  writer: SnapshotWriter;
  venue: VenueAdapter;
  metrics: Metrics;
  targets: MarketRef[];
}

export const quietLog = { info() {}, warn() {}, error() {}, debug() {}, log() {} } as never;

export async function buildRig(o: RigOptions): Promise<Rig> {
  const hot = o.hot ?? 5;
  const warm = o.warm ?? 15;
  const cfg = parseConfig({
    writer: {
      bucket_minutes: 1,
      flush_rows: 2000,
      flush_secs: 1,
      max_buffer_rows: 1_000_000,
      retry_base_ms: 200,
      retry_cap_ms: 2000,
      ...o.writer,
    },
    collector: {
      max_subs_per_venue: hot + warm,
      hot_count: hot,
      subscription_churn_limit_per_minute: 1000,
      snapshot_interval_ms_hot: 1000,
      snapshot_interval_ms_warm: 5000,
      reconnect_base_ms: 500,
      reconnect_cap_ms: 10_000,
    },
    venues: o.remote
      ? { [o.remote.kind]: o.remote.options }
      : { mock: { universe_size: 200, seed: 7, updates_per_sec: 3, ...o.mock } },
  });
  const vcfg = cfg.selected[0];
  const metrics = new Metrics();
  const topK = o.topK ?? 10;
  const writer = await SnapshotWriter.open({
    dataDir: o.dataDir,
    settings: cfg.writer,
    topK,
    clock: o.clock,
    metrics,
    fs: o.fs,
    onDurable: o.onDurable,
  });
  const venue = o.remote
    ? await createAdapter(vcfg, { clock: o.clock, env: o.remote.env ?? {} })
    : new MockVenue(vcfg, { clock: o.clock, env: {} });
  // A fixed target set (no rotation): what must be subscribed is known exactly.
  const targets =
    o.remote?.targets.slice(0, hot + warm) ??
    (await venue.discover())
      .filter((m) => m.status === "active")
      .slice(0, hot + warm)
      .map((m) => ({ market_id: m.market_id, outcome_ids: m.outcome_ids }));
  const onAppend = o.onAppend;
  const sink = onAppend
    ? {
        append(s: Parameters<SnapshotWriter["append"]>[0]) {
          const d0 = writer.status().droppedRows;
          writer.append(s);
          onAppend(s.marketId, writer.status().droppedRows > d0, s.tsRecv);
        },
        close: () => writer.close(),
      }
    : writer;
  const vc = new VenueCollector({
    venue: vcfg.name,
    settings: vcfg.collect,
    adapter: venue,
    sink,
    clock: o.clock,
    metrics,
    dataDir: o.dataDir,
    topK,
    flushSecs: cfg.writer.flush_secs,
    logIntervalSecs: 3600,
    targets: () => ({ hot: targets.slice(0, hot), warm: targets.slice(hot) }),
    log: quietLog,
  });
  const collector = new Collector([vc], sink);
  writer.start();
  await collector.start();
  return { collector, vc, writer, venue, metrics, targets };
}
