/** Scan, then collect on a SimClock stepped 50 ms at a time (the scale and churn tests), keeping each book's first fresh row. */
import { consola } from "consola";
import type { Clock, SimClock } from "../../src/clock.ts";
import type { ClosableSink } from "../../src/collector/collector.ts";
import { runCollect } from "../../src/collector/run.ts";
import type { Config } from "../../src/config.ts";
import { scanAll } from "../../src/scanner/scanner.ts";
import type { SnapshotInput, SnapshotSink } from "../../src/schema.ts";
import { settled, stepUntil } from "./sim-driver.ts";

export interface FirstRow {
  ts: number;
  bidPx: number[];
  bidSz: number[];
  askPx: number[];
  askSz: number[];
}

/** Keeps the first fresh snapshot of each book (by `key`) and counts every row (thousands of books: no row list). */
export class FirstRowSink implements SnapshotSink {
  readonly first = new Map<string, FirstRow>();
  rows = 0;
  constructor(private readonly key: (s: SnapshotInput) => string = (s) => `${s.marketId}/${s.outcomeId}`) {}
  append(s: SnapshotInput): void {
    this.rows++;
    const k = this.key(s);
    if (s.staleReason !== null || this.first.has(k)) return;
    this.first.set(k, {
      ts: s.tsRecv,
      bidPx: Array.from(s.bids.px.subarray(0, s.bids.len)),
      bidSz: Array.from(s.bids.sz.subarray(0, s.bids.len)),
      askPx: Array.from(s.asks.px.subarray(0, s.asks.len)),
      askSz: Array.from(s.asks.sz.subarray(0, s.asks.len)),
    });
  }
  async close(): Promise<void> {}
}

/**
 * Scans, then collects for `durationMs` simulated, advancing `sim` 50 ms (the collect: `stepMs`) per real millisecond so loopback
 * I/O keeps up; logs silenced meanwhile. Returns the simulated time the collect started; `clock` is what the run gets.
 */
export async function scanThenCollect(
  config: Config,
  o: {
    sim: SimClock;
    clock?: Clock;
    env: Record<string, string>;
    durationMs: number;
    sink: ClosableSink;
    /** Simulated ms per step of the collect (50; the scan's are 50). */
    stepMs?: number;
  },
): Promise<{ start: number }> {
  const clock = o.clock ?? o.sim;
  consola.level = 0;
  try {
    const scan = settled(scanAll(config, { clock, env: o.env }));
    await stepUntil(o.sim, () => scan.done, "scan", 50, 120_000);
    if (scan.error !== undefined) throw scan.error;
    const start = o.sim.now();
    const run = settled(runCollect(config, { clock, durationMs: o.durationMs, env: o.env, sink: o.sink }));
    await stepUntil(o.sim, () => run.done, `${o.durationMs / 1000} simulated seconds`, o.stepMs, 120_000);
    if (run.error !== undefined) throw run.error;
    return { start };
  } finally {
    consola.level = 3;
  }
}
