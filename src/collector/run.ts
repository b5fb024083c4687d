/**
 * `surveillance collect` as a function: the clock, the writer, one VenueCollector per selected venue (universe,
 * scores, scheduler targets), newer inputs taken while it runs (ScheduleInputs); until the end time or the abort
 * signal, then a clean stop (every bucket finalized).
 */
import { clockForSpeed, RealClock, SimClock, type Clock } from "../clock.ts";
import type { Config, MockOptions } from "../config.ts";
import { acquireDataDirLock } from "../data-dir-lock.ts";
import { UserError } from "../errors.ts";
import { logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { startMetricsServer } from "../metrics-server.ts";
import { confirmedPairPins } from "../pairs/run.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { SELECTION_METRICS } from "../scheduler/metric-names.ts";
import { describeSelection, type Selection } from "../scheduler/selection.ts";
import { WRITER_METRICS } from "../storage/metric-names.ts";
import { SnapshotWriter } from "../storage/writer.ts";
import type { FreeSpaceProbe } from "../upload/disk-guard.ts";
import { type DataOffBox, prepareBucket, startDataOffBox } from "../upload/start.ts";
import { createAdapter } from "../venue/index.ts";
import { Collector, type ClosableSink, VenueCollector } from "./collector.ts";
import { ScheduleInputs } from "./inputs.ts";
import { declareZeroMetrics } from "./metric-zeros.ts";
import { ChurnLimiter } from "./subscriptions.ts";

export interface CollectOptions {
  /** Stop after this much clock time (simulated time on a SimClock). */
  durationMs?: number;
  /** Stop at this epoch ms (clock time). */
  untilTs?: number;
  /** Stops the run early (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Injected clock (tests); default from the venues (see chooseClock). */
  clock?: Clock;
  metrics?: Metrics;
  env?: Record<string, string | undefined>;
  /** false when the caller already holds the data dir's lock (demo); default: taken here, before the writer opens. */
  lock?: boolean;
  /** Free-space probe of the disk guard (tests); default statfs. */
  diskProbe?: FreeSpaceProbe;
  /** Injected sink (benchmarks); default the Parquet writer. */
  sink?: ClosableSink & { start?(): void };
}

export interface CollectSummary {
  venue: string;
  snapshots: number;
  updates: number;
  subscribes: number;
  unsubscribes: number;
  reconnects: number;
  rejected: number;
  /** Whether the venue reached "collecting" (its first book arrived); else `reason` says why not. */
  collecting: boolean;
  reason?: string;
  filesFinalized: number;
  /** Share of snapshots taken with status "stale" (0 when none). */
  staleShare: number;
  /** Connection downtime (ms, summed over the venue's connections). */
  downtimeMs: number;
  connectAttempts: number;
  connectFailures: number;
}

/**
 * Mock venues only: clock_speed 0 → a SimClock driven as fast as possible, N → N× real time (the first mock's
 * speed). Any real venue → real time for everything (one writer, one clock).
 */
export function chooseClock(config: Config): Clock {
  const venues = config.selected;
  if (venues.length > 0 && venues.every((v) => v.kind === "mock"))
    return clockForSpeed((venues[0].options as MockOptions).clock_speed);
  return new RealClock();
}

/** Parses "90s", "10m", "2h", "1h30m", "1d" or plain seconds to ms. */
export function parseDuration(s: string): number {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * unit[m[2]];
    end = re.lastIndex;
  }
  if (end === 0 || end !== t.length || !(total > 0))
    throw new UserError(`--duration ${s}: not a duration (examples: 90s, 10m, 2h, 1h30m)`, 2);
  return total;
}

/** Parses an ISO 8601 UTC time ("2026-01-01T12:00:00Z"; no zone = UTC). */
export function parseUntil(s: string): number {
  const t = s.trim();
  const ts = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(t) || !t.includes("T") ? t : `${t}Z`);
  if (!Number.isFinite(ts))
    throw new UserError(`--until ${s}: not an ISO 8601 time (example: 2026-01-01T12:00:00Z)`, 2);
  return ts;
}

