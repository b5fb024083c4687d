/**
 * The data of `mine --report`, per venue: coverage (markets × hours), the top books' spread/depth/mid and the
 * stale/one-sided/empty shares over time, the rankings; from a MineResult and the day partials' 5-minute series
 * (no snapshot read again), downsampled to MAX_POINTS. report-html.ts renders it.
 */
import { readSeries, type NamedSeries } from "./partials-store.ts";
import { bookKey, SERIES_BUCKET_MS } from "./partials.ts";
import { readJournal, watchedMinutes } from "./journal.ts";
import type { MineResult, RankedBook, VenueResult, VenueSeriesSource } from "./miner.ts";
import type { ReportPair } from "../pairs/mine-pairs.ts";
import { type BookNamer, bookNamer, MARKET_ID_WIDTH, outcomeLabel, shortIds } from "./labels.ts";
import { foldMirrors } from "./score.ts";

const HOUR = 3_600_000;
/** Points per time chart at most (a 30-day range: 1-hour buckets). */
export const MAX_POINTS = 720;
/** Markets in the coverage heatmap at most (the most watched). */
export const MAX_HEATMAP_MARKETS = 40;
/** Books per time chart (the best scored of those watched at least half as long as the longest watched). */
export const CHART_BOOKS = 5;

export interface ReportBook {
  market_id: string;
  outcome_id: string;
  title?: string;
  /** As the text tables name it (labels.ts bookNamer): the shortened market id, the outcome label and folded mirror. */
  market_short: string;
  outcome_text: string;
  avg_depth: number | null;
  avg_spread: number | null;
  median_spread: number | null;
  activity: number | null;
  minutes_watched: number;
  snapshots: number;
  score: number;
}

export interface VenueReport {
  venue: string;
  rows: number;
  books: number;
  markets: number;
  firstTs: number | null;
  lastTs: number | null;
  coverage: {
    source: "journal" | "snapshots";
    /** Cell starts (epoch ms) and width. */
    cells: number[];
    cellMs: number;
    markets: { market_id: string; market_short: string; title?: string }[];
    marketsTotal: number;
    /** Per market, per cell: the share of the cell the market was watched (0..1). */
    share: number[][];
  };
  /** Bucket starts (epoch ms) of every time chart, and their width. */
  t: number[];
  bucketMs: number;
  /** Shares over all the venue's snapshots per bucket (null: no snapshot). */
  shares: { stale: (number | null)[]; oneSided: (number | null)[]; empty: (number | null)[] };
  top: { label: string; spread: (number | null)[]; depth: (number | null)[]; mid: (number | null)[] }[];
  rankings: { depth: ReportBook[]; spread: ReportBook[]; activity: ReportBook[] };
}

export interface ReportData {
  generatedAt: number;
  from: number;
  to: number;
  venues: VenueReport[];
  /** Confirmed cross-venue pairs, both mids on one chart each (src/pairs/mine-pairs.ts), when there are any. */
  pairs?: ReportPair[];
}

const pick =
  (name: BookNamer) =>
  (b: RankedBook): ReportBook => ({
    market_id: b.market_id,
    outcome_id: b.outcome_id,
    title: b.title,
    market_short: name(b).id,
    outcome_text: name(b).outcome,
    avg_depth: b.avg_depth,
    avg_spread: b.avg_spread,
    median_spread: b.median_spread,
    activity: b.activity,
    minutes_watched: b.minutes_watched,
    snapshots: b.snapshots,
    score: b.score,
  });

/** Chart bucket width: a multiple of the 5-minute series bucket giving at most MAX_POINTS buckets. */
export function bucketWidth(spanMs: number): number {
  return Math.max(1, Math.ceil(spanMs / MAX_POINTS / SERIES_BUCKET_MS)) * SERIES_BUCKET_MS;
}

