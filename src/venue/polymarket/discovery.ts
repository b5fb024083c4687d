/**
 * Polymarket discovery: Gamma keyset pagination over open markets (legacy `/markets?offset=` as a fallback), one
 * MarketInfo each; a market whose clobTokenIds/outcomes do not parse or differ in length is rejected and counted,
 * apart from those not tradable by design (placeholders nested in events, no CLOB book).
 */
import * as v from "valibot";
import { HttpError, type PacedRest } from "../_rest.ts";
import type { MarketInfo } from "../../market.ts";
import { GammaKeysetPage, GammaMarket } from "./wire.ts";

export const PAGE_LIMIT = 100;

export interface DiscoveryResult {
  markets: MarketInfo[];
  /** Rejections by reason (bad_market, bad_token_ids, token_outcome_mismatch…). */
  rejected: Record<string, number>;
  /**
   * Markets that are not tradable by design, by reason: `placeholder` (empty conditionId, no clobTokenIds: skipped)
   * and `no_order_book` (enableOrderBook false: kept in the universe with the flag, never scheduled).
   */
  notTradable: Record<string, number>;
  pages: number;
  /** "keyset" or "offset" (fallback). */
  mode: "keyset" | "offset";
  /** Set when pagination stopped early because the venue repeated a cursor or a page. */
  stoppedOnRepeat: boolean;
}

export interface DiscoverParams {
  gammaUrl: string;
  rest: PacedRest;
  venue: string;
  limit?: number;
  signal?: AbortSignal;
}

export async function discoverMarkets(p: DiscoverParams): Promise<DiscoveryResult> {
  const r: DiscoveryResult = {
    markets: [],
    rejected: {},
    notTradable: {},
    pages: 0,
    mode: "keyset",
    stoppedOnRepeat: false,
  };
  const limit = p.limit ?? Infinity;
  const seenIds = new Set<string>();
  const add = (raw: unknown[]): void => {
    for (const m of raw) {
      if (r.markets.length >= limit) return;
      const info = toMarketInfo(m, p.venue);
      if (typeof info === "string") {
        const into = info === PLACEHOLDER ? r.notTradable : r.rejected;
        into[info] = (into[info] ?? 0) + 1;
      } else if (!seenIds.has(info.market_id)) {
        seenIds.add(info.market_id);
        r.markets.push(info);
        if (info.extra?.enableOrderBook === false)
          r.notTradable[NO_ORDER_BOOK] = (r.notTradable[NO_ORDER_BOOK] ?? 0) + 1;
      }
    }
  };

  const seenCursors = new Set<string>();
  let prevFirst: string | undefined;
  let cursor: string | undefined;
  for (;;) {
    const u = new URL(`${p.gammaUrl.replace(/\/$/, "")}/markets/keyset`);
    u.searchParams.set("limit", String(PAGE_LIMIT));
    u.searchParams.set("closed", "false");
    u.searchParams.set("include_tag", "true");
    if (cursor !== undefined) u.searchParams.set("after_cursor", cursor);
    let body: unknown;
    try {
      body = await p.rest.getJson(u, p.signal);
    } catch (e) {
      if (r.pages === 0 && e instanceof HttpError && (e.status === 404 || e.status === 410))
        return discoverByOffset(p, r, add);
      throw e;
    }
    const page = v.safeParse(GammaKeysetPage, body);
    if (!page.success) {
      if (r.pages === 0 && Array.isArray(body)) return discoverByOffset(p, r, add);
      throw new Error(`Gamma /markets/keyset: unexpected answer (${v.summarize(page.issues).slice(0, 200)})`);
    }
    r.pages++;
    const first = firstId(page.output.markets);
    // A server that ignores the cursor hands back page one again: stop rather than loop.
    if (r.pages > 1 && first !== undefined && first === prevFirst) {
      r.stoppedOnRepeat = true;
      break;
    }
    prevFirst = first;
    add(page.output.markets);
    const next = page.output.next_cursor;
    if (!next || r.markets.length >= limit || page.output.markets.length === 0) break;
    if (seenCursors.has(next)) {
      r.stoppedOnRepeat = true;
      break;
    }
    seenCursors.add(next);
    cursor = next;
  }
  return r;
}

