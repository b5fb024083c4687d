/**
 * Paired books compared: for one confirmed pair, the top of book of A's first outcome against B's matching outcome
 * (oriented), as mid differences, a "crossable" share and a lead/lag from the cross-correlation of mid changes. Pure.
 */

/** One book's snapshots in time order (prices 0..1, NaN when the side is empty). */
export interface BookSeries {
  ts: number[];
  bid: number[];
  ask: number[];
  mid: number[];
}

export interface PairMetrics {
  snapshots_a: number;
  snapshots_b: number;
  /** Snapshots of A with a snapshot of B within one interval (the nearest one). */
  matched: number;
  /** Mean and median of mid(A) − mid(B) over matched snapshots with both mids (null when none). */
  mean_mid_diff: number | null;
  median_mid_diff: number | null;
  /** Share of matched snapshots with both sides on both books where one venue's best bid exceeds the other's best ask. */
  crossable_share: number | null;
  /** Of those, where A's bid exceeds B's ask, and where B's bid exceeds A's ask. */
  a_bid_over_b_ask_share: number | null;
  b_bid_over_a_ask_share: number | null;
  /** Positive: B's mid moves this many seconds after A's (A leads); negative: B leads. Null without a correlation. */
  lead_lag_secs: number | null;
  /** The correlation of mid changes at that lag. */
  lead_lag_corr: number | null;
}

/** B's first-outcome book as seen from A when the pair is flipped: B's YES bid at p is a NO ask at 1 − p. */
export function orient(s: BookSeries, flipped: boolean): BookSeries {
  if (!flipped) return s;
  return {
    ts: s.ts,
    bid: s.ask.map((x) => 1 - x),
    ask: s.bid.map((x) => 1 - x),
    mid: s.mid.map((x) => 1 - x),
  };
}

export interface PairMetricOptions {
  /** Two snapshots pair up when taken at most this far apart (one snapshot interval). */
  intervalMs: number;
  /** Grid step of the lead/lag resampling (default: intervalMs). */
  stepMs?: number;
  /** Largest lead or lag tried (default 60 s). */
  maxLagMs?: number;
}

const fin = Number.isFinite;

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Index of B's snapshot nearest to each of A's (two pointers over both time orders); -1 when B has none. */
function nearest(a: number[], b: number[]): number[] {
  const out = new Array<number>(a.length).fill(-1);
  if (b.length === 0) return out;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    while (j + 1 < b.length && Math.abs(b[j + 1] - a[i]) <= Math.abs(b[j] - a[i])) j++;
    out[i] = j;
  }
  return out;
}

/** Last mid at or before each grid time (NaN before the first finite one). */
function resample(s: BookSeries, start: number, step: number, n: number): Float64Array {
  const out = new Float64Array(n).fill(Number.NaN);
  let j = 0;
  let last = Number.NaN;
  for (let k = 0; k < n; k++) {
    const t = start + k * step;
    while (j < s.ts.length && s.ts[j] <= t) {
      if (fin(s.mid[j])) last = s.mid[j];
      j++;
    }
    out[k] = last;
  }
  return out;
}

function correlation(x: Float64Array, y: Float64Array, lag: number): { r: number; n: number } {
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let k = Math.max(0, -lag); k < x.length && k + lag < y.length; k++) {
    const a = x[k];
    const b = y[k + lag];
    if (!fin(a) || !fin(b)) continue;
    n++;
    sx += a;
    sy += b;
    sxx += a * a;
    syy += b * b;
    sxy += a * b;
  }
  if (n < 3) return { r: Number.NaN, n };
  const cov = sxy - (sx * sy) / n;
  const vx = sxx - (sx * sx) / n;
  const vy = syy - (sy * sy) / n;
  return { r: vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : Number.NaN, n };
}

/**
 * Lead/lag from the cross-correlation of mid changes on a common grid: the lag (in steps, B after A) whose
 * correlation is highest, ties to the smallest |lag|; null when no lag correlates positively.
 */
