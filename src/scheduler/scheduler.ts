/**
 * The target subscription set per venue: HOT (best ranked, stable across rotations) + WARM (the rest up to
 * max_subs_per_venue), rotated every rotation_period_secs. Pure: the next set is a function of the universe, the
 * scores, the time and the previous set.
 *
 * WARM walks a fixed circle of the non-HOT eligible markets (ordered by a hash of market_id): at each rotation
 * the `rotationStep` longest-watched WARM markets leave and the next ones on the circle join. The step is sized
 * to the churn limit, so the collector can actually apply each rotation in its period; every eligible market is
 * watched within ceil((eligible - hot - warm) / step) + 1 periods (ceil(eligible_rest / warm) when the churn limit
 * allows replacing all of WARM each period). A universe change moves WARM by about one market per market changed.
 */
import type { CollectSettings } from "../config.ts";
import type { MarketInfo, MarketRef } from "../venue/types.ts";
import { rankMarkets } from "./scoring.ts";

export interface TargetSet {
  hot: MarketRef[];
  /** Oldest member first: the next rotation evicts from the front. */
  warm: MarketRef[];
  /** Rotation epoch this set was computed for. */
  epoch: number;
  /** Circle position of the last market that joined WARM (where the next rotation continues), -1 before any. */
  cursor: number;
}

export interface TargetInput {
  universe: MarketInfo[];
  /** The miner's per-market score (higher is better); without it HOT is ranked by closing time / recency. */
  scores?: Map<string, number>;
  now: number;
  settings: CollectSettings;
  /** The set computed before; without it a fresh WARM window is placed from the epoch. */
  previous?: TargetSet;
  /** Overrides the epoch derived from `now` (tests, replays). */
  epoch?: number;
}

/** The rotation epoch `now` falls in: periods counted from the Unix epoch, so every process agrees on boundaries. */
export function rotationEpoch(now: number, s: Pick<CollectSettings, "rotation_period_secs">): number {
  return Math.floor(now / (s.rotation_period_secs * 1000));
}

/** When the next rotation is due (the start of the next epoch). */
export function nextRotationAt(now: number, s: Pick<CollectSettings, "rotation_period_secs">): number {
  return (rotationEpoch(now, s) + 1) * s.rotation_period_secs * 1000;
}

/**
 * WARM markets swapped per rotation: three quarters of the churn a period allows (a swap is two changes, the rest
 * is headroom for HOT changes, resyncs and watchdog resubscribes), at least 1, at most the WARM size.
 */
export function rotationStep(
  s: Pick<CollectSettings, "subscription_churn_limit_per_minute" | "rotation_period_secs">,
  warmSize: number,
): number {
  const changesPerPeriod = (s.subscription_churn_limit_per_minute * s.rotation_period_secs) / 60;
  return Math.max(1, Math.min(warmSize, Math.floor((changesPerPeriod * 0.75) / 2)));
}

/** FNV-1a of the market id: the market's fixed place on the rotation circle. */
export function circlePos(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const ref = (m: MarketInfo): MarketRef => ({ market_id: m.market_id, outcome_ids: m.outcome_ids });

export function computeTargets(input: TargetInput): TargetSet {
  const { settings: s, now, previous } = input;
  const epoch = input.epoch ?? rotationEpoch(now, s);
  const ranked = rankMarkets(input.universe, now, input.scores);
  const hotN = Math.min(s.hot_count, s.max_subs_per_venue, ranked.length);
  const hot = ranked.slice(0, hotN);

  // The rest, on the circle.
  const rest = ranked.slice(hotN).map((m) => ({ m, pos: circlePos(m.market_id) }));
  rest.sort((a, b) => a.pos - b.pos || (a.m.market_id < b.m.market_id ? -1 : 1));
  const warmSize = Math.min(s.max_subs_per_venue - hotN, rest.length);
  const inRest = new Map(rest.map((r) => [r.m.market_id, r.m]));

  // Keep the previous WARM members that are still eligible and not HOT, oldest first; evict for the rotation.
  let keep: MarketInfo[] = [];
  let cursor = previous?.cursor ?? -1;
  if (previous && warmSize < rest.length) {
    for (const w of previous.warm) {
      const m = inRest.get(w.market_id);
      if (m) keep.push(m);
    }
    const elapsed = Math.max(0, epoch - previous.epoch);
    const evict = Math.min(keep.length, elapsed * rotationStep(s, warmSize) + Math.max(0, keep.length - warmSize));
    keep = keep.slice(evict);
  } else if (!previous) {
    // A fresh start begins somewhere on the circle that depends on the epoch, deterministically.
    cursor = (Math.imul(epoch, 0x9e3779b1) >>> 0) - 1;
  }

  let warm: MarketInfo[];
  if (warmSize >= rest.length) warm = rest.map((r) => r.m);
  else {
    warm = keep;
    const taken = new Set(keep.map((m) => m.market_id));
    // Continue after the cursor (wrapping), adding markets not yet in WARM.
    let start = rest.findIndex((r) => r.pos > cursor);
    if (start < 0) start = 0;
    for (let k = 0; k < rest.length && warm.length < warmSize; k++) {
      const r = rest[(start + k) % rest.length];
      if (taken.has(r.m.market_id)) continue;
      taken.add(r.m.market_id);
      warm.push(r.m);
      cursor = r.pos;
    }
  }
  return { hot: hot.map(ref), warm: warm.map(ref), epoch, cursor };
}

/** Holds the previous set so each call continues the rotation (what the collector's `targets(now)` needs). */
export class Scheduler {
  private previous: TargetSet | undefined;
  constructor(private readonly settings: CollectSettings) {}

  targets(now: number, universe: MarketInfo[], scores?: Map<string, number>): TargetSet {
    this.previous = computeTargets({ universe, scores, now, settings: this.settings, previous: this.previous });
    return this.previous;
  }
}
