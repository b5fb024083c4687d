/**
 * Subscription bookkeeping, pure: the current set, the target set, and the changes that move one toward the
 * other without ever exceeding the churn limit (changes per sliding 60 s window). Units are markets.
 */
import { SlidingWindowLimiter } from "../sliding-window.ts";
import type { MarketRef } from "../market.ts";

export type Tier = "hot" | "warm";
export type SubAction = "subscribe" | "unsubscribe";
/** Why a change was made, as journaled: first fill by tier (not churn), later WARM changes are rotation. */
/** `stop`: the collector stopped (so a restart gap is not counted as watched). */
/** `refused`: the venue would not take the market (it left the subscribed set without a command). */
export type SubReason = "hot" | "warm" | "rotation" | "resync" | "watchdog" | "stop" | "refused";

export interface Targets {
  hot: MarketRef[];
  warm: MarketRef[];
}

export interface SubChange {
  action: SubAction;
  market: MarketRef;
  reason: SubReason;
  tier: Tier;
}

export const CHURN_WINDOW_MS = 60_000;
/** The churn limit's counter: changes per sliding window (src/sliding-window.ts, shared with the Kalshi adapter's probes). */
export { SlidingWindowLimiter as ChurnLimiter };

const leaveReason = (tier: Tier): SubReason => (tier === "hot" ? "hot" : "rotation");

interface Entry {
  ref: MarketRef;
  tier: Tier;
}

export interface RetierChange {
  market: MarketRef;
  tier: Tier;
}

export class SubscriptionPlan {
  /** Markets we have asked the venue for, with their tier. */
  readonly current = new Map<string, { ref: MarketRef; tier: Tier }>();
  private target = new Map<string, Entry>();
  /** The first fill is done (every target subscribed once): later WARM subscribes are rotation. */
  private filled = false;
  /** Markets to resubscribe (unsubscribe + subscribe), with the reason. */
  private readonly resubscribe = new Map<string, SubReason>();
  /** Markets never to subscribe again (resolved). */
  private readonly excluded = new Set<string>();
  /** Markets the venue refused → until when they stay out of the target (unless they leave it first). */
  private readonly refused = new Map<string, number>();

  /** Sets the target; returns markets whose tier changed (applied at once: a tier costs no churn). */
  setTarget(t: Targets): RetierChange[] {
    const next = new Map<string, Entry>();
    const seen = new Set<string>();
    const add = (ref: MarketRef, tier: Tier) => {
      seen.add(ref.market_id);
      if (next.has(ref.market_id) || this.excluded.has(ref.market_id) || this.refused.has(ref.market_id)) return;
      next.set(ref.market_id, { ref, tier });
    };
    for (const m of t.hot) add(m, "hot");
    for (const m of t.warm) add(m, "warm");
    // A refused market that left the target is forgotten: re-entering tries it afresh.
    for (const id of this.refused.keys()) if (!seen.has(id)) this.refused.delete(id);
    this.target = next;
    const retiered: RetierChange[] = [];
    for (const [id, cur] of this.current) {
      const want = next.get(id);
      if (want && want.tier !== cur.tier) {
        cur.tier = want.tier;
        retiered.push({ market: cur.ref, tier: want.tier });
      }
    }
    return retiered;
  }

  /** A market is over: unsubscribe it (within budget) and never schedule it again. */
  exclude(marketId: string): void {
    this.excluded.add(marketId);
    this.target.delete(marketId);
    this.resubscribe.delete(marketId);
  }

  /**
   * The venue refused a current market: it leaves `current` at once (no command: the venue never took it) and the
   * target until `unrefuse(id, until)` or until a target without it.
   */
  refuse(marketId: string, until: number): void {
    this.current.delete(marketId);
    this.target.delete(marketId);
    this.resubscribe.delete(marketId);
    this.refused.set(marketId, until);
  }

  /** Ends the refusal set by `refuse(id, until)` (not a later one); true when it did (the next target takes it in). */
  unrefuse(marketId: string, until: number): boolean {
    if (this.refused.get(marketId) !== until) return false;
    this.refused.delete(marketId);
    return true;
  }

  isTargeted(marketId: string): boolean {
    return this.target.has(marketId);
  }

  /** Targets not subscribed yet (waiting for churn budget). */
  *waiting(): Generator<{ ref: MarketRef; tier: Tier }> {
    for (const [id, t] of this.target) if (!this.current.has(id)) yield t;
  }

  isRefused(marketId: string): boolean {
    return this.refused.has(marketId);
  }

  /** Queue an unsubscribe + subscribe of a current market (silent feed). */
  requestResubscribe(marketId: string, reason: SubReason): void {
    if (this.current.has(marketId) && this.target.has(marketId)) this.resubscribe.set(marketId, reason);
  }

