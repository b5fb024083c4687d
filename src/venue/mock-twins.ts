/**
 * Mock twins: a mock venue with `twin_of = "OTHER"` makes `twin_share` of its markets the same questions as OTHER's
 * (reworded titles, close shifted by hours, maybe the complement asked), with books whose mid follows the source's
 * fair value after a lag. The truth is in the twin's `extra.twin_of`, a ground truth for the pairs matcher.
 */

const HOUR = 3_600_000;
/** How far a moving fair value jumps from its base, in ticks (cents). */
const MOVE_TICKS = 15;

export interface TwinTruth {
  venue: string;
  market_id: string;
  /** "flipped": this market's first outcome (YES) is the source's second (NO). */
  orientation: "same" | "flipped";
  /** This market's fair value is the source's this many ms earlier. */
  lag_ms: number;
}

/** 32-bit mix of three integers. */
function mix(a: number, b: number, c: number): number {
  let h =
    Math.imul(a ^ 0x27d4eb2f, 0x85ebca6b) ^
    Math.imul(b + 0x165667b1, 0xc2b2ae35) ^
    Math.imul(c ^ 0x9e3779b9, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
const unit = (a: number, b: number, c: number) => mix(a, b, c) / 4294967296;

/**
 * A market's moving fair value (YES mid in ticks) at time t: one jump per slot of 1/moves_per_hour hours, at a
 * seeded offset inside the slot, to a seeded level within ±MOVE_TICKS of `base`. Pure and stateless in t, so a twin
 * can read the source's value at any earlier time.
 */
export function fairValue(seed: number, market: number, base: number, movesPerHour: number, t: number): number {
  if (!(movesPerHour > 0)) return base;
  const slot = HOUR / movesPerHour;
  const k = Math.floor(t / slot);
  const jump = k * slot + unit(seed, market, 2 * k) * slot;
  return levelOf(seed, market, base, t >= jump ? k : k - 1);
}

function levelOf(seed: number, market: number, base: number, k: number): number {
  const l = base + Math.round((unit(seed, market, 2 * k + 1) - 0.5) * 2 * MOVE_TICKS);
  return Math.max(3, Math.min(97, l));
}

/** The first jump of the fair value strictly after t (Infinity when it never moves). */
export function nextMove(seed: number, market: number, movesPerHour: number, t: number): number {
  if (!(movesPerHour > 0)) return Infinity;
  const slot = HOUR / movesPerHour;
  const k = Math.floor(t / slot);
  const jump = k * slot + unit(seed, market, 2 * k) * slot;
  return jump > t ? jump : (k + 1) * slot + unit(seed, market, 2 * k + 2) * slot;
}

/** Which of the twin's markets copy which of the source's: `count` pairs (twin index, source index), seeded. */
export function twinPairs(seed: number, twinSize: number, sourceSize: number, share: number): [number, number][] {
  const count = Math.min(sourceSize, Math.round(share * twinSize));
  const order = (n: number, salt: number) =>
    Array.from({ length: n }, (_, i) => i).sort((a, b) => mix(seed, a, salt) - mix(seed, b, salt) || a - b);
  const js = order(twinSize, 11);
  const is = order(sourceSize, 13);
  return Array.from({ length: count }, (_, k) => [js[k], is[k]] as [number, number]);
}

/** Per twin market: the source market and how it follows it (orientation, lag, close shift, offset). */
export interface TwinLink {
  source: number;
  flipped: boolean;
  lagMs: number;
  closeShiftMs: number;
  offsetTicks: number;
}

export function twinLink(seed: number, j: number, source: number, canFlip: boolean): TwinLink {
  const u = (c: number) => unit(seed ^ 0x51ed270b, j, c);
  return {
    source,
    flipped: canFlip && u(1) < 0.4,
    lagMs: Math.round(2000 + u(2) * 28_000),
    // Close times differ by up to ±6 h (venues close the same question at different hours).
    closeShiftMs: Math.round((u(3) - 0.5) * 12 * HOUR),
    offsetTicks: Math.floor(u(4) * 3) - 1,
  };
}
