/** Per-sid seq tracking of the Kalshi feed, pure: what a frame's seq means given the last one taken on its sid. */

/** A seq this far past the last one is garbage, not a gap (no sid carries a million messages between two frames). */
export const MAX_SEQ_JUMP = 1_000_000;

export type SeqVerdict =
  /** Taken: the first on the sid, or the last + 1. */
  | { kind: "ok" }
  /** Taken, but messages were lost between `last` and it. */
  | { kind: "gap"; last: number }
  /** Dropped: a repeat or a step back. */
  | { kind: "not_increasing"; last: number }
  /** Dropped, and not taken as the new position (a 1e308 would make every later message look old, for good). */
  | { kind: "implausible"; last: number | undefined };

const OK: SeqVerdict = { kind: "ok" }; // the common case allocates nothing (every data frame comes through here)

export class SeqTracker {
  private readonly last = new Map<number, number>();

  /** The verdict on `seq` for `sid`; an ok or a gap moves the sid's position to it. */
  take(sid: number, seq: number): SeqVerdict {
    const last = this.last.get(sid);
    if (!Number.isSafeInteger(seq) || seq < 0 || (last !== undefined && seq - last > MAX_SEQ_JUMP))
      return { kind: "implausible", last };
    if (last !== undefined && seq <= last) return { kind: "not_increasing", last };
    this.last.set(sid, seq);
    return last !== undefined && seq !== last + 1 ? { kind: "gap", last } : OK;
  }

  /** Whether `seq` is the sid's current position (an update_subscription "ok" repeats it: nothing was lost). */
  isCurrent(sid: number, seq: number): boolean {
    return this.last.get(sid) === seq;
  }

  clear(): void {
    this.last.clear();
  }
}