export async function runCollect(config: Config, opts: CollectOptions = {}): Promise<CollectSummary[]> {
  const log = logger("collect");
  if (config.selected.length === 0)
    throw new UserError(
      `no venue is enabled in ${config.source}`,
      2,
      "Enable a venue in the config or pass --venue NAME.",
    );
  const clock = opts.clock ?? chooseClock(config);
  const metrics = opts.metrics ?? new Metrics();
  const start = clock.now();
  let end = Infinity;
  if (opts.durationMs !== undefined) end = start + opts.durationMs;
  if (opts.untilTs !== undefined) end = Math.min(end, opts.untilTs);
  if (end <= start)
    throw new UserError(
      `--until ${new Date(end).toISOString()} is not after the start ${new Date(start).toISOString()}`,
      2,
    );

  // Everything that can fail on the user's side is checked before anything is opened.
  const bucket = prepareBucket(config, opts.env ?? {}); // missing credentials: exit 2, naming the variables
  const inputs = new Map<string, ScheduleInputs>();
  for (const v of config.selected)
    inputs.set(
      v.name,
      await ScheduleInputs.load({ dataDir: config.data_dir, venue: v.name, clock, metrics, log }, start),
    );

  // Confirmed cross-venue pairs recorded together: both markets pinned (HOT) on their venues; a bad mapping is refused.
  const pairPins = config.pairs.record ? await confirmedPairPins(config, log) : new Map<string, string[]>();

  // One writer per data dir, taken before the writer's recovery touches staging (a second collect is refused here).
  const lock =
    opts.lock === false
      ? undefined
      : acquireDataDirLock(config.data_dir, {
          now: new RealClock().now(),
          command: "collect",
          onTakeover: (m) => log.warn(m),
        });

  // A stop request or an uncaught error (a throw in a timer or listener would otherwise end the process with the
  // open buckets unfinalized) both take the normal stop path.
  const stopper = new AbortController();
  const signal = stopper.signal;
  const onStop = () => stopper.abort();
  opts.signal?.addEventListener("abort", onStop, { once: true });
  if (opts.signal?.aborted) onStop();
  let fatal: { e: unknown } | undefined;
  const uninstall = stopOnUncaught((e) => {
    fatal ??= { e };
    stopper.abort();
  });
  try {
    const summary = await collectUntilStopped();
    if (fatal) throw fatal.e; // finalized; the run still failed
    return summary;
  } finally {
    uninstall();
    opts.signal?.removeEventListener("abort", onStop);
    lock?.release();
  }

  async function collectUntilStopped(): Promise<CollectSummary[]> {
    const sink =
      opts.sink ??
      (await SnapshotWriter.open({
        dataDir: config.data_dir,
        settings: config.writer,
        topK: config.top_k,
        clock,
        metrics,
      }));
    declareZeroMetrics(
      metrics,
      config.selected.map((v) => v.name),
    );
    const server = startMetricsServer(config.metrics, metrics, () =>
      venues.map((v) => {
        const refusedBy = collector?.refused.find((r) => r.venue === v.venue)?.error;
        const reason =
          refusedBy?.message ?? v.notCollectingReason() ?? (v.connectedCount().up === 0 ? "disconnected" : undefined);
        return { venue: v.venue, collecting: reason === undefined, reason };
      }),
    );
    if (server) log.info(`metrics at http://${server.address}/metrics`);
    const venues: VenueCollector[] = [];
    let collector: Collector | undefined;
    let offBox: DataOffBox | undefined;
    try {
      for (const v of config.selected) {
        const input = inputs.get(v.name)!;
        const venueLog = logger(v.name);
        // At start and at each universe reload: the counts clause by clause, the missing pins, the gauges.
        const onSelection = (sel: Selection) => {
          const L = { venue: v.name };
          metrics.set(SELECTION_METRICS.eligible, L, sel.eligibleCount, "markets the filter leaves eligible");
          metrics.set(SELECTION_METRICS.pinned, L, sel.pinned.length, "pinned markets being recorded");
          metrics.set(SELECTION_METRICS.pinsMissing, L, sel.missing.length, "pins not in the universe or closed");
          const line = `markets: ${describeSelection(sel)}`;
          if (sel.missing.length > 0 || sel.eligible.length === 0) venueLog.warn(line);
          else venueLog.info(line);
        };
        const scheduler = new Scheduler(v.collect, v.selection, onSelection);
        const paired = pairPins.get(v.name);
        if (paired && paired.length > 0) scheduler.setExtraPins("pairs", paired);
        // One churn budget per venue, shared by the collector's changes and the adapter's own commands (probes).
        const churn = new ChurnLimiter(v.collect.subscription_churn_limit_per_minute);
        const adapter = await createAdapter(v, { clock, env: opts.env ?? {}, churn });
        log.info(`${v.name}: universe, ${input.describeUniverse()}; ${input.describeStats()}`);
        venues.push(
          new VenueCollector({
            venue: v.name,
            settings: v.collect,
            adapter,
            sink,
            clock,
            metrics,
            dataDir: config.data_dir,
            topK: config.top_k,
            flushSecs: config.writer.flush_secs,
            logIntervalSecs: config.metrics.log_interval_secs,
            // Read at each rotation: a newer universe or score set taken meanwhile goes through the normal diff.
            targets: (now) => scheduler.targets(now, input.universe, input.scores),
            churn,
          }),
        );
      }
      collector = new Collector(venues, sink);
      metrics.onRender(() => venues.forEach((v) => v.publish(clock.now()))); // /metrics is current, not as of the last status line
      sink.start?.();
      // Off the hot path: the uploader reads final files on its own timers; nothing in collection awaits it.
      offBox = await startDataOffBox(config, bucket, clock, metrics, opts.diskProbe);
      if (await startUnlessStopped(collector, signal)) {
        for (const v of config.selected) inputs.get(v.name)!.start(v.collect.rotation_period_secs * 1000);
        const refused = new Set(collector.refused.map((r) => r.venue));
        log.info(
          `collecting ${config.selected
            .map((v) => v.name)
            .filter((n) => !refused.has(n))
            .join(
              ", ",
            )}${end < Infinity ? ` until ${new Date(end).toISOString()}` : " until stopped (Ctrl-C)"}${clock instanceof SimClock ? " (simulated time)" : ""}`,
        );
        await waitUntil(clock, end, signal);
      }
      if (signal.aborted) log.info("stopping: finalizing the open buckets…");
    } finally {
      // the collector first: finalizing must not wait for an input file being read
      await (collector ?? new Collector(venues, sink)).stop();
      for (const input of inputs.values()) await input.stop();
      // after the writer: its last files are final now, and the drain copies them
      await offBox?.stop();
      await server?.stop();
    }
    const now = clock.now();
    return venues.map((v) => {
      const refusedBy = collector?.refused.find((r) => r.venue === v.venue)?.error;
      const reason = refusedBy ? refusedBy.message : v.notCollectingReason();
      return {
        venue: v.venue,
        snapshots: v.snapshotter.rows,
        updates: v.counters.updates,
        subscribes: v.counters.subscribes,
        unsubscribes: v.counters.unsubscribes,
        reconnects: v.counters.reconnects,
        rejected: v.rejectedTotal(),
        collecting: reason === undefined,
        ...(reason !== undefined ? { reason } : {}),
        filesFinalized: metrics.get(WRITER_METRICS.filesFinalized, { venue: v.venue }),
        staleShare: v.snapshotter.rows > 0 ? v.snapshotter.staleRows / v.snapshotter.rows : 0,
        downtimeMs: v.downtimeMs(now),
        connectAttempts: v.counters.connectAttempts,
        connectFailures: v.counters.connectFailures,
      };
    });
  }
}

