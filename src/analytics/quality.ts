/**
 * Book quality figures, pure and mergeable: crossed (best bid > best ask) and locked (=) snapshot counts per book,
 * and for binary markets the YES/NO parity deviation of paired snapshots. Called by the miner's pass and merged
 * like the other partial sums; books are measured as recorded (a crossed book is never "fixed").
 */

/** Deviations are kept on a 1e-6 grid: an exact histogram (prices sit on ticks) for the p95, a few distinct values. */
const GRID = 1e6;

/** Per-book quality sums. The parity part is filled on the market's first outcome ("yes", else the smaller id). */
export interface QualityAcc {
  nCrossed: number;
  nLocked: number;
  /** Pairs measured for `first_bid + other_ask − 1` and `first_ask + other_bid − 1`, |deviation| sums, histograms. */
  nParBid: number;
  sumParBid: number;
  parBid: Map<number, number>;
  nParAsk: number;
  sumParAsk: number;
  parAsk: Map<number, number>;
}

export function newQuality(): QualityAcc {
  return {
    nCrossed: 0,
    nLocked: 0,
    nParBid: 0,
    sumParBid: 0,
    parBid: new Map(),
    nParAsk: 0,
    sumParAsk: 0,
    parAsk: new Map(),
  };
}

/** Counts one snapshot's top of book (NaN = side empty): crossed when bid > ask, locked when equal. */
export function addTop(q: QualityAcc, bidPx: number, askPx: number): void {
  if (bidPx > askPx) q.nCrossed++;
  else if (bidPx === askPx) q.nLocked++;
}

/** The parity deviations of one pair of snapshots of a binary market's two outcome books, added to `q`. */
export function addParity(q: QualityAcc, firstBid: number, firstAsk: number, otherBid: number, otherAsk: number): void {
  const b = firstBid + otherAsk - 1;
  if (b === b) {
    const r = Math.round(Math.abs(b) * GRID) / GRID;
    q.nParBid++;
    q.sumParBid += r;
    q.parBid.set(r, (q.parBid.get(r) ?? 0) + 1);
  }
  const a = firstAsk + otherBid - 1;
  if (a === a) {
    const r = Math.round(Math.abs(a) * GRID) / GRID;
    q.nParAsk++;
    q.sumParAsk += r;
    q.parAsk.set(r, (q.parAsk.get(r) ?? 0) + 1);
  }
}

/** Which of a binary market's two outcome ids plays YES: the one named yes, else the smaller id. */
export function firstOutcome(a: string, b: string): string {
  if (a.toLowerCase() === "yes") return a;
  if (b.toLowerCase() === "yes") return b;
  return a < b ? a : b;
}

export function mergeQuality(into: QualityAcc, next: QualityAcc): void {
  into.nCrossed += next.nCrossed;
  into.nLocked += next.nLocked;
  into.nParBid += next.nParBid;
  into.sumParBid += next.sumParBid;
  into.nParAsk += next.nParAsk;
  into.sumParAsk += next.sumParAsk;
  for (const [v, c] of next.parBid) into.parBid.set(v, (into.parBid.get(v) ?? 0) + c);
  for (const [v, c] of next.parAsk) into.parAsk.set(v, (into.parAsk.get(v) ?? 0) + c);
}

/** Nearest-rank percentile (the smallest value with at least p of the counts at or below it); null when empty. */
export function percentileOfCounts(counts: Map<number, number>, p: number): number | null {
  const entries = [...counts].sort((x, y) => x[0] - y[0]);
  const total = entries.reduce((s, [, c]) => s + c, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [v, c] of entries) {
    seen += c;
    if (seen >= rank) return v;
  }
  return entries[entries.length - 1][0];
}

/** The quality columns of a book's stats row. */
export interface QualityMetrics {
  share_crossed: number;
  share_locked: number;
  parity_pairs: number;
  parity_bid_mean_abs: number | null;
  parity_bid_p95: number | null;
  parity_ask_mean_abs: number | null;
  parity_ask_p95: number | null;
}

/** The quality columns of a book never measured (rows built by hand, tests). */
export const NO_QUALITY: QualityMetrics = {
  share_crossed: 0,
  share_locked: 0,
  parity_pairs: 0,
  parity_bid_mean_abs: null,
  parity_bid_p95: null,
  parity_ask_mean_abs: null,
  parity_ask_p95: null,
};

/** Shares over the book's `snapshots`; parity from the market's pairs (`parity` = the first outcome's sums). */
export function qualityMetrics(q: QualityAcc, snapshots: number, parity: QualityAcc | undefined): QualityMetrics {
  const p = parity ?? q;
  return {
    share_crossed: snapshots > 0 ? q.nCrossed / snapshots : 0,
    share_locked: snapshots > 0 ? q.nLocked / snapshots : 0,
    parity_pairs: Math.max(p.nParBid, p.nParAsk),
    parity_bid_mean_abs: p.nParBid > 0 ? p.sumParBid / p.nParBid : null,
    parity_bid_p95: percentileOfCounts(p.parBid, 0.95),
    parity_ask_mean_abs: p.nParAsk > 0 ? p.sumParAsk / p.nParAsk : null,
    parity_ask_p95: percentileOfCounts(p.parAsk, 0.95),
  };
}

/** When a book is listed as suspect: any crossed snapshot, locked ≥ 5 %, or a parity p95 above 5 cents. */
export const SUSPECT = { crossed: 0, locked: 0.05, parityP95: 0.05 } as const;

/** Why a book is suspect ("" when it is not). */
export function suspectReason(q: Partial<QualityMetrics>): string {
  const m = { ...NO_QUALITY, ...q };
  const why: string[] = [];
  if (m.share_crossed > SUSPECT.crossed) why.push(`crossed ${(m.share_crossed * 100).toFixed(2)}%`);
  if (m.share_locked >= SUSPECT.locked) why.push(`locked ${(m.share_locked * 100).toFixed(2)}%`);
  const p95 = Math.max(m.parity_bid_p95 ?? 0, m.parity_ask_p95 ?? 0);
  if (p95 > SUSPECT.parityP95) why.push(`parity p95 ${p95.toFixed(4)}`);
  return why.join(", ");
}

export function qualityToJson(q: QualityAcc): Record<string, unknown> {
  return { ...q, parBid: [...q.parBid], parAsk: [...q.parAsk] };
}

export function qualityFromJson(o: unknown): QualityAcc {
  const q = newQuality();
  if (typeof o !== "object" || o === null) return q;
  const r = o as Record<string, unknown>;
  const n = (k: string) => (typeof r[k] === "number" ? (r[k] as number) : 0);
  q.nCrossed = n("nCrossed");
  q.nLocked = n("nLocked");
  q.nParBid = n("nParBid");
  q.sumParBid = n("sumParBid");
  q.nParAsk = n("nParAsk");
  q.sumParAsk = n("sumParAsk");
  q.parBid = new Map(Array.isArray(r.parBid) ? (r.parBid as [number, number][]) : []);
  q.parAsk = new Map(Array.isArray(r.parAsk) ? (r.parAsk as [number, number][]) : []);
  return q;
}
