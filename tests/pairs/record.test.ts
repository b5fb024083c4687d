/**
 * `[pairs] record = true` on two mock venues (SimClock): both markets of a confirmed pair are recorded at the HOT
 * cadence on their venues, where without it neither would be recorded at all.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { consola } from "consola";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pl from "nodejs-polars";
import { SimClock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import { runCollect } from "../../src/collector/run.ts";
import { scanAll } from "../../src/scanner/scanner.ts";
import type { MarketInfo } from "../../src/market.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const MIN = 60_000;
const RUN_MS = 10 * MIN;
const HOT_MS = 2000;

let dir: string;
const cfg = (dataDir: string, record: boolean) =>
  parseConfig({
    data_dir: dataDir,
    top_k: 3,
    pairs: { record },
    collector: { max_subs_per_venue: 4, hot_count: 2, snapshot_interval_ms_hot: HOT_MS, rotation_period_secs: 180 },
    venues: {
      mock: { enabled: false },
      a: { kind: "mock", seed: 11, universe_size: 200, updates_per_sec: 1 },
      b: { kind: "mock", seed: 12, universe_size: 200, updates_per_sec: 1, twin_of: "a" },
    },
  });

/** Rows per (venue, market_id, outcome_id) over the run's files. */
function rowsOf(dataDir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of new Bun.Glob("orderbook_snapshots/**/*.parquet").scanSync({ cwd: dataDir })) {
    const venue = /venue=([^/]+)/.exec(name)![1];
    for (const r of pl.readParquet(join(dataDir, name)).select("market_id", "outcome_id").toRecords()) {
      const k = `${venue}|${r.market_id}|${r.outcome_id}`;
      out.set(k, (out.get(k) ?? 0) + 1);
    }
  }
  return out;
}

let without: Map<string, number>;
let withPins: Map<string, number>;
let pair: { a: string; b: string };

beforeAll(async () => {
  consola.level = 0;
  dir = await mkdtemp(join(tmpdir(), "pairs-record-"));
  const plain = join(dir, "plain");
  const pinned = join(dir, "pinned");
  for (const d of [plain, pinned]) await scanAll(cfg(d, false), { clock: new SimClock(T0), env: {} });
  await runCollect(cfg(plain, false), { clock: new SimClock(T0), durationMs: RUN_MS });
  without = rowsOf(plain);
  // A twin pair, both open well past the run, neither of whose markets the scheduler recorded on its own.
  const read = async (v: string) =>
    (await Bun.file(join(plain, "metadata", `venue=${v}`, "date=2026-01-01", "universe.jsonl")).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as MarketInfo);
  const ua = await read("a");
  const ub = await read("b");
  const open = (m: MarketInfo | undefined) => m?.status === "active" && m.close_ts! > T0 + 86_400_000;
  const seen = (v: string, id: string) => [...without.keys()].some((k) => k.startsWith(`${v}|${id}|`));
  const twin = ub.find((m) => {
    const t = m.extra?.twin_of as { market_id: string } | undefined;
    return (
      t &&
      open(m) &&
      open(ua.find((x) => x.market_id === t.market_id)) &&
      !seen("b", m.market_id) &&
      !seen("a", t.market_id)
    );
  })!;
  pair = { a: (twin.extra!.twin_of as { market_id: string }).market_id, b: twin.market_id };
  await mkdir(join(pinned, "mappings"), { recursive: true });
  await writeFile(
    join(pinned, "mappings", "pairs.jsonl"),
    `${JSON.stringify({ a_venue: "a", a_market_id: pair.a, b_venue: "b", b_market_id: pair.b, orientation: "same", status: "confirmed" })}\n` +
      `${JSON.stringify({ a_venue: "a", a_market_id: "mock-000001", b_venue: "b", b_market_id: "mock-000002", status: "rejected" })}\n`,
  );
  await runCollect(cfg(pinned, true), { clock: new SimClock(T0), durationMs: RUN_MS });
  withPins = rowsOf(pinned);
  consola.level = 3;
}, 120_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

describe("[pairs] record = true", () => {
  test("without it, neither market of the pair is recorded", () => {
    expect(without.size).toBeGreaterThan(0);
    for (const k of without.keys()) expect(k.startsWith(`a|${pair.a}|`) || k.startsWith(`b|${pair.b}|`)).toBe(false);
  });

  test("with it, both markets are recorded on their venues at the HOT cadence, both outcomes", () => {
    for (const [v, id] of [
      ["a", pair.a],
      ["b", pair.b],
    ]) {
      for (const o of ["yes", "no"]) {
        const n = withPins.get(`${v}|${id}|${id}-${o}`) ?? 0;
        expect(n).toBeGreaterThanOrEqual(RUN_MS / HOT_MS - 5);
        expect(n).toBeLessThanOrEqual(RUN_MS / HOT_MS + 2);
      }
    }
  });

  test("a rejected pair is not pinned", () => {
    const hot = (k: string) => (withPins.get(k) ?? 0) >= RUN_MS / HOT_MS - 5;
    expect(hot("a|mock-000001|mock-000001-yes") && hot("b|mock-000002|mock-000002-yes")).toBe(false);
  });
});
