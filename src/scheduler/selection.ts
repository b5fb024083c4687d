/**
 * Which markets may be recorded at all: pins (always HOT, ahead of any ranking) and the filter clauses that decide
 * eligibility for HOT ranking and WARM rotation. Pure: a function of the universe, the time and the settings.
 */
import type { MarketInfo } from "../market.ts";
import { isEligible } from "./scoring.ts";
import { durationMs, type FilterSettings, type SelectionSettings } from "./selection-config.ts";

export interface MissingPin {
  market_id: string;
  why: "not in the universe" | "closed" | "no order book";
}

export interface Selection {
  /** Pinned markets present and open, in pin order: HOT before anything ranked. */
  pinned: MarketInfo[];
  /** Pins that cannot be recorded now, and why. */
  missing: MissingPin[];
  /** Markets that pass every clause, pins excluded: what the ranking and the rotation choose from. */
  eligible: MarketInfo[];
  /** Markets passing every clause, pins that pass included (the eligible gauge). */
  eligibleCount: number;
  /** Markets left after each step, in order: [label, count]; the first is the universe. */
  funnel: [string, number][];
}

/** The venue says it has no order book for it (Polymarket `enableOrderBook: false`): never subscribed. */
export const hasOrderBook = (m: MarketInfo): boolean => m.extra?.enableOrderBook !== false;

const lower = (xs: string[] | undefined) => (xs && xs.length > 0 ? new Set(xs.map((x) => x.toLowerCase())) : null);

const numberOf = (m: MarketInfo, key: string): number | undefined => {
  const x = m.extra?.[key];
  return typeof x === "number" && Number.isFinite(x) ? x : undefined;
};

/** The configured clauses as [name, test] in the order they are applied (and reported). */
function clauses(f: FilterSettings, now: number): [string, (m: MarketInfo) => boolean][] {
  const out: [string, (m: MarketInfo) => boolean][] = [];
  const any = lower(f.tags_any);
  if (any) out.push(["tags_any", (m) => m.tags.some((t) => any.has(t.toLowerCase()))]);
  const none = lower(f.tags_none);
  if (none) out.push(["tags_none", (m) => !m.tags.some((t) => none.has(t.toLowerCase()))]);
  if (f.title_matches !== undefined) {
    const re = new RegExp(f.title_matches, "i");
    out.push(["title_matches", (m) => re.test(m.title)]);
  }
  if (f.min_volume !== undefined) {
    const min = f.min_volume;
    out.push(["min_volume", (m) => (numberOf(m, "volume") ?? -Infinity) >= min]);
  }
  if (f.min_liquidity !== undefined) {
    const min = f.min_liquidity;
    out.push(["min_liquidity", (m) => (numberOf(m, "liquidity") ?? -Infinity) >= min]);
  }
  if (f.closes_within !== undefined) {
    const until = now + (durationMs(f.closes_within) ?? 0);
    out.push(["closes_within", (m) => m.close_ts != null && m.close_ts <= until]);
  }
  const ex = f.exclude && f.exclude.length > 0 ? new Set(f.exclude) : null;
  if (ex) out.push(["exclude", (m) => !ex.has(m.market_id)]);
  return out;
}

/**
 * Applies the pins and the filter to a universe. `extraPins` are pins from another source (confirmed pairs, …),
 * merged after the configured ones; filters never remove a pin. One pass per clause over what the previous left.
 */
export function selectMarkets(
  universe: MarketInfo[],
  now: number,
  s: SelectionSettings,
  extraPins: readonly string[] = [],
): Selection {
  const pinIds = [...new Set([...s.pin, ...extraPins])];
  const pinSet = new Set(pinIds);
  const byId = new Map<string, MarketInfo>();
  if (pinSet.size > 0) for (const m of universe) if (pinSet.has(m.market_id)) byId.set(m.market_id, m);
  const pinned: MarketInfo[] = [];
  const missing: MissingPin[] = [];
  for (const id of pinIds) {
    const m = byId.get(id);
    if (!m) missing.push({ market_id: id, why: "not in the universe" });
    else if (!isEligible(m, now)) missing.push({ market_id: id, why: "closed" });
    else if (!hasOrderBook(m)) missing.push({ market_id: id, why: "no order book" });
    else pinned.push(m);
  }

  const funnel: [string, number][] = [["in universe", universe.length]];
  let left = universe.filter((m) => isEligible(m, now));
  funnel.push(["open", left.length]);
  const booked = left.filter(hasOrderBook);
  if (booked.length !== left.length) funnel.push(["with an order book", booked.length]);
  left = booked;
  for (const [name, keep] of clauses(s.filter, now)) {
    left = left.filter(keep);
    funnel.push([name, left.length]);
  }
  const eligibleCount = left.length;
  const eligible = pinSet.size > 0 ? left.filter((m) => !pinSet.has(m.market_id)) : left;
  return { pinned, missing, eligible, eligibleCount, funnel };
}

const n = (x: number) => x.toLocaleString("en-US");

/**
 * One line for the log: `12,345 in universe → 11,980 open → 3,200 tags_any → 805 eligible; 5 pinned, 1 missing: X
 * (closed)`, and, when nothing is eligible, that only the pins are collected.
 */
export function describeSelection(sel: Selection): string {
  const steps = sel.funnel.map(([label, count]) => `${n(count)} ${label}`);
  let line = `${steps.join(" → ")} → ${n(sel.eligibleCount)} eligible; ${sel.pinned.length} pinned`;
  if (sel.missing.length > 0)
    line += `, ${sel.missing.length} missing: ${sel.missing.map((p) => `${p.market_id} (${p.why})`).join(", ")}`;
  if (sel.eligible.length === 0)
    line +=
      sel.pinned.length > 0
        ? "; nothing else is eligible: collecting the pins only"
        : "; nothing is eligible: nothing to collect (loosen the filter or pin markets)";
  return line;
}