export function leadLag(
  a: BookSeries,
  b: BookSeries,
  stepMs: number,
  maxLagMs: number,
): { secs: number; corr: number } | null {
  if (a.ts.length < 2 || b.ts.length < 2) return null;
  const start = Math.max(a.ts[0], b.ts[0]);
  const end = Math.min(a.ts[a.ts.length - 1], b.ts[b.ts.length - 1]);
  const n = Math.floor((end - start) / stepMs) + 1;
  if (n < 4) return null;
  const va = resample(a, start, stepMs, n);
  const vb = resample(b, start, stepMs, n);
  const da = new Float64Array(n - 1);
  const db = new Float64Array(n - 1);
  for (let k = 1; k < n; k++) {
    da[k - 1] = va[k] - va[k - 1];
    db[k - 1] = vb[k] - vb[k - 1];
  }
  const maxLag = Math.floor(maxLagMs / stepMs);
  let best: { lag: number; r: number } | null = null;
  for (let d = 0; d <= maxLag; d++) {
    for (const lag of d === 0 ? [0] : [d, -d]) {
      const { r } = correlation(da, db, lag);
      if (fin(r) && r > 0 && (best === null || r > best.r + 1e-12)) best = { lag, r };
    }
  }
  return best ? { secs: (best.lag * stepMs) / 1000, corr: best.r } : null;
}

/** The paired metrics of A's book and B's book (already oriented to A's outcome). */
export function pairMetrics(a: BookSeries, b: BookSeries, o: PairMetricOptions): PairMetrics {
  const near = nearest(a.ts, b.ts);
  const diffs: number[] = [];
  let matched = 0;
  let quoted = 0;
  let aOver = 0;
  let bOver = 0;
  let either = 0;
  for (let i = 0; i < a.ts.length; i++) {
    const j = near[i];
    if (j < 0 || Math.abs(b.ts[j] - a.ts[i]) > o.intervalMs) continue;
    matched++;
    if (fin(a.mid[i]) && fin(b.mid[j])) diffs.push(a.mid[i] - b.mid[j]);
    if (fin(a.bid[i]) && fin(a.ask[i]) && fin(b.bid[j]) && fin(b.ask[j])) {
      quoted++;
      const x = a.bid[i] > b.ask[j];
      const y = b.bid[j] > a.ask[i];
      if (x) aOver++;
      if (y) bOver++;
      if (x || y) either++;
    }
  }
  const ll = leadLag(a, b, o.stepMs ?? o.intervalMs, o.maxLagMs ?? 60_000);
  return {
    snapshots_a: a.ts.length,
    snapshots_b: b.ts.length,
    matched,
    mean_mid_diff: diffs.length > 0 ? diffs.reduce((s, x) => s + x, 0) / diffs.length : null,
    median_mid_diff: median(diffs),
    crossable_share: quoted > 0 ? either / quoted : null,
    a_bid_over_b_ask_share: quoted > 0 ? aOver / quoted : null,
    b_bid_over_a_ask_share: quoted > 0 ? bOver / quoted : null,
    lead_lag_secs: ll?.secs ?? null,
    lead_lag_corr: ll?.corr ?? null,
  };
}

/** Both mids over time for a chart: bucket starts and each book's mean mid per bucket (null: no mid in it). */
export interface PairChart {
  t: number[];
  bucketMs: number;
  a: (number | null)[];
  b: (number | null)[];
}

/** Means per bucket of `bucketMs` from `from`, at most maxPoints buckets (the width grows to fit). */
export function pairChart(a: BookSeries, b: BookSeries, from: number, to: number, maxPoints = 720): PairChart {
  const start = Math.min(a.ts[0] ?? Infinity, b.ts[0] ?? Infinity, to);
  const first = Math.max(from, Number.isFinite(start) ? start : from);
  const last = Math.max(a.ts[a.ts.length - 1] ?? -Infinity, b.ts[b.ts.length - 1] ?? -Infinity);
  const span = Math.max(1, (Number.isFinite(last) ? last : first) - first + 1);
  const bucketMs = Math.max(60_000, Math.ceil(span / maxPoints / 60_000) * 60_000);
  const n = Math.max(1, Math.ceil(span / bucketMs));
  const means = (s: BookSeries) => {
    const sum = new Float64Array(n);
    const cnt = new Uint32Array(n);
    for (let i = 0; i < s.ts.length; i++) {
      const k = Math.floor((s.ts[i] - first) / bucketMs);
      if (k < 0 || k >= n || !fin(s.mid[i])) continue;
      sum[k] += s.mid[i];
      cnt[k]++;
    }
    return Array.from(sum, (x, k) => (cnt[k] > 0 ? x / cnt[k] : null));
  };
  return { t: Array.from({ length: n }, (_, k) => first + k * bucketMs), bucketMs, a: means(a), b: means(b) };
}
