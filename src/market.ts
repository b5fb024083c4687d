/**
 * The domain types every stage shares: a market as the scanner lists it and the unit of subscription. Venues
 * produce them, the scheduler ranks them, the collector subscribes them; none of those imports another for these.
 */

/** One line of the scanner's universe.jsonl. */
export interface MarketInfo {
  venue: string;
  market_id: string;
  outcome_ids: string[];
  title: string;
  /** Epoch ms when trading closes, null when the venue gives none. */
  close_ts: number | null;
  /** "active" when tradable; anything else (closed, settled, paused…) is never scheduled. */
  status: string;
  tags: string[];
  /** Epoch ms the market was created/listed, when known. */
  created_ts?: number | null;
  /** Cheap extras the venue gives (slug, event ticker, volume, liquidity…). */
  extra?: Record<string, unknown>;
}

/** The unit of subscription: a market with all its outcomes. */
export interface MarketRef {
  market_id: string;
  outcome_ids: string[];
}
