/**
 * A binary min-heap ordered by `less` (a strict order; ties must be broken by the caller, e.g. by an insertion id,
 * for a deterministic pop order). Used by SimClock's timers and the snapshotter's due times.
 */
export class MinHeap<T> {
  private readonly h: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.h.length;
  }

  /** The least item, not removed. */
  peek(): T | undefined {
    return this.h[0];
  }

  push(x: T): void {
    const h = this.h;
    let i = h.length;
    h.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(x, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = x;
  }

  /** Removes and returns the least item. */
  pop(): T | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    const n = h.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.less(h[r], h[l]) ? r : l;
        if (!this.less(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** Every item, in no particular order (a copy). */
  items(): T[] {
    return this.h.slice();
  }

  /** Empties the heap and returns what it held, in no particular order. */
  drain(): T[] {
    return this.h.splice(0, this.h.length);
  }
}
