/** Which markets matter most: eligibility and the ranking that picks HOT. Pure. */
import { MinHeap } from "../min-heap.ts";
import type { MarketInfo } from "../market.ts";

/** A market closing within this long is "closing soon" (ranked first when there are no stats). */
export const CLOSING_SOON_MS = 24 * 3_600_000;
/** A market created within this long is "recent" (ranked next). */
export const RECENT_MS = 24 * 3_600_000;

/** Active and not past its close time: only these are ever scheduled. */
export function isEligible(m: MarketInfo, now: number): boolean {
  return m.status === "active" && (m.close_ts === null || m.close_ts === undefined || m.close_ts > now);
}

const byId = (a: MarketInfo, b: MarketInfo) => (a.market_id < b.market_id ? -1 : a.market_id > b.market_id ? 1 : 0);

/**
 * Ranking without stats (eligible markets are all active, so status needs no tier): closing soon (soonest first),
 * then recently created (newest first), then the rest by market_id. The rest is not really ordered by merit:
 * WARM rotation gives it its turn.
 */
export function rankWithoutStats(markets: MarketInfo[], now: number): MarketInfo[] {
  const soon: MarketInfo[] = [];
  const recent: MarketInfo[] = [];
  const rest: MarketInfo[] = [];
  for (const m of markets) {
    if (m.close_ts != null && m.close_ts - now <= CLOSING_SOON_MS) soon.push(m);
    else if (m.created_ts != null && now - m.created_ts <= RECENT_MS) recent.push(m);
    else rest.push(m);
  }
  soon.sort((a, b) => a.close_ts! - b.close_ts! || byId(a, b));
  recent.sort((a, b) => b.created_ts! - a.created_ts! || byId(a, b));
  rest.sort(byId);
  return [...soon, ...recent, ...rest];
}

/**
 * Ranking for HOT: eligible markets with a finite score, best first (ties by market_id), then the unscored ones
 * in the no-stats order. Closed/expired markets are dropped whatever their score.
 */
export function rankMarkets(universe: MarketInfo[], now: number, scores?: Map<string, number>): MarketInfo[] {
  const eligible = universe.filter((m) => isEligible(m, now));
  if (!scores || scores.size === 0) return rankWithoutStats(eligible, now);
  const scored: MarketInfo[] = [];
  const unscored: MarketInfo[] = [];
  for (const m of eligible) {
    const s = scores.get(m.market_id);
    if (s !== undefined && Number.isFinite(s)) scored.push(m);
    else unscored.push(m);
  }
  scored.sort((a, b) => scores.get(b.market_id)! - scores.get(a.market_id)! || byId(a, b));
  return [...scored, ...rankWithoutStats(unscored, now)];
}

/** The `k` least markets by `less` in order (a bounded max-heap: O(n log k), for a HOT set out of a large universe). */
function leastK(markets: MarketInfo[], k: number, less: (a: MarketInfo, b: MarketInfo) => boolean): MarketInfo[] {
  if (k <= 0) return [];
  if (k >= markets.length) return [...markets].sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0));
  const heap = new MinHeap<MarketInfo>((a, b) => less(b, a)); // the greatest kept on top
  for (const m of markets) {
    if (heap.size < k) heap.push(m);
    else if (less(m, heap.peek()!)) {
      heap.pop();
      heap.push(m);
    }
  }
  const out: MarketInfo[] = [];
  while (heap.size > 0) out.push(heap.pop()!);
  return out.reverse();
}

/**
 * The first `n` of rankMarkets' order, exactly, and the other eligible markets in no particular order: what the
 * scheduler needs (HOT; WARM goes by the rotation circle), without sorting a whole 100k-market universe each rotation.
 */
export function rankTop(
  universe: MarketInfo[],
  now: number,
  n: number,
  scores?: Map<string, number>,
): { top: MarketInfo[]; rest: MarketInfo[] } {
  const eligible = universe.filter((m) => isEligible(m, now));
  if (n <= 0) return { top: [], rest: eligible };
  const tiers: MarketInfo[][] = [];
  let unscored = eligible;
  if (scores && scores.size > 0) {
    const scored: MarketInfo[] = [];
    unscored = [];
    for (const m of eligible) {
      const s = scores.get(m.market_id);
      if (s !== undefined && Number.isFinite(s)) scored.push(m);
      else unscored.push(m);
    }
    tiers.push(
      leastK(
        scored,
        n,
        (a, b) =>
          scores.get(a.market_id)! > scores.get(b.market_id)! ||
          (scores.get(a.market_id) === scores.get(b.market_id) && byId(a, b) < 0),
      ),
    );
  }
  const soon: MarketInfo[] = [];
  const recent: MarketInfo[] = [];
  const other: MarketInfo[] = [];
  for (const m of unscored) {
    if (m.close_ts != null && m.close_ts - now <= CLOSING_SOON_MS) soon.push(m);
    else if (m.created_ts != null && now - m.created_ts <= RECENT_MS) recent.push(m);
    else other.push(m);
  }
  const need = () => n - tiers.reduce((k, t) => k + t.length, 0);
  tiers.push(
    leastK(soon, need(), (a, b) => a.close_ts! < b.close_ts! || (a.close_ts === b.close_ts && byId(a, b) < 0)),
  );
  tiers.push(
    leastK(
      recent,
      need(),
      (a, b) => a.created_ts! > b.created_ts! || (a.created_ts === b.created_ts && byId(a, b) < 0),
    ),
  );
  tiers.push(leastK(other, need(), (a, b) => byId(a, b) < 0));
  const top = tiers.flat();
  const inTop = new Set(top);
  return { top, rest: eligible.filter((m) => !inTop.has(m)) };
}
