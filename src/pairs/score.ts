/**
 * How alike two markets of different venues are, from what their universe lines hold: title similarity (IDF-weighted
 * token overlap after normalisation), numbers and dates in the titles, close times, tags; and which outcome of one is
 * which of the other (orientation). Pure.
 */
import type { MarketInfo } from "../market.ts";
import { type NormalTitle, normalizeTitle } from "./normalize.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** "same": A's outcome k is B's outcome k; "flipped": A's first (YES) is B's second (NO) and vice versa. */
export type Orientation = "same" | "flipped";

/** A market prepared once for scoring. */
export interface MarketView {
  market: MarketInfo;
  norm: NormalTitle;
  tokenSet: Set<string>;
  tags: Set<string>;
  /** Whether the first outcome is a YES or a NO, when its label says so. */
  first: "yes" | "no" | undefined;
}

export function viewOf(market: MarketInfo): MarketView {
  const labels = Array.isArray(market.extra?.outcomes) ? (market.extra.outcomes as unknown[]) : market.outcome_ids;
  const l0 = String(labels[0] ?? "").toLowerCase();
  const first = /(^|[-_ :.])yes$/.test(l0) ? "yes" : /(^|[-_ :.])no$/.test(l0) ? "no" : undefined;
  const norm = normalizeTitle(market.title ?? "", market.close_ts);
  return {
    market,
    norm,
    tokenSet: new Set(norm.tokens),
    tags: new Set(market.tags.map((t) => t.toLowerCase())),
    first,
  };
}

export interface ScoreOptions {
  /** Close times this close count as the same (venues close the same question at different hours). */
  closeToleranceMs: number;
}

export interface PairScore {
  score: number;
  reasons: string[];
  orientation: Orientation;
}

const WEIGHTS = { title: 0.7, close: 0.2, tags: 0.1 };
const round = (x: number, d = 3) => Number(x.toFixed(d));
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Share of the token weight the two titles have in common (weighted Jaccard). */
export function titleSimilarity(
  a: NormalTitle,
  b: NormalTitle,
  weight: (t: string) => number,
  inA: ReadonlySet<string> = new Set(a.tokens),
  inB: ReadonlySet<string> = new Set(b.tokens),
): number {
  let common = 0;
  let all = 0;
  for (const t of a.tokens) {
    const w = weight(t);
    all += w;
    if (inB.has(t)) common += w;
  }
  for (const t of b.tokens) if (!inA.has(t)) all += weight(t);
  return all > 0 ? common / all : 0;
}

/** 1 within the tolerance, falling linearly to 0 at a week beyond it. */
export function closeSimilarity(a: number, b: number, toleranceMs: number): number {
  const d = Math.abs(a - b);
  if (d <= toleranceMs) return 1;
  return Math.max(0, 1 - (d - toleranceMs) / (7 * DAY));
}

/**
 * The pair's score in [0,1], its reasons (human-readable) and the orientation. `explain = false` skips the reasons
 * (the matcher scores many pairs and explains the few it keeps).
 */
export function scorePair(
  a: MarketView,
  b: MarketView,
  weight: (t: string) => number,
  o: ScoreOptions,
  explain = true,
): PairScore {
  const reasons: string[] = [];
  const title = titleSimilarity(a.norm, b.norm, weight, a.tokenSet, b.tokenSet);
  if (explain) {
    const shared = a.norm.tokens.filter((t) => b.tokenSet.has(t));
    reasons.push(`title ${round(title, 2)} (shared: ${shared.join(" ") || "none"})`);
  }
  let wTitle = WEIGHTS.title;
  let sum = 0;
  let wSum = 0;
  const ca = a.market.close_ts;
  const cb = b.market.close_ts;
  if (ca !== null && cb !== null) {
    const c = closeSimilarity(ca, cb, o.closeToleranceMs);
    sum += WEIGHTS.close * c;
    wSum += WEIGHTS.close;
    if (explain) reasons.push(`close ${round(Math.abs(ca - cb) / HOUR, 1)} h apart`);
  } else wTitle += WEIGHTS.close;
  if (a.tags.size > 0 && b.tags.size > 0) {
    let n = 0;
    for (const t of a.tags) if (b.tags.has(t)) n++;
    const g = n / (a.tags.size + b.tags.size - n);
    sum += WEIGHTS.tags * g;
    wSum += WEIGHTS.tags;
    if (explain && n > 0) reasons.push(`tags ${n} shared`);
  } else wTitle += WEIGHTS.tags;
  let score = (wTitle * title + sum) / (wTitle + wSum);

  // Different thresholds or dates make different questions, however alike the words.
  const na = a.norm.numbers;
  const nb = b.norm.numbers;
  if (na.length > 0 && nb.length > 0) {
    const common = na.filter((x) => nb.includes(x)).length;
    if (common === 0) {
      score *= 0.4;
      if (explain) reasons.push(`numbers differ (${na.join(",")} vs ${nb.join(",")})`);
    } else if (common < Math.max(na.length, nb.length)) score *= 0.85;
  }
  const da = a.norm.days;
  const db = b.norm.days;
  if (da.length > 0 && db.length > 0) {
    if (!da.some((x) => db.some((y) => Math.abs(x - y) <= DAY))) {
      score *= 0.4;
      if (explain) reasons.push(`dates differ (${da.map(isoDay).join(",")} vs ${db.map(isoDay).join(",")})`);
    } else if (da.some((x) => db.includes(x))) {
      if (explain) reasons.push(`same date ${isoDay(da.find((x) => db.includes(x))!)}`);
    } else {
      score *= 0.9;
      if (explain) reasons.push(`dates a day apart (${da.map(isoDay).join(",")} vs ${db.map(isoDay).join(",")})`);
    }
  }

  // Orientation: the outcome labels (YES first or NO first), then whether one title asks the complement.
  let flip = false;
  if (a.first && b.first && a.first !== b.first) {
    flip = true;
    if (explain) reasons.push(`outcomes listed in opposite order (${a.first} first vs ${b.first} first)`);
  }
  if (a.norm.polarity !== b.norm.polarity) {
    flip = !flip;
    if (explain) reasons.push(`complement asked (${a.norm.comparator ?? "not"} vs ${b.norm.comparator ?? "not"})`);
  }
  return { score: round(score), reasons, orientation: flip ? "flipped" : "same" };
}