  isResubscribePending(marketId: string): boolean {
    return this.resubscribe.has(marketId);
  }

  /** Changes still to make to reach the target (resubscribes count two). */
  pending(): number {
    let n = 2 * this.resubscribe.size;
    for (const id of this.target.keys()) if (!this.current.has(id)) n++;
    for (const id of this.current.keys()) if (!this.target.has(id)) n++;
    return n;
  }

  countByTier(): { hot: number; warm: number } {
    let hot = 0;
    let warm = 0;
    for (const c of this.current.values()) {
      if (c.tier === "hot") hot++;
      else warm++;
    }
    return { hot, warm };
  }

  /**
   * The changes to make now, in order: subscribes (HOT first), then resubscribes, then unsubscribes; a later group
   * waits until the earlier is done. Once the current set is as large as the target, each further subscribe is
   * paired with an unsubscribe right after it (a swap), so rotation never grows the set past its size while
   * keeping subscribe-before-unsubscribe. Records the changes in the limiter and updates `current`.
   *
   * The first fill (nothing subscribed yet, none filled before) is not churn: the whole target goes out at once,
   * whatever the budget, and is not recorded in the limiter; the churn limit counts the changes after it.
   */
  next(now: number, limiter: SlidingWindowLimiter): SubChange[] {
    let budget = limiter.available(now);
    const out: SubChange[] = [];
    let blocked = false;
    const cap = this.target.size;
    const leaving = this.leaving();
    // The first fill of a run is not churn: every target goes out now, paced only by the venue's connections.
    const firstFill = !this.filled && this.current.size === 0;
    let free = 0;
    for (const [id, t] of this.target) {
      if (this.current.has(id)) continue;
      if (firstFill) {
        out.push({ action: "subscribe", market: t.ref, reason: t.tier, tier: t.tier });
        this.current.set(id, { ref: t.ref, tier: t.tier });
        free++;
        continue;
      }
      const swap = this.current.size >= cap ? leaving.next() : undefined;
      if (budget < (swap && !swap.done ? 2 : 1)) {
        blocked = true;
        break;
      }
      out.push({
        action: "subscribe",
        market: t.ref,
        reason: t.tier === "hot" ? "hot" : this.filled ? "rotation" : "warm",
        tier: t.tier,
      });
      this.current.set(id, { ref: t.ref, tier: t.tier });
      budget--;
      if (swap && !swap.done) {
        const [oid, cur] = swap.value;
        out.push({ action: "unsubscribe", market: cur.ref, reason: leaveReason(cur.tier), tier: cur.tier });
        this.current.delete(oid);
        budget--;
      }
    }
    if (!blocked && this.target.size > 0) this.filled = true;
    if (!blocked) {
      for (const [id, reason] of this.resubscribe) {
        if (!this.target.has(id) || !this.current.has(id)) {
          this.resubscribe.delete(id); // leaving anyway
          continue;
        }
        if (budget < 2) {
          blocked = true;
          break;
        }
        const cur = this.current.get(id)!;
        out.push({ action: "unsubscribe", market: cur.ref, reason, tier: cur.tier });
        out.push({ action: "subscribe", market: cur.ref, reason, tier: cur.tier });
        this.resubscribe.delete(id);
        budget -= 2;
      }
    }
    if (!blocked) {
      for (const [id, cur] of this.current) {
        if (this.target.has(id)) continue;
        if (budget < 1) break;
        out.push({ action: "unsubscribe", market: cur.ref, reason: leaveReason(cur.tier), tier: cur.tier });
        this.current.delete(id);
        budget--;
      }
    }
    limiter.record(now, out.length - free);
    return out;
  }

  /** Current markets no longer targeted, WARM first (a HOT market leaving is rarer and kept longest). */
  private *leaving(): Generator<[string, { ref: MarketRef; tier: Tier }]> {
    const hot: [string, { ref: MarketRef; tier: Tier }][] = [];
    for (const e of [...this.current]) {
      if (this.target.has(e[0]) || !this.current.has(e[0])) continue;
      if (e[1].tier === "hot") hot.push(e);
      else yield e;
    }
    for (const e of hot) if (this.current.has(e[0])) yield e;
  }

  /** Units the next call needs before it can make progress (1, or 2 when a resubscribe is first in line). */
  nextNeed(): number {
    for (const id of this.target.keys())
      if (!this.current.has(id)) return this.current.size >= this.target.size ? 2 : 1;
    for (const id of this.resubscribe.keys()) if (this.target.has(id) && this.current.has(id)) return 2;
    return 1;
  }
}