async function discoverByOffset(
  p: DiscoverParams,
  r: DiscoveryResult,
  add: (raw: unknown[]) => void,
): Promise<DiscoveryResult> {
  r.mode = "offset";
  r.pages = 0;
  const limit = p.limit ?? Infinity;
  let prevFirst: string | undefined;
  for (let offset = 0; ; offset += PAGE_LIMIT) {
    const u = new URL(`${p.gammaUrl.replace(/\/$/, "")}/markets`);
    u.searchParams.set("limit", String(PAGE_LIMIT));
    u.searchParams.set("offset", String(offset));
    u.searchParams.set("closed", "false");
    u.searchParams.set("include_tag", "true");
    const body = await p.rest.getJson(u, p.signal);
    if (!Array.isArray(body)) throw new Error("Gamma /markets: expected an array");
    r.pages++;
    const first = firstId(body);
    if (r.pages > 1 && first !== undefined && first === prevFirst) {
      r.stoppedOnRepeat = true;
      break;
    }
    prevFirst = first;
    add(body);
    if (body.length < PAGE_LIMIT || r.markets.length >= limit) break;
  }
  return r;
}

function firstId(markets: unknown[]): string | undefined {
  const m = markets[0] as { conditionId?: unknown } | undefined;
  return typeof m?.conditionId === "string" ? m.conditionId : undefined;
}

function jsonStringArray(s: string): string[] | null {
  try {
    const a: unknown = JSON.parse(s);
    return Array.isArray(a) && a.every((x) => typeof x === "string" && x.length > 0) ? (a as string[]) : null;
  } catch {
    return null;
  }
}

function num(x: string | number | null | undefined): number | null {
  if (x === null || x === undefined || x === "") return null;
  const n = Number(x);
  return Number.isFinite(n) ? n : null;
}

function isoMs(s: string | null | undefined): number | null {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** Reasons counted under `notTradable`. */
export const PLACEHOLDER = "placeholder";
export const NO_ORDER_BOOK = "no_order_book";

/** An event's placeholder market: an empty conditionId and no token ids. Not tradable, and not a malformed market. */
function isPlaceholder(raw: unknown): boolean {
  if (typeof raw !== "object" || raw === null) return false;
  const m = raw as { conditionId?: unknown; clobTokenIds?: unknown };
  const noTokens =
    m.clobTokenIds === undefined || m.clobTokenIds === null || m.clobTokenIds === "" || m.clobTokenIds === "[]";
  return m.conditionId === "" && noTokens;
}

/** One Gamma market → MarketInfo, or the rejection reason (`placeholder` for an event's placeholder market). */
export function toMarketInfo(raw: unknown, venue: string): MarketInfo | string {
  if (isPlaceholder(raw)) return PLACEHOLDER;
  const parsed = v.safeParse(GammaMarket, raw);
  if (!parsed.success) return "bad_market";
  const m = parsed.output;
  const tokens = jsonStringArray(m.clobTokenIds);
  if (!tokens || tokens.length === 0) return "bad_token_ids";
  const outcomes = jsonStringArray(m.outcomes);
  if (!outcomes) return "bad_outcomes";
  if (outcomes.length !== tokens.length) return "token_outcome_mismatch";
  const tags = new Set<string>();
  for (const t of [...(m.tags ?? []), ...(m.events ?? []).flatMap((e) => e.tags ?? [])]) {
    const name = t.label ?? t.slug;
    if (name) tags.add(name);
  }
  const status = m.closed
    ? "closed"
    : m.active === false
      ? "inactive"
      : m.acceptingOrders === false
        ? "paused"
        : "active";
  return {
    venue,
    market_id: m.conditionId,
    outcome_ids: tokens,
    title: m.question ?? m.slug ?? m.conditionId,
    close_ts: isoMs(m.endDate),
    status,
    tags: [...tags],
    created_ts: isoMs(m.createdAt),
    extra: {
      slug: m.slug ?? null,
      outcomes,
      volume: num(m.volumeNum ?? m.volume),
      liquidity: num(m.liquidityNum ?? m.liquidity),
      // Only when the venue says so: `false` keeps the market out of every subscription (scheduler/selection.ts).
      ...(typeof m.enableOrderBook === "boolean" ? { enableOrderBook: m.enableOrderBook } : {}),
      ...(typeof m.negRisk === "boolean" ? { negRisk: m.negRisk } : {}),
      ...(num(m.orderPriceMinTickSize) !== null ? { tickSize: num(m.orderPriceMinTickSize) } : {}),
      ...(m.closedTime ? { closedTime: m.closedTime } : {}),
    },
  };
}
