/**
 * The Kalshi feed's subscription state, pure: our sid once a `subscribe` is answered, the subscribe in flight, and the
 * target changes queued behind it (sent on the sid once it is known; an add and a delete of one ticker cancel out).
 */

export type Change = "add_markets" | "delete_markets";

export class SubscriptionState {
  /** Our `orderbook_delta` subscription, once the venue said `subscribed`. */
  sid: number | null = null;
  /** id of the `subscribe` command in flight. */
  subscribeId: number | null = null;
  private readonly queuedAdd = new Set<string>();
  private readonly queuedDel = new Set<string>();

  /** A new connection: nothing subscribed, nothing in flight, nothing queued. */
  reset(): void {
    this.lost();
    this.queuedAdd.clear();
    this.queuedDel.clear();
  }

  /** The connection went: no sid, no subscribe in flight (the next connection resets the rest). */
  lost(): void {
    this.sid = null;
    this.subscribeId = null;
  }

  /** Where a change of the target set goes: on the sid, queued behind the subscribe in flight, or neither yet. */
  route(): "sid" | "queue" | "none" {
    return this.sid !== null ? "sid" : this.subscribeId !== null ? "queue" : "none";
  }

  /** Queues a change behind the subscribe in flight; the opposite change of the same ticker cancels it instead. */
  queue(action: Change, tickers: string[]): void {
    const [q, other] = action === "add_markets" ? [this.queuedAdd, this.queuedDel] : [this.queuedDel, this.queuedAdd];
    for (const t of tickers) if (!other.delete(t)) q.add(t);
  }

  /** The subscribe went through on `sid`: what was queued, to send on it now (the queues are emptied). */
  adopt(sid: number): { add: string[]; del: string[] } {
    this.sid = sid;
    this.subscribeId = null;
    const out = { add: [...this.queuedAdd], del: [...this.queuedDel] };
    this.queuedAdd.clear();
    this.queuedDel.clear();
    return out;
  }

  /** The subscribe in flight failed: nothing is subscribed; the queued additions (to try again), deletions are moot. */
  subscribeFailed(): string[] {
    this.subscribeId = null;
    const add = [...this.queuedAdd];
    this.queuedAdd.clear();
    this.queuedDel.clear();
    return add;
  }
}
