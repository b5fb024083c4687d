/** Which markets matter most: eligibility and the ranking that picks HOT. Pure. */
import type { MarketInfo } from "../venue/types.ts";

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
