/**
 * Wall-clock steps under a running collector (SimClock.set: back and forward, several minutes): a finalized file
 * is never rewritten (late rows for a closed bucket go to a `_N` file), every row sits in the file of its own
 * bucket, and every row produced is found exactly once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { type Clock, SimClock, type Timer } from "../../src/clock.ts";
import { readManifest } from "../../src/storage/manifest.ts";
import { DATASET_DIR } from "../../src/layout.ts";
import { mulberry32 } from "../../src/venue/mock.ts";
import { checkDataset, DATASET_GLOB, FinalFileWatch } from "./dataset-check.ts";
import { buildRig } from "./rig.ts";

export interface ClockStepResult {
  steps: number;
  backSteps: number;
  forwardSteps: number;
  produced: number;
  found: number;
  duplicates: number;
  lost: number;
  files: number;
  /** `_N` files written for rows that arrived after their bucket's file was final. */
  lateFiles: number;
  /** Longest stretch of wall time after a step with no snapshot row at all (a stalled snapshotter). */
  maxSilentAfterStepMs: number;
  finalsChanged: number;
  /** Rows whose ts_recv is outside the bucket of the file that holds them. */
  misbucketed: number;
}

const MIN = 60_000;

/**
 * A wall clock that can jump while timers keep their relative delays, as on a real machine (Date.now() steps,
 * setTimeout does not). SimClock.set alone moves the timers' reference too, so a step back would only freeze time.
 */
export class SteppedClock implements Clock {
  offset = 0;
  constructor(readonly sim: SimClock) {}
  now(): number {
    return this.sim.now() + this.offset;
  }
  step(ms: number): void {
    this.offset += ms;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.sim.sleep(ms, signal);
  }
  setTimer(ms: number, fn: () => void | Promise<void>): Timer {
    return this.sim.setTimer(ms, fn);
  }
}

export async function runClockSteps(o: { seed: number; steps?: number }): Promise<ClockStepResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "chaos-clock-"));
  const sim = new SimClock(Date.UTC(2026, 0, 1, 0, 0, 0));
  const clock = new SteppedClock(sim);
  const rand = mulberry32(o.seed ^ 0x51ed);
  const produced = new Map<string, number>();
  let stepAt: number | null = null;
  // assigned below, read by the append hook only after that
  let res = {} as ClockStepResult;
  const rig = await buildRig({
    dataDir,
    clock,
    mock: { seed: o.seed },
    writer: { bucket_minutes: 1, flush_secs: 1 },
    onAppend: (m) => {
      produced.set(m, (produced.get(m) ?? 0) + 1);
      if (stepAt !== null) {
        res.maxSilentAfterStepMs = Math.max(res.maxSilentAfterStepMs, sim.now() - stepAt);
        stepAt = null;
      }
    },
  });
  const watch = new FinalFileWatch();
  res = {
    steps: o.steps ?? 8,
    backSteps: 0,
    forwardSteps: 0,
    produced: 0,
    found: 0,
    duplicates: 0,
    lost: 0,
    files: 0,
    lateFiles: 0,
    maxSilentAfterStepMs: 0,
    finalsChanged: 0,
    misbucketed: 0,
  };
  await sim.advance(3 * MIN);
  watch.scan(dataDir);
  for (let i = 0; i < res.steps; i++) {
    // Alternate back and forward, 1-6 minutes: back lands in buckets that are already final.
    const back = i % 2 === 0;
    const by = Math.floor((1 + rand() * 5) * MIN);
    clock.step(back ? -by : by);
    stepAt = sim.now();
    if (back) res.backSteps++;
    else res.forwardSteps++;
    await sim.advance(2 * MIN + Math.floor(rand() * MIN));
    watch.scan(dataDir);
  }
  await rig.collector.stop();
  watch.scan(dataDir);
  res.finalsChanged = watch.changed.length;
  const ds = await checkDataset(dataDir);
  res.found = ds.rows;
  res.duplicates = ds.duplicates;
  res.files = ds.files;
  for (const [m, n] of produced) {
    res.produced += n;
    res.lost += Math.max(0, n - (ds.rowsByMarket.get(m) ?? 0));
  }
  const manifest = (await readManifest(dataDir)).entries;
  res.lateFiles = manifest.filter((e) => e.part > 0).length;
  // Every row in its own bucket's file: compare ts_recv with the bucket the manifest records for that path.
  const inst = await DuckDBInstance.create(":memory:", { threads: "2" });
  const conn = await inst.connect();
  try {
    const rows = (
      await conn.runAndReadAll(
        `SELECT filename, min(ts_recv)::BIGINT AS lo, max(ts_recv)::BIGINT AS hi FROM read_parquet('${join(dataDir, DATASET_DIR, DATASET_GLOB)}', filename = true) GROUP BY 1`,
      )
    ).getRowObjects();
    const byPath = new Map(manifest.map((e) => [join(dataDir, e.path), e]));
    for (const r of rows) {
      const e = byPath.get(String(r.filename));
      const lo = Number(r.lo);
      const hi = Number(r.hi);
      if (!e || lo < e.bucket_start || hi >= e.bucket_start + e.bucket_minutes * MIN) {
        const n = (
          await conn.runAndReadAll(
            `SELECT count(*)::BIGINT AS n FROM read_parquet('${r.filename}') WHERE ts_recv < ${e?.bucket_start ?? 0} OR ts_recv >= ${(e?.bucket_start ?? 0) + (e?.bucket_minutes ?? 0) * MIN}`,
          )
        ).getRowObjects()[0];
        res.misbucketed += Number(n.n);
      }
    }
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
  if (res.lost === 0 && res.duplicates === 0 && res.misbucketed === 0)
    rmSync(dataDir, { recursive: true, force: true });
  return res;
}