/** Every stretch's series of the venue, stored days first read from disk, in time order (days, then cut hours). */
function* seriesStretches(dataDir: string, venue: string, src: VenueSeriesSource): Generator<Iterable<NamedSeries>> {
  for (const d of src.days) {
    const s = readSeries(dataDir, venue, d);
    if (s) yield s;
  }
  for (const m of src.inMemory) yield m.values();
}

const round = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : null);

function venueReport(dataDir: string, r: MineResult, v: VenueResult, allBooks: RankedBook[]): VenueReport {
  const first = v.firstTs ?? r.from;
  const last = v.lastTs ?? r.from;
  const bucketMs = bucketWidth(last - first + 1);
  const t0 = Math.floor(first / bucketMs) * bucketMs;
  const nT = Math.floor((last - t0) / bucketMs) + 1;
  const t = Array.from({ length: nT }, (_, i) => t0 + i * bucketMs);
  // Coverage cells: hours, or 5-minute cells when the data spans less than 12 hours (a demo hour is one column).
  const cellMs = last - first < 12 * HOUR ? SERIES_BUCKET_MS : HOUR;
  const c0 = Math.floor(first / cellMs) * cellMs;
  const nC = Math.floor((last - c0) / cellMs) + 1;
  const cells = Array.from({ length: nC }, (_, i) => c0 + i * cellMs);

  // The best scored among books watched at least half as long as the longest watched (a 2-minute book is one dot).
  const longest = Math.max(0, ...allBooks.map((b) => b.minutes_watched));
  // A binary market's two books mirror each other: one line (the better scored, its label saying `(+no)`), as in the
  // tables, so the five charted are five markets.
  const watched = allBooks.filter((b) => b.minutes_watched >= longest / 2);
  const rank = new Map(watched.map((b, i) => [b, i]));
  const labelOf = new Map(watched.map((b) => [bookKey(b.market_id, b.outcome_id), b.outcome_label]));
  const topBooks = foldMirrors(
    watched,
    CHART_BOOKS,
    (a, b) => rank.get(a as RankedBook)! - rank.get(b as RankedBook)!,
  ).map((b) =>
    b.mirror_outcome_id === undefined
      ? b
      : { ...b, mirror_outcome_label: labelOf.get(bookKey(b.market_id, b.mirror_outcome_id)) },
  );
  const wanted = new Map(topBooks.map((b, i) => [bookKey(b.market_id, b.outcome_id), i]));
  const z = () => new Float64Array(nT);
  const venueN = z();
  const venueStale = z();
  const venueOne = z();
  const venueEmpty = z();
  const per = topBooks.map(() => ({ n: z(), nSpread: z(), spread: z(), depth: z(), mid: z() }));
  // Snapshot coverage (when there is no journal): per market, the 5-minute buckets with a snapshot, per cell.
  const seen = new Map<string, Set<number>>();
  for (const stretch of seriesStretches(dataDir, v.venue, r.series.get(v.venue) ?? { days: [], inMemory: [] })) {
    for (const s of stretch) {
      const w = wanted.get(bookKey(s.market_id, s.outcome_id));
      let marketSeen = seen.get(s.market_id);
      if (!marketSeen) seen.set(s.market_id, (marketSeen = new Set()));
      for (let j = 0; j < s.bucket.length; j++) {
        const ts = s.bucket[j] * SERIES_BUCKET_MS;
        marketSeen.add(s.bucket[j]);
        const i = Math.floor((ts - t0) / bucketMs);
        if (i < 0 || i >= nT) continue;
        venueN[i] += s.n[j];
        venueStale[i] += s.nStale[j];
        venueOne[i] += s.nOne[j];
        venueEmpty[i] += s.nEmpty[j];
        if (w === undefined) continue;
        const p = per[w];
        p.n[i] += s.n[j];
        p.nSpread[i] += s.nSpread[j];
        p.spread[i] += s.sumSpread[j];
        p.depth[i] += s.sumDepth[j];
        p.mid[i] += s.sumMid[j];
      }
    }
  }
  const ratio = (a: Float64Array, b: Float64Array) => Array.from(a, (x, i) => (b[i] > 0 ? round(x / b[i]) : null));

  const titles = new Map(allBooks.filter((b) => b.title).map((b) => [b.market_id, b.title!]));
  const journal = readJournal(dataDir, v.venue, r.from, r.to);
  let share: Map<string, number[]>;
  let source: "journal" | "snapshots";
  if (journal && journal.length > 0) {
    source = "journal";
    share = new Map();
    cells.forEach((c, ci) => {
      const lo = Math.max(c, first);
      const hi = Math.min(c + cellMs, last);
      if (hi <= lo) return;
      for (const [k, minutes] of watchedMinutes(journal, lo, hi)) {
        const market = k.slice(0, k.indexOf("\u0000")); // a journal key is market \0 outcome (or *)
        const row = share.get(market) ?? new Array<number>(nC).fill(0);
        row[ci] = Math.max(row[ci], Math.min(1, (minutes * 60_000) / cellMs));
        share.set(market, row);
      }
    });
  } else {
    source = "snapshots";
    share = new Map();
    const perCell = cellMs / SERIES_BUCKET_MS;
    for (const [market, buckets] of seen) {
      const row = new Array<number>(nC).fill(0);
      for (const b of buckets) {
        const ci = Math.floor((b * SERIES_BUCKET_MS - c0) / cellMs);
        if (ci >= 0 && ci < nC) row[ci] += 1 / perCell;
      }
      share.set(market, row);
    }
  }
  const name = bookNamer([...v.top.depth, ...v.top.spread, ...v.top.activity, ...topBooks]);
  const short = shortIds(share.keys(), MARKET_ID_WIDTH);
  const ranked = [...share].map(([m, row]) => ({ m, row, total: row.reduce((a, b) => a + b, 0) }));
  ranked.sort((a, b) => b.total - a.total || (a.m < b.m ? -1 : 1));
  const heat = ranked.slice(0, MAX_HEATMAP_MARKETS);
  return {
    venue: v.venue,
    rows: v.rows,
    books: v.books,
    markets: v.markets,
    firstTs: v.firstTs,
    lastTs: v.lastTs,
    coverage: {
      source,
      cells,
      cellMs,
      markets: heat.map((h) => ({ market_id: h.m, market_short: short.get(h.m)!, title: titles.get(h.m) })),
      marketsTotal: share.size,
      share: heat.map((h) => h.row.map((x) => Number(x.toFixed(3)))),
    },
    t,
    bucketMs,
    shares: {
      stale: ratio(venueStale, venueN),
      oneSided: ratio(venueOne, venueN),
      empty: ratio(venueEmpty, venueN),
    },
    top: topBooks.map((b, i) => ({
      label: `${b.title ?? name(b).id} · ${name(b).outcome}`,
      spread: ratio(per[i].spread, per[i].nSpread),
      depth: ratio(per[i].depth, per[i].n),
      mid: ratio(per[i].mid, per[i].nSpread),
    })),
    rankings: {
      depth: v.top.depth.map(pick(name)),
      spread: v.top.spread.map(pick(name)),
      activity: v.top.activity.map(pick(name)),
    },
  };
}

/** The report's data for a mine result; the charts show the best scored books. */
export function buildReport(dataDir: string, r: MineResult, generatedAt: number): ReportData {
  return {
    generatedAt,
    from: r.from,
    to: r.to,
    venues: r.venues.map((v) => {
      const titles = r.titles.get(v.venue);
      const names = r.outcomeNames.get(v.venue);
      const books = (r.books.get(v.venue) ?? []).map((b) => ({
        ...b,
        title: titles?.get(b.market_id),
        outcome_label: outcomeLabel(b.market_id, b.outcome_id, names),
      }));
      return venueReport(dataDir, r, v, books);
    }),
  };
}
