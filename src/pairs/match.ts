/**
 * Candidate pairs between two venues' universes: blocked by rare title tokens (an inverted index, so 10k × 10k
 * markets cost ~N·k comparisons, not N²), scored (score.ts), kept at or above min_score, best first, at most a few
 * per market. Also measures precision/recall against a known truth (the mock twins' extra.twin_of). Pure.
 */
import type { MarketInfo } from "../market.ts";
import { type MarketView, type Orientation, scorePair, viewOf } from "./score.ts";

export interface Candidate {
  a_venue: string;
  a_market_id: string;
  b_venue: string;
  b_market_id: string;
  score: number;
  reasons: string[];
  orientation: Orientation;
  a_title: string;
  b_title: string;
}

export interface MatchOptions {
  minScore: number;
  maxPerMarket: number;
  closeToleranceMs: number;
  /** Pair keys (pairKey) never to propose (rejected ones). */
  exclude?: Set<string>;
}

/** How many of the best-overlapping markets of the other venue are scored in full per market. */
const SCORED_PER_MARKET = 16;

export const pairKey = (aVenue: string, aId: string, bVenue: string, bId: string): string =>
  aVenue < bVenue || (aVenue === bVenue && aId <= bId)
    ? `${aVenue}\u0000${aId}\u0000${bVenue}\u0000${bId}`
    : `${bVenue}\u0000${bId}\u0000${aVenue}\u0000${aId}`;

const tradable = (m: MarketInfo) => m.status === "active";

/** Candidates between the active markets of `a` and of `b` (two venues' universes), best first. */
export function matchVenues(a: MarketInfo[], b: MarketInfo[], o: MatchOptions): Candidate[] {
  const va = a.filter(tradable).map(viewOf);
  const vb = b.filter(tradable).map(viewOf);
  if (va.length === 0 || vb.length === 0) return [];
  const df = new Map<string, number>();
  const dfA = new Map<string, number>();
  for (const v of va) for (const t of v.norm.tokens) df.set(t, (df.get(t) ?? 0) + 1), dfA.set(t, (dfA.get(t) ?? 0) + 1);
  for (const v of vb) for (const t of v.norm.tokens) df.set(t, (df.get(t) ?? 0) + 1);
  const n = va.length + vb.length;
  const idf = new Map<string, number>();
  for (const [t, c] of df) idf.set(t, Math.log(1 + n / c));
  const weight = (t: string) => idf.get(t) ?? Math.log(1 + n);

  // Inverted index of A over its rarer tokens; a token in more than maxDf of A's markets says little and is skipped.
  const maxDf = Math.max(20, Math.ceil(0.02 * va.length));
  const postings = new Map<string, number[]>();
  for (let i = 0; i < va.length; i++) {
    for (const t of va[i].norm.tokens) {
      if ((dfA.get(t) ?? 0) > maxDf) continue;
      let p = postings.get(t);
      if (!p) postings.set(t, (p = []));
      p.push(i);
    }
  }

  const scored: { a: MarketView; b: MarketView; s: ReturnType<typeof scorePair> }[] = [];
  const acc = new Float64Array(va.length);
  const touched: number[] = [];
  for (const bv of vb) {
    for (const t of bv.norm.tokens) {
      const p = postings.get(t);
      if (!p) continue;
      const w = weight(t);
      for (const i of p) {
        if (acc[i] === 0) touched.push(i);
        acc[i] += w;
      }
    }
    if (touched.length === 0) continue;
    for (const i of topByWeight(touched, acc, SCORED_PER_MARKET)) {
      const av = va[i];
      const key = pairKey(av.market.venue, av.market.market_id, bv.market.venue, bv.market.market_id);
      if (o.exclude?.has(key)) continue;
      const s = scorePair(av, bv, weight, { closeToleranceMs: o.closeToleranceMs }, false);
      if (s.score >= o.minScore) scored.push({ a: av, b: bv, s });
    }
    for (const i of touched) acc[i] = 0;
    touched.length = 0;
  }

  scored.sort(
    (x, y) =>
      y.s.score - x.s.score ||
      x.a.market.market_id.localeCompare(y.a.market.market_id) ||
      x.b.market.market_id.localeCompare(y.b.market.market_id),
  );
  const perA = new Map<string, number>();
  const perB = new Map<string, number>();
  const out: Candidate[] = [];
  for (const { a: av, b: bv, s } of scored) {
    const ka = av.market.market_id;
    const kb = bv.market.market_id;
    if ((perA.get(ka) ?? 0) >= o.maxPerMarket || (perB.get(kb) ?? 0) >= o.maxPerMarket) continue;
    perA.set(ka, (perA.get(ka) ?? 0) + 1);
    perB.set(kb, (perB.get(kb) ?? 0) + 1);
    const explained = scorePair(av, bv, weight, { closeToleranceMs: o.closeToleranceMs });
    out.push({
      a_venue: av.market.venue,
      a_market_id: ka,
      b_venue: bv.market.venue,
      b_market_id: kb,
      score: s.score,
      reasons: explained.reasons,
      orientation: s.orientation,
      a_title: av.market.title,
      b_title: bv.market.title,
    });
  }
  return out;
}

/** The k indices of `idx` with the largest acc (ties: lower index), without sorting them all. */
function topByWeight(idx: number[], acc: Float64Array, k: number): number[] {
  if (idx.length <= k) return idx;
  const better = (x: number, y: number) => acc[x] > acc[y] || (acc[x] === acc[y] && x < y);
  const top: number[] = [];
  for (const i of idx) {
    if (top.length < k) {
      top.push(i);
      if (top.length === k) top.sort((x, y) => (better(x, y) ? -1 : 1));
      continue;
    }
    if (!better(i, top[k - 1])) continue;
    let j = k - 1;
    while (j > 0 && better(i, top[j - 1])) {
      top[j] = top[j - 1];
      j--;
    }
    top[j] = i;
  }
  return top;
}

/** Known true pairs between two universes (a market's extra.twin_of naming a market of the other), both tradable. */
export function knownPairs(a: MarketInfo[], b: MarketInfo[]): Map<string, Orientation> {
  const out = new Map<string, Orientation>();
  for (const [xs, ys] of [
    [a, b],
    [b, a],
  ]) {
    const byId = new Map(ys.filter(tradable).map((m) => [`${m.venue}\u0000${m.market_id}`, m]));
    for (const m of xs) {
      const t = m.extra?.twin_of as { venue?: string; market_id?: string; orientation?: Orientation } | undefined;
      if (!tradable(m) || !t?.venue || !t.market_id) continue;
      const other = byId.get(`${t.venue}\u0000${t.market_id}`);
      if (other) out.set(pairKey(m.venue, m.market_id, other.venue, other.market_id), t.orientation ?? "same");
    }
  }
  return out;
}

export interface MatchQuality {
  truePairs: number;
  found: number;
  proposed: number;
  precision: number;
  recall: number;
  /** Found true pairs whose orientation is right. */
  orientationRight: number;
}

/** Precision and recall of `cands` against `truth` (pairKey → orientation). */
export function matchQuality(cands: Candidate[], truth: Map<string, Orientation>): MatchQuality {
  let found = 0;
  let right = 0;
  for (const c of cands) {
    const t = truth.get(pairKey(c.a_venue, c.a_market_id, c.b_venue, c.b_market_id));
    if (t === undefined) continue;
    found++;
    if (t === c.orientation) right++;
  }
  return {
    truePairs: truth.size,
    found,
    proposed: cands.length,
    precision: cands.length > 0 ? found / cands.length : 1,
    recall: truth.size > 0 ? found / truth.size : 1,
    orientationRight: right,
  };
}
