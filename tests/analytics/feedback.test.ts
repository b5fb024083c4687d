/** The loop closed: mined stats feed the scheduler, HOT takes the best-scored markets, WARM keeps rotating. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mine } from "../../src/analytics/miner.ts";
import { COLLECT_DEFAULTS } from "../../src/config.ts";
import { computeTargets, type TargetSet } from "../../src/scheduler/scheduler.ts";
import { writeUniverse } from "../../src/scanner/scanner.ts";
import { normalizeSnapshot, type SnapshotRow } from "../../src/schema.ts";
import { readLatestStats } from "../../src/scheduler/stats-reader.ts";
import type { MarketInfo } from "../../src/market.ts";
import { writeRowsWithWriter } from "../helpers/write-rows.ts";

const T = Date.UTC(2026, 0, 1);
const M = 60_000;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Markets that are deep, tight and busy on purpose; every other market is thin, wide and quiet. */
const BEST = ["m07", "m13", "m21"];

describe("stats → scheduler feedback", () => {
  test("after mining, HOT is the best-scored markets and WARM still rotates through the rest", async () => {
    const dir = mkdtempSync(join(tmpdir(), "feedback-"));
    dirs.push(dir);
    const universe: MarketInfo[] = Array.from({ length: 30 }, (_, i) => ({
      venue: "mock",
      market_id: `m${String(i).padStart(2, "0")}`,
      outcome_ids: ["yes", "no"],
      title: `Market ${i}`,
      close_ts: T + 30 * 86_400_000,
      status: "active",
      tags: [],
    }));
    await writeUniverse(dir, "mock", universe, T);

    // Ten minutes of snapshots every 10 s for every book; the BEST markets change every snapshot with deep, tight books.
    const rows: SnapshotRow[] = [];
    for (const m of universe) {
      const best = BEST.includes(m.market_id);
      const n = Number(m.market_id.slice(1));
      for (const outcome of m.outcome_ids) {
        for (let k = 0; k < 60; k++) {
          const seq = best ? k + 1 : 1 + Math.floor(k / 20);
          const size = best ? 5000 + n : 10 + n;
          const spread = best ? 0.01 : 0.05 + n * 0.001;
          rows.push(
            normalizeSnapshot(
              {
                tsRecv: T + k * 10_000,
                venue: "mock",
                marketId: m.market_id,
                outcomeId: outcome,
                seq,
                bidPx: [0.4, 0.39],
                bidSz: [size, size],
                askPx: [0.4 + spread, 0.41 + spread],
                askSz: [size, size],
              },
              50,
            ),
          );
        }
      }
    }
    await writeRowsWithWriter(dir, rows);

    await mine({ dataDir: dir, from: T, to: T + 60 * M, top: 5 });
    const now = T + 3_600_000;
    const scores = await readLatestStats(dir, "mock", now);
    expect(scores?.size).toBe(30);
    const topByScore = [...scores!]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([id]) => id)
      .sort();
    expect(topByScore).toEqual(BEST);

    const settings = {
      ...COLLECT_DEFAULTS,
      hot_count: 3,
      max_subs_per_venue: 8,
      rotation_period_secs: 180,
      subscription_churn_limit_per_minute: 4,
    };
    let prev: TargetSet | undefined;
    const seenWarm = new Set<string>();
    for (let k = 0; k < 40; k++) {
      const t = computeTargets({ universe, scores, now: now + k * 180_000, settings, previous: prev });
      expect(t.hot.map((r) => r.market_id).sort()).toEqual(BEST);
      expect(t.warm.length).toBe(5);
      for (const w of t.warm) {
        expect(BEST).not.toContain(w.market_id);
        seenWarm.add(w.market_id);
      }
      prev = t;
    }
    expect(seenWarm.size).toBe(27);
  }, 60_000);
});
