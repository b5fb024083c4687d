/**
 * The miner's paired-books step: for the confirmed pairs of mappings/pairs.jsonl, reads both books' top of book over
 * the mined range (nodejs-polars, only the paired markets), computes pairMetrics and writes
 * `stats/pairs/date=YYYY-MM-DD/pairs.parquet`. Called by `mine`; loads Polars, so only mine imports it.
 */
import { renameSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import pl from "nodejs-polars";
import { findLatestUniverse } from "../scanner/scanner.ts";
import { listDatasetFiles } from "../layout.ts";
import { MARKET_ID_WIDTH, shortIds } from "../short-id.ts";
import { pairsStatsPath } from "../layout.ts";
import { utcDate } from "../timebucket.ts";
import type { PairRecord } from "./mapping.ts";
import { type BookSeries, orient, type PairChart, type PairMetrics, pairChart, pairMetrics } from "./metrics.ts";
import { readMapping } from "./run.ts";

export interface PairRow extends PairMetrics {
  a_venue: string;
  a_market_id: string;
  a_outcome_id: string;
  b_venue: string;
  b_market_id: string;
  b_outcome_id: string;
  orientation: string;
  interval_ms: number;
}

export interface PairsMineResult {
  rows: PairRow[];
  /** Per row: both mids over time (B oriented), for a report's chart. */
  charts: PairChart[];
  path: string | undefined;
}

export interface PairsMineOptions {
  dataDir: string;
  from: number;
  to: number;
  /** A venue's HOT snapshot interval (pinned pairs are HOT): two snapshots within the larger of the two pair up. */
  hotIntervalMs: (venue: string) => number;
}

type Books = Map<string, Map<string, BookSeries>>;

/** The paired markets' books of one venue over [from, to), by market then outcome, in time order. */
async function readBooks(dataDir: string, venue: string, markets: string[], from: number, to: number): Promise<Books> {
  const out: Books = new Map();
  const hourFrom = Math.floor(from / 3_600_000) * 3_600_000;
  const files = listDatasetFiles(dataDir, { venues: [venue], fromTs: hourFrom, toTs: to });
  if (files.length === 0) return out;
  const scans = files.map((f) =>
    pl
      .scanParquet(f.abs, { hivePartitioning: false })
      .select("ts_recv", "market_id", "outcome_id", "best_bid_px", "best_ask_px", "mid"),
  );
  const df = await (scans.length === 1 ? scans[0] : pl.concat(scans, { how: "vertical" }))
    .filter(pl.col("ts_recv").gtEq(from).and(pl.col("ts_recv").lt(to)).and(pl.col("market_id").isIn(markets)))
    .sort("ts_recv")
    .collect();
  const cols = {
    ts: df.getColumn("ts_recv").toArray() as (number | bigint)[],
    m: df.getColumn("market_id").toArray() as string[],
    o: df.getColumn("outcome_id").toArray() as string[],
    bid: df.getColumn("best_bid_px").toArray() as (number | null)[],
    ask: df.getColumn("best_ask_px").toArray() as (number | null)[],
    mid: df.getColumn("mid").toArray() as (number | null)[],
  };
  for (let i = 0; i < cols.ts.length; i++) {
    let byOutcome = out.get(cols.m[i]);
    if (!byOutcome) out.set(cols.m[i], (byOutcome = new Map()));
    let s = byOutcome.get(cols.o[i]);
    if (!s) byOutcome.set(cols.o[i], (s = { ts: [], bid: [], ask: [], mid: [] }));
    s.ts.push(Number(cols.ts[i]));
    s.bid.push(cols.bid[i] ?? Number.NaN);
    s.ask.push(cols.ask[i] ?? Number.NaN);
    s.mid.push(cols.mid[i] ?? Number.NaN);
  }
  return out;
}

const EMPTY: BookSeries = { ts: [], bid: [], ask: [], mid: [] };

/** A market's first outcome (YES): from the universe, else the recorded outcome named …yes, else the first by name. */
function firstOutcome(universeFirst: string | undefined, recorded: Map<string, BookSeries> | undefined): string {
  if (universeFirst) return universeFirst;
  const names = [...(recorded?.keys() ?? [])].sort();
  return names.find((n) => /(^|[-_ :.])yes$/i.test(n)) ?? names[0] ?? "";
}

async function firstOutcomes(dataDir: string, venue: string, asOf: number): Promise<Map<string, string>> {
  const u = await findLatestUniverse(dataDir, venue, asOf).catch(() => undefined);
  return new Map((u?.markets ?? []).map((m) => [m.market_id, m.outcome_ids[0]]));
}

/** Metrics of every confirmed pair over [from, to) and the file written; undefined when nothing is confirmed. */
export async function minePairs(o: PairsMineOptions): Promise<PairsMineResult | undefined> {
  const confirmed = (await readMapping(o.dataDir)).filter((r) => r.status === "confirmed");
  if (confirmed.length === 0) return undefined;
  const marketsOf = new Map<string, Set<string>>();
  for (const r of confirmed) {
    for (const [v, id] of [
      [r.a_venue, r.a_market_id],
      [r.b_venue, r.b_market_id],
    ]) {
      if (!marketsOf.has(v)) marketsOf.set(v, new Set());
      marketsOf.get(v)!.add(id);
    }
  }
  const books = new Map<string, Books>();
  const firsts = new Map<string, Map<string, string>>();
  for (const [v, ids] of marketsOf) {
    books.set(v, await readBooks(o.dataDir, v, [...ids], o.from, o.to));
    firsts.set(v, await firstOutcomes(o.dataDir, v, o.to - 1));
  }
  let lastTs = -Infinity;
  const charts: PairChart[] = [];
  const rows = confirmed.map((r: PairRecord): PairRow => {
    const side = (v: string, id: string) => {
      const recorded = books.get(v)?.get(id);
      const outcome = firstOutcome(firsts.get(v)?.get(id), recorded);
      const s = recorded?.get(outcome) ?? EMPTY;
      if (s.ts.length > 0) lastTs = Math.max(lastTs, s.ts[s.ts.length - 1]);
      return { outcome, s };
    };
    const a = side(r.a_venue, r.a_market_id);
    const b = side(r.b_venue, r.b_market_id);
    const interval = Math.max(o.hotIntervalMs(r.a_venue), o.hotIntervalMs(r.b_venue));
    const bo = orient(b.s, r.orientation === "flipped");
    charts.push(pairChart(a.s, bo, o.from, o.to));
    return {
      a_venue: r.a_venue,
      a_market_id: r.a_market_id,
      a_outcome_id: a.outcome,
      b_venue: r.b_venue,
      b_market_id: r.b_market_id,
      b_outcome_id: b.outcome,
      orientation: r.orientation,
      interval_ms: interval,
      ...pairMetrics(a.s, bo, { intervalMs: interval }),
    };
  });
  if (rows.every((r) => r.snapshots_a === 0 && r.snapshots_b === 0)) return { rows, charts, path: undefined };
  const path = pairsStatsPath(o.dataDir, utcDate(Number.isFinite(lastTs) ? lastTs : o.to - 1));
  await mkdir(dirname(path), { recursive: true });
  const df = pl.DataFrame({
    a_venue: rows.map((r) => r.a_venue),
    a_market_id: rows.map((r) => r.a_market_id),
    a_outcome_id: rows.map((r) => r.a_outcome_id),
    b_venue: rows.map((r) => r.b_venue),
    b_market_id: rows.map((r) => r.b_market_id),
    b_outcome_id: rows.map((r) => r.b_outcome_id),
    orientation: rows.map((r) => r.orientation),
    interval_ms: pl.Series(
      "interval_ms",
      rows.map((r) => r.interval_ms),
      pl.Int64,
    ),
    snapshots_a: pl.Series(
      "snapshots_a",
      rows.map((r) => r.snapshots_a),
      pl.Int64,
    ),
    snapshots_b: pl.Series(
      "snapshots_b",
      rows.map((r) => r.snapshots_b),
      pl.Int64,
    ),
    matched: pl.Series(
      "matched",
      rows.map((r) => r.matched),
      pl.Int64,
    ),
    ...Object.fromEntries(
      (
        [
          "mean_mid_diff",
          "median_mid_diff",
          "crossable_share",
          "a_bid_over_b_ask_share",
          "b_bid_over_a_ask_share",
          "lead_lag_secs",
          "lead_lag_corr",
        ] as const
      ).map((k) => [k, pl.Series(k, rows.map((r) => r[k]) as (number | null)[], pl.Float64)]),
    ),
  });
  const tmp = `${path}.tmp-${process.pid}`;
  df.writeParquet(tmp);
  renameSync(tmp, path);
  return { rows, charts, path };
}

/** One confirmed pair in the HTML report: both mids over time (B oriented to A's outcome) and a one-line summary. */
export interface ReportPair {
  label: string;
  a_label: string;
  b_label: string;
  summary: string;
  t: number[];
  bucketMs: number;
  a: (number | null)[];
  b: (number | null)[];
}

export function reportPairs(r: PairsMineResult): ReportPair[] {
  return r.rows.map((p, i) => ({
    label: `${p.a_venue}:${p.a_market_id} = ${p.b_venue}:${p.b_market_id} (${p.orientation})`,
    a_label: `${p.a_venue} ${p.a_outcome_id}`,
    b_label: `${p.b_venue} ${p.b_outcome_id}${p.orientation === "flipped" ? " as 1 − mid" : ""}`,
    summary: pairLine(p),
    ...r.charts[i],
  }));
}

const signed = (x: number | null, d = 3) => (x === null ? "-" : `${x >= 0 ? "+" : ""}${x.toFixed(d)}`);
const pct = (x: number | null) => (x === null ? "-" : `${(100 * x).toFixed(1)}%`);

/** The mine summary's paired-books section. */
export function formatPairs(r: PairsMineResult): string {
  const lines = [
    "Paired books (confirmed pairs; mid A − mid B with B oriented to A's first outcome; crossable = one venue's best bid above the other's best ask, fees and rule differences ignored)",
  ];
  // Market ids shortened in the middle as in the rankings (condition ids are 66 characters); --json keeps them whole.
  const short = shortIds(
    r.rows.flatMap((p) => [p.a_market_id, p.b_market_id]),
    MARKET_ID_WIDTH,
  );
  for (const p of r.rows) {
    lines.push(`  ${pairLine(p, (id) => short.get(id) ?? id)}`);
  }
  if (r.path) lines.push(`  -> ${r.path}`);
  return lines.join("\n");
}

function pairLine(p: PairRow, id: (marketId: string) => string = (m) => m): string {
  const ll =
    p.lead_lag_secs === null
      ? "lead/lag -"
      : p.lead_lag_secs === 0
        ? `lead/lag 0 s (r ${p.lead_lag_corr!.toFixed(2)})`
        : `${p.lead_lag_secs > 0 ? p.a_venue : p.b_venue} leads by ${Math.abs(p.lead_lag_secs)} s (r ${p.lead_lag_corr!.toFixed(2)})`;
  return `${p.a_venue}:${id(p.a_market_id)} = ${p.b_venue}:${id(p.b_market_id)} (${p.orientation}): ${p.matched} snapshot pairs, mid diff mean ${signed(p.mean_mid_diff)} median ${signed(p.median_mid_diff)}, crossable ${pct(p.crossable_share)}, ${ll}`;
}