/**
 * Routes uncaught exceptions and unhandled rejections to `stop` (after logging them) instead of letting the runtime
 * exit with the open buckets unfinalized. Returns the function that removes the handlers.
 */
export function stopOnUncaught(stop: (e: unknown) => void): () => void {
  const onError = (e: unknown) => {
    logger("collect").error(`uncaught error, stopping and finalizing: ${(e as Error)?.stack ?? String(e)}`);
    stop(e);
  };
  process.on("uncaughtException", onError);
  process.on("unhandledRejection", onError);
  return () => {
    process.off("uncaughtException", onError);
    process.off("unhandledRejection", onError);
  };
}

/**
 * Starts the collector unless the stop signal comes first (a venue's connect can stall for a while, and Ctrl-C must
 * still stop cleanly): true when started, false when stopped during start. The caller's stop() then closes the
 * venues, which ends the pending start; its outcome no longer matters.
 */
export async function startUnlessStopped(collector: Collector, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  const starting = collector.start();
  if (!signal) {
    await starting;
    return true;
  }
  starting.catch(() => {}); // abandoned when the stop wins the race
  let onAbort = () => {};
  const stopped = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([starting.then(() => true as const), stopped]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Real/scaled clocks: sleep until `end` or the abort. SimClock: drive its timers as fast as possible, in 1 s steps so an abort is seen. */
async function waitUntil(clock: Clock, end: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  if (clock instanceof SimClock) {
    while (!signal?.aborted && clock.now() < end) await clock.runUntil(Math.min(end, clock.now() + 1000));
    return;
  }
  const aborted = new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }));
  if (end === Infinity) return aborted;
  await Promise.race([clock.sleep(end - clock.now(), signal).catch(() => {}), aborted]);
}
