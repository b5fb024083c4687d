/**
 * The target set per venue, pure: pins, then HOT (best ranked, stable) + WARM walking a fixed hash-ordered circle of
 * the other eligible markets, `rotationStep` swapped per rotation period (sized to the churn limit). How long a full
 * pass takes and how a universe change moves WARM: docs/collecting.md.
 */
import type { CollectSettings } from "../config.ts";
import type { MarketInfo, MarketRef } from "../market.ts";
import { rankTop } from "./scoring.ts";
import { SELECTION_DEFAULTS, type SelectionSettings } from "./selection-config.ts";
import { type Selection, selectMarkets } from "./selection.ts";

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
  /** Pins and eligible markets (selectMarkets); without it every open market with an order book is eligible. */
  selection?: Selection;
  /** circleOrder(universe), kept by the caller across rotations of one universe (a 100k-market sort saved). */
  circle?: CirclePlace[];
}

/** A market's place on the rotation circle. */
export interface CirclePlace {
  m: MarketInfo;
  pos: number;
}

/** Markets in circle order (position, then id). */
export function circleOrder(markets: MarketInfo[]): CirclePlace[] {
  const out = markets.map((m) => ({ m, pos: circlePos(m.market_id) }));
  out.sort((a, b) => a.pos - b.pos || (a.m.market_id < b.m.market_id ? -1 : 1));
  return out;
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
  const sel = input.selection ?? selectMarkets(input.universe, now, SELECTION_DEFAULTS);
  // Pins first (all of them, up to max_subs: pins from another source may go past hot_count), then the ranking.
  const pinned = sel.pinned.slice(0, s.max_subs_per_venue);
  const rankedHot = Math.max(0, Math.min(Math.max(s.hot_count, pinned.length), s.max_subs_per_venue) - pinned.length);
  const ranked = rankTop(sel.eligible, now, rankedHot, input.scores);
  const hot = [...pinned, ...ranked.top];
  const hotN = hot.length;

  // The rest, on the circle (the universe's circle order when the caller keeps one: no sort per rotation).
  let rest: CirclePlace[];
  if (input.circle) {
    const others = new Set(ranked.rest);
    rest = input.circle.filter((r) => others.has(r.m));
  } else rest = circleOrder(ranked.rest);
  const warmSize = Math.min(s.max_subs_per_venue - hotN, rest.length);

  // Keep the previous WARM members that are still eligible and not HOT, oldest first; evict for the rotation.
  let keep: MarketInfo[] = [];
  let cursor = previous?.cursor ?? -1;
  if (previous && warmSize < rest.length) {
    // Only the previous WARM ids are looked up (a map of those, not of the whole rest).
    const wanted = new Map<string, MarketInfo | null>(previous.warm.map((w) => [w.market_id, null]));
    for (const r of rest) if (wanted.has(r.m.market_id)) wanted.set(r.m.market_id, r.m);
    for (const m of wanted.values()) if (m) keep.push(m);
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

/**
 * Holds the previous set so each call continues the rotation (what the collector's `targets(now)` needs), and the
 * selection settings. `onSelection` hears the selection whenever the universe (by identity) or the pins changed:
 * once at start and once per universe reload, for the log line and the gauges.
 */
export class Scheduler {
  private previous: TargetSet | undefined;
  private readonly extraPins = new Map<string, readonly string[]>();
  private seenUniverse: MarketInfo[] | undefined;
  private circle: CirclePlace[] = [];
  private pinsChanged = false;

  constructor(
    private readonly settings: CollectSettings,
    private readonly selection: SelectionSettings = SELECTION_DEFAULTS,
    private readonly onSelection?: (sel: Selection) => void,
  ) {}

  /**
   * Pins from another source (e.g. both markets of confirmed pairs), replacing that source's earlier list; merged
   * after the configured pins, HOT like them, from the next `targets` call. They may go past hot_count (up to
   * max_subs_per_venue); the config check on hot_count covers the configured pins only.
   */
  setExtraPins(source: string, ids: readonly string[]): void {
    this.extraPins.set(source, [...ids]);
    this.pinsChanged = true;
  }

  /** Every pin in force: the configured ones, then each extra source's. */
  pins(): string[] {
    return [...new Set([...this.selection.pin, ...[...this.extraPins.values()].flat()])];
  }

  targets(now: number, universe: MarketInfo[], scores?: Map<string, number>): TargetSet {
    const extra = [...this.extraPins.values()].flat();
    const selection = selectMarkets(universe, now, this.selection, extra);
    if (universe !== this.seenUniverse || this.pinsChanged) {
      if (universe !== this.seenUniverse) this.circle = circleOrder(universe);
      this.seenUniverse = universe;
      this.pinsChanged = false;
      this.onSelection?.(selection);
    }
    this.previous = computeTargets({
      universe,
      scores,
      now,
      settings: this.settings,
      previous: this.previous,
      selection,
      circle: this.circle,
    });
    return this.previous;
  }
}
