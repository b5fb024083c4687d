/** Simulated days of snapshots for the mining tests: three books, prices on a 0.01 grid, seams across midnight. */
import { normalizeSnapshot, type SnapshotRow } from "../../src/schema.ts";

export const D1 = Date.UTC(2026, 0, 1);
export const DAY = 86_400_000;
export const HOUR = 3_600_000;

/** Deterministic xorshift. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/**
 * Three books snapshotted every 20 s in hours 00-01 and 22-23 of each day (so consecutive snapshots straddle each
 * midnight), prices on a 0.01 grid, some one-sided, empty and stale snapshots; one book without seq.
 */
export function rowsFor(days: number[], hours: number[], seed: number): SnapshotRow[] {
  const rand = rng(seed);
  const rows: SnapshotRow[] = [];
  const books = [
    { m: "mA", o: "yes", seq: 1 },
    { m: "mA", o: "no", seq: 1 },
    { m: "mB", o: "yes", seq: 0 },
  ];
  const mid = [0.4, 0.6, 0.25];
  for (const d of days)
    for (const h of hours)
      for (let t = D1 + d * DAY + h * HOUR; t < D1 + d * DAY + (h + 1) * HOUR; t += 20_000)
        books.forEach((b, i) => {
          if (rand() < 0.3) {
            if (b.seq > 0) b.seq += 1 + Math.floor(rand() * 3);
            mid[i] = Math.min(0.9, Math.max(0.1, Math.round((mid[i] + (rand() < 0.5 ? -0.01 : 0.01)) * 100) / 100));
          }
          const half = 0.01 * (1 + Math.floor(rand() * 3));
          const r = rand();
          const bids: [number, number][] = r < 0.05 ? [] : [0, 1, 2, 3].map((l) => [mid[i] - half - l * 0.01, 10 + l]);
          const asks: [number, number][] =
            r < 0.02 || (r > 0.05 && r < 0.08) ? [] : [0, 1, 2].map((l) => [mid[i] + half + l * 0.01, 5 + l]);
          rows.push(
            normalizeSnapshot(
              {
                tsRecv: t + i * 7,
                venue: "mock",
                marketId: b.m,
                outcomeId: b.o,
                seq: b.seq,
                bidPx: bids.map((x) => Math.round(x[0] * 100) / 100),
                bidSz: bids.map((x) => x[1]),
                askPx: asks.map((x) => Math.round(x[0] * 100) / 100),
                askSz: asks.map((x) => x[1]),
                staleReason: rand() < 0.05 ? "feed silent" : null,
              },
              50,
            ),
          );
        });
  return rows;
}
