/**
 * How `mine` names a book for people: its market id shortened in the middle (never to the same text as another id
 * of the same table) and an outcome label from the universe; pure (the miner reads the universe).
 */
import type { MarketInfo } from "../market.ts";
import { bookKey } from "./partials.ts";

export { MARKET_ID_WIDTH, shortId, shortIds } from "../short-id.ts";
import { MARKET_ID_WIDTH, shortId, shortIds } from "../short-id.ts";

/** An unnamed outcome id is shown whole up to this length (Kalshi's yes/no), else shortened to it. */
export const OUTCOME_ID_WIDTH = 13;

/** Outcome names per book (`bookKey`) from a universe's markets: Polymarket's `extra.outcomes`, one per token. */
export function outcomeNames(markets: MarketInfo[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of markets) {
    const names = m.extra?.outcomes;
    if (!Array.isArray(names) || names.length !== m.outcome_ids.length) continue;
    m.outcome_ids.forEach((o, i) => {
      if (typeof names[i] === "string" && names[i] !== "") out.set(bookKey(m.market_id, o), names[i]);
    });
  }
  return out;
}

/**
 * A book's outcome label: its name in the universe (Polymarket: "Yes", "No", a team…); else the id when it is a
 * word (Kalshi's `yes`/`no`) or what follows the market id in it (the mock's `<market>-yes`); else "?" (a
 * Polymarket token missing from the universe: the table then shows the shortened token id beside it).
 */
export function outcomeLabel(market_id: string, outcome_id: string, names: Map<string, string> | undefined): string {
  const named = names?.get(bookKey(market_id, outcome_id));
  if (named !== undefined) return named;
  if (outcome_id.startsWith(`${market_id}-`) && outcome_id.length > market_id.length + 1)
    return outcome_id.slice(market_id.length + 1);
  if (/^[A-Za-z][\w.-]{0,11}$/.test(outcome_id)) return outcome_id;
  return "?";
}

/** What naming a book needs (a ranked row, a suspect, a report row). */
export interface Labelled {
  market_id: string;
  outcome_id: string;
  outcome_label: string;
  mirror_outcome_id?: string;
  mirror_outcome_label?: string;
}

export type BookNamer = (b: Labelled) => { id: string; outcome: string };

/**
 * How one venue's tables name books: market ids shortened alike in all of them (shortIds), the outcome label, and
 * `(+X)` for a folded mirror; `? <short outcome id>` when the universe names no outcome, so two outcomes of one
 * market never read the same.
 */
export function bookNamer(books: Labelled[]): BookNamer {
  const ids = shortIds(
    books.map((b) => b.market_id),
    MARKET_ID_WIDTH,
  );
  const outcomes = shortIds(
    books.flatMap((b) => (b.mirror_outcome_id === undefined ? [b.outcome_id] : [b.outcome_id, b.mirror_outcome_id])),
    OUTCOME_ID_WIDTH,
  );
  const text = (id: string, label: string) =>
    label === "?" ? `? ${outcomes.get(id) ?? shortId(id, OUTCOME_ID_WIDTH)}` : label;
  return (b) => {
    const mirror =
      b.mirror_outcome_id === undefined ? "" : ` (+${text(b.mirror_outcome_id, b.mirror_outcome_label ?? "?")})`;
    return {
      id: ids.get(b.market_id) ?? shortId(b.market_id, MARKET_ID_WIDTH),
      outcome: text(b.outcome_id, b.outcome_label) + mirror,
    };
  };
}
